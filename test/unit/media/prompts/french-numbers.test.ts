import { describe, expect, it } from 'vitest';
import { FRENCH_SAY_VOCABULARY, MAX_SAID_NUMBER, frenchDigitWords, frenchNumberWords, sayPromptDefinitions, sayPromptId } from '../../../../src/media/prompts/french-numbers.js';
import { sayWords } from '../../../../src/media/playout/playout-protocol.js';

/** Numbers and how French writes them (traditional spelling; the words are the tokens, joined with spaces here). */
const CASES: ReadonlyArray<readonly [number, string]> = [
  [0, 'zéro'],
  [1, 'un'],
  [10, 'dix'],
  [16, 'seize'],
  [17, 'dix sept'],
  [19, 'dix neuf'],
  [20, 'vingt'],
  [21, 'vingt et un'],
  [22, 'vingt deux'],
  [31, 'trente et un'],
  [61, 'soixante et un'],
  [69, 'soixante neuf'],
  [70, 'soixante dix'],
  [71, 'soixante et onze'],
  [72, 'soixante douze'],
  [77, 'soixante dix sept'],
  [80, 'quatre-vingts'],
  [81, 'quatre-vingt un'],
  [89, 'quatre-vingt neuf'],
  [90, 'quatre-vingt dix'],
  [91, 'quatre-vingt onze'],
  [99, 'quatre-vingt dix neuf'],
  [100, 'cent'],
  [101, 'cent un'],
  [180, 'cent quatre-vingts'],
  [200, 'deux cents'],
  [201, 'deux cent un'],
  [280, 'deux cent quatre-vingts'],
  [999, 'neuf cent quatre-vingt dix neuf'],
  [1000, 'mille'],
  [1001, 'mille un'],
  [1100, 'mille cent'],
  [1980, 'mille neuf cent quatre-vingts'],
  [2000, 'deux mille'],
  [2026, 'deux mille vingt six'],
  [21_000, 'vingt et un mille'],
  [80_000, 'quatre-vingt mille'],
  [200_000, 'deux cent mille'],
  [1_000_000, 'un million'],
  [2_000_000, 'deux millions'],
  [80_000_000, 'quatre-vingts millions'],
  [200_000_000, 'deux cents millions'],
  [1_000_000_000, 'un milliard'],
  [3_000_000_001, 'trois milliards un'],
  [MAX_SAID_NUMBER, 'neuf cent quatre-vingt dix neuf milliards neuf cent quatre-vingt dix neuf millions neuf cent quatre-vingt dix neuf mille neuf cent quatre-vingt dix neuf'],
];

describe('frenchNumberWords', () => {
  it.each(CASES)('%i → %s', (n, words) => {
    expect(frenchNumberWords(n).join(' ')).toBe(words);
  });

  it('uses only words of the vocabulary, for every number up to 100 000 and around each power of a thousand', () => {
    const vocabulary = new Set(FRENCH_SAY_VOCABULARY);
    const numbers = [...Array(100_001).keys(), 999_999, 1_000_001, 2_080_080, 999_999_999, 1_000_000_080, MAX_SAID_NUMBER];
    for (const n of numbers) {
      const unknown = frenchNumberWords(n).filter((word) => !vocabulary.has(word));
      if (unknown.length > 0) throw new Error(`${n}: ${unknown.join(', ')} not in the vocabulary`);
    }
  });

  it('refuses what it cannot say: negative, fractional, too large, not a number', () => {
    for (const n of [-1, 1.5, MAX_SAID_NUMBER + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => frenchNumberWords(n), String(n)).toThrow(RangeError);
    }
  });
});

describe('frenchDigitWords', () => {
  it('says a string of keys one by one, with étoile and dièse', () => {
    expect(frenchDigitWords('0612*#')).toEqual(['zéro', 'six', 'un', 'deux', 'étoile', 'dièse']);
  });

  it('refuses a character that is not a key', () => {
    expect(() => frenchDigitWords('12a')).toThrow(RangeError);
  });
});

describe('the vocabulary as prompts', () => {
  it('has one French text prompt per word, under say/fr/<word>, and a playlist item made of them', () => {
    const definitions = sayPromptDefinitions();
    expect(definitions.size).toBe(new Set(FRENCH_SAY_VOCABULARY).size);
    expect(definitions.get('say/fr/quatre-vingts')).toEqual({ kind: 'text', text: 'quatre-vingts', voice: 'fr' });
    expect(sayWords(frenchNumberWords(71), sayPromptId)).toEqual({ kind: 'prompts', prompts: ['say/fr/soixante', 'say/fr/et', 'say/fr/onze'] });
  });
});
