/**
 * One absolute-deadline scheduler per media worker for every stream the
 * worker plays (ARCHITECTURE.md: never a timer per stream; a per-stream
 * setInterval drifts and errs by milliseconds).
 *
 * Deadlines. A stream's deadlines are start + n × period, computed from n
 * every time and never accumulated from "now", so lateness in one period
 * does not move the next: no drift. Starts are put on a grid of `phases`
 * instants per period (a tick of period / phases, 5 ms by default), so
 * every stream on one phase shares its wake-ups: the worker wakes at most
 * `phases` times per period whatever the number of streams, and each
 * wake-up serves its phase's streams in a burst, always in the same order
 * (each stream keeps its place in the burst, so its own spacing stays 20 ms).
 *
 * Spreading. A new stream goes to the least loaded phase within one period
 * of its start (the first packet is at most period − tick later than asked,
 * which nobody hears), so streams started together (a campaign answering
 * many calls at once, a bench) do not all land on one phase: the burst per
 * wake-up stays period / phases of the load, and the relay traffic of the
 * same worker waits at most one such burst. bench/playout.ts measures both.
 *
 * Waiting. Each wake-up is a coarse timer aimed `guardUs` before the
 * instant (the event loop runs meanwhile), then a precise wait to the
 * instant itself (PlayoutClock.waitUntil: Atomics.wait, then a short spin),
 * which blocks the thread for at most about the guard. After serving, the
 * scheduler always returns to the event loop before the next instant, so
 * the relay's packets are read between bursts.
 *
 * Lateness. A wake-up that comes late (a GC pause, a stalled vCPU) serves
 * every deadline that has passed at once, oldest first, on the unchanged
 * timeline (catch-up), but at most `maxCatchUpPeriods` besides the newest
 * one due: older deadlines (more than that many periods before the newest)
 * are not served. They are counted as dropped and the stream is told how
 * many it missed, so it can jump its timestamp instead of sending a long
 * burst of stale audio.
 *
 * Per deadline the scheduler calls one method of a preallocated stream
 * object and allocates nothing. Times are doubles (µs) that outgrow small
 * integers after 35 minutes, and V8 boxes a double passed to a call or
 * stored in an object field: so they live in Float64Arrays, and a stream
 * reads its deadline from `scheduler.deadline` rather than an argument.
 */

import type { PlayoutClock } from './playout-clock.js';

/** What the scheduler drives: one packet per deadline. */
export interface PacedStream {
  /**
   * A deadline has come (its time, on the clock's timeline, is in
   * `scheduler.deadline[0]` during the call): send one packet. `missed`
   * counts this stream's deadlines just before this one that were too late
   * to serve and were dropped (0 almost always).
   */
  onDeadline(missed: number): void;
}

export interface PlayoutSchedulerOptions {
  /** Packet interval; 20 ms (G.711 at ptime 20). */
  readonly periodUs?: number;
  /** Instants per period streams can start on; 4 (a 5 ms tick). 1 puts every stream on one phase. */
  readonly phases?: number;
  /** New streams go to the least loaded phase (true, default) or to the first instant at or after their start. */
  readonly spread?: boolean;
  /** The coarse timer aims this long before an instant; the rest is a blocking precise wait. 1500 µs. */
  readonly guardUs?: number;
  /** A late wake-up sends at most this many deadlines besides the newest due; older ones are dropped. 5 (100 ms). */
  readonly maxCatchUpPeriods?: number;
}

