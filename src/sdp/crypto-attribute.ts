/**
 * SDES `a=crypto` (RFC 4568): parsing, choosing and formatting, driven by a
 * table of the crypto suites (after rtpengine's daemon/crypto.c): each
 * suite's master key and salt lengths and authentication tag length. Two
 * steps, kept apart so that the reasons stay precise:
 *
 * - parseCryptoAttribute: is the line well formed (RFC 4568 §9 grammar,
 *   base64 with or without padding, key length that fits the suite)? A
 *   malformed line is refused with the reason.
 * - usableKeying: can voix's SRTP use a well-formed line? Suites voix does
 *   not implement, MKI, KDR other than 0 and the UNENCRYPTED/
 *   UNAUTHENTICATED session parameters make a line unusable, with the reason.
 *
 * The lines of an offer are ranked by voix's suite preference, not by tag
 * (RFC 4568 §7.1.1 leaves the choice to the answerer); the answer repeats
 * the chosen tag (§7.1.2).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import type { SrtpKeying, SrtpSuite } from '../rtp/media-protocol.js';

export interface SrtpSuiteDescription {
  readonly name: string;
  /** Master key length in bytes. */
  readonly keyLength: number;
  /** Master salt length in bytes. */
  readonly saltLength: number;
  /** SRTP authentication tag length in bytes (SRTCP's is 10 for the HMAC-SHA1 suites, RFC 4568 §6.2). */
  readonly tagLength: number;
  /** Whether voix's SRTP (src/srtp) implements it. */
  readonly supported: boolean;
}

/**
 * Suites recognised in a=crypto. Lengths: RFC 4568 §6.2 (AES_CM_128, F8),
 * RFC 6188 (AES_192_CM, AES_256_CM), RFC 7714 (AEAD_AES_*_GCM: 12-byte
 * salt, 16-byte tag). Recognising the ones voix cannot use lets their lines
 * be checked and skipped with a clear reason instead of "unknown".
 */
