/**
 * Test audio, written and measured by the test itself (never by voix's
 * code): WAV files of pure tones for the phones' microphones, WAV reading
 * for what they recorded, the power at a frequency (Goertzel) and the
 * dominant frequency of a signal, and G.711 decoding (ITU-T G.711 µ-law and
 * A-law) to look at RTP payloads captured on the wire.
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface ToneOptions {
  readonly frequencyHz: number;
  readonly seconds: number;
  /** Default 8000 Hz (baresip's aufile source wants the codec's rate: 8000 Hz mono for G.711). */
  readonly sampleRate?: number;
  /** Peak amplitude as a fraction of full scale; default 0.5. */
  readonly amplitude?: number;
}

/** A mono 16-bit PCM WAV of a sine at frequencyHz. */
export function toneWav(options: ToneOptions): Buffer {
  const rate = options.sampleRate ?? 8000;
  const amplitude = (options.amplitude ?? 0.5) * 32767;
  const samples = new Float64Array(Math.round(options.seconds * rate));
  for (let i = 0; i < samples.length; i += 1) samples[i] = amplitude * Math.sin((2 * Math.PI * options.frequencyHz * i) / rate);
  return pcmWav(samples, rate);
}

/** A mono 16-bit PCM WAV of `samples` (16-bit scale, rounded and clamped) at `rate` Hz. */
export function pcmWav(samples: ArrayLike<number>, rate: number): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i += 1) data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] ?? 0))), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export async function writeToneWav(path: string, options: ToneOptions): Promise<string> {
  await writeFile(path, toneWav(options));
  return path;
}

export interface PcmAudio {
  readonly sampleRate: number;
  /** Mono samples in [-1, 1] (channels averaged). */
  readonly samples: Float64Array;
}

/**
 * Reads a 16-bit PCM WAV (what baresip's sndfile writes). Tolerates a data
 * chunk whose size field was never fixed up (a file still being written, or
 * left by a killed process): the samples then run to the end of the file.
 */
export function parseWav(bytes: Buffer): PcmAudio {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      const format = bytes.readUInt16LE(body);
      channels = bytes.readUInt16LE(body + 2);
      sampleRate = bytes.readUInt32LE(body + 4);
      bits = bytes.readUInt16LE(body + 14);
      if (format !== 1 && format !== 0xfffe) throw new Error(`WAV format ${format} is not PCM`);
      if (bits !== 16) throw new Error(`WAV with ${bits} bits per sample; only 16 is read here`);
    } else if (id === 'data') {
      if (channels === 0) throw new Error('WAV data chunk before its fmt chunk');
      const end = size === 0 || body + size > bytes.length ? bytes.length : body + size;
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Float64Array(frames);
      for (let frame = 0; frame < frames; frame += 1) {
        let sum = 0;
        for (let channel = 0; channel < channels; channel += 1) sum += bytes.readInt16LE(body + (frame * channels + channel) * 2);
        samples[frame] = sum / channels / 32768;
      }
      return { sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV without a data chunk');
}

export async function readWav(path: string): Promise<PcmAudio> {
  return parseWav(await readFile(path));
}

/** Mean power of the signal at one frequency (Goertzel algorithm), normalised so a full-scale sine gives about 0.25. */
export function goertzelPower(samples: ArrayLike<number>, sampleRate: number, frequencyHz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequencyHz) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (let i = 0; i < n; i += 1) {
    const current = (samples[i] ?? 0) + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  const power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  return power / (n * n);
}

/** Mean power of the whole signal (mean square). */
export function signalPower(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) sum += (samples[i] ?? 0) ** 2;
  return samples.length === 0 ? 0 : sum / samples.length;
}

export interface SpectrumPeak {
  /** Frequency with the most power, on the scanned grid. */
  readonly frequencyHz: number;
  /** Share of the signal's power at that frequency: about 1 for a clean tone, small for noise or silence. */
  readonly purity: number;
  /** Mean square of the signal: 0 for silence. */
  readonly power: number;
}

