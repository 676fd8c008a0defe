/**
 * ITU-T G.711 companding, µ-law (PCMU, RTP payload type 0) and A-law (PCMA,
 * payload type 8), from and to 16-bit linear samples. The algorithm is the
 * one of the public-domain Sun reference (g711.c) that most telephony code
 * uses; lookup tables are built once so encoding a prompt is one table read
 * per sample.
 */

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
const MULAW_BIAS = 0x84;
/** Largest 14-bit magnitude µ-law codes (G.711 Table 2). */
const MULAW_CLIP = 8159;
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const;
const MULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const;

function segmentOf(value: number, ends: readonly number[]): number {
  for (let segment = 0; segment < ends.length; segment++) {
    if (value <= (ends[segment] ?? 0)) return segment;
  }
  return ends.length;
}

/** One 16-bit two's-complement sample to a µ-law byte. */
export function linearToMulaw(sample: number): number {
  let value = sample >> 2;
  let mask: number;
  if (value < 0) {
    value = -value;
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (value > MULAW_CLIP) value = MULAW_CLIP;
  value += MULAW_BIAS >> 2;
  const segment = segmentOf(value, MULAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  return ((segment << 4) | ((value >> (segment + 1)) & QUANT_MASK)) ^ mask;
}

/** One 16-bit two's-complement sample to an A-law byte (even bits inverted, G.711 §3). */
export function linearToAlaw(sample: number): number {
  let value = sample >> 3;
  let mask: number;
  if (value >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const segment = segmentOf(value, ALAW_SEGMENT_ENDS);
  if (segment >= 8) return 0x7f ^ mask;
  const quantised = segment < 2 ? (value >> 1) & QUANT_MASK : (value >> segment) & QUANT_MASK;
  return ((segment << SEG_SHIFT) | quantised) ^ mask;
}

export function mulawToLinear(byte: number): number {
  const value = ~byte & 0xff;
  let magnitude = ((value & QUANT_MASK) << 3) + MULAW_BIAS;
  magnitude <<= (value & SEG_MASK) >> SEG_SHIFT;
  return value & SIGN_BIT ? MULAW_BIAS - magnitude : magnitude - MULAW_BIAS;
}

export function alawToLinear(byte: number): number {
  const value = (byte & 0xff) ^ 0x55;
  let magnitude = (value & QUANT_MASK) << 4;
  const segment = (value & SEG_MASK) >> SEG_SHIFT;
  if (segment === 0) magnitude += 8;
  else if (segment === 1) magnitude += 0x108;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return value & SIGN_BIT ? magnitude : -magnitude;
}

function encodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encode(i - 32768);
  return table;
}

let mulawTable: Uint8Array | undefined;
let alawTable: Uint8Array | undefined;

/** µ-law byte for a 16-bit sample, by table. */
export function mulawEncodeTable(): Uint8Array {
  mulawTable ??= encodeTable(linearToMulaw);
  return mulawTable;
}

/** A-law byte for a 16-bit sample, by table. */
export function alawEncodeTable(): Uint8Array {
  alawTable ??= encodeTable(linearToAlaw);
  return alawTable;
}
