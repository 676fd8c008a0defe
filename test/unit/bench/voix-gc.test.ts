/**
 * The GC pauses a benchmark reads from two scrapes of voix's /metrics.
 */
import { describe, expect, it } from 'vitest';
import { gcPauseDelta, gcPauseTotals, longestPauseBoundMs } from '../../../bench/voix-gc.js';
import { VoixMetrics } from '../../../src/admin/voix-metrics.js';

describe('voix GC pauses between two scrapes', () => {
  it('reads each kind from what voix renders, and what happened in between', () => {
    const metrics = new VoixMetrics(0);
    metrics.gcPause('minor', 0.7);
    metrics.gcPause('major', 12);
    const before = gcPauseTotals(metrics.render());
    metrics.gcPause('minor', 1.8);
    metrics.gcPause('minor', 4);
    metrics.gcPause('major', 40);
    metrics.gcPause('major', 3);
    const after = gcPauseTotals(metrics.render());

    expect(before.get('minor')?.count).toBe(1);
    expect(before.get('minor')?.sumMs).toBeCloseTo(0.7, 6);
    const delta = gcPauseDelta(before, after);
    expect([...delta.keys()]).toEqual(['minor', 'major']);
    expect(delta.get('minor')?.count).toBe(2);
    expect(delta.get('minor')?.sumMs).toBeCloseTo(5.8, 6);
    expect(longestPauseBoundMs(delta.get('minor')!)).toBe(5);
    expect(delta.get('major')?.count).toBe(2);
    expect(delta.get('major')?.sumMs).toBeCloseTo(43, 6);
    expect(longestPauseBoundMs(delta.get('major')!)).toBe(50);
  });

  it('leaves out a kind with no pause in between, and reads nothing from a build without the metric', () => {
    const metrics = new VoixMetrics(0);
    metrics.gcPause('minor', 1);
    const text = metrics.render();

    expect(gcPauseDelta(gcPauseTotals(text), gcPauseTotals(text)).size).toBe(0);
    expect(gcPauseTotals('voix_event_loop_lag_seconds_count 3\n').size).toBe(0);
  });

  it('says +Inf when a pause outlasted every bound', () => {
    const metrics = new VoixMetrics(0);
    metrics.gcPause('major', 2500);

    expect(longestPauseBoundMs(gcPauseTotals(metrics.render()).get('major')!)).toBe(Infinity);
  });
});
