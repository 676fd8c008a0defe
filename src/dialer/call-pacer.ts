/**
 * The pace of a campaign or of a trunk: at most `callsPerSecond` new calls
 * per second, spaced evenly, and at most `maxConcurrent` calls in progress.
 * The dialer asks each pacer a call goes through (its campaign's and its
 * trunk's) and starts it only when all agree.
 *
 * Spacing follows a theoretical start time (the GCRA of ATM networks): each
 * start moves it one interval later than the previous theoretical start,
 * not than the actual one, so a dialer that wakes a few milliseconds late
 * each time (up to half an interval) still averages the configured rate;
 * later than that, or after an idle spell, the grid restarts from the
 * actual start: never a burst to make up for lost time.
 */
export class CallPacer {
  private theoreticalStartMs = Number.NEGATIVE_INFINITY;
  private activeCalls = 0;
  private rate = 1;
  private cap = 1;

  constructor(callsPerSecond: number, maxConcurrent: number) {
    this.reconfigure(callsPerSecond, maxConcurrent);
  }

  get callsPerSecond(): number {
    return this.rate;
  }

  get maxConcurrent(): number {
    return this.cap;
  }

  get intervalMs(): number {
    return 1000 / this.rate;
  }

  /** A new pace (a reload): the calls in progress still count, the next start keeps its place on the grid. */
  reconfigure(callsPerSecond: number, maxConcurrent: number): void {
    if (!(callsPerSecond > 0) || !Number.isFinite(callsPerSecond)) throw new RangeError(`calls per second must be a positive number, got ${callsPerSecond}`);
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError(`maximum concurrent calls must be a positive integer, got ${maxConcurrent}`);
    this.rate = callsPerSecond;
    this.cap = maxConcurrent;
  }

  get active(): number {
    return this.activeCalls;
  }

  /** Whether a call may start at `nowMs`. */
  canStart(nowMs: number): boolean {
    return this.activeCalls < this.cap && nowMs >= this.theoreticalStartMs;
  }

  /** When a call could start at the earliest, if none ends meanwhile; Infinity while every slot is taken. */
  nextStartMs(nowMs: number): number {
    if (this.activeCalls >= this.cap) return Number.POSITIVE_INFINITY;
    return Math.max(nowMs, this.theoreticalStartMs);
  }

  /** A call started at `nowMs` (after canStart said yes). */
  started(nowMs: number): void {
    this.activeCalls++;
    const lateMs = nowMs - this.theoreticalStartMs;
    this.theoreticalStartMs = (lateMs > this.intervalMs / 2 ? nowMs : this.theoreticalStartMs) + this.intervalMs;
  }

  /** A call that started through this pacer ended (whatever its outcome). */
  ended(): void {
    if (this.activeCalls > 0) this.activeCalls--;
  }
}
