/**
 * The words voix says numbers with (src/media/prompts/french-numbers.ts),
 * made by the real espeak-ng and ffmpeg through the prompt store, as voix
 * prepares any prompt: every word is short, audible speech.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRENCH_SAY_VOCABULARY, sayPromptDefinitions, sayPromptId } from '../../../../src/media/prompts/french-numbers.js';
import { PromptStore } from '../../../../src/media/prompts/prompt-store.js';
import { decodeMulaw, rms } from './audio-fixtures.js';

describe('the French number vocabulary with espeak-ng', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'voix-say-fr-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prepares every word as audible speech of a plausible length', async () => {
    const result = await PromptStore.forDataDir(dataDir).prepare(sayPromptDefinitions());
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    for (const word of FRENCH_SAY_VOCABULARY) {
      const prompt = result.prompts.get(sayPromptId(word));
      expect(prompt, word).toBeDefined();
      expect(prompt?.durationMs, `${word}: duration`).toBeGreaterThan(100);
      expect(prompt?.durationMs, `${word}: duration`).toBeLessThan(2000);
      expect(rms(decodeMulaw(prompt?.pcmu ?? Buffer.alloc(0))), `${word}: loudness`).toBeGreaterThan(0.02);
    }
    // "quatre-vingts" is longer than "un": the words are what they say, not one sound for all.
    expect(result.prompts.get(sayPromptId('quatre-vingts'))?.durationMs).toBeGreaterThan(result.prompts.get(sayPromptId('un'))?.durationMs ?? Infinity);
  }, 60_000);
});
