import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMER_SETTINGS,
  ExpiryQueue,
  TransactionTimer,
  doubledUpToT2,
  transactionTimers,
} from '../../../../src/sip/transaction/timers.js';
import { FakeClock } from '../../../../src/util/clock.js';

describe('transactionTimers', () => {
  it('derives RFC 3261 Table 4 and RFC 6026 values from the defaults on UDP', () => {
    const timers = transactionTimers(DEFAULT_TIMER_SETTINGS, false);

    expect(timers).toEqual({
      t1: 500,
      t2: 4000,
      t4: 5000,
      timerA: 500,
      timerB: 32_000,
      timerD: 32_000,
      timerE: 500,
      timerF: 32_000,
      timerG: 500,
      timerH: 32_000,
      timerI: 5000,
      timerJ: 32_000,
      timerK: 5000,
      timerL: 32_000,
      timerM: 32_000,
    });
  });

  it('has no retransmission timers and zero wait timers on reliable transports', () => {
    const timers = transactionTimers(DEFAULT_TIMER_SETTINGS, true);

    expect([timers.timerA, timers.timerE, timers.timerG]).toEqual([null, null, null]);
    expect([timers.timerD, timers.timerI, timers.timerJ, timers.timerK]).toEqual([0, 0, 0, 0]);
    expect([timers.timerB, timers.timerF, timers.timerH, timers.timerL, timers.timerM]).toEqual([
      32_000, 32_000, 32_000, 32_000, 32_000,
    ]);
  });

  it('keeps Timer D above 64*T1 when T1 is raised, so it outlasts the server Timer H', () => {
    const timers = transactionTimers({ t1: 1000, t2: 4000, t4: 5000 }, false);

    expect(timers.timerH).toBe(64_000);
    expect(timers.timerD).toBe(64_000);
  });
});

describe('doubledUpToT2', () => {
  it('doubles until T2 and stays there', () => {
    const intervals = [500];
    for (let i = 0; i < 5; i++) intervals.push(doubledUpToT2(intervals[intervals.length - 1] ?? 0, 4000));

    expect(intervals).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
  });
});

describe('TransactionTimer', () => {
  it('fires once after its delay on the injected clock', () => {
    const clock = new FakeClock();
    const timer = new TransactionTimer(clock, 'K');
    let fired = 0;

    timer.start(5000, () => fired++);
    clock.advance(4999);
    const before = fired;
    clock.advance(1);

    expect(before).toBe(0);
    expect(fired).toBe(1);
    expect(timer.running).toBe(false);
  });

  it('expires synchronously when the delay is zero', () => {
    const timer = new TransactionTimer(new FakeClock(), 'K');
    let fired = 0;

    timer.start(0, () => fired++);

    expect(fired).toBe(1);
  });

  it('replaces the pending expiry when started again, and stop cancels it', () => {
    const clock = new FakeClock();
    const timer = new TransactionTimer(clock, 'E');
    const fired: string[] = [];

    timer.start(500, () => fired.push('first'));
    timer.start(1000, () => fired.push('second'));
    clock.advance(2000);
    timer.start(500, () => fired.push('third'));
    timer.stop();
    clock.advance(2000);

    expect(fired).toEqual(['second']);
    expect(clock.pendingCount).toBe(0);
  });
});

describe('ExpiryQueue', () => {
  it('expires each item at its own deadline, in the order added, with one clock timer', () => {
    const clock = new FakeClock();
    const expired: Array<[string, number]> = [];
    const start = clock.now();
    const queue = new ExpiryQueue<string>(clock, 32_000, (item) => expired.push([item, clock.now() - start]));

    queue.add('a');
    clock.advance(100);
    queue.add('b');
    queue.add('c');
    clock.advance(900);
    queue.add('d');
    const timersWhileWaiting = clock.pendingCount;
    clock.advance(30_999);
    const beforeFirstDeadline = [...expired];
    clock.advance(1);
    const atFirstDeadline = [...expired];
    clock.advance(1_000);

    expect(timersWhileWaiting).toBe(1);
    expect(beforeFirstDeadline).toEqual([]);
    expect(atFirstDeadline).toEqual([['a', 32_000]]);
    expect(expired).toEqual([
      ['a', 32_000],
      ['b', 32_100],
      ['c', 32_100],
      ['d', 33_000],
    ]);
    expect(queue.size).toBe(0);
    expect(clock.pendingCount).toBe(0);
  });

  it('gives an item added while expiring others its full delay', () => {
    const clock = new FakeClock();
    const start = clock.now();
    const expired: Array<[string, number]> = [];
    const queue = new ExpiryQueue<string>(clock, 500, (item) => {
      expired.push([item, clock.now() - start]);
      if (item === 'a') queue.add('a-follow-up');
    });

    queue.add('a');
    queue.add('b');
    clock.advance(499);
    const early = [...expired];
    clock.advance(501);

    expect(early).toEqual([]);
    expect(expired).toEqual([
      ['a', 500],
      ['b', 500],
      ['a-follow-up', 1000],
    ]);
    expect(clock.pendingCount).toBe(0);
  });

  it('keeps order and deadlines across many items (the backing arrays are compacted as the head moves on)', () => {
    const clock = new FakeClock();
    const start = clock.now();
    const late: number[] = [];
    const order: number[] = [];
    const added = new Map<number, number>();
    const queue = new ExpiryQueue<number>(clock, 32_000, (item) => {
      order.push(item);
      if (clock.now() - start !== (added.get(item) as number) + 32_000) late.push(item);
    });

    for (let i = 0; i < 5000; i++) {
      added.set(i, clock.now() - start);
      queue.add(i);
      clock.advance(10);
    }
    clock.advance(32_000);

    expect(order).toEqual([...Array(5000).keys()]);
    expect(late).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it('expires at once, synchronously, when its delay is zero (reliable transports)', () => {
    const clock = new FakeClock();
    const expired: string[] = [];
    const queue = new ExpiryQueue<string>(clock, 0, (item) => expired.push(item));

    queue.add('a');

    expect(expired).toEqual(['a']);
    expect(clock.pendingCount).toBe(0);
  });
});