export interface PlayoutSchedulerStats {
  readonly streams: number;
  /** Streams per phase (the burst sizes). */
  readonly streamsPerPhase: readonly number[];
  /** Deadlines served (packets the streams were asked for). */
  readonly deadlinesServed: number;
  /** Deadlines dropped: more than maxCatchUpPeriods before the newest due one. */
  readonly deadlinesDropped: number;
  /** Deadlines served a period or more late (the catch-up after a stall). */
  readonly deadlinesCaughtUp: number;
  /** Times the scheduler ran (timer wake-ups). */
  readonly wakeups: number;
  /** Wake-ups that came too early for the precise wait and re-armed the timer. */
  readonly earlyWakeups: number;
  /** Time spent blocked in the precise wait, µs. */
  readonly waitUs: number;
  /** How late the first deadline of a burst was served: sum, and worst since resetPeaks(), µs. */
  readonly burstLatenessSumUs: number;
  readonly burstLatenessMaxUs: number;
  /** Bursts served (one per phase instant with streams due). */
  readonly bursts: number;
  /**
   * Time the scheduler held the thread (precise wait plus the bursts),
   * µs: in all, and the longest single run since resetPeaks(). Packets the
   * worker relays wait meanwhile.
   */
  readonly heldUs: number;
  readonly heldMaxUs: number;
}

const DEFAULT_PERIOD_US = 20_000;
const DEFAULT_PHASES = 4;
const DEFAULT_GUARD_US = 1500;
const DEFAULT_MAX_CATCH_UP_PERIODS = 5;

const START = 0;
const NEXT = 1;

/** A stream's place in the scheduler; the handle add() returns and remove() takes. */
export class ScheduledStream {
  /** Deadlines served or dropped so far: the next deadline is start + index × period. */
  index = 0;
  removed = false;
  /** [START]: the first deadline, on the phase grid; [NEXT]: the next one (µs). */
  readonly times = new Float64Array(2);

  constructor(
    readonly stream: PacedStream,
    startUs: number,
    readonly phase: number,
  ) {
    this.times[START] = startUs;
    this.times[NEXT] = startUs;
  }

  get startUs(): number {
    return this.times[START] ?? 0;
  }
}

export class PlayoutScheduler {
  readonly periodUs: number;
  readonly tickUs: number;
  readonly phases: number;
  /** While a stream's onDeadline runs, [0] is its deadline (µs). */
  readonly deadline = new Float64Array(1);
  private readonly spread: boolean;
  private readonly guardUs: number;
  private readonly maxCatchUpPeriods: number;

  private readonly lists: ScheduledStream[][] = [];
  /** Live streams per phase (lists may still hold removed ones until compacted). */
  private readonly counts: Int32Array;
  /** Earliest next deadline per phase; +Infinity when the phase has no stream. */
  private readonly nextInstantUs: Float64Array;
  private streamCount = 0;
  private running = false;
  private needsCompaction = false;
  /** The instant the armed timer aims at; +Infinity when none is armed. */
  private armedForUs = Number.POSITIVE_INFINITY;
  private readonly wake = (): void => this.run();

  private deadlinesServed = 0;
  private deadlinesDropped = 0;
  private deadlinesCaughtUp = 0;
  private wakeups = 0;
  private earlyWakeups = 0;
  private waitUs = 0;
  private burstLatenessSumUs = 0;
  private burstLatenessMaxUs = 0;
  private bursts = 0;
  private heldUs = 0;
  private heldMaxUs = 0;

  constructor(
    private readonly clock: PlayoutClock,
    options: PlayoutSchedulerOptions = {},
  ) {
    this.periodUs = options.periodUs ?? DEFAULT_PERIOD_US;
    this.phases = options.phases ?? DEFAULT_PHASES;
    if (!(this.periodUs > 0) || !Number.isInteger(this.phases) || this.phases < 1 || !Number.isInteger(this.periodUs / this.phases)) {
      throw new RangeError(`playout scheduler: ${this.phases} phases do not divide a period of ${this.periodUs} µs into whole microseconds`);
    }
    this.tickUs = this.periodUs / this.phases;
    this.spread = options.spread ?? true;
    this.guardUs = Math.max(0, options.guardUs ?? DEFAULT_GUARD_US);
    this.maxCatchUpPeriods = Math.max(0, Math.floor(options.maxCatchUpPeriods ?? DEFAULT_MAX_CATCH_UP_PERIODS));
    this.counts = new Int32Array(this.phases);
    this.nextInstantUs = new Float64Array(this.phases).fill(Number.POSITIVE_INFINITY);
    for (let p = 0; p < this.phases; p++) this.lists.push([]);
  }

