/**
 * The highest rate a server sustains, found with few runs: each rate of the
 * ramp is run once, going up, until a run is not clean; then the highest
 * rate that passed is run again until it has `repeat` clean runs in a row
 * (its figure) or fails (then the rate below it is confirmed the same way).
 * The figure is the same as running every rate `repeat` times (the
 * highest rate clean in `repeat` of `repeat` runs, below the first rate
 * that failed), for about a third of the runs.
 *
 * An invalid run (the generator fell behind, not the server) stops the
 * ramp like a failure, and marks the figure as a lower bound.
 */
export type RunVerdict = 'clean' | 'failed' | 'invalid';

export interface RampOutcome<R> {
  /** Every run, in the order it ran. */
  readonly runs: R[];
  /** The highest rate clean in `repeat` runs, or null when none was. */
  readonly best: number | null;
  /** The runs at `best` (its `repeat` clean runs). */
  readonly bestRuns: R[];
  /** A run was invalid: the figure is a lower bound. */
  readonly lowerBound: boolean;
}

export async function rampToHighestClean<R extends { readonly verdict: RunVerdict }>(
  rates: readonly number[],
  repeat: number,
  runOnce: (rate: number, run: number) => Promise<R> | R,
): Promise<RampOutcome<R>> {
  const runs: R[] = [];
  const byRate = new Map<number, R[]>();
  let lowerBound = false;
  const run = async (rate: number): Promise<R> => {
    const done = byRate.get(rate) ?? [];
    const result = await runOnce(rate, done.length + 1);
    done.push(result);
    byRate.set(rate, done);
    runs.push(result);
    if (result.verdict === 'invalid') lowerBound = true;
    return result;
  };

  let passed = -1;
  for (const [i, rate] of rates.entries()) {
    if ((await run(rate)).verdict !== 'clean') break;
    passed = i;
  }
  for (let i = passed; i >= 0; i--) {
    const rate = rates[i] as number;
    let clean = true;
    while ((byRate.get(rate)?.length ?? 0) < repeat) {
      if ((await run(rate)).verdict !== 'clean') {
        clean = false;
        break;
      }
    }
    if (clean) return { runs, best: rate, bestRuns: byRate.get(rate) ?? [], lowerBound };
  }
  return { runs, best: null, bestRuns: [], lowerBound };
}
