/**
 * Header names and the structured header values the SIP core works with:
 * name-addr (From, To, Contact, Route), Via and CSeq (RFC 3261 §20, §25.1).
 */
import {
  formatParams,
  isToken,
  isTokenChar,
  paramValue,
  parseHeaderParams,
  quote,
  scanQuotedString,
  skipWsp,
  splitList,
  unquote,
  type Param,
} from './grammar.js';
import { formatUri, parseUri, type Uri } from './uri.js';

/** RFC 3261 §7.3.3 compact forms, and those registered since. */
const COMPACT_FORMS: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

const CANONICAL_NAMES: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** The lower-case long form used as a lookup key. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT_FORMS[lower] ?? lower;
  return lower;
}

/** The name to write on the wire for a header key: its long form in the usual capitalisation. */
export function canonicalHeaderName(key: string): string {
  const special = CANONICAL_NAMES[key];
  if (special !== undefined) return special;
  let out = '';
  let upper = true;
  for (let i = 0; i < key.length; i++) {
    const ch = key[i] as string;
    out += upper ? ch.toUpperCase() : ch;
    upper = ch === '-';
  }
  return out;
}

export interface HeaderField {
  /** Lower-case long-form name used to look the field up. */
  readonly key: string;
  /** Name as it will be written. */
  readonly name: string;
  value: string;
}

/**
 * The header fields of a message other than the ones the core models
 * (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length), in order.
 */
export class Headers implements Iterable<HeaderField> {
  private readonly fields: HeaderField[] = [];

  get size(): number {
    return this.fields.length;
  }

  /** First value of the header, or undefined. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return f.value;
    return undefined;
  }

  /** Every field line of the header, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.fields) if (f.key === key) out.push(f.value);
    return out;
  }

  /** Every element of a comma-separated list header across all its lines; null if one is malformed. */
  getList(name: string): string[] | null {
    const out: string[] = [];
    for (const value of this.getAll(name)) {
      const items = splitList(value);
      if (items === null) return null;
      for (const item of items) out.push(item);
    }
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.fields.some((f) => f.key === key);
  }

  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const f of this.fields) if (f.key === key) n++;
    return n;
  }

  append(name: string, value: string): this {
    const key = headerKey(name);
    this.fields.push({ key, name: name.length === 1 ? canonicalHeaderName(key) : name, value });
    return this;
  }

  /** Replaces every line of the header by one line with `value`. */
  set(name: string, value: string): this {
    this.remove(name);
    return this.append(name, value);
  }

  remove(name: string): this {
    const key = headerKey(name);
    for (let i = this.fields.length - 1; i >= 0; i--) {
      if (this.fields[i]?.key === key) this.fields.splice(i, 1);
    }
    return this;
  }

  clone(): Headers {
    const copy = new Headers();
    for (const f of this.fields) copy.fields.push({ key: f.key, name: f.name, value: f.value });
    return copy;
  }

  /** Appends an already-keyed field (used by the parser). */
  pushField(key: string, name: string, value: string): void {
    this.fields.push({ key, name, value });
  }

  [Symbol.iterator](): Iterator<HeaderField> {
    return this.fields[Symbol.iterator]();
  }
}

/** From, To, Contact, Route, Record-Route values: `[display] <uri> ;params` or `uri ;params`. */
export interface NameAddr {
  /** Display name without quotes, or null. */
  displayName: string | null;
  uri: Uri;
  /** Header parameters (not URI parameters), names lower-cased. */
  params: Param[];
}

/**
 * Parses a name-addr or addr-spec header value. In the addr-spec form the
 * URI ends at the first `;`, which starts header parameters (RFC 3261 §20.10).
 * Tolerates what RFC 4475 §3.1.2.14/15 say a robust parser may accept:
 * spaces inside `<>` and an unquoted display name with a comma.
 */
export function parseNameAddr(value: string): NameAddr | null {
  const s = value;
  let i = skipWsp(s, 0);
  let displayName: string | null = null;
  let uriText: string;
  let rest: number;
  // Find an unquoted '<'.
  let lt = -1;
  for (let k = i; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 0x22) {
      const end = scanQuotedString(s, k);
      if (end === -1) return null;
      k = end - 1;
    } else if (c === 0x3c) {
      lt = k;
      break;
    }
  }
  if (lt !== -1) {
    const display = s.slice(i, lt).trim();
    if (display.length > 0) {
      if (display.charCodeAt(0) === 0x22) {
        const end = scanQuotedString(display, 0);
        if (end !== display.length) return null;
        displayName = unquote(display);
      } else {
        displayName = display;
      }
    }
    const gt = s.indexOf('>', lt + 1);
    if (gt === -1) return null;
    uriText = s.slice(lt + 1, gt).trim();
    rest = gt + 1;
  } else {
    if (i < s.length && s.charCodeAt(i) === 0x22) return null;
    let end = i;
    while (end < s.length && s.charCodeAt(end) !== 0x3b && s.charCodeAt(end) !== 0x20 && s.charCodeAt(end) !== 0x09) end++;
    uriText = s.slice(i, end);
    rest = end;
  }
  const uri = parseUri(uriText);
  if (uri === null) return null;
  const parsed = parseHeaderParams(s, rest);
  if (parsed === null || parsed.end !== s.length) return null;
  return { displayName, uri, params: parsed.params };
}

