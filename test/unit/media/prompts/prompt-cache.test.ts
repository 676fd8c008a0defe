import { mkdtemp, readdir, readFile, rm, stat, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PromptCache } from '../../../../src/media/prompts/prompt-cache.js';
import { toolMissing } from '../../../../src/media/prompts/prompt-error.js';
import type { PromptSource } from '../../../../src/media/prompts/prompt-source.js';
import { FakePromptConverter } from './fake-prompt-converter.js';

const WELCOME: PromptSource = { kind: 'text', text: 'Bienvenue chez voix.' };

describe('PromptCache', () => {
  let root: string;
  let dir: string;
  let converter: FakePromptConverter;
  let cache: PromptCache;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voix-prompt-cache-'));
    dir = path.join(root, 'data', 'prompts');
    converter = new FakePromptConverter();
    cache = new PromptCache({ dir, converter, now: () => Date.parse('2026-01-02T03:04:05Z') });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function keyOf(source: PromptSource, on: PromptCache = cache): Promise<string> {
    const result = await on.keyOf(source);
    if (!result.ok) throw new Error(result.error.message);
    return result.key;
  }

  describe('keys', () => {
    it('is a SHA-256 hex, the same for the same text and voice (fr by default)', async () => {
      const key = await keyOf(WELCOME);
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(await keyOf({ kind: 'text', text: 'Bienvenue chez voix.', voice: 'fr' })).toBe(key);
    });

    it('changes with the text, the voice, the rate and the engine versions', async () => {
      const base = await keyOf(WELCOME);
      const others = [
        await keyOf({ kind: 'text', text: 'Bienvenue chez voix !' }),
        await keyOf({ ...WELCOME, voice: 'fr-be' }),
        await keyOf({ ...WELCOME, rate: 150 }),
      ];
      converter.versions = { ...converter.versions, text: { ...converter.versions.text, 'espeak-ng': '1.52' } };
      others.push(await keyOf(WELCOME));
      expect(new Set([base, ...others]).size).toBe(5);
    });

    it('does not depend on the order the converter lists its engines in', async () => {
      const key = await keyOf(WELCOME);
      converter.versions = { ...converter.versions, text: { ffmpeg: '5.1', 'espeak-ng': '1.51', pipeline: '1' } };
      expect(await keyOf(WELCOME)).toBe(key);
    });

    it('keys a file by its content: two paths to the same bytes share a key, an edit in place changes it', async () => {
      const first = path.join(root, 'accueil.wav');
      const copy = path.join(root, 'copie.wav');
      await writeFile(first, 'RIFF-content-A');
      await writeFile(copy, 'RIFF-content-A');
      const key = await keyOf({ kind: 'file', path: first });
      expect(await keyOf({ kind: 'file', path: copy })).toBe(key);
      // Same size, new bytes: the remembered hash must not be reused.
      await writeFile(first, 'RIFF-content-B');
      expect(await keyOf({ kind: 'file', path: first })).not.toBe(key);
    });

    it('reports a missing file, a directory and an invalid source without converting', async () => {
      const missing = await cache.load({ kind: 'file', path: path.join(root, 'absent.wav') });
      const directory = await cache.load({ kind: 'file', path: root });
      const invalid = await cache.load({ kind: 'text', text: '' });
      expect(missing).toMatchObject({ ok: false, error: { reason: 'file-missing' } });
      expect(!missing.ok && missing.error.message).toContain('absent.wav does not exist');
      expect(directory).toMatchObject({ ok: false, error: { reason: 'not-a-file' } });
      expect(invalid).toMatchObject({ ok: false, error: { reason: 'invalid-source' } });
      expect(converter.conversions).toEqual([]);
    });

    it('reports a missing tool with its Debian package', async () => {
      converter.missingTool = toolMissing('espeak-ng', 'espeak-ng');
      const result = await cache.load(WELCOME);
      expect(result).toMatchObject({ ok: false, error: { reason: 'tool-missing', tool: 'espeak-ng', debianPackage: 'espeak-ng' } });
      expect(!result.ok && result.error.message).toContain('apt-get install espeak-ng');
    });
  });

  describe('load', () => {
    it('converts once, stores <key>.pcmu, <key>.pcma and a JSON sidecar, and leaves no temporary file', async () => {
      const result = await cache.load(WELCOME);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.prompt.fromCache).toBe(false);
      const key = result.prompt.key;
      expect((await readdir(dir)).sort()).toEqual([`${key}.json`, `${key}.pcma`, `${key}.pcmu`]);
      expect(await readFile(path.join(dir, `${key}.pcmu`))).toEqual(result.prompt.pcmu);
      expect(await readFile(path.join(dir, `${key}.pcma`))).toEqual(result.prompt.pcma);
      const sidecar: unknown = JSON.parse(await readFile(path.join(dir, `${key}.json`), 'utf8'));
      expect(sidecar).toMatchObject({
        format: 1,
        key,
        samples: result.prompt.samples,
        sampleRate: 8000,
        durationMs: result.prompt.durationMs,
        source: { kind: 'text', text: 'Bienvenue chez voix.', voice: 'fr', rate: null },
        engines: { 'espeak-ng': '1.51' },
        createdAt: '2026-01-02T03:04:05.000Z',
      });
    });

    it('serves the second load from disk, even from a new cache instance, without converting', async () => {
      const first = await cache.load(WELCOME);
      const again = new PromptCache({ dir, converter });
      const second = await again.load(WELCOME);
      expect(converter.conversions).toHaveLength(1);
      expect(second).toMatchObject({ ok: true, prompt: { fromCache: true } });
      if (!first.ok || !second.ok) return;
      expect(second.prompt.pcmu).toEqual(first.prompt.pcmu);
      expect(second.prompt.pcma).toEqual(first.prompt.pcma);
      expect(second.prompt.durationMs).toBe(first.prompt.durationMs);
    });

    it('returns buffers that own their ArrayBuffer, read back or converted', async () => {
      const converted = await cache.load(WELCOME);
      const read = await new PromptCache({ dir, converter }).load(WELCOME);
      for (const result of [converted, read]) {
        if (!result.ok) throw new Error('load failed');
        for (const buffer of [result.prompt.pcmu, result.prompt.pcma]) {
          expect(buffer.byteOffset).toBe(0);
          expect(buffer.buffer.byteLength).toBe(buffer.length);
        }
        expect(result.prompt.pcmu.buffer).not.toBe(result.prompt.pcma.buffer);
      }
    });

    it('shares one conversion between concurrent loads of the same prompt', async () => {
      const keyOf = cache.keyOf.bind(cache);
      let keyed = 0;
      cache.keyOf = async (source) => {
        const result = await keyOf(source);
        keyed++;
        return result;
      };
      converter.hold();
      const loads = [cache.load(WELCOME), cache.load({ ...WELCOME, voice: 'fr' }), cache.load(WELCOME)];
      // Every load has its key, so each has joined the conversion or started it.
      await vi.waitFor(() => expect(keyed).toBe(3));
      await new Promise((resolve) => setTimeout(resolve, 0));
      converter.release();
      const results = await Promise.all(loads);
      expect(converter.conversions).toHaveLength(1);
      expect(results.every((result) => result.ok && !result.prompt.fromCache)).toBe(true);
      const keys = results.map((result) => (result.ok ? result.prompt.key : ''));
      expect(new Set(keys).size).toBe(1);
    });

    it('converts different prompts separately, in parallel', async () => {
      converter.hold();
      const loads = [cache.load(WELCOME), cache.load({ kind: 'text', text: 'Au revoir.' })];
      await vi.waitFor(() => expect(converter.inFlight).toBe(2));
      converter.release();
      await Promise.all(loads);
      expect(converter.conversions).toHaveLength(2);
      expect(converter.maxInFlight).toBe(2);
    });

    it('passes the converter an absolute path', async () => {
      const file = path.join(root, 'accueil.wav');
      await writeFile(file, 'RIFF');
      await cache.load({ kind: 'file', path: path.relative(process.cwd(), file) });
      expect(converter.conversions).toEqual([{ kind: 'file', path: file }]);
    });
  });

  describe('integrity (atomic writes, the sidecar last)', () => {
    async function entry(): Promise<string> {
      const result = await cache.load(WELCOME);
      if (!result.ok) throw new Error(result.error.message);
      return result.prompt.key;
    }

    it('treats an entry without its sidecar as absent (a crash before the last rename)', async () => {
      const key = await entry();
      await unlink(path.join(dir, `${key}.json`));
      expect(await cache.read(key)).toBeNull();
      expect(await cache.load(WELCOME)).toMatchObject({ ok: true, prompt: { fromCache: false } });
      expect(converter.conversions).toHaveLength(2);
      expect(await cache.read(key)).not.toBeNull();
    });

    it('treats a truncated audio file as absent and rewrites it', async () => {
      const key = await entry();
      await truncate(path.join(dir, `${key}.pcma`), 100);
      expect(await cache.load(WELCOME)).toMatchObject({ ok: true, prompt: { fromCache: false } });
      expect((await stat(path.join(dir, `${key}.pcma`))).size).toBe((await stat(path.join(dir, `${key}.pcmu`))).size);
    });

    it('treats a corrupt sidecar as absent', async () => {
      const key = await entry();
      await writeFile(path.join(dir, `${key}.json`), '{"format": 1, "key": "');
      expect(await cache.read(key)).toBeNull();
      expect(await cache.load(WELCOME)).toMatchObject({ ok: true, prompt: { fromCache: false } });
    });

    it('ignores temporaries left by a crash and sweeps the old ones', async () => {
      const key = await entry();
      const old = path.join(dir, `.${key}.pcmu.0123456789ab.tmp`);
      const fresh = path.join(dir, `.${key}.pcma.ba9876543210.tmp`);
      await writeFile(old, 'half');
      await writeFile(fresh, 'half');
      const twoHoursAgo = new Date(Date.parse('2026-01-02T01:04:05Z'));
      await utimes(old, twoHoursAgo, twoHoursAgo);
      await utimes(fresh, new Date(Date.parse('2026-01-02T03:00:00Z')), new Date(Date.parse('2026-01-02T03:00:00Z')));
      expect(await cache.load(WELCOME)).toMatchObject({ ok: true, prompt: { fromCache: true } });
      expect(await cache.removeStaleTemporaries()).toBe(1);
      expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([path.basename(fresh)]);
    });

    it('writes nothing when the conversion fails', async () => {
      converter.failures.set('Bienvenue chez voix.', { reason: 'synthesis-failed', message: 'espeak-ng failed' });
      expect(await cache.load(WELCOME)).toEqual({ ok: false, error: { reason: 'synthesis-failed', message: 'espeak-ng failed' } });
      await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('still returns the prompt, with a warning, when the cache cannot be written', async () => {
      const blocker = path.join(root, 'not-a-dir');
      await writeFile(blocker, '');
      const stuck = new PromptCache({ dir: path.join(blocker, 'prompts'), converter });
      const result = await stuck.load(WELCOME);
      expect(result).toMatchObject({ ok: true, prompt: { fromCache: false } });
      expect(result.ok && result.warnings[0]).toContain('cannot be written');
    });

    it('does not cache a file that changed during its conversion', async () => {
      const file = path.join(root, 'accueil.wav');
      await writeFile(file, 'RIFF-v1');
      converter.duringConversion = async () => {
        await writeFile(file, 'RIFF-v2-longer');
      };
      const result = await cache.load({ kind: 'file', path: file });
      expect(result).toMatchObject({ ok: true, prompt: { fromCache: false } });
      expect(result.ok && result.warnings[0]).toContain('changed during its conversion');
      await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
