/**
 * How late the main thread's event loop runs: a timer asks to fire every
 * `intervalMs`; how much later than asked it fires is the lag, the time a
 * SIP message that just arrived waits before voix reads it. Each sample is
 * reported (for the /metrics histogram) and folded into an exponentially
 * smoothed value, which the overload protection compares with its limit: a
 * single garbage collection pause barely moves it, a loop that stays busy
 * pushes it up within a second.
 */
import type { Clock, TimerHandle } from './clock.js';

export interface EventLoopLagOptions {
  /** Schedules the samples. */
  readonly clock: Clock;
  /** Reads the time, in milliseconds; default clock.now. A monotonic clock (performance.now) is best: a wall clock step is no lag. */
  readonly now?: () => number;
  /** Default 100 ms: ten samples a second, negligible work. */
  readonly intervalMs?: number;
  /**
   * Weight of the newest sample in the smoothed value (default 0.25): a lag
   * that holds is within 10 % of the smoothed value after 8 samples (0.8 s).
   */
  readonly smoothing?: number;
  readonly onSample?: (lagMs: number) => void;
}

export class EventLoopLagMonitor {
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly smoothing: number;
  private readonly onSample: ((lagMs: number) => void) | undefined;
  private timer: TimerHandle | undefined;
  private expectedAt = 0;
  private smoothed = 0;
  private latest = 0;
  private running = false;

  constructor(options: EventLoopLagOptions) {
    this.clock = options.clock;
    this.now = options.now ?? (() => options.clock.now());
    this.intervalMs = options.intervalMs ?? 100;
    this.smoothing = options.smoothing ?? 0.25;
    this.onSample = options.onSample;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** The smoothed lag, in milliseconds. */
  get lagMs(): number {
    return this.smoothed;
  }

  /** The latest sample, in milliseconds. */
  get latestLagMs(): number {
    return this.latest;
  }

  private schedule(): void {
    this.expectedAt = this.now() + this.intervalMs;
    this.timer = this.clock.setTimer(this.intervalMs, () => this.sample());
  }

  private sample(): void {
    if (!this.running) return;
    const lag = Math.max(0, this.now() - this.expectedAt);
    this.latest = lag;
    this.smoothed += this.smoothing * (lag - this.smoothed);
    this.onSample?.(lag);
    this.schedule();
  }
}
