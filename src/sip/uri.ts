/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966), and any other
 * absolute URI kept opaque (RFC 4475 §3.3.4: unknown schemes outside the
 * Request-URI are carried, not rejected).
 */
import { formatParams, getParam, type Param } from './grammar.js';

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part as written, escapes kept (compare with `unescapeUriPart`). */
  user: string | null;
  password: string | null;
  /** Host as written: hostname, IPv4 address or bracketed IPv6 reference. */
  host: string;
  port: number | null;
  /** URI parameters, names lower-cased, values as written. */
  params: Param[];
  /** Header part after `?`, as written (never used as routing input). */
  headers: string | null;
}

export interface TelUri {
  readonly scheme: 'tel';
  number: string;
  params: Param[];
}

export interface AbsoluteUri {
  /** Lower-cased scheme other than sip, sips and tel. */
  readonly scheme: string;
  readonly opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === 'tel';
}

const UNRESERVED = "-_.!~*'()";
const USER_EXTRA = '&=+$,;?/';
const PASSWORD_EXTRA = '&=+$,';
const PARAM_EXTRA = '[]/:&+$';
const HEADER_EXTRA = '[]/?:+$=&';

function charTable(extra: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of UNRESERVED + extra) t[ch.charCodeAt(0)] = 1;
  return t;
}

const USER_CHARS = charTable(USER_EXTRA);
const PASSWORD_CHARS = charTable(PASSWORD_EXTRA);
const PARAM_CHARS = charTable(PARAM_EXTRA);
const HEADER_CHARS = charTable(HEADER_EXTRA);

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** True when every character of s[start, end) is in `table` or is a valid %HH escape. */
function allowed(s: string, start: number, end: number, table: Uint8Array): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      if (i + 2 >= end) return false;
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (c >= 128 || table[c] !== 1) return false;
  }
  return true;
}

function isSchemeChar(code: number, first: boolean): boolean {
  const alpha = (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
  if (first) return alpha;
  return alpha || (code >= 0x30 && code <= 0x39) || code === 0x2b || code === 0x2d || code === 0x2e;
}

function isHostnameChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    code === 0x2d ||
    code === 0x2e
  );
}

function isIpv6Char(code: number): boolean {
  return isHex(code) || code === 0x3a || code === 0x2e;
}

/** Parses `;name[=value]` URI parameters over s[start, end); null on a bad character. */
function parseUriParams(s: string, start: number, end: number): Param[] | null {
  const params: Param[] = [];
  let i = start;
  while (i < end) {
    // s[i] is ';'
    let j = s.indexOf(';', i + 1);
    if (j === -1 || j > end) j = end;
    const eq = s.indexOf('=', i + 1);
    if (eq !== -1 && eq < j) {
      if (eq === i + 1 || eq + 1 === j) return null;
      if (!allowed(s, i + 1, eq, PARAM_CHARS) || !allowed(s, eq + 1, j, PARAM_CHARS)) return null;
      params.push({ name: s.slice(i + 1, eq).toLowerCase(), value: s.slice(eq + 1, j) });
    } else {
      if (j === i + 1) return null;
      if (!allowed(s, i + 1, j, PARAM_CHARS)) return null;
      params.push({ name: s.slice(i + 1, j).toLowerCase(), value: null });
    }
    i = j;
  }
  return params;
}

function parseSipUri(scheme: 'sip' | 'sips', s: string, start: number): SipUri | null {
  let user: string | null = null;
  let password: string | null = null;
  let i = start;
  const at = s.indexOf('@', start);
  if (at !== -1) {
    const colon = s.indexOf(':', start);
    const userEnd = colon !== -1 && colon < at ? colon : at;
    if (userEnd === start) return null;
    if (!allowed(s, start, userEnd, USER_CHARS)) return null;
    user = s.slice(start, userEnd);
    if (userEnd < at) {
      if (!allowed(s, userEnd + 1, at, PASSWORD_CHARS)) return null;
      password = s.slice(userEnd + 1, at);
    }
    i = at + 1;
  }
  // host
  const hostStart = i;
  if (i < s.length && s.charCodeAt(i) === 0x5b /* [ */) {
    const close = s.indexOf(']', i);
    if (close === -1) return null;
    for (let k = i + 1; k < close; k++) if (!isIpv6Char(s.charCodeAt(k))) return null;
    if (close === i + 1) return null;
    i = close + 1;
  } else {
    while (i < s.length && isHostnameChar(s.charCodeAt(i))) i++;
    if (i === hostStart) return null;
  }
  const host = s.slice(hostStart, i);
  let port: number | null = null;
  if (i < s.length && s.charCodeAt(i) === 0x3a /* : */) {
    const portStart = ++i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i === portStart || i - portStart > 5) return null;
    port = Number(s.slice(portStart, i));
    if (port > 65535) return null;
  }
  const q = s.indexOf('?', i);
  const paramsEnd = q === -1 ? s.length : q;
  let params: Param[] = [];
  if (i < paramsEnd) {
    if (s.charCodeAt(i) !== 0x3b) return null;
    const parsed = parseUriParams(s, i, paramsEnd);
    if (parsed === null) return null;
    params = parsed;
  }
  let headers: string | null = null;
  if (q !== -1) {
    if (q + 1 === s.length || !allowed(s, q + 1, s.length, HEADER_CHARS)) return null;
    headers = s.slice(q + 1);
  }
  return { scheme, user, password, host, port, params, headers };
}

