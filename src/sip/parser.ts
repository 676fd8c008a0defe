/**
 * SIP message parser (RFC 3261 §7, §25). Pure: bytes in, a message or a
 * failure with the status code to answer out. Handles compact header names,
 * folded lines, odd white space and several values per line; refuses what
 * RFC 4475 §3.1.2 says must be refused.
 */
import { isToken, parseBoundedInt, splitList } from './grammar.js';
import { Headers, canonicalHeaderName, headerKey, parseCSeq, parseNameAddr, parseVia, type CSeq, type NameAddr, type Via } from './headers.js';
import { SipRequest, SipResponse, type AnySipMessage } from './message.js';
import { parseUri } from './uri.js';

export interface SipParseFailure {
  readonly ok: false;
  /** The status to answer a request with (400, or 505 for a version); responses in error are dropped. */
  readonly status: number;
  /** What is wrong, short enough for a reason phrase or a log line. */
  readonly reason: string;
  readonly isRequest: boolean;
  /** The header section as text, to copy Via, From, To, Call-ID and CSeq into the answer. */
  readonly head: string | null;
}

export interface SipParseSuccess {
  readonly ok: true;
  readonly message: AnySipMessage;
}

export type SipParseResult = SipParseSuccess | SipParseFailure;

export interface SipHeadSuccess {
  readonly ok: true;
  /** The message with an empty body. */
  readonly message: AnySipMessage;
  /** The Content-Length header value, or null when absent. */
  readonly contentLength: number | null;
}

export type SipHeadResult = SipHeadSuccess | SipParseFailure;

/** Largest Content-Length voix accepts (a SIP body is SDP or a short text, not a file). */
export const MAX_CONTENT_LENGTH = 1 << 20;

export interface ParseLimits {
  /** Most header fields (folded lines count once); more is refused with 400. Default: no limit. */
  readonly maxHeaders?: number;
}

/** The reason phrase of a message refused for its number of header fields. */
export const TOO_MANY_HEADERS = 'Too Many Header Fields';

function fail(status: number, reason: string, isRequest: boolean, head: string | null): SipParseFailure {
  return { ok: false, status, reason, isRequest, head };
}

/** Offset of the first byte that is not CR or LF: leading CRLFs are ignored (RFC 3261 §7.5). */
export function skipLeadingCrlf(buf: Uint8Array, from: number): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

export interface HeadBounds {
  /** End of the header section (exclusive, before the blank line). */
  readonly headEnd: number;
  /** First byte of the body. */
  readonly bodyStart: number;
}

/**
 * Finds the blank line that ends the header section, starting at `from`:
 * CRLF CRLF, or a bare LF LF from a lenient sender. Null when not there yet.
 */
export function findHeadEnd(buf: Uint8Array, from: number): HeadBounds | null {
  let i = from;
  for (;;) {
    const lf = buf.indexOf(0x0a, i);
    if (lf === -1) return null;
    const next = buf[lf + 1];
    if (next === 0x0a) return { headEnd: lf, bodyStart: lf + 2 };
    if (next === 0x0d && buf[lf + 2] === 0x0a) return { headEnd: lf, bodyStart: lf + 3 };
    if (next === undefined || (next === 0x0d && lf + 2 >= buf.length)) return null;
    i = lf + 1;
  }
}