  get size(): number {
    return this.streamCount;
  }

  /** The scheduler's clock: deadlines are on this timeline. */
  nowUs(): number {
    return this.clock.nowUs();
  }

  /**
   * Schedules `stream` from `startUs` on: its first deadline is the first
   * grid instant at or after it (the least loaded one within a period when
   * spreading). Returns the handle for remove().
   */
  add(stream: PacedStream, startUs: number): ScheduledStream {
    let first = Math.ceil(startUs / this.tickUs) * this.tickUs;
    let phase = this.phaseOf(first);
    if (this.spread) {
      let best = 0;
      let bestCount = this.counts[phase] ?? 0;
      for (let i = 1; i < this.phases && bestCount > 0; i++) {
        const count = this.counts[(phase + i) % this.phases] ?? 0;
        if (count < bestCount) {
          best = i;
          bestCount = count;
        }
      }
      first += best * this.tickUs;
      phase = (phase + best) % this.phases;
    }
    const entry = new ScheduledStream(stream, first, phase);
    this.lists[phase]?.push(entry);
    this.counts[phase] = (this.counts[phase] ?? 0) + 1;
    this.streamCount++;
    if (first < (this.nextInstantUs[phase] ?? Number.POSITIVE_INFINITY)) this.nextInstantUs[phase] = first;
    if (!this.running && first < this.armedForUs) this.arm();
    return entry;
  }

  /** Stops serving `entry`; safe from inside its own onDeadline. */
  remove(entry: ScheduledStream): void {
    if (entry.removed) return;
    entry.removed = true;
    this.counts[entry.phase] = (this.counts[entry.phase] ?? 1) - 1;
    this.streamCount--;
    this.needsCompaction = true;
    // Inside a run, the run compacts and re-arms when it is done.
    if (this.running) return;
    this.compact();
    this.arm();
  }

  /** Removes every stream and disarms the timer (worker shutdown). */
  clear(): void {
    for (const list of this.lists) for (const entry of list) entry.removed = true;
    for (const list of this.lists) list.length = 0;
    this.counts.fill(0);
    this.nextInstantUs.fill(Number.POSITIVE_INFINITY);
    this.streamCount = 0;
    this.needsCompaction = false;
    this.clock.disarmTimer();
    this.armedForUs = Number.POSITIVE_INFINITY;
  }

  /** Starts the worst-lateness figure afresh (each diagnostics reading reports the worst since the previous one). */
  resetPeaks(): void {
    this.burstLatenessMaxUs = 0;
    this.heldMaxUs = 0;
  }

  stats(): PlayoutSchedulerStats {
    return {
      streams: this.streamCount,
      streamsPerPhase: Array.from(this.counts),
      deadlinesServed: this.deadlinesServed,
      deadlinesDropped: this.deadlinesDropped,
      deadlinesCaughtUp: this.deadlinesCaughtUp,
      wakeups: this.wakeups,
      earlyWakeups: this.earlyWakeups,
      waitUs: this.waitUs,
      burstLatenessSumUs: this.burstLatenessSumUs,
      burstLatenessMaxUs: this.burstLatenessMaxUs,
      bursts: this.bursts,
      heldUs: this.heldUs,
      heldMaxUs: this.heldMaxUs,
    };
  }

  // ---- the loop ----

  /** A timer fired: wait precisely for the next instant if it is within the guard, serve what is due, re-arm. */
  private run(): void {
    this.armedForUs = Number.POSITIVE_INFINITY;
    if (this.running) return;
    this.running = true;
    this.wakeups++;
    try {
      const instant = this.earliestInstant();
      if (instant === Number.POSITIVE_INFINITY) return;
      let now = this.clock.nowUs();
      const aheadUs = instant - now;
      if (aheadUs > this.guardUs) {
        this.earlyWakeups++;
        return;
      }
      const wokeUs = now;
      if (aheadUs > 0) {
        this.clock.waitUntil(instant);
        now = this.clock.nowUs();
        this.waitUs += now - wokeUs;
      }
      this.serveDue(now);
      const held = this.clock.nowUs() - wokeUs;
      this.heldUs += held;
      if (held > this.heldMaxUs) this.heldMaxUs = held;
    } finally {
      this.running = false;
      if (this.needsCompaction) this.compact();
      this.arm();
    }
  }