const TEL_CHARS = charTable('+-.()*#;=/[]:&$,?');

function parseTelUri(s: string, start: number): TelUri | null {
  if (!allowed(s, start, s.length, TEL_CHARS)) return null;
  const semi = s.indexOf(';', start);
  const numberEnd = semi === -1 ? s.length : semi;
  if (numberEnd === start) return null;
  const params = semi === -1 ? [] : parseUriParams(s, semi, s.length);
  if (params === null) return null;
  return { scheme: 'tel', number: s.slice(start, numberEnd), params };
}

/**
 * Parses a URI as it appears in a Request-URI or inside `<>`. Returns null on
 * a syntax error. Any whitespace inside makes it invalid (RFC 4475 §3.1.2.8).
 */
export function parseUri(s: string): Uri | null {
  if (s.length === 0) return null;
  let i = 0;
  if (!isSchemeChar(s.charCodeAt(0), true)) return null;
  while (i < s.length && isSchemeChar(s.charCodeAt(i), i === 0)) i++;
  if (i >= s.length || s.charCodeAt(i) !== 0x3a) return null;
  const scheme = s.slice(0, i).toLowerCase();
  const rest = i + 1;
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, s, rest);
  if (scheme === 'tel') return parseTelUri(s, rest);
  for (let k = rest; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return null;
  }
  if (rest === s.length) return null;
  return { scheme, opaque: s.slice(rest) };
}

export function formatUri(uri: Uri): string {
  if (isSipUri(uri)) {
    let out = uri.scheme + ':';
    if (uri.user !== null) {
      out += uri.user;
      if (uri.password !== null) out += ':' + uri.password;
      out += '@';
    }
    out += uri.host;
    if (uri.port !== null) out += ':' + uri.port;
    out += formatParams(uri.params);
    if (uri.headers !== null) out += '?' + uri.headers;
    return out;
  }
  if (isTelUri(uri)) return 'tel:' + uri.number + formatParams(uri.params);
  return uri.scheme + ':' + (uri as AbsoluteUri).opaque;
}

/** Decodes %HH escapes (RFC 3261 §19.1.4: compared after unescaping). */
export function unescapeUriPart(s: string): string {
  if (s.indexOf('%') === -1) return s;
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function cloneSipUri(uri: SipUri): SipUri {
  return { ...uri, params: uri.params.slice() };
}

export function sipUri(fields: Partial<SipUri> & { host: string }): SipUri {
  return {
    scheme: fields.scheme ?? 'sip',
    user: fields.user ?? null,
    password: fields.password ?? null,
    host: fields.host,
    port: fields.port ?? null,
    params: fields.params ?? [],
    headers: fields.headers ?? null,
  };
}

const ALWAYS_COMPARED = ['user', 'ttl', 'method', 'maddr', 'transport'];

/** SIP URI equality per RFC 3261 §19.1.4. */
export function sipUrisEqual(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  if ((a.user === null) !== (b.user === null)) return false;
  if (a.user !== null && b.user !== null && unescapeUriPart(a.user) !== unescapeUriPart(b.user)) return false;
  if ((a.password ?? '') !== (b.password ?? '')) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
  if (a.port !== b.port) return false;
  for (const name of ALWAYS_COMPARED) {
    const pa = getParam(a.params, name);
    const pb = getParam(b.params, name);
    if ((pa === undefined) !== (pb === undefined)) return false;
    if (pa && pb && unescapeUriPart(pa.value ?? '').toLowerCase() !== unescapeUriPart(pb.value ?? '').toLowerCase()) return false;
  }
  for (const pa of a.params) {
    if (ALWAYS_COMPARED.includes(pa.name)) continue;
    const pb = getParam(b.params, pa.name);
    if (pb && unescapeUriPart(pa.value ?? '').toLowerCase() !== unescapeUriPart(pb.value ?? '').toLowerCase()) return false;
  }
  return (a.headers ?? '') === (b.headers ?? '');
}
