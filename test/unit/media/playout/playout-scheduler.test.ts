import { describe, expect, it } from 'vitest';
import { PlayoutScheduler, type PacedStream } from '../../../../src/media/playout/playout-scheduler.js';
import { FakePlayoutClock, seededRandom } from './fake-playout-clock.js';

const PERIOD = 20_000;

/** Records every deadline it is given and when it ran; sending takes `sendUs` of the fake clock. */
class RecordingStream implements PacedStream {
  deadlines: number[] = [];
  sentAt: number[] = [];
  missed: number[] = [];
  onPacket: ((stream: RecordingStream) => void) | null = null;

  scheduler: PlayoutScheduler | null = null;

  constructor(
    private readonly clock: FakePlayoutClock,
    private readonly sendUs = 0,
  ) {}

  onDeadline(missed: number): void {
    this.deadlines.push(this.scheduler?.deadline[0] ?? Number.NaN);
    this.sentAt.push(this.clock.nowUs());
    this.missed.push(missed);
    this.clock.work(this.sendUs);
    this.onPacket?.(this);
  }
}

/** Counts without keeping, for the hour-long runs. */
class CountingStream implements PacedStream {
  count = 0;
  /** Deadlines within the hour from the first one. */
  inHour = 0;
  firstDeadline = Number.NaN;
  /** Deadlines that were not first + n × period exactly. */
  offGrid = 0;
  maxLateUs = 0;
  missed = 0;

  constructor(
    private readonly clock: FakePlayoutClock,
    private readonly scheduler: PlayoutScheduler,
    private readonly sendUs: number,
  ) {}

  onDeadline(missed: number): void {
    const deadlineUs = this.scheduler.deadline[0] ?? Number.NaN;
    if (this.count === 0) this.firstDeadline = deadlineUs;
    if (deadlineUs !== this.firstDeadline + this.count * PERIOD) this.offGrid++;
    if (deadlineUs < this.firstDeadline + 3600e6) this.inHour++;
    this.maxLateUs = Math.max(this.maxLateUs, this.clock.nowUs() - deadlineUs);
    this.missed += missed;
    this.count++;
    this.clock.work(this.sendUs);
  }
}

/** add() that also lets a RecordingStream read its deadlines. */
function addTo(scheduler: PlayoutScheduler, stream: RecordingStream, startUs: number): ReturnType<PlayoutScheduler['add']> {
  stream.scheduler = scheduler;
  return scheduler.add(stream, startUs);
}

