import { describe, expect, it } from 'vitest';
import {
  alawEncodeTable,
  alawToLinear,
  linearToAlaw,
  linearToMulaw,
  mulawEncodeTable,
  mulawToLinear,
} from '../../../../src/media/prompts/g711.js';

describe('G.711 µ-law', () => {
  it('codes zero, full scale and the clip level as ITU-T G.711 Table 2', () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(mulawToLinear(0xff)).toBe(0);
    expect(mulawToLinear(0x80)).toBe(32124);
    expect(mulawToLinear(0x00)).toBe(-32124);
  });

  it('decodes then re-encodes every code to itself (0x7f, negative zero, becomes 0xff)', () => {
    for (let code = 0; code < 256; code++) {
      expect(linearToMulaw(mulawToLinear(code))).toBe(code === 0x7f ? 0xff : code);
    }
  });

  it('keeps the quantisation error within half a step of its segment', () => {
    const outliers: number[] = [];
    for (let sample = -32768; sample < 32768; sample++) {
      if (Math.abs(mulawToLinear(linearToMulaw(sample)) - sample) > Math.max(16, Math.abs(sample) / 16)) outliers.push(sample);
    }
    expect(outliers).toEqual([]);
  });
});

describe('G.711 A-law', () => {
  it('codes zero and full scale as ITU-T G.711 Table 1 (even bits inverted)', () => {
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
  });

  it('decodes then re-encodes every code to itself', () => {
    for (let code = 0; code < 256; code++) expect(linearToAlaw(alawToLinear(code))).toBe(code);
  });

  it('keeps the quantisation error within half a step of its segment', () => {
    const outliers: number[] = [];
    for (let sample = -32768; sample < 32768; sample++) {
      if (Math.abs(alawToLinear(linearToAlaw(sample)) - sample) > Math.max(16, Math.abs(sample) / 16)) outliers.push(sample);
    }
    expect(outliers).toEqual([]);
  });
});

describe('encode tables', () => {
  it('match the functions for every 16-bit sample', () => {
    const mulaw = mulawEncodeTable();
    const alaw = alawEncodeTable();
    const mismatches: number[] = [];
    for (let sample = -32768; sample < 32768; sample++) {
      if (mulaw[sample + 32768] !== linearToMulaw(sample) || alaw[sample + 32768] !== linearToAlaw(sample)) mismatches.push(sample);
    }
    expect(mismatches).toEqual([]);
  });
});
