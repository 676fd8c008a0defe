/**
 * SIP Digest authentication (RFC 3261 §22.4 as updated by RFC 8760, with the
 * computations of RFC 7616 §3.4). Pure: header values in, typed values out;
 * the only state (nonce freshness and nonce counts) lives in nonce.ts.
 *
 * Supported: algorithms MD5, SHA-256 and their -sess variants, qop=auth.
 * Not supported: qop=auth-int, userhash, SHA-512-256, `username*`.
 *
 * Secrets (passwords, HA1s) go into hashes only; no value returned from this
 * module — including failure details — ever contains one.
 */
import { hash as oneShotHash, timingSafeEqual } from 'node:crypto';
import { isTokenChar, quote, scanQuotedString } from '../grammar.js';

/** RFC 7616 §3.4 / RFC 8760 §2.2 algorithm names as voix writes them. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

/** The hash function under an algorithm; HA1s are stored per hash. */
export type DigestHash = 'MD5' | 'SHA-256';

const ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'];

const NODE_HASH: Record<DigestHash, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** Length in hex digits of a digest (HA1 or response) for each hash. */
const HEX_LENGTH: Record<DigestHash, number> = { MD5: 32, 'SHA-256': 64 };

/** Algorithm tokens compare case-insensitively (RFC 7616 §3.3 lists them as tokens). */
export function parseDigestAlgorithm(text: string): DigestAlgorithm | null {
  const lower = text.toLowerCase();
  for (const a of ALGORITHMS) if (a.toLowerCase() === lower) return a;
  return null;
}

export function hashOf(algorithm: DigestAlgorithm): DigestHash {
  return algorithm === 'MD5' || algorithm === 'MD5-sess' ? 'MD5' : 'SHA-256';
}

function isSession(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

function h(hash: DigestHash, data: string): string {
  // crypto.hash: one call, no Hash object to build and collect (two to three per authenticated request).
  return oneShotHash(NODE_HASH[hash], data, 'hex');
}

/** True when `hex` can be an HA1 (or response) for `hash`; for config validation. */
export function isDigestHex(hash: DigestHash, hex: string): boolean {
  return hex.length === HEX_LENGTH[hash] && /^[0-9a-fA-F]+$/.test(hex);
}

/** RFC 7616 §3.4.2: H(username ":" realm ":" password), the value worth storing instead of the password. */
export function computeHa1(hash: DigestHash, username: string, realm: string, password: string): string {
  return h(hash, `${username}:${realm}:${password}`);
}

export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** The stored H(username:realm:password) for hashOf(algorithm), in hex. */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  /** With qop=auth: nc as sent (8 hex digits) and cnonce. Absent for an RFC 2069 challenge without qop. */
  readonly qop?: { readonly nc: string; readonly cnonce: string };
}

