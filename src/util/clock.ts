/**
 * Time as the protocol layers see it. Transactions, the registrar, nonce
 * expiry and bans take a Clock so that tests drive time instead of sleeping.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimer(delayMs: number, callback: () => void): TimerHandle;
  clearTimer(handle: TimerHandle | undefined): void;
}

interface NodeTimerHandle extends TimerHandle {
  readonly timeout: NodeJS.Timeout;
}

export class SystemClock implements Clock {
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timeout = setTimeout(callback, delayMs);
    // Protocol timers must never keep the process alive on their own.
    timeout.unref();
    const handle: NodeTimerHandle = { id: this.nextId++, timeout };
    return handle;
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    clearTimeout((handle as NodeTimerHandle).timeout);
  }
}

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/** A clock for tests: time moves only when `advance` is called. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer: PendingTimer = { id: this.nextId++, due: this.current + Math.max(0, delayMs), callback };
    this.pending.push(timer);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.pending = this.pending.filter((t) => t.id !== handle.id);
  }

  /** Number of timers not yet fired. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Moves time forward, firing due timers in order of due time, then creation. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.pending) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t;
      }
      if (next === undefined) break;
      const fired = next;
      this.pending = this.pending.filter((t) => t.id !== fired.id);
      this.current = fired.due;
      fired.callback();
    }
    this.current = target;
  }
}