  /** Serves the phases whose instant has come, the oldest first, until none is due at `now`. */
  private serveDue(now: number): void {
    for (;;) {
      let phase = -1;
      let instant = Number.POSITIVE_INFINITY;
      for (let p = 0; p < this.phases; p++) {
        const next = this.nextInstantUs[p] ?? Number.POSITIVE_INFINITY;
        if (next < instant) {
          instant = next;
          phase = p;
        }
      }
      if (phase < 0 || instant > now) return;
      const lateness = now - instant;
      this.bursts++;
      this.burstLatenessSumUs += lateness;
      if (lateness > this.burstLatenessMaxUs) this.burstLatenessMaxUs = lateness;
      this.servePhase(phase, now);
    }
  }

  private servePhase(phase: number, now: number): void {
    const list = this.lists[phase];
    if (list === undefined) return;
    const period = this.periodUs;
    const maxDue = this.maxCatchUpPeriods + 1;
    let next = Number.POSITIVE_INFINITY;
    // list.length is read each turn: a stream added from a callback is served in this burst if it is due.
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      if (entry === undefined || entry.removed) continue;
      const times = entry.times;
      const nextUs = times[NEXT] ?? 0;
      if (nextUs > now) {
        if (nextUs < next) next = nextUs;
        continue;
      }
      let due = Math.floor((now - nextUs) / period) + 1;
      let missed = 0;
      if (due > maxDue) {
        missed = due - maxDue;
        entry.index += missed;
        this.deadlinesDropped += missed;
        due = maxDue;
      }
      const startUs = times[START] ?? 0;
      for (let k = 0; k < due && !entry.removed; k++) {
        const deadline = startUs + entry.index * period;
        entry.index++;
        this.deadlinesServed++;
        if (now - deadline >= period) this.deadlinesCaughtUp++;
        this.deadline[0] = deadline;
        entry.stream.onDeadline(k === 0 ? missed : 0);
      }
      const following = startUs + entry.index * period;
      times[NEXT] = following;
      if (!entry.removed && following < next) next = following;
    }
    this.nextInstantUs[phase] = next;
  }

  /** Arms the timer for the earliest instant, `guardUs` ahead of it; nothing when no stream is left. */
  private arm(): void {
    const instant = this.earliestInstant();
    if (instant === Number.POSITIVE_INFINITY) {
      this.clock.disarmTimer();
      this.armedForUs = Number.POSITIVE_INFINITY;
      return;
    }
    this.armedForUs = instant;
    this.clock.armTimer(instant - this.guardUs - this.clock.nowUs(), this.wake);
  }

  private earliestInstant(): number {
    let instant = Number.POSITIVE_INFINITY;
    for (let p = 0; p < this.phases; p++) {
      const next = this.nextInstantUs[p] ?? Number.POSITIVE_INFINITY;
      if (next < instant) instant = next;
    }
    return instant;
  }

  /** Drops removed streams from the lists, keeping the order of the others (their place in the burst). */
  private compact(): void {
    this.needsCompaction = false;
    for (let p = 0; p < this.phases; p++) {
      const list = this.lists[p];
      if (list === undefined) continue;
      let kept = 0;
      let next = Number.POSITIVE_INFINITY;
      for (let i = 0; i < list.length; i++) {
        const entry = list[i];
        if (entry === undefined || entry.removed) continue;
        list[kept++] = entry;
        const nextUs = entry.times[NEXT] ?? 0;
        if (nextUs < next) next = nextUs;
      }
      list.length = kept;
      this.nextInstantUs[p] = next;
    }
  }

  private phaseOf(instantUs: number): number {
    const n = Math.round(instantUs / this.tickUs) % this.phases;
    return n < 0 ? n + this.phases : n;
  }
}
