// Whole-string dial patterns shared by the numbering plan (which range a
// number falls in) and outbound routing (which trunk carries it).
//
// Syntax, Asterisk-like but smaller so that every pattern has one reading:
//
//   0-9      that digit
//   +        a literal '+', first position only (patterns over the E.164 form)
//   X        any digit 0-9
//   Z        any digit 1-9
//   N        any digit 2-9
//   [...]    one digit from a class of digits and ranges: [1-5], [0689], [13-57]
//   .        one or more further digits; last position only
//   _        optional leading marker, ignored (Asterisk habit)
//
// A pattern always matches the whole string: `01XXXXXXXX` matches exactly ten
// digits. There is no `!`, no negated class and no letters as literals: a
// dialled string only ever holds digits and a leading '+', so nothing else
// would ever match, and every extra form is one more way to write a rule that
// lets through more than the operator meant.
//
// A compiled pattern is a fixed sequence of position sets plus an optional
// "one or more digits" tail. That language class is closed enough to decide
// intersection and inclusion exactly, which is what route overlap checks need.

/** Bit 0..9: the digits; bit 10: '+'. */
const PLUS_BIT = 1 << 10;
const ALL_DIGITS = (1 << 10) - 1;

export interface DialPattern {
  /** The text as configured, for messages. */
  readonly source: string;
  /** Which form of a number the pattern is written against. */
  readonly form: 'e164' | 'national';
  /** One bit set per position (bits 0–9 digits, bit 10 '+'). */
  readonly positions: readonly number[];
  /** A trailing `.`: one or more further digits. */
  readonly tail: boolean;
}

export type DialPatternResult =
  | { readonly ok: true; readonly pattern: DialPattern }
  | { readonly ok: false; readonly reason: string };

/** Longest pattern text accepted: far above any real number, small enough to bound the work. */
const MAX_PATTERN_LENGTH = 64;

export function parseDialPattern(source: string): DialPatternResult {
  if (source.length === 0) return { ok: false, reason: 'empty pattern' };
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, reason: `pattern longer than ${MAX_PATTERN_LENGTH} characters` };
  let i = source.startsWith('_') ? 1 : 0;
  const positions: number[] = [];
  let tail = false;
  while (i < source.length) {
    const c = source.charAt(i);
    if (tail) return { ok: false, reason: `'.' must be the last character of "${source}"` };
    if (c >= '0' && c <= '9') {
      positions.push(1 << (c.charCodeAt(0) - 48));
      i += 1;
    } else if (c === 'X' || c === 'x') {
      positions.push(ALL_DIGITS);
      i += 1;
    } else if (c === 'Z' || c === 'z') {
      positions.push(ALL_DIGITS & ~1);
      i += 1;
    } else if (c === 'N' || c === 'n') {
      positions.push(ALL_DIGITS & ~3);
      i += 1;
    } else if (c === '+') {
      if (positions.length > 0) return { ok: false, reason: `'+' is only allowed first in "${source}"` };
      positions.push(PLUS_BIT);
      i += 1;
    } else if (c === '.') {
      if (positions.length === 0) return { ok: false, reason: `"${source}" has no fixed part before '.'` };
      tail = true;
      i += 1;
    } else if (c === '[') {
      const close = source.indexOf(']', i + 1);
      if (close < 0) return { ok: false, reason: `unclosed '[' in "${source}"` };
      const set = parseDigitClass(source.slice(i + 1, close));
      if (typeof set === 'string') return { ok: false, reason: `${set} in "${source}"` };
      positions.push(set);
      i = close + 1;
    } else {
      return { ok: false, reason: `unexpected ${JSON.stringify(c)} at position ${i} in "${source}"` };
    }
  }
  if (positions.length === 0) return { ok: false, reason: `"${source}" matches nothing` };
  const form = positions[0] === PLUS_BIT ? 'e164' : 'national';
  if (form === 'e164' && positions.length === 1 && !tail) return { ok: false, reason: `"${source}" is only '+'` };
  return { ok: true, pattern: { source, form, positions, tail } };
}

