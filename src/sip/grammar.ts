/**
 * Lexical helpers for the SIP grammar (RFC 3261 §25.1). Pure functions over
 * strings; no allocation beyond the values they return.
 */

const TOKEN_TABLE = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') {
  TOKEN_TABLE[c.charCodeAt(0)] = 1;
}

/** RFC 3261 §25.1 `token`. */
export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_TABLE[code] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isTokenChar(s.charCodeAt(i))) return false;
  }
  return true;
}

/** SP or HTAB: the only white space left once folded lines are joined. */
export function isWsp(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Index just past the closing quote of the quoted-string opening at `start`
 * (RFC 3261 §25.1 quoted-string, with quoted-pair escapes), or -1 when the
 * string never ends.
 */
export function scanQuotedString(s: string, start: number): number {
  let i = start + 1;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      i += 2;
      continue;
    }
    if (c === 0x22 /* " */) return i + 1;
    i++;
  }
  return -1;
}

/** The text of a quoted-string without its quotes and escapes. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  const inner = s.slice(1, -1);
  if (inner.indexOf('\\') === -1) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

/** A quoted-string for `s`, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

/**
 * Splits a header value that is a comma-separated list (`#element`, RFC 3261
 * §7.3.1), ignoring commas inside quoted strings and angle brackets. Empty
 * elements are dropped as the `#` rule allows. Returns null when a quoted
 * string or an angle bracket is left open.
 */
export function splitList(value: string): string[] | null {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      const end = scanQuotedString(value, i);
      if (end === -1) return null;
      i = end - 1;
    } else if (c === 0x3c /* < */) {
      if (angle) return null;
      angle = true;
    } else if (c === 0x3e /* > */) {
      angle = false;
    } else if (c === 0x2c /* , */ && !angle) {
      const item = value.slice(start, i).trim();
      if (item.length > 0) out.push(item);
      start = i + 1;
    }
  }
  if (angle) return null;
  const last = value.slice(start).trim();
  if (last.length > 0) out.push(last);
  return out;
}

/** A header or URI parameter. `value` is null for a parameter without `=`. */
export interface Param {
  readonly name: string;
  readonly value: string | null;
}

export function getParam(params: readonly Param[], name: string): Param | undefined {
  for (const p of params) {
    if (p.name === name) return p;
  }
  return undefined;
}

export function paramValue(params: readonly Param[], name: string): string | null | undefined {
  for (const p of params) {
    if (p.name === name) return p.value;
  }
  return undefined;
}

export function setParam(params: Param[], name: string, value: string | null): void {
  const i = params.findIndex((p) => p.name === name);
  if (i === -1) params.push({ name, value });
  else params[i] = { name, value };
}

export function removeParam(params: Param[], name: string): void {
  const i = params.findIndex((p) => p.name === name);
  if (i !== -1) params.splice(i, 1);
}

/** `;name=value;flag` as written on the wire. */
export function formatParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) {
    out += p.value === null ? ';' + p.name : ';' + p.name + '=' + p.value;
  }
  return out;
}

function isGenValueChar(code: number): boolean {
  // gen-value = token / host / quoted-string; host adds ":" "[" "]" for IPv6.
  return isTokenChar(code) || code === 0x3a || code === 0x5b || code === 0x5d;
}

export interface ParamsResult {
  readonly params: Param[];
  /** Index of the first character not consumed (a `,` or the end). */
  readonly end: number;
}

/**
 * Parses header parameters `*( SEMI generic-param )` starting at `i`, with
 * the LWS the grammar allows around `;` and `=`. Names are lower-cased
 * (RFC 3261 §7.3.1: parameter names are case-insensitive). Returns null on
 * a syntax error.
 */
export function parseHeaderParams(s: string, i: number): ParamsResult | null {
  const params: Param[] = [];
  for (;;) {
    i = skipWsp(s, i);
    if (i >= s.length) return { params, end: i };
    if (s.charCodeAt(i) !== 0x3b /* ; */) return { params, end: i };
    i = skipWsp(s, i + 1);
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) return null;
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWsp(s, i);
    if (i < s.length && s.charCodeAt(i) === 0x3d /* = */) {
      i = skipWsp(s, i + 1);
      if (i < s.length && s.charCodeAt(i) === 0x22) {
        const end = scanQuotedString(s, i);
        if (end === -1) return null;
        params.push({ name, value: s.slice(i, end) });
        i = end;
      } else {
        const valueStart = i;
        while (i < s.length && isGenValueChar(s.charCodeAt(i))) i++;
        if (i === valueStart) return null;
        params.push({ name, value: s.slice(valueStart, i) });
      }
    } else {
      params.push({ name, value: null });
    }
  }
}

/** RFC 3261 §25.1 delta-seconds / 1*DIGIT, bounded; null when not a number or above `max`. */
export function parseBoundedInt(s: string, max: number): number | null {
  const t = s.trim();
  if (t.length === 0 || t.length > 12) return null;
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    n = n * 10 + (c - 0x30);
  }
  return n <= max ? n : null;
}
