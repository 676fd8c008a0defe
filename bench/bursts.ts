/**
 * How slow calls of a latency benchmark are spread in time.
 */

/**
 * Calls slower than `thresholdMs`, grouped in bursts (in capture order, a
 * gap of at most `gap` faster calls inside a burst): a server that stalls
 * builds a queue that every call behind it waits through, so its slow
 * calls come in long runs; delays spread one by one point elsewhere.
 */
export function slowBursts(srdMs: readonly number[], thresholdMs = 20, gap = 5): { readonly slow: number; readonly bursts: number; readonly longest: number } {
  let slow = 0;
  let bursts = 0;
  let longest = 0;
  let current = 0;
  let lastSlow = -Infinity;
  srdMs.forEach((ms, i) => {
    if (ms <= thresholdMs) return;
    slow++;
    if (i - lastSlow > gap + 1) {
      bursts++;
      current = 0;
    }
    current++;
    longest = Math.max(longest, current);
    lastSlow = i;
  });
  return { slow, bursts, longest };
}
