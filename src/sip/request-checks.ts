/**
 * The checks a UAS makes before acting on a request (RFC 3261 §8.2.1–§8.2.3),
 * in the RFC's order, as a pure function: which status to answer with, or
 * null when the request may go on to its method handler.
 */
import { splitList } from './grammar.js';
import type { SipRequest } from './message.js';
import { SIP_VERSION } from './message.js';

/** Methods RFC 3261 and its common extensions define; any other method is "not implemented" (501). */
const KNOWN_METHODS = new Set([
  'INVITE',
  'ACK',
  'CANCEL',
  'BYE',
  'OPTIONS',
  'REGISTER',
  'INFO',
  'PRACK',
  'UPDATE',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
]);

export interface UasCapabilities {
  /** Methods this server acts on; other known methods get 405 with Allow. */
  readonly allowedMethods: readonly string[];
  /** Option tags this server supports (Require checks, Supported header). */
  readonly supportedExtensions: readonly string[];
  /** Body types accepted per method; a body of another type gets 415. */
  readonly acceptedBodyTypes: Readonly<Record<string, readonly string[]>>;
  /** Methods that a B2BUA forwards on a new leg, so Max-Forwards 0 means 483. */
  readonly forwardedMethods: readonly string[];
}

export interface RequestRejection {
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Short machine-readable cause for logs. */
  readonly cause: string;
}

function reject(status: number, reason: string, cause: string, headers: Array<readonly [string, string]> = []): RequestRejection {
  return { status, reason, cause, headers };
}

function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** True when an Accept list admits `type` (with `*\/*` and `type/*` wildcards). */
function acceptListAdmits(items: readonly string[], type: string): boolean {
  const [major] = type.split('/');
  for (const item of items) {
    const t = mediaType(item);
    if (t === type || t === '*/*' || t === `${major}/*`) return true;
  }
  return false;
}

export function checkRequest(request: SipRequest, caps: UasCapabilities): RequestRejection | null {
  const allow: readonly [string, string] = ['Allow', caps.allowedMethods.join(', ')];

  // RFC 3261 §8.2 and RFC 4475 §3.1.2.16: an unsupported version gets 505.
  if (request.version.toUpperCase() !== SIP_VERSION) {
    return reject(505, 'Version Not Supported', 'version');
  }
  // RFC 3261 §8.1.1.5 and RFC 4475 §3.1.2.17–18: CSeq method must match the Request-Line.
  if (request.cseq.method !== request.method) {
    return reject(400, 'CSeq method does not match Request-Line', 'cseq-method');
  }
  // RFC 3261 §8.2.2.1: 416 for a Request-URI scheme we do not handle.
  const scheme = request.uri.scheme;
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
    return reject(416, 'Unsupported URI Scheme', 'uri-scheme');
  }
  // RFC 3261 §8.2.1: 405 for a method we know but do not allow, 501 for one we do not know.
  if (!caps.allowedMethods.includes(request.method)) {
    return KNOWN_METHODS.has(request.method)
      ? reject(405, 'Method Not Allowed', 'method-not-allowed', [allow])
      : reject(501, 'Not Implemented', 'method-unknown', [allow]);
  }
  // RFC 3261 §8.2.2.3: unknown Require option tags get 420 listing them (not for ACK and CANCEL).
  if (request.method !== 'ACK' && request.method !== 'CANCEL') {
    const required = request.headers.getList('require');
    if (required === null) return reject(400, 'Malformed Require header', 'require-syntax');
    const unsupported = required.filter((tag) => !caps.supportedExtensions.includes(tag.toLowerCase()));
    if (unsupported.length > 0) {
      return reject(420, 'Bad Extension', 'require', [['Unsupported', unsupported.join(', ')]]);
    }
  }
  // RFC 3261 §8.2.3: a body we cannot process gets 415 with what we accept.
  const accepted = caps.acceptedBodyTypes[request.method] ?? [];
  if (request.body.length > 0) {
    const contentType = request.headers.get('content-type');
    const encoding = request.headers.get('content-encoding');
    if (contentType === undefined || !accepted.includes(mediaType(contentType))) {
      const headers: Array<readonly [string, string]> = accepted.length > 0 ? [['Accept', accepted.join(', ')]] : [];
      return reject(415, 'Unsupported Media Type', 'content-type', headers);
    }
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      return reject(415, 'Unsupported Media Type', 'content-encoding', [['Accept-Encoding', 'identity']]);
    }
  }
  // RFC 3261 §21.4.7 and RFC 4475 §3.3.15: an INVITE whose Accept excludes every body we could answer with.
  if (accepted.length > 0 && request.method === 'INVITE') {
    const acceptList = request.headers.getList('accept');
    if (acceptList === null) return reject(400, 'Malformed Accept header', 'accept-syntax');
    if (acceptList.length > 0 && !accepted.some((t) => acceptListAdmits(acceptList, t))) {
      return reject(406, 'Not Acceptable', 'accept', [['Accept', accepted.join(', ')]]);
    }
  }
  // RFC 3261 §16.3 item 2: a request to forward with Max-Forwards 0 gets 483.
  if (request.maxForwards === 0 && caps.forwardedMethods.includes(request.method)) {
    return reject(483, 'Too Many Hops', 'max-forwards');
  }
  return null;
}

/** Splits a comma-separated option tag header into lower-case tags (for Supported/Require). */
export function optionTags(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const item of splitList(v) ?? []) out.push(item.toLowerCase());
  }
  return out;
}
