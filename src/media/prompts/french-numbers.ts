/**
 * Numbers and digits said in French from a small vocabulary of recorded
 * words, the way a PBX says them (Asterisk's SayNumber does the same with
 * its digits/ sound files): "quarante-deux" is played as the prompts
 * "quarante" then "deux", so a number costs no speech synthesis during a
 * call, only the ~40 words prepared once (sayPromptDefinitions, cached by
 * the prompt store like any prompt).
 *
 * The grammar is France's (not Belgium's or Switzerland's septante,
 * huitante, nonante), in the traditional spelling, with the rules that
 * change a word (Académie française; Grevisse):
 * - "et" before un and onze after the tens vingt to soixante: vingt et un,
 *   soixante et onze; but quatre-vingt-un, quatre-vingt-onze;
 * - 70–79 and 90–99 count on from soixante and quatre-vingt with dix to
 *   dix-neuf;
 * - vingt (in quatre-vingts) and cent take an s when multiplied and
 *   nothing follows them, or only million(s) or milliard(s), which are
 *   nouns: quatre-vingts, deux cents, deux cents millions; not before
 *   mille, an adjective: quatre-vingt mille, deux cent mille;
 * - mille never varies and is said without "un": mille, deux mille; un
 *   million, deux millions, un milliard, deux milliards.
 * Tokens are the written words, so the plural forms are words of their own
 * (said the same; the written form is what the prompt is made from).
 */
import type { PromptSpec } from '../../config/types.js';

const UNITS = ['zéro', 'un', 'deux', 'trois', 'quatre', 'cinq', 'six', 'sept', 'huit', 'neuf', 'dix', 'onze', 'douze', 'treize', 'quatorze', 'quinze', 'seize'] as const;
const TENS: Readonly<Record<number, string>> = { 2: 'vingt', 3: 'trente', 4: 'quarante', 5: 'cinquante', 6: 'soixante' };

/** The largest number said: 999 999 999 999. */
export const MAX_SAID_NUMBER = 999_999_999_999;

function unit(n: number): string {
  const word = UNITS[n];
  if (word === undefined) throw new RangeError(`no French word for ${n}`);
  return word;
}

/** 1–99. `plural`: quatre-vingts takes its s (nothing follows, or a noun does). */
function belowHundred(n: number, plural: boolean): string[] {
  if (n <= 16) return [unit(n)];
  if (n < 20) return ['dix', unit(n - 10)];
  const tens = Math.floor(n / 10);
  const units = n % 10;
  if (tens === 7) return n === 71 ? ['soixante', 'et', 'onze'] : ['soixante', ...belowHundred(n - 60, plural)];
  if (tens === 8) return units === 0 ? [plural ? 'quatre-vingts' : 'quatre-vingt'] : ['quatre-vingt', unit(units)];
  if (tens === 9) return ['quatre-vingt', ...belowHundred(n - 80, plural)];
  const word = TENS[tens] ?? '';
  if (units === 0) return [word];
  if (units === 1) return [word, 'et', 'un'];
  return [word, unit(units)];
}

/** 1–999, as a whole number or a multiplier; `plural` as for belowHundred, and for cent. */
function belowThousand(n: number, plural: boolean): string[] {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  const words: string[] = [];
  if (hundreds > 1) words.push(unit(hundreds));
  if (hundreds > 0) words.push(hundreds > 1 && rest === 0 && plural ? 'cents' : 'cent');
  if (rest > 0) words.push(...belowHundred(rest, plural));
  return words;
}

/** The words of `n` (an integer from 0 to MAX_SAID_NUMBER), in order. */
export function frenchNumberWords(n: number): string[] {
  if (!Number.isInteger(n) || n < 0 || n > MAX_SAID_NUMBER) throw new RangeError(`cannot say ${n}: an integer from 0 to ${MAX_SAID_NUMBER} is needed`);
  if (n === 0) return [unit(0)];
  const milliards = Math.floor(n / 1e9);
  const millions = Math.floor(n / 1e6) % 1000;
  const thousands = Math.floor(n / 1e3) % 1000;
  const rest = n % 1000;
  const words: string[] = [];
  if (milliards > 0) words.push(...belowThousand(milliards, true), milliards > 1 ? 'milliards' : 'milliard');
  if (millions > 0) words.push(...belowThousand(millions, true), millions > 1 ? 'millions' : 'million');
  if (thousands > 1) words.push(...belowThousand(thousands, false));
  if (thousands > 0) words.push('mille');
  if (rest > 0) words.push(...belowThousand(rest, true));
  return words;
}

/** How the keys that are not digits are said. */
const KEY_WORDS: Readonly<Record<string, string>> = { '*': 'étoile', '#': 'dièse' };

/** The words of a string of keys said one by one (a phone number, a code): digits, étoile, dièse. */
export function frenchDigitWords(keys: string): string[] {
  return [...keys].map((key) => {
    if (/^[0-9]$/.test(key)) return unit(Number(key));
    const word = KEY_WORDS[key];
    if (word === undefined) throw new RangeError(`cannot say the key ${JSON.stringify(key)}`);
    return word;
  });
}

/** Every word frenchNumberWords and frenchDigitWords can return. */
export const FRENCH_SAY_VOCABULARY: readonly string[] = [
  ...UNITS,
  ...Object.values(TENS),
  'et',
  'quatre-vingt',
  'quatre-vingts',
  'cent',
  'cents',
  'mille',
  'million',
  'millions',
  'milliard',
  'milliards',
  ...Object.values(KEY_WORDS),
];

/** The prompt id of a vocabulary word. */
export function sayPromptId(word: string): string {
  return `say/fr/${word}`;
}

/** The vocabulary as prompts to prepare (espeak-ng, French voice), by prompt id. */
export function sayPromptDefinitions(): Map<string, PromptSpec> {
  return new Map(FRENCH_SAY_VOCABULARY.map((word) => [sayPromptId(word), { kind: 'text', text: word, voice: 'fr' }]));
}
