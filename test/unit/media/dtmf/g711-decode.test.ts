import { describe, expect, it } from 'vitest';
import {
  ALAW_TO_LINEAR16,
  MULAW_TO_LINEAR16,
  decodeAlaw,
  decodeMulaw,
} from '../../../../src/media/dtmf/g711-decode.js';
import { alawToLinear, linearToAlaw, linearToMulaw, mulawToLinear } from '../../../../src/media/prompts/g711.js';

describe('G.711 decoding tables', () => {
  it('agree with the codec for every byte', () => {
    for (let byte = 0; byte < 256; byte += 1) {
      expect(MULAW_TO_LINEAR16[byte]).toBe(mulawToLinear(byte));
      expect(ALAW_TO_LINEAR16[byte]).toBe(alawToLinear(byte));
    }
  });

  it('decode the G.711 extremes and silence codes', () => {
    expect([0x00, 0x80, 0xff, 0x7f].map((byte) => MULAW_TO_LINEAR16[byte])).toEqual([-32124, 32124, 0, 0]);
    expect([0xaa, 0x2a, 0xd5, 0x55].map((byte) => ALAW_TO_LINEAR16[byte])).toEqual([32256, -32256, 8, -8]);
  });

  it('decode a payload slice into a preallocated buffer at an offset, and stop at its end', () => {
    const samples = [0, 1000, -1000, 30000, -30000];
    const payload = Uint8Array.from([0xee, ...samples.map(linearToMulaw)]);
    const out = new Int16Array(8).fill(7);

    expect(decodeMulaw(payload, 1, samples.length, out, 2)).toBe(5);
    expect(Array.from(out.subarray(0, 2))).toEqual([7, 7]);
    out.subarray(2, 7).forEach((value, i) => expect(Math.abs(value - (samples[i] ?? 0))).toBeLessThanOrEqual(Math.abs(samples[i] ?? 0) / 16 + 8));
    expect(out[7]).toBe(7);

    const small = new Int16Array(3);
    const alaw = Uint8Array.from(samples.map(linearToAlaw));
    expect(decodeAlaw(alaw, 0, alaw.length, small)).toBe(3);
    expect(decodeAlaw(alaw, 4, 10, small)).toBe(1);
  });
});
