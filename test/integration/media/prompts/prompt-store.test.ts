/**
 * The store as voix runs it: real converter, cache under a data directory,
 * a second start served from disk without any conversion.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversionResult, EngineVersionsResult, PromptConverter } from '../../../../src/media/prompts/prompt-converter.js';
import { FfmpegPromptConverter } from '../../../../src/media/prompts/prompt-converter.js';
import type { PromptSource } from '../../../../src/media/prompts/prompt-source.js';
import { PromptStore } from '../../../../src/media/prompts/prompt-store.js';
import { decodeMulaw, ffmpegConvert, rms, writeSineWav } from './audio-fixtures.js';

/** The real converter, counting conversions. */
class CountingConverter implements PromptConverter {
  readonly conversions: PromptSource[] = [];
  private readonly real = new FfmpegPromptConverter();

  engineVersions(kind: PromptSource['kind']): Promise<EngineVersionsResult> {
    return this.real.engineVersions(kind);
  }

  convert(source: PromptSource): Promise<ConversionResult> {
    this.conversions.push(source);
    return this.real.convert(source);
  }
}

describe('PromptStore with espeak-ng and ffmpeg', () => {
  let root: string;
  const prompts: Record<string, PromptSource> = {
    accueil: { kind: 'text', text: 'Bonjour et bienvenue. Votre appel est important pour nous.' },
    attente: { kind: 'file', path: 'sons/attente.mp3' },
    menu: { kind: 'file', path: 'sons/menu.ogg' },
    fin: { kind: 'file', path: 'sons/fin.wav' },
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voix-prompt-store-'));
    const sounds = path.join(root, 'sons');
    await mkdir(sounds);
    await writeSineWav(path.join(sounds, 'fin.wav'), { frequency: 600, durationMs: 800, sampleRate: 16_000, amplitude: 0.5 });
    await ffmpegConvert(path.join(sounds, 'fin.wav'), path.join(sounds, 'attente.mp3'), ['-c:a', 'libmp3lame', '-b:a', '32k']);
    await ffmpegConvert(path.join(sounds, 'fin.wav'), path.join(sounds, 'menu.ogg'), ['-c:a', 'libvorbis']);
    await writeFile(path.join(sounds, 'notes.wav'), 'pas du son');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prepares text and files at start, then serves them from the cache at the next start without spawning', async () => {
    const dataDir = path.join(root, 'data');
    const first = new CountingConverter();
    const started = await PromptStore.forDataDir(dataDir, { baseDir: root, converter: first }).prepare(prompts);
    expect(started).toMatchObject({ ok: true, converted: 4, fromCache: 0, warnings: [] });
    if (!started.ok) return;
    for (const [id, prompt] of started.prompts) {
      expect(prompt.pcmu.length, id).toBe(prompt.pcma.length);
      expect(rms(decodeMulaw(prompt.pcmu)), id).toBeGreaterThan(0.03);
    }
    expect(started.prompts.get('accueil')?.durationMs).toBeGreaterThan(1500);
    expect(Math.abs((started.prompts.get('fin')?.durationMs ?? 0) - 800)).toBeLessThanOrEqual(20);

    const cacheDir = path.join(dataDir, 'prompts');
    const files = await readdir(cacheDir);
    expect(files.filter((name) => name.endsWith('.json'))).toHaveLength(4);
    const mtimes = await Promise.all(files.map(async (name) => (await stat(path.join(cacheDir, name))).mtimeMs));

    const second = new CountingConverter();
    const restarted = await PromptStore.forDataDir(dataDir, { baseDir: root, converter: second }).prepare(prompts);
    expect(restarted).toMatchObject({ ok: true, converted: 0, fromCache: 4 });
    expect(second.conversions).toEqual([]);
    expect(await Promise.all(files.map(async (name) => (await stat(path.join(cacheDir, name))).mtimeMs))).toEqual(mtimes);
    if (!restarted.ok) return;
    for (const [id, prompt] of started.prompts) {
      expect(restarted.prompts.get(id)?.pcmu.equals(prompt.pcmu), id).toBe(true);
      expect(restarted.prompts.get(id)?.pcma.equals(prompt.pcma), id).toBe(true);
    }
  });

  it('lists each broken prompt with its id, as voix check shows them', async () => {
    const result = await PromptStore.forDataDir(path.join(root, 'data-check'), { baseDir: root }).prepare({
      ...prompts,
      perdu: { kind: 'file', path: 'sons/perdu.wav' },
      texte: { kind: 'file', path: 'sons/notes.wav' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((error) => [error.promptId, error.reason])).toEqual([
      ['perdu', 'file-missing'],
      ['texte', 'not-audio'],
    ]);
    expect(result.errors[0]?.message).toBe(`prompt file ${path.join(root, 'sons', 'perdu.wav')} does not exist`);
  });
});
