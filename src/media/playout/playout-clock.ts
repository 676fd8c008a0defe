/**
 * The time source of the playout scheduler (STYLE.md rule 5: time is
 * injected). Three operations, because pacing needs two kinds of waiting
 * (ARCHITECTURE.md, "Measured facts"): a coarse sleep that gives the event
 * loop back (libuv timers: whole milliseconds, early or late by about one),
 * and a short precise wait to the exact deadline that blocks the thread
 * (Atomics.wait, then a spin for the last few microseconds the kernel's
 * timer slack would otherwise add). Unit tests substitute a fake that moves
 * time by hand.
 */

export interface PlayoutClock {
  /** Monotonic time in microseconds, fractions allowed. */
  nowUs(): number;
  /**
   * Calls `wake` from the event loop in about `delayUs` (it may come a
   * millisecond early or late; the caller checks nowUs()). `delayUs` ≤ 0:
   * as soon as the loop has run its pending I/O once. One timer at a time:
   * arming again replaces the armed one.
   */
  armTimer(delayUs: number, wake: () => void): void;
  disarmTimer(): void;
  /** Blocks the thread until nowUs() ≥ deadlineUs. Only for short waits: the event loop does nothing meanwhile. */
  waitUntil(deadlineUs: number): void;
}

export interface MonotonicPlayoutClockOptions {
  /**
   * The last microseconds before a deadline are spun (reading the clock in
   * a loop) rather than slept: a futex wait wakes up to the kernel's timer
   * slack late (50 µs for ordinary threads on Linux). 0: sleep all the way.
   */
  readonly spinUs?: number;
}

/** performance.now(), setTimeout/setImmediate, and Atomics.wait on a cell nobody ever notifies. */
export class MonotonicPlayoutClock implements PlayoutClock {
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  private readonly spinUs: number;
  private timeout: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;

  constructor(options: MonotonicPlayoutClockOptions = {}) {
    this.spinUs = Math.max(0, options.spinUs ?? 0);
  }

  nowUs(): number {
    return performance.now() * 1000;
  }

  armTimer(delayUs: number, wake: () => void): void {
    this.disarmTimer();
    if (delayUs <= 0) this.immediate = setImmediate(wake);
    // libuv timers count whole milliseconds of loop time; the scheduler's guard absorbs the rounding.
    else this.timeout = setTimeout(wake, Math.max(1, Math.round(delayUs / 1000)));
  }

  disarmTimer(): void {
    if (this.timeout !== null) clearTimeout(this.timeout);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timeout = null;
    this.immediate = null;
  }

  waitUntil(deadlineUs: number): void {
    for (;;) {
      const remainingUs = deadlineUs - this.nowUs();
      if (remainingUs <= 0) return;
      if (remainingUs <= this.spinUs) continue;
      // Nobody notifies the cell: this is a sleep with a sub-millisecond timeout (in ms, fractions honoured).
      Atomics.wait(this.cell, 0, 0, (remainingUs - this.spinUs) / 1000);
    }
  }
}
