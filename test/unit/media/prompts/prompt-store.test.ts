import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PromptCache } from '../../../../src/media/prompts/prompt-cache.js';
import { PromptStore } from '../../../../src/media/prompts/prompt-store.js';
import type { PromptSource } from '../../../../src/media/prompts/prompt-source.js';
import { FakePromptConverter } from './fake-prompt-converter.js';

describe('PromptStore.prepare', () => {
  let root: string;
  let converter: FakePromptConverter;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voix-prompt-store-'));
    converter = new FakePromptConverter();
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function store(concurrency = 4): PromptStore {
    return PromptStore.forDataDir(path.join(root, 'data'), { baseDir: root, concurrency, converter });
  }

  it('returns every prompt by id, in the configuration order, with both laws and the duration', async () => {
    await writeFile(path.join(root, 'musique.wav'), 'RIFF');
    const result = await store().prepare(
      new Map<string, PromptSource>([
        ['accueil', { kind: 'text', text: 'Bienvenue.' }],
        ['attente', { kind: 'file', path: 'musique.wav' }],
        ['fermeture', { kind: 'text', text: 'Nous sommes fermés.', rate: 150 }],
      ]),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([...result.prompts.keys()]).toEqual(['accueil', 'attente', 'fermeture']);
    const accueil = result.prompts.get('accueil');
    expect(accueil?.durationMs).toBe(1000);
    expect(accueil?.pcmu.length).toBe(8000);
    expect(accueil?.pcma.length).toBe(8000);
    expect(result).toMatchObject({ converted: 3, fromCache: 0, warnings: [] });
  });

  it('resolves relative file paths against the base directory', async () => {
    await writeFile(path.join(root, 'musique.wav'), 'RIFF');
    await store().prepare({ attente: { kind: 'file', path: 'musique.wav' } });
    expect(converter.conversions).toEqual([{ kind: 'file', path: path.join(root, 'musique.wav') }]);
  });

  it('lists every failing prompt with its id and reason, in configuration order, and no prompt', async () => {
    converter.failures.set('Erreur de synthèse.', { reason: 'synthesis-failed', message: 'espeak-ng failed' });
    const result = await store().prepare({
      accueil: { kind: 'text', text: 'Bienvenue.' },
      absent: { kind: 'file', path: 'absent.mp3' },
      vide: { kind: 'text', text: '' },
      casse: { kind: 'text', text: 'Erreur de synthèse.' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((error) => [error.promptId, error.reason])).toEqual([
      ['absent', 'file-missing'],
      ['vide', 'invalid-source'],
      ['casse', 'synthesis-failed'],
    ]);
    expect(result.errors[0]?.message).toContain(path.join(root, 'absent.mp3'));
  });

  it('reads everything from the cache the second time (a restart or a reload)', async () => {
    const prompts = { accueil: { kind: 'text', text: 'Bienvenue.' }, menu: { kind: 'text', text: 'Tapez 1.' } } as const;
    await store().prepare(prompts);
    const second = await store().prepare(prompts);
    expect(second).toMatchObject({ ok: true, converted: 0, fromCache: 2 });
    expect(converter.conversions).toHaveLength(2);
  });

  it('runs at most `concurrency` conversions at once', async () => {
    const prompts: Record<string, PromptSource> = {};
    for (let i = 0; i < 6; i++) prompts[`p${i}`] = { kind: 'text', text: `Message ${i}.` };
    converter.hold();
    const preparing = store(2).prepare(prompts);
    await vi.waitFor(() => expect(converter.inFlight).toBe(2));
    // Held: no third conversion may start while two are running.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(converter.conversions).toHaveLength(2);
    converter.release();
    expect((await preparing).ok).toBe(true);
    expect(converter.maxInFlight).toBe(2);
    expect(converter.conversions).toHaveLength(6);
  });

  it('gives two ids with the same source their own buffers, so transferring one does not detach the other', async () => {
    const result = await store().prepare({
      accueil: { kind: 'text', text: 'Bienvenue.' },
      bonjour: { kind: 'text', text: 'Bienvenue.', voice: 'fr' },
    });
    if (!result.ok) throw new Error('prepare failed');
    const accueil = result.prompts.get('accueil');
    const bonjour = result.prompts.get('bonjour');
    if (accueil === undefined || bonjour === undefined) throw new Error('missing prompt');
    const buffers = [accueil.pcmu, accueil.pcma, bonjour.pcmu, bonjour.pcma];
    expect(new Set(buffers.map((buffer) => buffer.buffer)).size).toBe(4);
    const moved = structuredClone(accueil.pcmu.buffer, { transfer: [accueil.pcmu.buffer] });
    expect(moved.byteLength).toBe(8000);
    expect(accueil.pcmu.length).toBe(0);
    expect(bonjour.pcmu.length).toBe(8000);
    expect(accueil.pcma.length).toBe(8000);
  });

  it("turns an unexpected exception into that prompt's error instead of failing the whole reload", async () => {
    converter.duringConversion = async (source) => {
      if (source.kind === 'text' && source.text === 'Boum.') throw new Error('bug in the converter');
    };
    const result = await store().prepare({ accueil: { kind: 'text', text: 'Bienvenue.' }, boum: { kind: 'text', text: 'Boum.' } });
    expect(result).toMatchObject({ ok: false, errors: [{ promptId: 'boum', reason: 'conversion-failed' }] });
    expect(!result.ok && result.errors[0]?.message).toContain('bug in the converter');
  });

  it('accepts an empty set of prompts', async () => {
    expect(await store().prepare({})).toEqual({ ok: true, prompts: new Map(), warnings: [], converted: 0, fromCache: 0 });
  });
});
