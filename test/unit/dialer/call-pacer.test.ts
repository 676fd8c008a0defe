import { describe, expect, it } from 'vitest';
import { CallPacer } from '../../../src/dialer/call-pacer.js';

/**
 * A dialer loop on simulated time: it wakes at the pacer's next start time
 * plus `lateMs(i)` (its own lateness), starts a call, and each call lasts
 * `callMs`. Returns the start times.
 */
function simulate(pacer: CallPacer, durationMs: number, callMs: number, lateMs: (i: number) => number): number[] {
  const starts: number[] = [];
  const ends: number[] = [];
  let now = 0;
  for (let i = 0; now < durationMs; i++) {
    while (ends.length > 0 && (ends[0] ?? Infinity) <= now) {
      ends.shift();
      pacer.ended();
    }
    if (pacer.canStart(now)) {
      pacer.started(now);
      starts.push(now);
      ends.push(now + callMs);
      ends.sort((a, b) => a - b);
      continue;
    }
    const next = Math.min(pacer.nextStartMs(now), ends[0] ?? Infinity);
    now = Math.max(now + 0.001, next) + lateMs(i);
  }
  return starts;
}

describe('CallPacer', () => {
  it('spaces calls evenly at the configured rate', () => {
    const starts = simulate(new CallPacer(10, 1000), 60_000, 5_000, () => 0);
    expect(starts.length).toBe(600);
    expect(starts.slice(0, 3)).toEqual([0, 100, 200]);
  });

  it('keeps the average rate within 2 % when the dialer wakes late by up to 8 ms each time, at 10 and 50 calls/s', () => {
    for (const rate of [10, 50]) {
      let seed = 7;
      const late = (): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return (seed / 2147483648) * 8;
      };
      const starts = simulate(new CallPacer(rate, 10_000), 600_000, 20_000, late);
      const achieved = starts.length / 600;
      expect(Math.abs(achieved - rate) / rate, `${achieved.toFixed(2)} calls/s for ${rate}`).toBeLessThan(0.02);
    }
  });

  it('catches up after late wake-ups (40 ms every tenth call, at 50 calls/s) within 1 %, at twice the rate at most: never two starts within 10 ms', () => {
    const starts = simulate(new CallPacer(50, 10_000), 600_000, 20_000, (i) => (i % 10 === 0 ? 40 : 0.5));
    const achieved = starts.length / 600;
    expect(Math.abs(achieved - 50) / 50, `${achieved.toFixed(2)} calls/s`).toBeLessThan(0.01);
    let most = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while ((starts[j] ?? Infinity) < (starts[i] ?? 0) + 1000) j++;
      most = Math.max(most, j - i);
    }
    // 40 ms late costs two calls, made up at 100 calls/s: a second holds at most one or two more than the rate.
    expect(most).toBeLessThanOrEqual(52);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10);
  });

  it('never makes up for an idle spell with a burst', () => {
    const pacer = new CallPacer(10, 100);
    pacer.started(0);
    expect(pacer.canStart(50)).toBe(false);
    expect(pacer.nextStartMs(50)).toBe(100);
    pacer.started(5_000);
    expect(pacer.canStart(5_000)).toBe(false);
    expect(pacer.nextStartMs(5_000)).toBe(5_100);
  });

  it('holds at most maxConcurrent calls: the next waits for one to end', () => {
    const pacer = new CallPacer(1000, 2);
    pacer.started(0);
    pacer.started(1);
    expect(pacer.canStart(10)).toBe(false);
    expect(pacer.nextStartMs(10)).toBe(Number.POSITIVE_INFINITY);
    pacer.ended();
    expect(pacer.active).toBe(1);
    expect(pacer.canStart(10)).toBe(true);
    // Slow calls cap the rate: 2 at a time, 1 s each → 2 calls/s at most.
    const starts = simulate(new CallPacer(50, 2), 10_000, 1_000, () => 0);
    expect(starts.length).toBe(20);
  });

  it('refuses settings that mean nothing', () => {
    expect(() => new CallPacer(0, 1)).toThrow(RangeError);
    expect(() => new CallPacer(5, 0)).toThrow(RangeError);
    expect(() => new CallPacer(Number.NaN, 1)).toThrow(RangeError);
  });
});