export const SRTP_SUITES: readonly SrtpSuiteDescription[] = [
  { name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, tagLength: 10, supported: true },
  { name: 'AES_CM_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, tagLength: 4, supported: true },
  { name: 'AES_192_CM_HMAC_SHA1_80', keyLength: 24, saltLength: 14, tagLength: 10, supported: false },
  { name: 'AES_192_CM_HMAC_SHA1_32', keyLength: 24, saltLength: 14, tagLength: 4, supported: false },
  { name: 'AES_256_CM_HMAC_SHA1_80', keyLength: 32, saltLength: 14, tagLength: 10, supported: false },
  { name: 'AES_256_CM_HMAC_SHA1_32', keyLength: 32, saltLength: 14, tagLength: 4, supported: false },
  { name: 'F8_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, tagLength: 10, supported: false },
  // Not registered for SDES (RFC 4568 has the _80 one only), but sent by some stacks; rtpengine knows it too.
  { name: 'F8_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, tagLength: 4, supported: false },
  { name: 'AEAD_AES_128_GCM', keyLength: 16, saltLength: 12, tagLength: 16, supported: false },
  { name: 'AEAD_AES_256_GCM', keyLength: 32, saltLength: 12, tagLength: 16, supported: false },
];

/** Suite names are ABNF literals in RFC 4568 §9.2, hence case-insensitive. */
export function findSrtpSuite(name: string): SrtpSuiteDescription | null {
  const upper = name.toUpperCase();
  return SRTP_SUITES.find((s) => s.name === upper) ?? null;
}

/** Whether `name` is, exactly, a suite voix's SRTP implements. */
export function isSupportedSuite(name: string): name is SrtpSuite {
  const suite = findSrtpSuite(name);
  return suite !== null && suite.supported && suite.name === name;
}

/** voix's default order: the 80-bit tag first (stronger, and what every phone offers first). */
export const DEFAULT_SUITE_PREFERENCE: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** RFC 4568 §6.1 `|MKI:length`. */
export interface MasterKeyIdentifier {
  readonly value: bigint;
  /** Bytes the MKI takes in each packet, 1 to 128. */
  readonly length: number;
}

/** One key-param. Only `inline` (RFC 4568 §6.1, the one SDES method for SRTP) carries a key voix can read. */
export type CryptoKeyParam =
  | {
      readonly method: 'inline';
      /** Master key then master salt, decoded. */
      readonly keySalt: Uint8Array;
      /** Packets the key may protect (`2^31` or decimal); null when not given (the suite's maximum, §6.1). */
      readonly lifetime: bigint | null;
      readonly mki: MasterKeyIdentifier | null;
    }
  | { readonly method: string; readonly info: string };

export interface CryptoAttribute {
  readonly tag: number;
  /** As found in the table when it is there (canonical case), else as written. */
  readonly suite: string;
  readonly keyParams: readonly CryptoKeyParam[];
  /** RFC 4568 §6.3 session parameters, as written. */
  readonly sessionParams: readonly string[];
}

export type CryptoParseResult = { readonly ok: true; readonly attribute: CryptoAttribute } | { readonly ok: false; readonly reason: string };

/**
 * Base64 (RFC 4648 §4) with or without its `=` padding, as phones send
 * both (rtpengine accepts both too). Node's decoder skips characters it does
 * not know, so the alphabet is checked here first.
 */
export function decodeBase64Lenient(text: string): Uint8Array | null {
  const body = text.replace(/=+$/, '');
  if (text.length - body.length > 2) return null;
  if (body.length === 0 || !/^[A-Za-z0-9+/]+$/.test(body) || body.length % 4 === 1) return null;
  return new Uint8Array(Buffer.from(body, 'base64'));
}

function isInline(p: CryptoKeyParam): p is Extract<CryptoKeyParam, { method: 'inline' }> {
  return p.method === 'inline' && 'keySalt' in p;
}

function parseLifetime(text: string): bigint | null {
  const power = /^2\^(\d{1,2})$/.exec(text);
  if (power !== null) return 2n ** BigInt(power[1] ?? '0');
  return /^\d{1,20}$/.test(text) ? BigInt(text) : null;
}

function parseInlineKey(info: string, suite: SrtpSuiteDescription | null): CryptoKeyParam | string {
  const [keySaltText = '', ...rest] = info.split('|');
  if (rest.length > 2) return `too many "|" parts in "inline:${info}"`;
  const keySalt = decodeBase64Lenient(keySaltText);
  if (keySalt === null) return `key "${keySaltText}" is not base64`;
  if (suite !== null && keySalt.length !== suite.keyLength + suite.saltLength) {
    return `key and salt are ${keySalt.length} bytes, ${suite.name} needs ${suite.keyLength + suite.saltLength}`;
  }
  let lifetime: bigint | null = null;
  let mki: MasterKeyIdentifier | null = null;
  for (const [i, part] of rest.entries()) {
    // RFC 4568 §9.2: key-salt ["|" lifetime] ["|" mki]; an MKI is the part with a colon.
    if (part.includes(':')) {
      const m = /^(\d{1,20}):(\d{1,3})$/.exec(part);
      const length = m === null ? 0 : Number(m[2]);
      if (m === null || length < 1 || length > 128 || mki !== null) return `bad MKI "${part}"`;
      mki = { value: BigInt(m[1] ?? '0'), length };
    } else {
      const l = parseLifetime(part);
      if (l === null || i !== 0 || l === 0n) return `bad lifetime "${part}"`;
      lifetime = l;
    }
  }
  return { method: 'inline', keySalt, lifetime, mki };
}

/** Parses the value of `a=crypto:` (what follows the colon). */
export function parseCryptoAttribute(value: string): CryptoParseResult {
  const fields = value.trim().split(/[ \t]+/);
  if (fields.length < 3) return { ok: false, reason: `"${value}" is not <tag> <suite> <key-params>` };
  const [tagText = '', suiteText = '', keyParamsText = '', ...sessionParams] = fields;
  // RFC 4568 §9.1: tag = 1*9DIGIT, and 0 is a valid tag.
  if (!/^\d{1,9}$/.test(tagText)) return { ok: false, reason: `bad tag "${tagText}"` };
  if (!/^[A-Za-z0-9_]+$/.test(suiteText)) return { ok: false, reason: `bad crypto suite "${suiteText}"` };
  const suite = findSrtpSuite(suiteText);
  const keyParams: CryptoKeyParam[] = [];
  for (const keyParam of keyParamsText.split(';')) {
    const colon = keyParam.indexOf(':');
    if (colon <= 0) return { ok: false, reason: `key-param "${keyParam}" is not <method>:<info> (expected inline:<key||salt>)` };
    const method = keyParam.slice(0, colon).toLowerCase();
    const info = keyParam.slice(colon + 1);
    if (method !== 'inline') {
      keyParams.push({ method, info });
      continue;
    }
    const parsed = parseInlineKey(info, suite);
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    keyParams.push(parsed);
  }
  return {
    ok: true,
    attribute: { tag: Number(tagText), suite: suite?.name ?? suiteText, keyParams, sessionParams },
  };
}

export type KeyingResult = { readonly ok: true; readonly keying: SrtpKeying } | { readonly ok: false; readonly reason: string };

/** Why voix's SRTP cannot use a session parameter, or null when it can ignore it (RFC 4568 §6.3). */
function sessionParamProblem(param: string): string | null {
  const [name = '', arg] = param.split('=', 2);
  switch (name.toUpperCase()) {
    case 'KDR':
      // §6.3: KDR=0 is the default (no re-derivation); voix derives session keys once.
      return arg === '0' ? null : `key derivation rate ${param} is not supported`;
    case 'UNENCRYPTED_SRTP':
    case 'UNENCRYPTED_SRTCP':
    case 'UNAUTHENTICATED_SRTP':
      return `${name} is refused: voix always encrypts and authenticates`;
    case 'WSH':
      // §6.3: a window size hint; voix's replay window is at least the 64 packets RFC 3711 asks for.
      return null;
    case 'FEC_ORDER':
      // §6.3: only matters with FEC, which voix does not use.
      return null;
    case 'FEC_KEY':
      return 'FEC_KEY is not supported';
    default:
      return `unknown session parameter "${param}"`;
  }
}

/** The SRTP master key a well-formed line gives, or why voix cannot use it. */
export function usableKeying(attribute: CryptoAttribute): KeyingResult {
  const suite = findSrtpSuite(attribute.suite);
  if (suite === null) return { ok: false, reason: `unknown crypto suite ${attribute.suite}` };
  if (!isSupportedSuite(suite.name)) return { ok: false, reason: `crypto suite ${suite.name} is not supported` };
  for (const p of attribute.sessionParams) {
    const problem = sessionParamProblem(p);
    if (problem !== null) return { ok: false, reason: problem };
  }
  // With an MKI the phone puts an identifier in every packet (RFC 3711 §3.1), which voix's SRTP does not parse.
  if (attribute.keyParams.some((p) => isInline(p) && p.mki !== null)) return { ok: false, reason: 'MKI is not supported' };
  const first = attribute.keyParams.find(isInline);
  if (first === undefined) return { ok: false, reason: 'no inline key' };
  return {
    ok: true,
    keying: {
      suite: suite.name,
      key: first.keySalt.slice(0, suite.keyLength),
      salt: first.keySalt.slice(suite.keyLength, suite.keyLength + suite.saltLength),
    },
  };
}

export interface ChosenCrypto {
  readonly tag: number;
  readonly keying: SrtpKeying;
}

export type CryptoChoice =
  | { readonly ok: true; readonly chosen: ChosenCrypto; readonly skipped: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly skipped: readonly string[] };

/**
 * Picks the line to answer from the values of an offer's a=crypto lines:
 * the usable one whose suite comes first in `preference`, the first such
 * line on a tie. `skipped` says why each other line was not taken.
 */
export function chooseCrypto(values: readonly string[], preference: readonly SrtpSuite[] = DEFAULT_SUITE_PREFERENCE): CryptoChoice {
  const skipped: string[] = [];
  let best: { chosen: ChosenCrypto; rank: number } | null = null;
  for (const value of values) {
    const parsed = parseCryptoAttribute(value);
    const label = `a=crypto:${value.trim().split(/[ \t]+/, 2).join(' ')}`;
    if (!parsed.ok) {
      skipped.push(`${label}: ${parsed.reason}`);
      continue;
    }
    const usable = usableKeying(parsed.attribute);
    if (!usable.ok) {
      skipped.push(`${label}: ${usable.reason}`);
      continue;
    }
    const rank = preference.indexOf(usable.keying.suite);
    if (rank === -1) {
      skipped.push(`${label}: suite not in voix's preference`);
      continue;
    }
    if (best === null || rank < best.rank) {
      if (best !== null) skipped.push(`a=crypto:${best.chosen.tag} ${best.chosen.keying.suite}: a preferred suite was offered`);
      best = { chosen: { tag: parsed.attribute.tag, keying: usable.keying }, rank };
    } else {
      skipped.push(`${label}: a preferred suite was offered`);
    }
  }
  if (best === null) {
    const reason = values.length === 0 ? 'no a=crypto line' : `no usable a=crypto line (${skipped.join('; ')})`;
    return { ok: false, reason, skipped };
  }
  return { ok: true, chosen: best.chosen, skipped };
}

/** base64 with padding: RFC 4568 §9.2 points to RFC 4648 base64, which pads. */
function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The value of an `a=crypto:` line voix sends: `<tag> <suite> inline:<key||salt>`, no lifetime (the suite's maximum) and no MKI. */
export function formatCryptoAttribute(tag: number, keying: SrtpKeying): string {
  const keySalt = new Uint8Array(keying.key.length + keying.salt.length);
  keySalt.set(keying.key, 0);
  keySalt.set(keying.salt, keying.key.length);
  return `${tag} ${keying.suite} inline:${encodeBase64(keySalt)}`;
}

export type RandomBytes = (size: number) => Uint8Array;

/** A fresh master key and salt for `suite` (RFC 4568 §6.1: from a cryptographically strong source). */
export function generateSrtpKeying(suite: SrtpSuite, randomBytes: RandomBytes = nodeRandomBytes): SrtpKeying {
  const description = findSrtpSuite(suite);
  if (description === null) throw new Error(`no such SRTP suite: ${suite}`);
  const bytes = randomBytes(description.keyLength + description.saltLength);
  return {
    suite,
    key: Uint8Array.from(bytes.subarray(0, description.keyLength)),
    salt: Uint8Array.from(bytes.subarray(description.keyLength, description.keyLength + description.saltLength)),
  };
}

function equalBytes(x: Uint8Array, y: Uint8Array): boolean {
  return x.length === y.length && x.every((b, i) => b === y[i]);
}

export function sameKeying(x: SrtpKeying, y: SrtpKeying): boolean {
  return x.suite === y.suite && equalBytes(x.key, y.key) && equalBytes(x.salt, y.salt);
}