/** RFC 7616 §3.4.1 request-digest, for qop=auth or (client side only) no qop. */
export function computeDigestResponse(input: DigestResponseInput): string {
  const hash = hashOf(input.algorithm);
  let ha1 = input.ha1.toLowerCase();
  if (isSession(input.algorithm)) {
    // RFC 7616 §3.4.2: the -sess variants bind HA1 to this nonce and cnonce.
    ha1 = h(hash, `${ha1}:${input.nonce}:${input.qop?.cnonce ?? ''}`);
  }
  // RFC 7616 §3.4.3: A2 = Method ":" request-uri for qop=auth.
  const ha2 = h(hash, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return h(hash, `${ha1}:${input.nonce}:${ha2}`);
  return h(hash, `${ha1}:${input.nonce}:${input.qop.nc}:${input.qop.cnonce}:auth:${ha2}`);
}

// ---------------------------------------------------------------------------
// Parsing: auth-scheme LWS auth-param *(COMMA auth-param) (RFC 3261 §25.1,
// challenge / credentials / other-challenge / other-response).

/** A header value whose scheme is not Digest: voix answers it with a fresh challenge (RFC 4475 §3.3.7). */
export interface OtherAuthScheme {
  readonly scheme: 'other';
  /** The scheme token as written. */
  readonly name: string;
}

function isLws(code: number): boolean {
  // SP, HTAB and the CR LF of a folded line the header parser may have left in.
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

function skipLws(s: string, i: number): number {
  while (i < s.length && isLws(s.charCodeAt(i))) i++;
  return i;
}

function scanToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/** Unescapes a quoted-string found at [start, end) including its quotes. */
function unquoteSpan(s: string, start: number, end: number): string {
  let out = '';
  for (let i = start + 1; i < end - 1; i++) {
    const ch = s[i] ?? '';
    if (ch === '\\' && i + 1 < end - 1) {
      out += s[i + 1] ?? '';
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

interface SchemeAndParams {
  readonly scheme: string;
  /** Parameter names lower-cased; values unquoted. Null for a non-Digest scheme (not parsed). */
  readonly params: ReadonlyMap<string, string> | null;
}

function parseSchemeAndParams(value: string): SchemeAndParams | null {
  let i = skipLws(value, 0);
  const schemeStart = i;
  i = scanToken(value, i);
  if (i === schemeStart) return null;
  const scheme = value.slice(schemeStart, i);
  // HTTP and SIP auth-scheme names are case-insensitive (RFC 7235 §2.1).
  if (scheme.toLowerCase() !== 'digest') {
    // Other schemes may carry token68 rather than auth-params (RFC 7235 §2.1);
    // voix never reads them, so the rest is left uninterpreted.
    if (i < value.length && !isLws(value.charCodeAt(i))) return null;
    return { scheme, params: null };
  }
  if (i >= value.length || !isLws(value.charCodeAt(i))) return null;

  const params = new Map<string, string>();
  for (;;) {
    i = skipLws(value, i);
    const nameStart = i;
    i = scanToken(value, i);
    if (i === nameStart) return null;
    const name = value.slice(nameStart, i).toLowerCase();
    i = skipLws(value, i);
    if (value.charCodeAt(i) !== 0x3d /* = */) return null;
    i = skipLws(value, i + 1);
    let paramValue: string;
    if (value.charCodeAt(i) === 0x22 /* " */) {
      const end = scanQuotedString(value, i);
      if (end === -1) return null;
      paramValue = unquoteSpan(value, i, end);
      i = end;
    } else {
      const valueStart = i;
      i = scanToken(value, i);
      if (i === valueStart) return null;
      paramValue = value.slice(valueStart, i);
    }
    // RFC 7616 §3.3/§3.4: each directive appears at most once. Two differing
    // copies would let a proxy and voix read different values, so refuse.
    if (params.has(name)) return null;
    params.set(name, paramValue);
    i = skipLws(value, i);
    if (i >= value.length) return { scheme: 'Digest', params };
    if (value.charCodeAt(i) !== 0x2c /* , */) return null;
    // The #rule lets empty list elements through (RFC 7230 §7): ", ,".
    while (i < value.length && (value.charCodeAt(i) === 0x2c || isLws(value.charCodeAt(i)))) i++;
    if (i >= value.length) return { scheme: 'Digest', params };
  }
}

// ---------------------------------------------------------------------------
// Challenges (WWW-Authenticate / Proxy-Authenticate).

export interface DigestChallenge {
  readonly scheme: 'Digest';
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  /** The algorithm parameter as written; absent means MD5 (RFC 7616 §3.3). */
  readonly algorithmText: string | undefined;
  /** The algorithm, or null when voix does not implement the one named. */
  readonly algorithm: DigestAlgorithm | null;
  /** qop-options, lower-cased; empty for an RFC 2069 challenge without qop. */
  readonly qop: readonly string[];
  readonly stale: boolean;
  /** Every parameter, names lower-cased, values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

/**
 * Parses one WWW-Authenticate or Proxy-Authenticate value. Null on a syntax
 * error or a Digest challenge without realm or nonce (RFC 7616 §3.3 requires
 * both).
 */
export function parseChallenge(value: string): DigestChallenge | OtherAuthScheme | null {
  const parsed = parseSchemeAndParams(value);
  if (parsed === null) return null;
  if (parsed.params === null) return { scheme: 'other', name: parsed.scheme };
  const p = parsed.params;
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  if (realm === undefined || nonce === undefined) return null;
  const algorithmText = p.get('algorithm');
  const qopText = p.get('qop');
  return {
    scheme: 'Digest',
    realm,
    nonce,
    opaque: p.get('opaque'),
    algorithmText,
    algorithm: algorithmText === undefined ? 'MD5' : parseDigestAlgorithm(algorithmText),
    qop:
      qopText === undefined
        ? []
        : qopText
            .split(',')
            .map((q) => q.trim().toLowerCase())
            .filter((q) => q.length > 0),
    stale: (p.get('stale') ?? '').toLowerCase() === 'true',
    params: p,
  };
}

export interface ChallengeOptions {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  /** RFC 7616 §3.3 stale=TRUE: the credentials were right but the nonce had expired. */
  readonly stale?: boolean;
}

/** Thrown when a value to format would break the header (a control character); names the field, never the value. */
export class DigestFormatError extends Error {
  override readonly name = 'DigestFormatError';
  constructor(readonly field: string) {
    super(`digest ${field} contains a control character and cannot be written in a header`);
  }
}

function quoted(field: string, s: string): string {
  // quoted-string admits no CTLs except LWS (RFC 3261 §25.1); CR or LF here would inject headers.
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(s)) throw new DigestFormatError(field);
  return quote(s);
}

/** One challenge value: `Digest realm="…", nonce="…", opaque="…", algorithm=…, qop="auth", stale=TRUE`. */
export function formatChallenge(options: ChallengeOptions & { readonly algorithm: DigestAlgorithm }): string {
  let out = `Digest realm=${quoted('realm', options.realm)}, nonce=${quoted('nonce', options.nonce)}`;
  if (options.opaque !== undefined) out += `, opaque=${quoted('opaque', options.opaque)}`;
  out += `, algorithm=${options.algorithm}, qop="auth"`;
  if (options.stale === true) out += ', stale=TRUE';
  return out;
}

/**
 * RFC 8760 §2.4: one WWW-Authenticate / Proxy-Authenticate value per
 * algorithm, most preferred first. The same nonce serves all of them.
 */
export function formatChallenges(options: ChallengeOptions & { readonly algorithms: readonly DigestAlgorithm[] }): string[] {
  return options.algorithms.map((algorithm) => formatChallenge({ ...options, algorithm }));
}

// ---------------------------------------------------------------------------
// Credentials (Authorization / Proxy-Authorization).

export interface DigestCredentials {
  readonly scheme: 'Digest';
  readonly username: string | undefined;
  readonly realm: string | undefined;
  readonly nonce: string | undefined;
  readonly uri: string | undefined;
  readonly response: string | undefined;
  /** As written; absent means MD5 (RFC 7616 §3.4). */
  readonly algorithm: string | undefined;
  readonly cnonce: string | undefined;
  readonly opaque: string | undefined;
  readonly qop: string | undefined;
  readonly nc: string | undefined;
  /** Every parameter, names lower-cased, values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

/**
 * Parses one Authorization or Proxy-Authorization value. Only the syntax is
 * checked here; `verifyCredentials` checks that the directives it needs are
 * present and well-formed.
 */
export function parseCredentials(value: string): DigestCredentials | OtherAuthScheme | null {
  const parsed = parseSchemeAndParams(value);
  if (parsed === null) return null;
  if (parsed.params === null) return { scheme: 'other', name: parsed.scheme };
  const p = parsed.params;
  return {
    scheme: 'Digest',
    username: p.get('username'),
    realm: p.get('realm'),
    nonce: p.get('nonce'),
    uri: p.get('uri'),
    response: p.get('response'),
    algorithm: p.get('algorithm'),
    cnonce: p.get('cnonce'),
    opaque: p.get('opaque'),
    qop: p.get('qop'),
    nc: p.get('nc'),
    params: p,
  };
}

/** RFC 7616 §3.4 nc-value = 8LHEX; null unless exactly 8 hex digits and non-zero. */
export function parseNonceCount(nc: string): number | null {
  if (!/^[0-9a-fA-F]{8}$/.test(nc)) return null;
  const n = Number.parseInt(nc, 16);
  return n >= 1 ? n : null;
}

export function formatNonceCount(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

export type DigestFailureReason =
  /** A required directive is missing or ill-formed; `field` names it. */
  | 'malformed'
  /** qop other than auth (auth-int, or none: RFC 2069 style has no replay protection). */
  | 'unsupported-qop'
  /** The algorithm was not in the challenge (or is unknown, or userhash was asked for). */
  | 'algorithm-not-offered'
  | 'realm-mismatch'
  | 'opaque-mismatch'
  /** No usable HA1 for this user and hash: unknown user, or none stored for this hash. Answer exactly as for a wrong response. */
  | 'no-ha1'
  | 'wrong-response';

export type DigestVerification =
  | {
      readonly ok: true;
      readonly username: string;
      readonly algorithm: DigestAlgorithm;
      /** What the nonce check needs next: NonceManager.check(nonce, nc). */
      readonly nonce: string;
      readonly nc: number;
    }
  | {
      readonly ok: false;
      readonly reason: DigestFailureReason;
      /** The directive at fault, for a log line. */
      readonly field?: string;
      /** The username claimed, when there was one (not a secret; useful in logs and for fail2ban). */
      readonly username?: string;
    };

export interface VerifyOptions {
  /** The request method (RFC 3261 §22.4: A2 uses the method of the request, e.g. REGISTER). */
  readonly method: string;
  /** The realm voix challenged with. */
  readonly realm: string;
  /** The algorithms voix offered in its challenges. */
  readonly offered: readonly DigestAlgorithm[];
  /** The opaque voix sent, when it sent one. */
  readonly opaque?: string;
  /** The stored H(username:realm:password) in hex for that hash, or undefined when unknown. */
  readonly lookupHa1: (username: string, hash: DigestHash) => string | undefined;
}

// Hashed instead of a missing HA1 so an unknown user costs the same work as a
// known one (ARCHITECTURE: no enumeration). The value cannot match anything.
const DUMMY_HA1: Record<DigestHash, string> = { MD5: '0'.repeat(32), 'SHA-256': '0'.repeat(64) };

/**
 * Checks Digest credentials against a stored HA1 (RFC 7616 §3.4.1). Does not
 * judge the nonce's freshness or the nc's novelty: on success, hand `nonce`
 * and `nc` to NonceManager.check, and only then accept the request.
 */
export function verifyCredentials(credentials: DigestCredentials, options: VerifyOptions): DigestVerification {
  const { username, realm, nonce, uri, response, cnonce } = credentials;
  const malformed = (field: string): DigestVerification =>
    username === undefined ? { ok: false, reason: 'malformed', field } : { ok: false, reason: 'malformed', field, username };
  if (username === undefined || username.length === 0) return malformed('username');
  if (realm === undefined) return malformed('realm');
  if (nonce === undefined || nonce.length === 0) return malformed('nonce');
  if (uri === undefined || uri.length === 0) return malformed('uri');
  if (response === undefined) return malformed('response');
  if (credentials.qop === undefined || credentials.qop.toLowerCase() !== 'auth') {
    return { ok: false, reason: 'unsupported-qop', field: 'qop', username };
  }
  if (credentials.nc === undefined) return malformed('nc');
  const nc = parseNonceCount(credentials.nc);
  if (nc === null) return malformed('nc');
  if (cnonce === undefined || cnonce.length === 0) return malformed('cnonce');

  // RFC 7616 §3.4: no algorithm directive means MD5.
  const algorithm = credentials.algorithm === undefined ? 'MD5' : parseDigestAlgorithm(credentials.algorithm);
  if (algorithm === null || !options.offered.includes(algorithm)) {
    return { ok: false, reason: 'algorithm-not-offered', field: 'algorithm', username };
  }
  // RFC 7616 §3.4.4 userhash hides the username behind a hash; voix never offers it.
  if ((credentials.params.get('userhash') ?? 'false').toLowerCase() !== 'false') {
    return { ok: false, reason: 'algorithm-not-offered', field: 'userhash', username };
  }
  const hash = hashOf(algorithm);
  const responseHex = response.toLowerCase();
  if (!isDigestHex(hash, responseHex)) return malformed('response');
  if (realm !== options.realm) return { ok: false, reason: 'realm-mismatch', field: 'realm', username };
  if (options.opaque !== undefined && credentials.opaque !== options.opaque) {
    return { ok: false, reason: 'opaque-mismatch', field: 'opaque', username };
  }

  const stored = options.lookupHa1(username, hash);
  const usable = stored !== undefined && isDigestHex(hash, stored);
  const expected = computeDigestResponse({
    algorithm,
    ha1: usable ? stored : DUMMY_HA1[hash],
    nonce,
    method: options.method,
    uri,
    qop: { nc: credentials.nc, cnonce },
  });
  // Both are hex of the same known length, so the comparison leaks nothing but the outcome.
  const match = timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(responseHex, 'latin1'));
  if (!usable) return { ok: false, reason: 'no-ha1', username };
  if (!match) return { ok: false, reason: 'wrong-response', username };
  return { ok: true, username, algorithm, nonce, nc };
}

// ---------------------------------------------------------------------------
// Client side: answering a challenge (voix's own registrations to trunks).

/** What the client knows: the password, or HA1s per hash (as config may store them). */
export type DigestSecret = { readonly password: string } | { readonly ha1: Partial<Record<DigestHash, string>> };

export interface AuthorizationOptions {
  readonly challenge: DigestChallenge;
  readonly username: string;
  readonly secret: DigestSecret;
  readonly method: string;
  /** The Request-URI of the request being authorized (RFC 3261 §22.4). */
  readonly uri: string;
  readonly cnonce: string;
  /** The count of requests made with this nonce, 1 for the first (RFC 7616 §3.4). */
  readonly nc: number;
}

/**
 * RFC 8760 §2.4: among several challenges for a realm, use the topmost one
 * whose algorithm voix implements and which offers qop=auth or no qop.
 */
export function selectChallenge(challenges: readonly (DigestChallenge | OtherAuthScheme)[]): DigestChallenge | undefined {
  for (const c of challenges) {
    if (c.scheme === 'Digest' && c.algorithm !== null && (c.qop.length === 0 || c.qop.includes('auth'))) return c;
  }
  return undefined;
}

/**
 * Builds an Authorization / Proxy-Authorization value answering `challenge`.
 * Returns null when the challenge cannot be answered: unknown algorithm, a
 * qop list without auth, no HA1 for its hash, or an nc out of range.
 * Answers an RFC 2069 challenge (no qop) without qop, nc and cnonce, for
 * old trunks; voix's own server never accepts that form.
 */
export function buildAuthorization(options: AuthorizationOptions): string | null {
  const { challenge } = options;
  const algorithm = challenge.algorithm;
  if (algorithm === null) return null;
  const withQop = challenge.qop.length > 0;
  if (withQop && !challenge.qop.includes('auth')) return null;
  if (!Number.isInteger(options.nc) || options.nc < 1 || options.nc > 0xffffffff) return null;
  const hash = hashOf(algorithm);
  let ha1: string | undefined;
  if ('password' in options.secret) {
    ha1 = computeHa1(hash, options.username, challenge.realm, options.secret.password);
  } else {
    ha1 = options.secret.ha1[hash];
    if (ha1 === undefined || !isDigestHex(hash, ha1)) return null;
  }
  const nc = formatNonceCount(options.nc);
  const response = computeDigestResponse({
    algorithm,
    ha1,
    nonce: challenge.nonce,
    method: options.method,
    uri: options.uri,
    ...(withQop ? { qop: { nc, cnonce: options.cnonce } } : {}),
  });
  let out =
    `Digest username=${quoted('username', options.username)}, realm=${quoted('realm', challenge.realm)}` +
    `, nonce=${quoted('nonce', challenge.nonce)}, uri=${quoted('uri', options.uri)}, response="${response}"`;
  // Echo the algorithm only when the challenge named it: some RFC 2069-era servers reject unknown directives.
  if (challenge.algorithmText !== undefined) out += `, algorithm=${algorithm}`;
  if (withQop) out += `, cnonce=${quoted('cnonce', options.cnonce)}, qop=auth, nc=${nc}`;
  // RFC 7616 §3.4: opaque is returned unchanged.
  if (challenge.opaque !== undefined) out += `, opaque=${quoted('opaque', challenge.opaque)}`;
  return out;
}
