/**
 * Where a voice prompt comes from: a sentence that espeak-ng speaks, or an
 * audio file (WAV, MP3, OGG) that ffmpeg converts. Either way the media
 * engine only ever sees G.711 at 8 kHz, prepared before any call.
 */
import type { PromptError } from './prompt-error.js';
import { invalidSource } from './prompt-error.js';

/** espeak-ng's French voice; `espeak-ng --voices=fr` lists the others. */
export const DEFAULT_PROMPT_VOICE = 'fr';

/** espeak-ng `-s` bounds, in words per minute (its own default is 175). */
export const MIN_SPEECH_RATE = 80;
export const MAX_SPEECH_RATE = 450;

/** Longer text belongs in a recorded file; this also bounds one synthesis run. */
export const MAX_PROMPT_TEXT_LENGTH = 5000;

export interface TextPromptSource {
  readonly kind: 'text';
  readonly text: string;
  /** espeak-ng voice name (`-v`); DEFAULT_PROMPT_VOICE when absent. */
  readonly voice?: string;
  /** Words per minute (`-s`); espeak-ng's default when absent. */
  readonly rate?: number;
}

export interface FilePromptSource {
  readonly kind: 'file';
  /** Absolute, or relative to the directory the store is given (the config file's). */
  readonly path: string;
}

export type PromptSource = TextPromptSource | FilePromptSource;

/**
 * Voice names as espeak-ng spells them: `fr`, `fr-be`, `mb/mb-fr1`, `fr+f3`.
 * Starting with a letter or digit keeps a voice from reading as an option.
 */
const VOICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_+\-/]{0,63}$/;

export function promptVoice(source: TextPromptSource): string {
  return source.voice ?? DEFAULT_PROMPT_VOICE;
}

/** Checks what needs no external tool; null when the source is well formed. */
export function validatePromptSource(source: PromptSource): PromptError | null {
  switch (source.kind) {
    case 'text': {
      if (source.text.trim() === '') return invalidSource('prompt text is empty');
      if (source.text.length > MAX_PROMPT_TEXT_LENGTH) {
        return invalidSource(`prompt text is ${source.text.length} characters long (at most ${MAX_PROMPT_TEXT_LENGTH}): record it as an audio file instead`);
      }
      const voice = promptVoice(source);
      if (!VOICE_NAME.test(voice)) return invalidSource(`voice ${JSON.stringify(voice)} is not an espeak-ng voice name (for example fr, fr-be, mb/mb-fr1)`);
      if (source.rate !== undefined && (!Number.isInteger(source.rate) || source.rate < MIN_SPEECH_RATE || source.rate > MAX_SPEECH_RATE)) {
        return invalidSource(`rate ${source.rate} is not a whole number of words per minute between ${MIN_SPEECH_RATE} and ${MAX_SPEECH_RATE}`);
      }
      return null;
    }
    case 'file':
      if (source.path.trim() === '') return invalidSource('prompt file path is empty');
      return null;
  }
}

/** A short human description for messages and the cache sidecar. */
export function describePromptSource(source: PromptSource): string {
  if (source.kind === 'file') return `file ${source.path}`;
  const text = source.text.length > 60 ? `${source.text.slice(0, 57)}...` : source.text;
  return `text ${JSON.stringify(text)} (voice ${promptVoice(source)}${source.rate === undefined ? '' : `, ${source.rate} words/min`})`;
}
