import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMER_SETTINGS,
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
