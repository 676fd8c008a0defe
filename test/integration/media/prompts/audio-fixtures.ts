/**
 * Audio made by the tests themselves: a WAV written by hand, and other
 * formats made from it by the real ffmpeg. Plus what the tests measure on
 * G.711 output: RMS, peak and dominant frequency.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { alawToLinear, mulawToLinear } from '../../../../src/media/prompts/g711.js';

const run = promisify(execFile);

/** 16-bit PCM mono WAV: RIFF header (44 bytes) then the samples. */
export async function writeSineWav(file: string, options: { frequency: number; durationMs: number; sampleRate: number; amplitude: number }): Promise<void> {
  const count = Math.round((options.durationMs * options.sampleRate) / 1000);
  const data = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    data.writeInt16LE(Math.round(options.amplitude * 32767 * Math.sin((2 * Math.PI * options.frequency * i) / options.sampleRate)), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(options.sampleRate, 24);
  header.writeUInt32LE(options.sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  await writeFile(file, Buffer.concat([header, data]));
}

/** `ffmpeg -i input [args] output`, quietly. */
export async function ffmpegConvert(input: string, output: string, args: readonly string[]): Promise<void> {
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', input, ...args, output]);
}

export function decodeMulaw(bytes: Buffer): Float64Array {
  return Float64Array.from(bytes, (byte) => mulawToLinear(byte) / 32768);
}

export function decodeAlaw(bytes: Buffer): Float64Array {
  return Float64Array.from(bytes, (byte) => alawToLinear(byte) / 32768);
}

export function rms(samples: Float64Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

export function peakDbfs(samples: Float64Array): number {
  let peak = 0;
  for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
  return 20 * Math.log10(peak);
}

/** Frequency from the rising zero crossings, in Hz, for a clean tone at 8 kHz. */
export function toneFrequency(samples: Float64Array, sampleRate = 8000): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) {
    if ((samples[i - 1] ?? 0) < 0 && (samples[i] ?? 0) >= 0) crossings++;
  }
  return (crossings * sampleRate) / samples.length;
}