/**
 * The dominant frequency of a signal: Goertzel power scanned from minHz to
 * maxHz in stepHz steps. A pure sine at f gives frequencyHz ≈ f and purity
 * near 1 (a sine of amplitude A has mean square A²/2 and Goertzel power A²/4,
 * hence the factor 2).
 */
export function dominantFrequency(
  samples: ArrayLike<number>,
  sampleRate: number,
  options: { minHz?: number; maxHz?: number; stepHz?: number } = {},
): SpectrumPeak {
  const minHz = options.minHz ?? 100;
  const maxHz = options.maxHz ?? Math.min(3800, sampleRate / 2 - 50);
  const stepHz = options.stepHz ?? 10;
  let best = { frequencyHz: 0, power: -1 };
  for (let f = minHz; f <= maxHz; f += stepHz) {
    const power = goertzelPower(samples, sampleRate, f);
    if (power > best.power) best = { frequencyHz: f, power };
  }
  const total = signalPower(samples);
  return { frequencyHz: best.frequencyHz, purity: total === 0 ? 0 : Math.min(1, (2 * best.power) / total), power: total };
}

/** Samples [fromSeconds, toSeconds) of a recording. */
export function sliceSeconds(audio: PcmAudio, fromSeconds: number, toSeconds = Infinity): Float64Array {
  const start = Math.max(0, Math.floor(fromSeconds * audio.sampleRate));
  const end = Math.min(audio.samples.length, Math.floor(toSeconds * audio.sampleRate));
  return audio.samples.slice(start, Math.max(start, end));
}

/**
 * The longest run of a recording that is not silence, in the 20 ms frames
 * whose mean square exceeds `threshold`: what the phone really heard, without
 * the silence before the call was answered.
 */
export function audibleSamples(audio: PcmAudio, threshold = 1e-4): Float64Array {
  const frame = Math.max(1, Math.round(audio.sampleRate * 0.02));
  const kept: number[] = [];
  for (let start = 0; start + frame <= audio.samples.length; start += frame) {
    const chunk = audio.samples.subarray(start, start + frame);
    if (signalPower(chunk) > threshold) for (const value of chunk) kept.push(value);
  }
  return Float64Array.from(kept);
}

/** ITU-T G.711 µ-law byte to a linear sample in [-1, 1]. */
export function mulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (sign !== 0 ? -magnitude : magnitude) / 32768;
}

/** ITU-T G.711 A-law byte to a linear sample in [-1, 1]. */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = sign !== 0 ? magnitude : -magnitude;
  return magnitude / 32768;
}

/** Linear sample in [-1, 1] to G.711 µ-law (for making test payloads). */
export function linearToMulaw(sample: number): number {
  const BIAS = 0x84;
  let pcm = Math.max(-32635, Math.min(32635, Math.round(sample * 32767)));
  const sign = pcm < 0 ? 0x80 : 0;
  if (pcm < 0) pcm = -pcm;
  pcm += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** G.711 payloads (µ-law for PT 0, A-law for PT 8) decoded and joined. */
export function decodeG711(payloads: readonly Buffer[], payloadType: 0 | 8): Float64Array {
  const total = payloads.reduce((sum, payload) => sum + payload.length, 0);
  const out = new Float64Array(total);
  const decode = payloadType === 0 ? mulawToLinear : alawToLinear;
  let index = 0;
  for (const payload of payloads) for (const byte of payload) out[index++] = decode(byte);
  return out;
}

/** Shannon entropy of the bytes, in bits per byte: 8 for uniformly random bytes, far less for G.711 of a tone. */
export function byteEntropy(chunks: readonly Buffer[]): number {
  const counts = new Array<number>(256).fill(0);
  let total = 0;
  for (const chunk of chunks) {
    for (const byte of chunk) counts[byte] = (counts[byte] ?? 0) + 1;
    total += chunk.length;
  }
  let entropy = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / total;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}
