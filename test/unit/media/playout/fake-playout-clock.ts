/**
 * A PlayoutClock whose time moves only when the test says so. Its coarse
 * timer fires with a lateness the test chooses (libuv's, early or late),
 * its precise wait lands exactly on the deadline, and work done in a
 * callback can take time (work()), so the scheduler meets the same
 * imprecision as in a worker, deterministically.
 */
import type { PlayoutClock } from '../../../../src/media/playout/playout-clock.js';

export class FakePlayoutClock implements PlayoutClock {
  private t: number;
  private timer: { due: number; wake: () => void } | null = null;
  /** Time spent in waitUntil, µs, and how many times. */
  waitedUs = 0;
  waits = 0;
  timersArmed = 0;

  constructor(
    startUs = 1_000_000,
    /** Added to each timer's positive delay: negative fires early, positive late. */
    private readonly timerError: () => number = () => 0,
  ) {
    this.t = startUs;
  }

  nowUs(): number {
    return this.t;
  }

  armTimer(delayUs: number, wake: () => void): void {
    this.timersArmed++;
    // Like MonotonicPlayoutClock: no delay is setImmediate (the next loop turn), a delay is a libuv timer (imprecise).
    this.timer = { due: delayUs <= 0 ? this.t : this.t + Math.max(0, delayUs + this.timerError()), wake };
  }

  disarmTimer(): void {
    this.timer = null;
  }

  get armed(): boolean {
    return this.timer !== null;
  }

  waitUntil(deadlineUs: number): void {
    if (deadlineUs <= this.t) return;
    this.waits++;
    this.waitedUs += deadlineUs - this.t;
    this.t = deadlineUs;
  }

  /** Time spent doing something (sending a packet): moves the clock without firing timers. */
  work(us: number): void {
    this.t += us;
  }

  /** The thread is stuck (GC pause, stalled vCPU): time passes, nothing runs. */
  stall(us: number): void {
    this.t += us;
  }

  /** Runs the event loop until `targetUs`: fires each timer when it is due (or now, if it is overdue). */
  advanceTo(targetUs: number): void {
    for (;;) {
      const timer = this.timer;
      if (timer === null || timer.due > targetUs) break;
      this.timer = null;
      if (timer.due > this.t) this.t = timer.due;
      timer.wake();
    }
    if (targetUs > this.t) this.t = targetUs;
  }

  advanceBy(us: number): void {
    this.advanceTo(this.t + us);
  }
}

/** A small deterministic PRNG (mulberry32) for timer errors and test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
