import { describe, expect, it } from 'vitest';
import { rampToHighestClean, type RunVerdict } from '../../../bench/ramp.js';

/** A server whose runs at each rate give these verdicts in turn (clean once the list is used up). */
function server(verdicts: Record<number, RunVerdict[]>) {
  const calls: Array<[number, number]> = [];
  const runOnce = (rate: number, run: number) => {
    calls.push([rate, run]);
    return { rate, run, verdict: verdicts[rate]?.[run - 1] ?? ('clean' as RunVerdict) };
  };
  return { calls, runOnce };
}

describe('rampToHighestClean', () => {
  it('runs each rate once going up, then confirms the highest that passed', async () => {
    const s = server({ 400: ['failed'] });
    const outcome = await rampToHighestClean([100, 200, 300, 400, 500], 3, s.runOnce);
    expect(s.calls).toEqual([[100, 1], [200, 1], [300, 1], [400, 1], [300, 2], [300, 3]]);
    expect(outcome.best).toBe(300);
    expect(outcome.bestRuns.map((r) => r.run)).toEqual([1, 2, 3]);
    expect(outcome.lowerBound).toBe(false);
  });

  it('falls back to the rate below when the confirmation fails', async () => {
    const s = server({ 300: ['clean', 'failed'], 400: ['failed'] });
    const outcome = await rampToHighestClean([100, 200, 300, 400], 3, s.runOnce);
    expect(s.calls).toEqual([[100, 1], [200, 1], [300, 1], [400, 1], [300, 2], [200, 2], [200, 3]]);
    expect(outcome.best).toBe(200);
  });

  it('reports no rate when the lowest fails, and a lower bound when a run was invalid', async () => {
    expect((await rampToHighestClean([100, 200], 3, server({ 100: ['failed'] }).runOnce)).best).toBeNull();
    const invalid = await rampToHighestClean([100, 200], 3, server({ 200: ['invalid'] }).runOnce);
    expect(invalid).toMatchObject({ best: 100, lowerBound: true });
  });

  it('keeps the top rate when every rate is clean', async () => {
    const s = server({});
    const outcome = await rampToHighestClean([100, 200], 2, s.runOnce);
    expect(outcome.best).toBe(200);
    expect(s.calls).toEqual([[100, 1], [200, 1], [200, 2]]);
  });
});
