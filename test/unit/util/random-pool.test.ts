import { describe, expect, it } from 'vitest';
import { fillRandom, randomBase64Url } from '../../../src/util/random-pool.js';

describe('random pool', () => {
  it('gives base64url tokens of the asked length in bytes, all different, across refills of the block', () => {
    // 8-byte tokens: 4096 / 8 = 512 per block, so 2000 tokens cross three refills.
    const tokens = Array.from({ length: 2000 }, () => randomBase64Url(8));

    expect(tokens.every((t) => /^[A-Za-z0-9_-]{11}$/.test(t))).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('fills a slice of a buffer and leaves the rest alone', () => {
    const target = Buffer.alloc(32);
    const slices = new Set<string>();

    for (let i = 0; i < 1000; i++) {
      fillRandom(target, 8, 8);
      slices.add(target.toString('hex', 8, 16));
    }

    expect(target.subarray(0, 8).equals(Buffer.alloc(8))).toBe(true);
    expect(target.subarray(16).equals(Buffer.alloc(16))).toBe(true);
    expect(slices.size).toBe(1000);
  });

  it('refuses more bytes than one block', () => {
    expect(() => randomBase64Url(4097)).toThrow(RangeError);
  });
});
