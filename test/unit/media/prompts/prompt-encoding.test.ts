import { describe, expect, it } from 'vitest';
import { alawToLinear, mulawToLinear } from '../../../../src/media/prompts/g711.js';
import { encodeTelephonePrompt, MAX_GAIN_DB, peakNormalisationGain, TARGET_PEAK_DBFS } from '../../../../src/media/prompts/prompt-encoding.js';

function sine(amplitude: number, frequency: number, samples: number, leadingSilence = 0): Float32Array {
  const out = new Float32Array(leadingSilence + samples);
  for (let i = 0; i < samples; i++) out[leadingSilence + i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / 8000 + 0.3);
  return out;
}

function peakDbfs(bytes: Buffer, decode: (byte: number) => number): number {
  let peak = 0;
  for (const byte of bytes) peak = Math.max(peak, Math.abs(decode(byte)));
  return 20 * Math.log10(peak / 32768);
}

describe('peakNormalisationGain', () => {
  it('brings a full-scale peak down to the target', () => {
    expect(20 * Math.log10(peakNormalisationGain(1))).toBeCloseTo(TARGET_PEAK_DBFS, 6);
  });

  it('leaves digital silence alone', () => {
    expect(peakNormalisationGain(0)).toBe(1);
  });

  it('caps the gain so a near-silent file is not turned into hiss', () => {
    expect(20 * Math.log10(peakNormalisationGain(1e-6))).toBeCloseTo(MAX_GAIN_DB, 6);
  });
});

describe('encodeTelephonePrompt', () => {
  it('makes both laws, one byte per 8 kHz sample, with the exact duration', () => {
    const prompt = encodeTelephonePrompt(sine(0.25, 1000, 12_000));
    expect(prompt.samples).toBe(12_000);
    expect(prompt.pcmu.length).toBe(12_000);
    expect(prompt.pcma.length).toBe(12_000);
    expect(prompt.durationMs).toBe(1500);
  });

  it('puts the peak at −3 dBFS in both laws, from a quiet source', () => {
    const prompt = encodeTelephonePrompt(sine(0.1, 1000, 8000));
    expect(prompt.sourcePeakDbfs).toBeCloseTo(-20, 0);
    expect(prompt.gainDb).toBeCloseTo(17, 0);
    expect(Math.abs(peakDbfs(prompt.pcmu, mulawToLinear) - TARGET_PEAK_DBFS)).toBeLessThan(0.5);
    expect(Math.abs(peakDbfs(prompt.pcma, alawToLinear) - TARGET_PEAK_DBFS)).toBeLessThan(0.5);
  });

  it('attenuates decoder overs above full scale instead of clipping them', () => {
    const prompt = encodeTelephonePrompt(sine(1.6, 440, 8000));
    expect(prompt.gainDb).toBeLessThan(-6);
    expect(peakDbfs(prompt.pcmu, mulawToLinear)).toBeLessThan(-2.5);
  });

  it('trims nothing: leading silence stays', () => {
    const prompt = encodeTelephonePrompt(sine(0.5, 440, 800, 400));
    expect(prompt.samples).toBe(1200);
    expect([...prompt.pcmu.subarray(0, 400)].every((byte) => byte === 0xff)).toBe(true);
    expect([...prompt.pcma.subarray(0, 400)].every((byte) => byte === 0xd5)).toBe(true);
  });

  it('encodes digital silence as silence with no gain', () => {
    const prompt = encodeTelephonePrompt(new Float32Array(160));
    expect(prompt.gainDb).toBe(0);
    expect(prompt.sourcePeakDbfs).toBe(-Infinity);
    expect([...prompt.pcmu].every((byte) => byte === 0xff)).toBe(true);
  });

  it('gives each law its own ArrayBuffer, so each can be transferred to a worker alone', () => {
    const prompt = encodeTelephonePrompt(sine(0.5, 440, 100));
    expect(prompt.pcmu.buffer).not.toBe(prompt.pcma.buffer);
    expect(prompt.pcmu.byteOffset).toBe(0);
    expect(prompt.pcmu.buffer.byteLength).toBe(100);
    expect(prompt.pcma.buffer.byteLength).toBe(100);
  });
});
