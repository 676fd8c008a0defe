import { describe, expect, it } from 'vitest';
import { median, splitByBoundaries } from '../../../bench/windows.js';

describe('bench windows', () => {
  it('takes the median of odd and even counts, NaN of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('puts each time in the window of the boundaries around it, the late ones in the last, the early ones in none', () => {
    const times = [5, 10, 19.9, 20, 29, 30, 45, 99];
    expect(splitByBoundaries(times, [10, 20, 30, 40])).toEqual([[10, 19.9], [20, 29], [30, 45, 99]]);
    expect(splitByBoundaries(times, [0, 100])).toEqual([times]);
    expect(splitByBoundaries(times, [0])).toEqual([]);
  });
});
