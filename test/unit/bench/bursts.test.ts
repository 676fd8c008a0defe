import { describe, expect, it } from 'vitest';
import { slowBursts } from '../../../bench/bursts.js';

describe('slowBursts', () => {
  it('groups slow calls that follow each other, within a gap of a few fast ones', () => {
    const fast = 2;
    const delays = [fast, 30, 40, fast, 50, fast, fast, fast, fast, fast, fast, fast, 25, fast, 21, 22, 23];

    expect(slowBursts(delays, 20, 5)).toEqual({ slow: 7, bursts: 2, longest: 4 });
    expect(slowBursts(delays, 20, 0)).toEqual({ slow: 7, bursts: 4, longest: 3 });
  });

  it('says none when no call is over the threshold', () => {
    expect(slowBursts([1, 2, 20, 3])).toEqual({ slow: 0, bursts: 0, longest: 0 });
  });
});
