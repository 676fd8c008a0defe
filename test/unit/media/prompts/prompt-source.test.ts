import { describe, expect, it } from 'vitest';
import { describePromptSource, promptVoice, validatePromptSource } from '../../../../src/media/prompts/prompt-source.js';

describe('validatePromptSource', () => {
  it('takes a French sentence with the default voice', () => {
    expect(validatePromptSource({ kind: 'text', text: 'Bonjour, tapez 1.' })).toBeNull();
    expect(promptVoice({ kind: 'text', text: 'x' })).toBe('fr');
  });

  it('takes espeak-ng voice names with variants and mbrola voices', () => {
    for (const voice of ['fr', 'fr-be', 'fr+f3', 'mb/mb-fr1']) {
      expect(validatePromptSource({ kind: 'text', text: 'Bonjour', voice })).toBeNull();
    }
  });

  it('refuses empty text, a voice that reads as an option and a rate out of range', () => {
    expect(validatePromptSource({ kind: 'text', text: '  ' })?.reason).toBe('invalid-source');
    expect(validatePromptSource({ kind: 'text', text: 'x', voice: '-w' })?.message).toContain('not an espeak-ng voice name');
    expect(validatePromptSource({ kind: 'text', text: 'x', voice: 'fr; rm' })?.reason).toBe('invalid-source');
    expect(validatePromptSource({ kind: 'text', text: 'x', rate: 20 })?.message).toContain('between 80 and 450');
    expect(validatePromptSource({ kind: 'text', text: 'x', rate: 175.5 })?.reason).toBe('invalid-source');
  });

  it('takes text that starts with a dash: it is spoken, never parsed', () => {
    expect(validatePromptSource({ kind: 'text', text: '-v en --help' })).toBeNull();
  });

  it('refuses an empty file path', () => {
    expect(validatePromptSource({ kind: 'file', path: '' })?.reason).toBe('invalid-source');
  });
});

describe('describePromptSource', () => {
  it('names the file, or quotes the text with voice and rate', () => {
    expect(describePromptSource({ kind: 'file', path: '/srv/accueil.wav' })).toBe('file /srv/accueil.wav');
    expect(describePromptSource({ kind: 'text', text: 'Bonjour', voice: 'fr-be', rate: 150 })).toBe('text "Bonjour" (voice fr-be, 150 words/min)');
    expect(describePromptSource({ kind: 'text', text: 'a'.repeat(100) })).toContain('...');
  });
});