describe('PlayoutScheduler', () => {
  it('sends at its deadlines for a simulated hour: exactly 180 000 packets per stream, on the grid, no drift', () => {
    // Arrange: libuv-like timers that fire up to 1.2 ms early or 1.4 ms late, and 7 µs per send.
    const random = seededRandom(42);
    const clock = new FakePlayoutClock(1_000_000, () => -1200 + random() * 2600);
    const scheduler = new PlayoutScheduler(clock);
    const streams = Array.from({ length: 6 }, () => new CountingStream(clock, scheduler, 7));
    streams.forEach((stream, i) => scheduler.add(stream, clock.nowUs() + i * 3_000));

    // Act: a simulated hour and a bit (every first deadline is within 25 ms of the start).
    clock.advanceTo(clock.nowUs() + 3600e6 + 30_000);

    // Assert
    for (const stream of streams) {
      expect(stream.inHour).toBe(180_000);
      expect(stream.offGrid).toBe(0);
      expect(stream.missed).toBe(0);
      // Late only by the sends ahead of it in its burst: 6 streams × 7 µs at most.
      expect(stream.maxLateUs).toBeLessThanOrEqual(6 * 7);
    }
    const stats = scheduler.stats();
    expect(stats.deadlinesDropped).toBe(0);
    expect(stats.deadlinesCaughtUp).toBe(0);
    expect(stats.deadlinesServed).toBe(streams.reduce((sum, s) => sum + s.count, 0));
    // At most one wake-up per phase instant, plus re-arms after an early timer.
    expect(stats.wakeups - stats.earlyWakeups).toBeLessThanOrEqual(4 * 180_002);
  });

  it('puts first deadlines on the 5 ms grid, spread over the phases when streams start together', () => {
    const clock = new FakePlayoutClock(1_000_300);
    const scheduler = new PlayoutScheduler(clock);
    const streams = Array.from({ length: 8 }, () => new RecordingStream(clock));
    for (const stream of streams) addTo(scheduler, stream, clock.nowUs());

    clock.advanceBy(40_000);

    const firsts = streams.map((s) => s.deadlines[0]);
    expect(firsts).toEqual([1_005_000, 1_010_000, 1_015_000, 1_020_000, 1_005_000, 1_010_000, 1_015_000, 1_020_000]);
    expect(scheduler.stats().streamsPerPhase).toEqual([2, 2, 2, 2]);
    for (const s of streams) expect(s.sentAt).toEqual(s.deadlines);
  });

  it('keeps streams started together on one phase when not spreading', () => {
    const clock = new FakePlayoutClock(1_000_300);
    const scheduler = new PlayoutScheduler(clock, { spread: false });
    const streams = Array.from({ length: 8 }, () => new RecordingStream(clock, 10));
    for (const stream of streams) addTo(scheduler, stream, clock.nowUs());

    clock.advanceBy(30_000);

    expect(streams.map((s) => s.deadlines[0])).toEqual(Array(8).fill(1_005_000));
    // One burst, always in the same order: the i-th stream goes out i × 10 µs after the deadline, every period.
    streams.forEach((s, i) => expect(s.sentAt.map((t, n) => t - (s.deadlines[n] ?? 0))).toEqual([i * 10, i * 10]));
  });

  it('waits precisely from a guard before each deadline, the event loop free until then', () => {
    const clock = new FakePlayoutClock(0);
    const scheduler = new PlayoutScheduler(clock, { guardUs: 1500 });
    const stream = new RecordingStream(clock);
    addTo(scheduler, stream, 0);

    clock.advanceTo(190_000);

    expect(stream.deadlines).toEqual(Array.from({ length: 10 }, (_, n) => n * PERIOD));
    expect(stream.sentAt).toEqual(stream.deadlines);
    // Blocked 1.5 ms per packet (the first deadline was due at once).
    expect(clock.waitedUs).toBe(9 * 1500);
    expect(scheduler.stats().waitUs).toBe(9 * 1500);
  });

  it('catches up after a 100 ms stall: the late packets go at once, on the unchanged timeline', () => {
    const clock = new FakePlayoutClock(0);
    const scheduler = new PlayoutScheduler(clock);
    const stream = new RecordingStream(clock, 5);
    addTo(scheduler, stream, 0);
    clock.advanceTo(990_000);
    expect(stream.deadlines).toHaveLength(50);

    // Act: the thread stalls 100 ms (from 0.99 to 1.09 s); the timer fires when it is over.
    clock.stall(100_000);
    clock.advanceTo(1_095_000);

    // Assert: the deadlines 1.00 … 1.08 s went out together at 1.09 s, 5 µs apart; nothing dropped.
    expect(stream.deadlines.slice(50)).toEqual([1_000_000, 1_020_000, 1_040_000, 1_060_000, 1_080_000]);
    expect(stream.sentAt.slice(50)).toEqual([0, 1, 2, 3, 4].map((k) => 1_090_000 + k * 5));
    expect(stream.missed.every((m) => m === 0)).toBe(true);
    clock.advanceTo(1_990_000);
    expect(stream.deadlines).toEqual(Array.from({ length: 100 }, (_, n) => n * PERIOD));
    // Back on time from the next deadline.
    expect(stream.sentAt.slice(55)).toEqual(stream.deadlines.slice(55));
    expect(scheduler.stats()).toMatchObject({ deadlinesCaughtUp: 4, deadlinesDropped: 0 });
  });

  it('drops deadlines more than maxCatchUpPeriods older than the newest due one, after a long stall, and says how many', () => {
    const clock = new FakePlayoutClock(0);
    const scheduler = new PlayoutScheduler(clock, { maxCatchUpPeriods: 5 });
    const stream = new RecordingStream(clock);
    addTo(scheduler, stream, 0);
    clock.advanceTo(990_000);

    clock.stall(1_000_000);
    clock.advanceTo(1_995_000);

    // Deadlines 1.00 … 1.98 s were due (50): the newest and the 5 before it are sent, the 44 older ones dropped.
    expect(stream.deadlines.slice(50)).toEqual([1_880_000, 1_900_000, 1_920_000, 1_940_000, 1_960_000, 1_980_000]);
    expect(stream.missed.slice(50)).toEqual([44, 0, 0, 0, 0, 0]);
    expect(scheduler.stats().deadlinesDropped).toBe(44);
    clock.advanceTo(2_090_000);
    expect(stream.deadlines.slice(56)).toEqual([2_000_000, 2_020_000, 2_040_000, 2_060_000, 2_080_000]);
    expect(stream.sentAt.slice(56)).toEqual(stream.deadlines.slice(56));
  });

  it('lets a stream leave from its own callback and another join, without disturbing the rest', () => {
    const clock = new FakePlayoutClock(0);
    const scheduler = new PlayoutScheduler(clock, { spread: false });
    const first = new RecordingStream(clock);
    const second = new RecordingStream(clock);
    const joiner = new RecordingStream(clock);
    const handle = addTo(scheduler, first, 0);
    addTo(scheduler, second, 0);
    first.onPacket = (s) => {
      if (s.deadlines.length === 3) {
        scheduler.remove(handle);
        addTo(scheduler, joiner, clock.nowUs());
      }
    };

    clock.advanceTo(190_000);

    expect(first.deadlines).toEqual([0, 20_000, 40_000]);
    expect(second.deadlines).toHaveLength(10);
    // Joined at 40 ms: its first deadline is that same instant (on the grid), served in the same burst.
    expect(joiner.deadlines[0]).toBe(40_000);
    expect(joiner.deadlines).toHaveLength(8);
    expect(scheduler.size).toBe(2);
  });

  it('arms no timer when it has no stream', () => {
    const clock = new FakePlayoutClock(0);
    const scheduler = new PlayoutScheduler(clock);
    const stream = new RecordingStream(clock);
    const handle = addTo(scheduler, stream, 0);
    clock.advanceTo(50_000);
    scheduler.remove(handle);
    expect(clock.armed).toBe(false);
    clock.advanceTo(1_000_000);
    expect(stream.deadlines).toHaveLength(3);
  });

  it('refuses phases that do not divide the period', () => {
    expect(() => new PlayoutScheduler(new FakePlayoutClock(), { phases: 3, periodUs: 20_000 })).toThrow(RangeError);
  });
});
