/**
 * In-band DTMF detection against real speech: a French prompt spoken by
 * espeak-ng and resampled to 8 kHz by ffmpeg (Debian packages espeak-ng and
 * ffmpeg, installed by scripts/test.sh) must not produce a digit (issue 5,
 * "no digit detected in a TTS prompt"). The generated digit recording goes
 * through the same files, the same ffmpeg command and the same detector to
 * show the path does find digits.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoertzelDtmfDetector } from '../../../src/media/dtmf/goertzel-detector.js';
import {
  ALL_DIGITS,
  ToneRecorder,
  digitRecording,
  encodeG711,
  feedPackets,
  type G711Law,
} from '../../unit/media/dtmf/dtmf-signals.js';

const run = promisify(execFile);

const PROMPT =
  "Bonjour et bienvenue. Pour joindre le service commercial, tapez un. Pour le support technique, tapez deux. " +
  "Pour réécouter ce message, appuyez sur la touche étoile. Votre correspondant est actuellement indisponible ; " +
  "laissez un message après le bip sonore, en indiquant votre nom et votre numéro de téléphone. Merci, à bientôt.";

/** A 16-bit mono PCM WAV. */
function wavOf(samples: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** `ffmpeg -i in.wav -ar 8000 -ac 1 -f s16le out.raw`, read back as samples. */
async function toRaw8k(wav: string): Promise<Int16Array> {
  const raw = `${wav}.raw`;
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', wav, '-ar', '8000', '-ac', '1', '-f', 's16le', raw]);
  const bytes = await readFile(raw);
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~1)));
}

/** Scaled so the loudest sample reaches `peak` (clipped to 16 bits). */
function withPeak(samples: Int16Array, peak: number): Int16Array {
  let max = 1;
  for (const sample of samples) max = Math.max(max, Math.abs(sample));
  const gain = peak / max;
  return Int16Array.from(samples, (sample) => Math.max(-32768, Math.min(32767, Math.round(sample * gain))));
}

/** As a call hears it: 20 ms packets, linear or G.711-encoded. */
function detect(samples: Int16Array, law: G711Law | 'linear'): string {
  const recorder = new ToneRecorder();
  const detector = new GoertzelDtmfDetector(recorder);
  if (law === 'linear') {
    feedPackets(samples.length, (offset, count) => detector.processLinear(samples, offset, count));
  } else {
    const payload = encodeG711(samples, law);
    feedPackets(payload.length, (offset, count) =>
      law === 'mulaw' ? detector.processMulaw(payload, offset, count) : detector.processAlaw(payload, offset, count),
    );
  }
  return recorder.digits;
}

describe('in-band DTMF detection on a real TTS prompt (espeak-ng, ffmpeg)', () => {
  let dir: string;
  let prompt: Int16Array;
  let digits: Int16Array;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voix-dtmf-tts-'));
    const promptWav = path.join(dir, 'prompt.wav');
    await run('espeak-ng', ['-v', 'fr', '-w', promptWav, PROMPT]);
    prompt = await toRaw8k(promptWav);

    const digitsWav = path.join(dir, 'digits.wav');
    await writeFile(digitsWav, wavOf(digitRecording({ seed: 1 }), 8000));
    digits = await toRaw8k(digitsWav);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('has a prompt of several seconds at 8 kHz', () => {
    expect(prompt.length / 8000).toBeGreaterThan(10);
  });

  it.each(['linear', 'mulaw', 'alaw'] as const)('detects no digit in the French prompt (%s)', (law) => {
    expect(detect(prompt, law)).toBe('');
  });

  it('detects no digit in the prompt played loud (peak near full scale) or soft', () => {
    expect(detect(withPeak(prompt, 32000), 'mulaw')).toBe('');
    expect(detect(withPeak(prompt, 4000), 'mulaw')).toBe('');
  });

  it.each(['linear', 'mulaw', 'alaw'] as const)('finds every digit of the generated recording on the same path (%s)', (law) => {
    expect(detect(digits, law)).toBe(ALL_DIGITS.join(''));
  });

  it('finds the digits a caller types over the prompt', () => {
    const mixed = Int16Array.from(prompt.subarray(0, digits.length), (sample, i) =>
      Math.max(-32768, Math.min(32767, Math.round(sample * 0.25) + (digits[i] ?? 0))),
    );

    expect(detect(mixed, 'mulaw')).toBe(ALL_DIGITS.join(''));
  });
});
