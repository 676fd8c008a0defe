/**
 * G.711 decoding by lookup table, for the in-band DTMF detector, which reads
 * PCMU (µ-law, payload type 0) and PCMA (A-law, payload type 8) RTP payloads
 * on the per-packet path: one table read per sample into a preallocated
 * buffer instead of the bit arithmetic of the per-sample functions.
 *
 * The tables are built once at module load from the codec of
 * src/media/prompts/g711.ts (the Sun reference algorithm), so both agree
 * bit for bit: µ-law decodes to ±32124, A-law to ±32256.
 */

import { alawToLinear, mulawToLinear } from '../prompts/g711.js';

function decodeTable(decode: (byte: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let byte = 0; byte < 256; byte += 1) table[byte] = decode(byte);
  return table;
}

/** µ-law byte → 16-bit linear sample. */
export const MULAW_TO_LINEAR16: Readonly<Int16Array> = decodeTable(mulawToLinear);
/** A-law byte → 16-bit linear sample. */
export const ALAW_TO_LINEAR16: Readonly<Int16Array> = decodeTable(alawToLinear);

/**
 * Decodes `payload[offset, offset + length)` through `table` into
 * `out[outOffset, …)` and returns the number of samples written (fewer than
 * `length` when `out` is too short). Allocates nothing.
 */
export function decodeG711(
  table: Readonly<Int16Array>,
  payload: Uint8Array,
  offset: number,
  length: number,
  out: Int16Array,
  outOffset = 0,
): number {
  const count = Math.max(0, Math.min(length, payload.length - offset, out.length - outOffset));
  for (let i = 0; i < count; i += 1) out[outOffset + i] = table[payload[offset + i] as number] as number;
  return count;
}

export function decodeMulaw(payload: Uint8Array, offset: number, length: number, out: Int16Array, outOffset = 0): number {
  return decodeG711(MULAW_TO_LINEAR16, payload, offset, length, out, outOffset);
}

export function decodeAlaw(payload: Uint8Array, offset: number, length: number, out: Int16Array, outOffset = 0): number {
  return decodeG711(ALAW_TO_LINEAR16, payload, offset, length, out, outOffset);
}