function isSipVersion(s: string): boolean {
  // "SIP/" 1*DIGIT "." 1*DIGIT, case-insensitive name.
  if (s.length < 7 || s.slice(0, 4).toUpperCase() !== 'SIP/') return false;
  const dot = s.indexOf('.', 4);
  if (dot <= 4 || dot === s.length - 1) return false;
  for (let i = 4; i < s.length; i++) {
    if (i === dot) continue;
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function isCallId(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/**
 * Parses a header section (start line and header fields, without the blank
 * line) given as text.
 */
export function parseHead(head: string, limits: ParseLimits = {}): SipHeadResult {
  const maxHeaders = limits.maxHeaders ?? Number.POSITIVE_INFINITY;
  let fieldCount = 0;
  let lineEnd = head.indexOf('\n');
  if (lineEnd === -1) lineEnd = head.length;
  let startLine = head.slice(0, lineEnd > 0 && head.charCodeAt(lineEnd - 1) === 0x0d ? lineEnd - 1 : lineEnd);
  const isResponse = startLine.startsWith('SIP/') || startLine.startsWith('sip/');
  const isRequest = !isResponse;

  let method = '';
  let uriText = '';
  let version = '';
  let status = 0;
  let reason = '';
  if (isRequest) {
    // RFC 3261 §7.1: Method SP Request-URI SP SIP-Version, single spaces.
    // Trailing white space is tolerated (RFC 4475 §3.1.2.10).
    startLine = startLine.replace(/[ \t]+$/, '');
    const sp1 = startLine.indexOf(' ');
    const sp2 = sp1 === -1 ? -1 : startLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 === -1 || startLine.indexOf(' ', sp2 + 1) !== -1 || startLine.indexOf('\t') !== -1) {
      return fail(400, 'Malformed Request-Line', true, head);
    }
    method = startLine.slice(0, sp1);
    uriText = startLine.slice(sp1 + 1, sp2);
    version = startLine.slice(sp2 + 1);
    if (!isToken(method)) return fail(400, 'Malformed method', true, head);
    if (uriText.length === 0) return fail(400, 'Malformed Request-Line', true, head);
    if (!isSipVersion(version)) return fail(400, 'Malformed SIP version', true, head);
  } else {
    const sp1 = startLine.indexOf(' ');
    if (sp1 === -1) return fail(400, 'Malformed Status-Line', false, head);
    version = startLine.slice(0, sp1);
    const codeEnd = startLine.indexOf(' ', sp1 + 1);
    const code = startLine.slice(sp1 + 1, codeEnd === -1 ? startLine.length : codeEnd);
    if (!/^[1-6][0-9][0-9]$/.test(code) || !isSipVersion(version)) return fail(400, 'Malformed Status-Line', false, head);
    status = Number(code);
    reason = codeEnd === -1 ? '' : startLine.slice(codeEnd + 1);
  }

  const via: Via[] = [];
  let from: NameAddr | null = null;
  let to: NameAddr | null = null;
  let callId: string | null = null;
  let cseq: CSeq | null = null;
  let maxForwards: number | null = null;
  let contentLength: number | null = null;
  const headers = new Headers();

  let pos = lineEnd + 1;
  let name = '';
  let value = '';
  let pending = false;

  const flush = (): SipParseFailure | null => {
    const key = headerKey(name);
    value = value.trim();
    switch (key) {
      case 'via': {
        const items = splitList(value);
        if (items === null || items.length === 0) return fail(400, 'Malformed Via header', isRequest, head);
        for (const item of items) {
          const v = parseVia(item);
          if (v === null) return fail(400, 'Malformed Via header', isRequest, head);
          via.push(v);
        }
        return null;
      }
      case 'from':
      case 'to': {
        if ((key === 'from' ? from : to) !== null) return fail(400, `Duplicate ${key === 'from' ? 'From' : 'To'} header`, isRequest, head);
        const na = parseNameAddr(value);
        if (na === null) return fail(400, `Malformed ${key === 'from' ? 'From' : 'To'} header`, isRequest, head);
        if (key === 'from') from = na;
        else to = na;
        return null;
      }
      case 'call-id':
        if (callId !== null) return fail(400, 'Duplicate Call-ID header', isRequest, head);
        if (!isCallId(value)) return fail(400, 'Malformed Call-ID header', isRequest, head);
        callId = value;
        return null;
      case 'cseq':
        if (cseq !== null) return fail(400, 'Duplicate CSeq header', isRequest, head);
        cseq = parseCSeq(value);
        if (cseq === null) return fail(400, 'Malformed CSeq header', isRequest, head);
        return null;
      case 'max-forwards':
        if (maxForwards !== null) return fail(400, 'Duplicate Max-Forwards header', isRequest, head);
        maxForwards = parseBoundedInt(value, 255);
        if (maxForwards === null) return fail(400, 'Malformed Max-Forwards header', isRequest, head);
        return null;
      case 'content-length':
        if (contentLength !== null) return fail(400, 'Duplicate Content-Length header', isRequest, head);
        contentLength = parseBoundedInt(value, MAX_CONTENT_LENGTH);
        if (contentLength === null) return fail(400, 'Malformed Content-Length header', isRequest, head);
        return null;
      default:
        headers.pushField(key, name.length === 1 ? canonicalHeaderName(key) : name, value);
        return null;
    }
  };

  while (pos < head.length) {
    let end = head.indexOf('\n', pos);
    if (end === -1) end = head.length;
    const lineStop = end > pos && head.charCodeAt(end - 1) === 0x0d ? end - 1 : end;
    const first = head.charCodeAt(pos);
    if (first === 0x20 || first === 0x09) {
      // RFC 3261 §7.3.1: a line starting with white space continues the previous one.
      if (!pending) return fail(400, 'Continuation line without a header', isRequest, head);
      value += ' ' + head.slice(pos, lineStop).trim();
    } else if (lineStop > pos) {
      if (pending) {
        const err = flush();
        if (err !== null) return err;
      }
      // Counted before any work on the field: a message with thousands of them costs no more than the limit.
      if (++fieldCount > maxHeaders) return fail(400, TOO_MANY_HEADERS, isRequest, head);
      const colon = head.indexOf(':', pos);
      if (colon === -1 || colon >= lineStop) return fail(400, 'Header line without a colon', isRequest, head);
      name = head.slice(pos, colon).trimEnd();
      if (!isToken(name)) return fail(400, 'Malformed header name', isRequest, head);
      value = head.slice(colon + 1, lineStop);
      pending = true;
    }
    pos = end + 1;
  }
  if (pending) {
    const err = flush();
    if (err !== null) return err;
  }

  if (via.length === 0) return fail(400, 'Missing Via header', isRequest, head);
  if (from === null) return fail(400, 'Missing From header', isRequest, head);
  if (to === null) return fail(400, 'Missing To header', isRequest, head);
  if (callId === null) return fail(400, 'Missing Call-ID header', isRequest, head);
  if (cseq === null) return fail(400, 'Missing CSeq header', isRequest, head);

  const fields = { via, from, to, callId, cseq, maxForwards, headers, version };
  if (isRequest) {
    const uri = parseUri(uriText);
    if (uri === null) return fail(400, 'Malformed Request-URI', true, head);
    return { ok: true, message: new SipRequest(method, uri, fields), contentLength };
  }
  return { ok: true, message: new SipResponse(status, reason, fields), contentLength };
}

/**
 * Parses one SIP message received as a datagram (RFC 3261 §18.3): the body
 * is Content-Length bytes, or the rest of the datagram when the header is
 * absent; bytes beyond Content-Length are ignored (RFC 4475 §3.1.1.8); a
 * Content-Length larger than what arrived is an error (RFC 4475 §3.1.2.2).
 */
export function parseDatagram(buf: Buffer, limits: ParseLimits = {}): SipParseResult {
  const start = skipLeadingCrlf(buf, 0);
  const bounds = findHeadEnd(buf, start);
  let head: string;
  let bodyStart: number;
  if (bounds === null) {
    // Header section without its blank line: accept it when nothing follows.
    let end = buf.length;
    while (end > start && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
    head = buf.toString('utf8', start, end);
    bodyStart = buf.length;
  } else {
    head = buf.toString('utf8', start, bounds.headEnd);
    bodyStart = bounds.bodyStart;
  }
  const parsed = parseHead(head, limits);
  if (!parsed.ok) return parsed;
  const available = buf.length - bodyStart;
  const length = parsed.contentLength ?? available;
  if (length > available) {
    return fail(400, 'Content-Length larger than the message', parsed.message.kind === 'request', head);
  }
  if (length > 0) parsed.message.body = buf.subarray(bodyStart, bodyStart + length);
  return { ok: true, message: parsed.message };
}

/** Values of a header in a header section that failed to parse, for copying into the answer. */
export function rawHeaderValues(head: string, key: string): string[] {
  const out: string[] = [];
  const lines = head.split(/\r?\n/);
  let current: { key: string; value: string } | null = null;
  const take = () => {
    if (current !== null && current.key === key) out.push(current.value.trim());
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (current !== null) current.value += ' ' + line.trim();
      continue;
    }
    take();
    const colon = line.indexOf(':');
    current = colon === -1 ? null : { key: headerKey(line.slice(0, colon).trim()), value: line.slice(colon + 1) };
  }
  take();
  return out;
}
