/**
 * Cutting a run into windows and taking medians (npm run bench repeats
 * each figure three times; for a steady workload, three windows of one run
 * are three repetitions without three set-ups).
 */

/** The median (the mean of the two middle values for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The times that fall in each window between consecutive `boundaries`
 * (sorted): window w holds boundaries[w] ≤ t < boundaries[w + 1], the last
 * window everything from its start on; times before the first boundary
 * are in none. boundaries.length − 1 windows.
 */
export function splitByBoundaries(times: readonly number[], boundaries: readonly number[]): number[][] {
  const windows: number[][] = [];
  for (let w = 0; w + 1 < boundaries.length; w++) {
    const from = boundaries[w] as number;
    const to = w + 2 === boundaries.length ? Infinity : (boundaries[w + 1] as number);
    windows.push(times.filter((t) => t >= from && t < to));
  }
  return windows;
}
