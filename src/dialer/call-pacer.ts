/**
 * The pace of a campaign or of a trunk: at most `callsPerSecond` new calls
 * per second, spaced evenly, and at most `maxConcurrent` calls in progress.
 * The dialer asks each pacer a call goes through (its campaign's and its
 * trunk's) and starts it only when all agree.
 *
 * Starts follow a theoretical grid, one interval apart (the GCRA of ATM
 * networks): each start moves the grid one interval on from the previous
 * theoretical start, not from the actual one, so a dialer that wakes late
 * (a busy event loop) still averages the configured rate — measured: a
 * grid that forgave only half an interval lost 2 % at 50 calls/s. The calls
 * owed after a late wake-up are caught up at twice the rate at most (never
 * closer than half an interval), so a second may hold a few more starts
 * than the rate: a provider's own per-second cap wants a campaign set a
 * little below it. After an idle spell of more than a second the grid
 * restarts from now: no burst to make up for a quiet campaign.
 */
/** How late the dialer may be and still catch up the calls it owes; later, it starts a new grid. */
const CATCH_UP_MS = 1000;

export class CallPacer {
  private theoreticalStartMs = Number.NEGATIVE_INFINITY;
  private lastStartMs = Number.NEGATIVE_INFINITY;
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
    return this.activeCalls < this.cap && nowMs >= this.earliestStartMs();
  }

  /** When a call could start at the earliest, if none ends meanwhile; Infinity while every slot is taken. */
  nextStartMs(nowMs: number): number {
    if (this.activeCalls >= this.cap) return Number.POSITIVE_INFINITY;
    return Math.max(nowMs, this.earliestStartMs());
  }

  /** A call started at `nowMs` (after canStart said yes). */
  started(nowMs: number): void {
    this.activeCalls++;
    const idle = nowMs - this.theoreticalStartMs > CATCH_UP_MS;
    this.theoreticalStartMs = (idle ? nowMs : this.theoreticalStartMs) + this.intervalMs;
    this.lastStartMs = nowMs;
  }

  /** A call that started through this pacer ended (whatever its outcome). */
  ended(): void {
    if (this.activeCalls > 0) this.activeCalls--;
  }

  private earliestStartMs(): number {
    return Math.max(this.theoreticalStartMs, this.lastStartMs + this.intervalMs / 2);
  }
}
