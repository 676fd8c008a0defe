/**
 * From 8 kHz mono float samples (what ffmpeg hands back) to the two G.711
 * payload streams a prompt is played from, at a level fit for a telephone.
 *
 * Level: peak normalisation to −3 dBFS, a single linear gain. G.711's full
 * scale is a +3.17 dBm0 sine, so peaks at −3 dBFS sit near 0 dBm0: the
 * codec never clips, and speech (crest factor 12–20 dB) lands around −15 to
 * −20 dBm0, where phones are designed to be comfortable. EBU R128 `loudnorm`
 * was not chosen: its integrated loudness is gated over 3 s windows (most
 * prompts are shorter), the one-pass mode compresses dynamics and the exact
 * mode needs a second ffmpeg run; a peak gain is exact, deterministic and
 * costs one pass over samples already in memory. The gain is capped so a
 * near-silent recording is not turned into loud hiss. Nothing is trimmed.
 */
import { alawEncodeTable, mulawEncodeTable } from './g711.js';

export const PROMPT_SAMPLE_RATE = 8000;
export const TARGET_PEAK_DBFS = -3;
export const MAX_GAIN_DB = 24;

export interface EncodedPrompt {
  /** µ-law, one byte per sample, standalone ArrayBuffer. */
  readonly pcmu: Buffer<ArrayBuffer>;
  /** A-law, one byte per sample, standalone ArrayBuffer. */
  readonly pcma: Buffer<ArrayBuffer>;
  readonly samples: number;
  readonly durationMs: number;
  /** Peak of the input, dBFS; -Infinity for digital silence. */
  readonly sourcePeakDbfs: number;
  readonly gainDb: number;
}

function toDb(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/** The linear gain that brings `peak` to TARGET_PEAK_DBFS, at most MAX_GAIN_DB; 1 for silence. */
export function peakNormalisationGain(peak: number): number {
  if (!(peak > 0)) return 1;
  const target = 10 ** (TARGET_PEAK_DBFS / 20);
  return Math.min(target / peak, 10 ** (MAX_GAIN_DB / 20));
}

export function peakOf(samples: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) {
    const magnitude = Math.abs(samples[i] ?? 0);
    if (magnitude > peak) peak = magnitude;
  }
  return peak;
}

/** Samples in [-1, 1] (floats may exceed it before normalisation), 8 kHz mono. */
export function encodeTelephonePrompt(samples: Float32Array): EncodedPrompt {
  const peak = peakOf(samples);
  const gain = peakNormalisationGain(peak);
  const mulaw = mulawEncodeTable();
  const alaw = alawEncodeTable();
  // Buffer.alloc never hands out a slice of the shared pool: each buffer owns
  // its ArrayBuffer, so it can be transferred to a media worker on its own.
  const pcmu = Buffer.alloc(samples.length);
  const pcma = Buffer.alloc(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const scaled = Math.round((samples[i] ?? 0) * gain * 32768);
    const linear = scaled > 32767 ? 32767 : scaled < -32768 ? -32768 : scaled;
    const index = linear + 32768;
    pcmu[i] = mulaw[index] ?? 0xff;
    pcma[i] = alaw[index] ?? 0xd5;
  }
  return {
    pcmu,
    pcma,
    samples: samples.length,
    durationMs: (samples.length * 1000) / PROMPT_SAMPLE_RATE,
    sourcePeakDbfs: peak > 0 ? toDb(peak) : -Infinity,
    gainDb: toDb(gain),
  };
}