export function formatNameAddr(na: NameAddr): string {
  let out = '';
  if (na.displayName !== null && na.displayName.length > 0) out += quote(na.displayName) + ' ';
  out += '<' + formatUri(na.uri) + '>';
  return out + formatParams(na.params);
}

export function tagOf(na: NameAddr): string | null {
  const tag = paramValue(na.params, 'tag');
  return tag === undefined ? null : tag;
}

/** One Via header value (RFC 3261 §20.42). */
export interface Via {
  /** `SIP/2.0` normally; kept so a 505 can be answered. */
  protocol: string;
  /** Upper-cased transport: UDP, TCP, TLS, SCTP, WS, WSS or an extension. */
  transport: string;
  host: string;
  port: number | null;
  params: Param[];
}

/**
 * Parses one Via value: `SIP / 2.0 / UDP host[:port] *(;param)` with the LWS
 * the grammar allows around `/` and `:` (RFC 4475 §3.1.1.1).
 */
export function parseVia(value: string): Via | null {
  const s = value;
  let i = skipWsp(s, 0);
  const parts: string[] = [];
  for (let n = 0; n < 3; n++) {
    const start = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === start) return null;
    parts.push(s.slice(start, i));
    i = skipWsp(s, i);
    if (n < 2) {
      if (s.charCodeAt(i) !== 0x2f /* / */) return null;
      i = skipWsp(s, i + 1);
    }
  }
  const [name, version, transport] = parts as [string, string, string];
  if (name.toUpperCase() !== 'SIP') return null;
  // sent-by
  const hostStart = i;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close === -1) return null;
    i = close + 1;
  } else {
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e) i++;
      else break;
    }
  }
  if (i === hostStart) return null;
  const host = s.slice(hostStart, i);
  let port: number | null = null;
  const afterHost = skipWsp(s, i);
  if (s.charCodeAt(afterHost) === 0x3a) {
    i = skipWsp(s, afterHost + 1);
    const portStart = i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i === portStart || i - portStart > 5) return null;
    port = Number(s.slice(portStart, i));
    if (port > 65535) return null;
  }
  const parsed = parseHeaderParams(s, i);
  if (parsed === null || parsed.end !== s.length) return null;
  return { protocol: 'SIP/' + version, transport: transport.toUpperCase(), host, port, params: parsed.params };
}

export function formatVia(via: Via): string {
  return via.protocol + '/' + via.transport + ' ' + via.host + (via.port === null ? '' : ':' + via.port) + formatParams(via.params);
}

/** RFC 3261 §8.1.1.7: a branch starting with the magic cookie identifies the transaction. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export function branchOf(via: Via): string | null {
  const b = paramValue(via.params, 'branch');
  return b === undefined || b === null ? null : b;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** `1*DIGIT LWS Method`; the number must be below 2^31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): CSeq | null {
  const s = value.trim();
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === 0 || i > 10) return null;
  const seq = Number(s.slice(0, i));
  if (seq >= 2 ** 31) return null;
  const j = skipWsp(s, i);
  if (j === i) return null;
  const method = s.slice(j);
  if (!isToken(method)) return null;
  return { seq, method };
}

export function formatCSeq(cseq: CSeq): string {
  return cseq.seq + ' ' + cseq.method;
}

/** A Contact header: the `*` wildcard or a list of name-addrs. */
export type ContactList = { readonly wildcard: true } | { readonly wildcard: false; readonly contacts: NameAddr[] };

/** Parses every Contact line of a message; null when any value is malformed. */
export function parseContacts(values: readonly string[]): ContactList | null {
  const contacts: NameAddr[] = [];
  let wildcard = false;
  for (const value of values) {
    const items = splitList(value);
    if (items === null) return null;
    for (const item of items) {
      if (item === '*') {
        wildcard = true;
        continue;
      }
      const na = parseNameAddr(item);
      if (na === null) return null;
      contacts.push(na);
    }
  }
  if (wildcard) {
    // RFC 3261 §10.3 step 6: "*" must stand alone.
    return contacts.length === 0 ? { wildcard: true } : null;
  }
  return { wildcard: false, contacts };
}
