/**
 * The converter with the real espeak-ng, ffprobe and ffmpeg (Debian packages
 * espeak-ng and ffmpeg, installed by scripts/test.sh).
 */
import { execFile } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alawToLinear, mulawToLinear } from '../../../../src/media/prompts/g711.js';
import { FfmpegPromptConverter } from '../../../../src/media/prompts/prompt-converter.js';
import type { EncodedPrompt } from '../../../../src/media/prompts/prompt-encoding.js';
import type { PromptSource } from '../../../../src/media/prompts/prompt-source.js';
import { decodeAlaw, decodeMulaw, ffmpegConvert, peakDbfs, rms, toneFrequency, writeSineWav } from './audio-fixtures.js';

const run = promisify(execFile);

describe('FfmpegPromptConverter (real espeak-ng and ffmpeg)', () => {
  let dir: string;
  let wav: string;
  const converter = new FfmpegPromptConverter();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voix-prompt-convert-'));
    wav = path.join(dir, 'tone.wav');
    // 1.5 s of 440 Hz at −12 dBFS, 44.1 kHz: resampled, normalised, counted.
    await writeSineWav(wav, { frequency: 440, durationMs: 1500, sampleRate: 44_100, amplitude: 0.25 });
    await ffmpegConvert(wav, path.join(dir, 'tone.mp3'), ['-c:a', 'libmp3lame', '-b:a', '64k']);
    await ffmpegConvert(wav, path.join(dir, 'tone.ogg'), ['-c:a', 'libvorbis', '-q:a', '4']);
    await ffmpegConvert(wav, path.join(dir, 'tone.flac'), ['-c:a', 'flac']);
    await writeFile(path.join(dir, 'notes.wav'), 'Ceci est un fichier texte renommé en .wav, pas du son.\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function convert(source: PromptSource): Promise<EncodedPrompt> {
    const result = await converter.convert(source);
    if (!result.ok) throw new Error(`${result.error.reason}: ${result.error.message}`);
    return result.audio;
  }

  it('reports the versions of the engines, for the cache key', async () => {
    const text = await converter.engineVersions('text');
    const file = await converter.engineVersions('file');
    expect(text).toMatchObject({ ok: true, versions: { pipeline: '1', 'espeak-ng': expect.stringMatching(/^\d/), ffmpeg: expect.any(String) } });
    expect(file).toMatchObject({ ok: true, versions: { ffmpeg: expect.any(String), ffprobe: expect.any(String) } });
  });

  it('speaks a French sentence into µ-law and A-law: plausible length, not silence, peak at −3 dBFS', async () => {
    const audio = await convert({ kind: 'text', text: 'Bonjour, bienvenue chez voix. Pour le service commercial, tapez 1.' });
    expect(audio.pcmu.length).toBe(audio.pcma.length);
    expect(audio.durationMs).toBeGreaterThan(2000);
    expect(audio.durationMs).toBeLessThan(15_000);
    const mulaw = decodeMulaw(audio.pcmu);
    const alaw = decodeAlaw(audio.pcma);
    expect(rms(mulaw)).toBeGreaterThan(0.03);
    expect(Math.abs(rms(alaw) / rms(mulaw) - 1)).toBeLessThan(0.05);
    expect(peakDbfs(mulaw)).toBeGreaterThan(-3.5);
    expect(peakDbfs(mulaw)).toBeLessThan(-2.5);
  });

  it('speaks a short word in another voice and rate (longer at a slower rate)', async () => {
    const normal = await convert({ kind: 'text', text: 'Merci de votre appel.', voice: 'fr-be' });
    const slow = await convert({ kind: 'text', text: 'Merci de votre appel.', voice: 'fr-be', rate: 100 });
    expect(normal.durationMs).toBeGreaterThan(500);
    expect(slow.durationMs).toBeGreaterThan(normal.durationMs * 1.3);
  });

  it('speaks text that starts with a dash instead of reading it as options', async () => {
    const target = path.join(dir, 'should-not-exist.wav');
    const audio = await convert({ kind: 'text', text: `-w ${target} -v en tiret au début` });
    expect(audio.durationMs).toBeGreaterThan(1000);
    await expect(access(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says which voice is unknown', async () => {
    const result = await converter.convert({ kind: 'text', text: 'Bonjour', voice: 'zz-nowhere' });
    expect(result).toMatchObject({ ok: false, error: { reason: 'unknown-voice' } });
    expect(!result.ok && result.error.message).toContain('"zz-nowhere"');
  });

  it.each([
    ['WAV', 'tone.wav'],
    ['MP3', 'tone.mp3'],
    ['OGG', 'tone.ogg'],
  ])('converts a %s file to 8 kHz with its length (±20 ms) and its pitch', async (_format, name) => {
    const audio = await convert({ kind: 'file', path: path.join(dir, name) });
    expect(Math.abs(audio.durationMs - 1500)).toBeLessThanOrEqual(20);
    const mulaw = decodeMulaw(audio.pcmu);
    expect(Math.abs(toneFrequency(mulaw) - 440)).toBeLessThan(5);
    expect(Math.abs(toneFrequency(decodeAlaw(audio.pcma)) - 440)).toBeLessThan(5);
    // −12 dBFS in, −3 dBFS out.
    expect(audio.gainDb).toBeCloseTo(9, 0);
    expect(Math.abs(peakDbfs(mulaw) + 3)).toBeLessThan(0.5);
  });

  it('encodes G.711 the way ffmpeg does (both laws)', async () => {
    // A tone already peaking at −3 dBFS gets (almost) unity gain, so the
    // bytes are comparable: a sample that the tiny gain moves across a
    // decision level lands on the neighbouring code, never further.
    const level = path.join(dir, 'level.wav');
    await writeSineWav(level, { frequency: 437, durationMs: 1000, sampleRate: 8000, amplitude: 10 ** (-3 / 20) });
    const audio = await convert({ kind: 'file', path: level });
    expect(Math.abs(audio.gainDb)).toBeLessThan(0.001);
    for (const [law, ours, decode] of [
      ['mulaw', audio.pcmu, mulawToLinear],
      ['alaw', audio.pcma, alawToLinear],
    ] as const) {
      const { stdout } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', level, '-f', law, '-'], { encoding: 'buffer', maxBuffer: 1 << 20 });
      expect(stdout.length).toBe(ours.length);
      let same = 0;
      let worstStep = 0;
      for (let i = 0; i < ours.length; i++) {
        const theirs = stdout[i] ?? 0;
        const mine = ours[i] ?? 0;
        if (mine === theirs) same++;
        else worstStep = Math.max(worstStep, Math.abs(decode(mine) - decode(theirs)) / Math.max(16, Math.abs(decode(theirs)) / 8));
      }
      expect(same / ours.length, law).toBeGreaterThan(0.97);
      expect(worstStep, law).toBeLessThanOrEqual(1);
    }
  });

  it('refuses a missing file', async () => {
    const missing = path.join(dir, 'absent.wav');
    expect(await converter.convert({ kind: 'file', path: missing })).toEqual({
      ok: false,
      error: { reason: 'file-missing', message: `prompt file ${missing} does not exist` },
    });
  });

  it('refuses a text file renamed .wav as not audio', async () => {
    const result = await converter.convert({ kind: 'file', path: path.join(dir, 'notes.wav') });
    expect(result).toMatchObject({ ok: false, error: { reason: 'not-audio' } });
    expect(!result.ok && result.error.message).toMatch(/notes\.wav is not an audio file ffmpeg can read \(WAV, MP3, OGG expected\): Invalid data/);
  });

  it('refuses audio in a container voix does not take (FLAC), saying which ones it does', async () => {
    const result = await converter.convert({ kind: 'file', path: path.join(dir, 'tone.flac') });
    expect(result).toMatchObject({ ok: false, error: { reason: 'unsupported-format' } });
    expect(!result.ok && result.error.message).toContain('not a supported format (WAV, MP3, OGG)');
  });

  it('names the Debian package when ffmpeg or espeak-ng is missing', async () => {
    const noFfmpeg = new FfmpegPromptConverter({ ffmpegCommand: path.join(dir, 'bin', 'ffmpeg') });
    const noEspeak = new FfmpegPromptConverter({ espeakCommand: 'voix-no-such-espeak-ng' });
    expect(await noFfmpeg.convert({ kind: 'file', path: wav })).toMatchObject({ ok: false, error: { reason: 'tool-missing', tool: 'ffmpeg', debianPackage: 'ffmpeg' } });
    const result = await noEspeak.convert({ kind: 'text', text: 'Bonjour' });
    expect(result).toMatchObject({ ok: false, error: { reason: 'tool-missing', tool: 'espeak-ng', debianPackage: 'espeak-ng' } });
    expect(!result.ok && result.error.message).toContain('apt-get install espeak-ng');
  });
});