function parseDigitClass(body: string): number | string {
  if (body.length === 0) return 'empty []';
  let set = 0;
  let i = 0;
  while (i < body.length) {
    const from = body.charAt(i);
    if (!(from >= '0' && from <= '9')) return `unexpected ${JSON.stringify(from)} inside []`;
    if (body.charAt(i + 1) === '-') {
      const to = body.charAt(i + 2);
      if (!(to >= '0' && to <= '9')) return `unfinished range "${from}-" inside []`;
      if (to < from) return `reversed range "${from}-${to}" inside []`;
      for (let d = from.charCodeAt(0); d <= to.charCodeAt(0); d += 1) set |= 1 << (d - 48);
      i += 3;
    } else {
      set |= 1 << (from.charCodeAt(0) - 48);
      i += 1;
    }
  }
  return set;
}

function charBit(c: string): number {
  if (c === '+') return PLUS_BIT;
  const code = c.charCodeAt(0);
  return code >= 48 && code <= 57 ? 1 << (code - 48) : 0;
}

export function matchesDialPattern(pattern: DialPattern, text: string): boolean {
  const fixed = pattern.positions.length;
  if (pattern.tail ? text.length <= fixed : text.length !== fixed) return false;
  for (let i = 0; i < text.length; i += 1) {
    const allowed = i < fixed ? (pattern.positions[i] ?? 0) : ALL_DIGITS;
    if ((charBit(text.charAt(i)) & allowed) === 0) return false;
  }
  return true;
}

/** The set at position `i` of the pattern's language (tail positions are any digit). */
function setAt(p: DialPattern, i: number): number {
  return i < p.positions.length ? (p.positions[i] ?? 0) : ALL_DIGITS;
}

/**
 * A shortest string matched by both patterns, or undefined when none exists.
 * Exact for this syntax: both languages are "fixed sets, then maybe 1+ digits".
 */
export function dialPatternIntersection(a: DialPattern, b: DialPattern): string | undefined {
  const la = a.positions.length;
  const lb = b.positions.length;
  let length: number;
  if (!a.tail && !b.tail) {
    if (la !== lb) return undefined;
    length = la;
  } else if (a.tail && b.tail) {
    length = Math.max(la, lb) + 1;
  } else {
    const [fixedLen, tailLen] = a.tail ? [lb, la] : [la, lb];
    if (fixedLen <= tailLen) return undefined;
    length = fixedLen;
  }
  let witness = '';
  for (let i = 0; i < length; i += 1) {
    const common = setAt(a, i) & setAt(b, i);
    if (common === 0) return undefined;
    witness += lowestChar(common);
  }
  return witness;
}

function lowestChar(set: number): string {
  if ((set & ALL_DIGITS) === 0) return '+';
  for (let d = 0; d < 10; d += 1) if ((set & (1 << d)) !== 0) return String(d);
  return '+';
}

/** True when every string `inner` matches is also matched by `outer`. */
export function dialPatternCovers(outer: DialPattern, inner: DialPattern): boolean {
  const lo = outer.positions.length;
  const li = inner.positions.length;
  if (!outer.tail) {
    if (inner.tail || li !== lo) return false;
  } else if (inner.tail ? li < lo : li <= lo) {
    return false;
  }
  for (let i = 0; i < li; i += 1) {
    const s = setAt(inner, i);
    if ((s & ~setAt(outer, i)) !== 0) return false;
  }
  return true;
}

export function dialPatternsEquivalent(a: DialPattern, b: DialPattern): boolean {
  return dialPatternCovers(a, b) && dialPatternCovers(b, a);
}

/**
 * The part of a pattern that matches numbers starting with `from`, rewritten
 * to start with `to` instead: `+33[67]XXXXXXXX` with +33 -> 0 gives
 * `0[67]XXXXXXXX`, and `+.` gives `0.`. Undefined when the pattern matches
 * no number starting with `from`. When `from` runs into the tail, the result
 * still asks for one more digit: "+33" alone is no number anyway.
 */
export function translateDialPattern(p: DialPattern, from: string, to: string): DialPattern | undefined {
  for (let i = 0; i < from.length; i += 1) {
    const set = i < p.positions.length ? (p.positions[i] ?? 0) : p.tail ? ALL_DIGITS : 0;
    if ((set & charBit(from.charAt(i))) === 0) return undefined;
  }
  const positions = [...[...to].map(charBit), ...p.positions.slice(from.length)];
  if (positions.length === 0 || positions.includes(0)) return undefined;
  const tail = p.tail;
  if (!tail && p.positions.length < from.length) return undefined;
  return { source: p.source, form: positions[0] === PLUS_BIT ? 'e164' : 'national', positions, tail };
}
