/**
 * G.711 by codec name, for the player: the code of silence per codec and
 * the sample-level companding of src/media/prompts/g711.ts (the Sun
 * reference algorithm) behind one `codec` argument. The player encodes
 * tables once (tones, silence); decoding is for checking what it sent.
 */
import { alawToLinear, linearToAlaw, linearToMulaw, mulawToLinear } from '../prompts/g711.js';

/** Same names as the SDP's encodings (src/sdp/local-answer.ts). */
export type G711Codec = 'PCMU' | 'PCMA';

/** The code of a zero sample: what a silent packet carries (µ-law 0xFF, A-law 0xD5). */
export const G711_SILENCE: Readonly<Record<G711Codec, number>> = { PCMU: 0xff, PCMA: 0xd5 };

export const G711_SAMPLE_RATE = 8000;

/** One 16-bit linear sample (rounded, clamped) to a G.711 code. */
export function encodeSample(codec: G711Codec, sample: number): number {
  const linear = Math.max(-32768, Math.min(32767, Math.round(sample)));
  return codec === 'PCMU' ? linearToMulaw(linear) : linearToAlaw(linear);
}

export function decodeSample(codec: G711Codec, code: number): number {
  return codec === 'PCMU' ? mulawToLinear(code) : alawToLinear(code);
}

/** Whole buffers: preparing test prompts, checking output (not a per-packet path). */
export function encodeLinear(codec: G711Codec, samples: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = encodeSample(codec, samples[i] ?? 0);
  return out;
}

export function decodeToLinear(codec: G711Codec, codes: ArrayLike<number>): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = decodeSample(codec, codes[i] ?? 0);
  return out;
}
