import { describe, expect, it } from 'vitest';
import {
  dialPatternCovers,
  dialPatternIntersection,
  dialPatternsEquivalent,
  matchesDialPattern,
  parseDialPattern,
  translateDialPattern,
  type DialPattern,
} from '../../../src/rules/dial-pattern.js';

function p(source: string): DialPattern {
  const r = parseDialPattern(source);
  if (!r.ok) throw new Error(`expected ${source} to parse: ${r.reason}`);
  return r.pattern;
}

describe('parseDialPattern and matchesDialPattern', () => {
  it.each<[string, readonly string[], readonly string[]]>([
    ['112', ['112'], ['11', '1120', '0112']],
    ['0[1-5]XXXXXXXX', ['0123456789', '0599999999'], ['0623456789', '012345678', '01234567890']],
    ['_0[1-5]XXXXXXXX', ['0123456789'], ['0623456789']],
    ['0[67]XXXXXXXX', ['0612345678', '0712345678'], ['0812345678']],
    ['08[129]XXXXXXX', ['0810000000', '0899123456'], ['0800123456', '0830000000']],
    ['[13-57]', ['1', '3', '4', '5', '7'], ['2', '6', '0', '13']],
    ['NXX', ['200', '999'], ['100', '099']],
    ['ZX', ['10', '99'], ['01']],
    ['nxx', ['200'], ['100']],
    ['+33[67]XXXXXXXX', ['+33612345678'], ['0612345678', '+33123456789', '+3361234567']],
    ['+.', ['+1', '+442079460018'], ['+', '1', '++1']],
    ['+44.', ['+442079460018', '+441'], ['+44', '+4']],
    ['00.', ['001', '0044'], ['00', '01']],
    ['3XXX', ['3646', '3000'], ['364', '36460']],
  ])('%s', (source, matching, notMatching) => {
    const pattern = p(source);
    for (const s of matching) expect(matchesDialPattern(pattern, s), s).toBe(true);
    for (const s of notMatching) expect(matchesDialPattern(pattern, s), s).toBe(false);
  });

  it('tells which form a pattern is written over', () => {
    expect(p('+33.').form).toBe('e164');
    expect(p('0033.').form).toBe('national');
  });

  it('never matches separators or other characters', () => {
    const any = p('X.');
    for (const s of ['01 23', '0123;x', '01%32', '0123*', 'A123', '+123']) expect(matchesDialPattern(any, s), s).toBe(false);
  });

  it.each([
    ['', 'empty'],
    ['_', 'matches nothing'],
    ['+', "only '+'"],
    ['.', 'no fixed part'],
    ['0.X', "'.' must be the last"],
    ['0..', "'.' must be the last"],
    ['0+33', "'+' is only allowed first"],
    ['0[1-5', 'unclosed'],
    ['0[]', 'empty []'],
    ['0[5-1]', 'reversed range'],
    ['0[1-]', 'unfinished range'],
    ['0[a]', 'inside []'],
    ['0[^1]', 'inside []'],
    ['0A', 'unexpected "A"'],
    ['0!', 'unexpected "!"'],
    ['0 1', 'unexpected " "'],
    ['0*', 'unexpected "*"'],
    ['__0', 'unexpected "_"'],
    ['X'.repeat(65), 'longer than 64'],
  ])('refuses %j', (source, reason) => {
    const r = parseDialPattern(source);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('intersection and inclusion', () => {
  it.each<[string, string, string | undefined]>([
    ['0[1-5]XXXXXXXX', '01XXXXXXXX', '0100000000'],
    ['0[1-5]XXXXXXXX', '0[67]XXXXXXXX', undefined],
    ['0X.', '0[67]XXXXXXXX', '0600000000'],
    ['0[67]XXXXXXXX', '0X.', '0600000000'],
    ['06.', '07.', undefined],
    ['0.', '06.', '060'],
    ['06.', '0.', '060'],
    ['0612.', '06XX', undefined],
    ['06.', '06', undefined],
    ['06', '06', '06'],
    ['+33.', '+44.', undefined],
    ['+X.', '+44.', '+440'],
    ['3XXX', '3[0-1]X', undefined],
    ['[13579]X', '[02468]X', undefined],
    ['[1-3]X', '[3-5]X', '30'],
  ])('%s ∩ %s gives %s', (a, b, witness) => {
    const w = dialPatternIntersection(p(a), p(b));
    expect(w).toBe(witness);
    if (w !== undefined) {
      expect(matchesDialPattern(p(a), w)).toBe(true);
      expect(matchesDialPattern(p(b), w)).toBe(true);
    }
  });

  it.each<[string, string, boolean]>([
    ['0X.', '0[67]XXXXXXXX', true],
    ['0[67]XXXXXXXX', '0X.', false],
    ['0.', '06.', true],
    ['06.', '0.', false],
    ['06.', '06', false],
    ['06.', '060', true],
    ['06.', '06.', true],
    ['06XX', '06.', false],
    ['0[1-5]XXXXXXXX', '01XXXXXXXX', true],
    ['01XXXXXXXX', '0[1-5]XXXXXXXX', false],
    ['X', 'N', true],
    ['N', 'Z', false],
    ['+.', '+33.', true],
    ['+33.', '+.', false],
  ])('%s covers %s: %s', (outer, inner, covers) => {
    expect(dialPatternCovers(p(outer), p(inner))).toBe(covers);
  });

  it('finds equivalent spellings', () => {
    expect(dialPatternsEquivalent(p('_0[1-5]XXXXXXXX'), p('0[12345]XXXXXXXX'))).toBe(true);
    expect(dialPatternsEquivalent(p('Z'), p('[1-9]'))).toBe(true);
    expect(dialPatternsEquivalent(p('0X.'), p('0XX.'))).toBe(false);
  });

  it('translates the domestic E.164 prefix to the trunk prefix', () => {
    const t = translateDialPattern(p('+33[67]XXXXXXXX'), '+33', '0');
    expect(t).toBeDefined();
    if (t) {
      expect(t.form).toBe('national');
      expect(dialPatternsEquivalent(t, p('0[67]XXXXXXXX'))).toBe(true);
    }
    expect(translateDialPattern(p('+44.'), '+33', '0')).toBeUndefined();
    expect(translateDialPattern(p('+3'), '+33', '0')).toBeUndefined();
  });

  it('keeps only the domestic part of a wider E.164 pattern', () => {
    for (const [source, expected] of [['+X.', '0.'], ['+.', '0.'], ['+3.', '0.'], ['+3[0-4]1.', '01.'], ['+33X', '0X']] as const) {
      const t = translateDialPattern(p(source), '+33', '0');
      expect(t, source).toBeDefined();
      if (t) expect(dialPatternsEquivalent(t, p(expected)), source).toBe(true);
    }
  });
});
