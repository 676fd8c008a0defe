/**
 * SDP parser (RFC 8866 §5, §9). Pure: text in, a description or a failure
 * with a reason out, never an exception. Tolerant where phones are sloppy
 * (LF-only or bare CR line ends, trailing white space, blank lines, a
 * missing s= or t=, attributes voix cannot read), strict where the
 * description is really broken (no v=, no o=, a bad m= or c=, a type letter
 * RFC 8866 does not define). Tolerated oddities come back as warnings, each
 * starting with the line it is about, for the call log.
 */
import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpLine, SdpOrigin, SessionDescription } from './session-description.js';
import { parseRtcpAttribute, parseRtpmap, packetTimeOf } from './media-attributes.js';

export interface SdpParseSuccess {
  readonly ok: true;
  readonly description: SessionDescription;
  readonly warnings: readonly string[];
}

export interface SdpParseFailure {
  readonly ok: false;
  /** 400: the body is not SDP voix can read (RFC 3261 §21.4.1). */
  readonly status: 400;
  readonly reason: string;
}

export type SdpParseResult = SdpParseSuccess | SdpParseFailure;

/** RFC 8866 §5: the whole set of type letters; any other makes the description invalid. */
const SESSION_ONLY = new Set(['v', 'o', 's', 'u', 'e', 'p', 't', 'r', 'z']);
const KNOWN_TYPES = new Set([...SESSION_ONLY, 'i', 'c', 'b', 'k', 'a', 'm']);

const DIGITS = /^\d+$/;

function fail(reason: string): SdpParseFailure {
  return { ok: false, status: 400, reason };
}

function splitFields(value: string): string[] {
  const trimmed = value.trim();
  return trimmed === '' ? [] : trimmed.split(/[ \t]+/);
}

function parseOrigin(value: string): SdpOrigin | string {
  const f = splitFields(value);
  if (f.length !== 6) return `o= needs 6 fields, has ${f.length}`;
  const [username = '', sessionId = '', version = '', netType = '', addrType = '', address = ''] = f;
  if (!DIGITS.test(version)) return `o= session version "${version}" is not a number`;
  return { username, sessionId, sessionVersion: BigInt(version), netType, addrType, address };
}

function parseConnection(value: string): SdpConnection | string {
  const f = splitFields(value);
  if (f.length !== 3) return `c= needs 3 fields, has ${f.length}`;
  const [netType = '', addrType = '', spec = ''] = f;
  const slash = spec.indexOf('/');
  const address = slash === -1 ? spec : spec.slice(0, slash);
  if (address === '') return 'c= has no address';
  return { netType, addrType, address, suffix: slash === -1 ? '' : spec.slice(slash) };
}

function parseBandwidth(value: string): SdpBandwidth | null {
  const m = /^([^:\s]+):(\d+)$/.exec(value.trim());
  if (m === null) return null;
  const bandwidth = Number(m[2]);
  return Number.isSafeInteger(bandwidth) ? { type: m[1] ?? '', bandwidth } : null;
}

interface MediaLine {
  readonly media: string;
  readonly port: number;
  readonly portCount: number | null;
  readonly protocol: string;
  readonly formats: readonly string[];
}

function parseMediaLine(value: string): MediaLine | string {
  const f = splitFields(value);
  if (f.length < 3) return 'm= needs <media> <port> <proto> <fmt> ...';
  const [media = '', portSpec = '', protocol = '', ...formats] = f;
  const m = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(portSpec);
  if (m === null) return `m= port "${portSpec}" is not a number`;
  const port = Number(m[1]);
  if (port > 65535) return `m= port ${port} is out of range`;
  const portCount = m[2] === undefined ? null : Number(m[2]);
  if (portCount === 0) return 'm= port count is 0';
  // RFC 8866 §5.14 asks for one format or more; a disabled stream is let through without (RFC 3264 §6 says its formats do not matter).
  if (formats.length === 0 && port !== 0) return 'm= has no formats';
  return { media, port, portCount, protocol, formats };
}

interface MediaBuilder {
  readonly line: MediaLine;
  readonly index: number;
  connection: SdpConnection | null;
  readonly bandwidths: SdpBandwidth[];
  readonly attributes: SdpAttribute[];
  readonly otherLines: SdpLine[];
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  return colon === -1 ? { name: value, value: null } : { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

/** Checks the attributes whose value voix reads; a malformed one stays in the description (it is forwarded as written) and is reported. */
function checkAttribute(a: SdpAttribute, where: string, warnings: string[]): void {
  const name = a.name.toLowerCase();
  const bad = (what: string): void => {
    warnings.push(`${where}: a=${a.name}:${a.value ?? ''} ${what}`);
  };
  if (name === 'rtpmap' && (a.value === null || parseRtpmap(a.value) === null)) bad('is malformed, ignored');
  else if (name === 'rtcp' && (a.value === null || parseRtcpAttribute(a.value) === null)) bad('is malformed, RTCP goes to port + 1');
  else if ((name === 'ptime' || name === 'maxptime') && packetTimeOf([a], name) === null) bad('is malformed, ignored');
}

function toLines(input: string | Uint8Array): string[] {
  let text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // RFC 8866 §5: CRLF ends a line, and parsers should accept a bare LF; a bare CR is read the same way so that no value ever carries one.
  return text.split(/\r\n|\n|\r/);
}

export function parseSessionDescription(input: string | Uint8Array): SdpParseResult {
  const warnings: string[] = [];
  let version: number | null = null;
  let origin: SdpOrigin | null = null;
  let sessionName: string | null = null;
  let connection: SdpConnection | null = null;
  const bandwidths: SdpBandwidth[] = [];
  const attributes: SdpAttribute[] = [];
  const otherLines: SdpLine[] = [];
  const media: MediaBuilder[] = [];
  let sawTiming = false;

  const lines = toLines(input);
  for (let n = 0; n < lines.length; n++) {
    // Trailing white space is not part of any SDP value worth keeping (RFC 8866 §9 has none at line ends).
    const line = (lines[n] ?? '').replace(/[ \t]+$/, '');
    if (line === '') continue;
    const lineNo = n + 1;
    if (line.includes('\0')) return fail(`line ${lineNo}: contains a NUL character`);
    if (line.length < 2 || line[1] !== '=' || !/^[a-z]$/.test(line[0] ?? '')) {
      return fail(`line ${lineNo}: "${line.slice(0, 40)}" is not <type>=<value>`);
    }
    const type = line[0] ?? '';
    const value = line.slice(2);
    if (!KNOWN_TYPES.has(type)) {
      // RFC 8866 §5: the set of type letters is closed; a parser must ignore or reject a description with another one.
      return fail(`line ${lineNo}: unknown type letter "${type}="`);
    }
    if (version === null) {
      if (type !== 'v') return fail(`line ${lineNo}: SDP must start with v= (RFC 8866 §5.1)`);
      if (value.trim() !== '0') return fail(`line ${lineNo}: v=${value} is not version 0`);
      version = 0;
      continue;
    }
    const current = media[media.length - 1];
    if (current === undefined) {
      switch (type) {
        case 'v':
          return fail(`line ${lineNo}: a second v= line`);
        case 'o': {
          if (origin !== null) return fail(`line ${lineNo}: a second o= line`);
          const o = parseOrigin(value);
          if (typeof o === 'string') return fail(`line ${lineNo}: ${o}`);
          origin = o;
          break;
        }
        case 's':
          if (sessionName !== null) warnings.push(`line ${lineNo}: a second s= line, ignored`);
          else sessionName = value;
          break;
        case 'c': {
          const c = parseConnection(value);
          if (typeof c === 'string') return fail(`line ${lineNo}: ${c}`);
          if (connection !== null) warnings.push(`line ${lineNo}: a second session-level c= line, ignored`);
          else connection = c;
          break;
        }
        case 'b': {
          const b = parseBandwidth(value);
          if (b === null) warnings.push(`line ${lineNo}: b=${value} is malformed, ignored`);
          else bandwidths.push(b);
          break;
        }
        case 'a': {
          const a = parseAttribute(value);
          if (a.name === '') warnings.push(`line ${lineNo}: a= without a name, ignored`);
          else {
            checkAttribute(a, `line ${lineNo}`, warnings);
            attributes.push(a);
          }
          break;
        }
        case 'm': {
          const m = parseMediaLine(value);
          if (typeof m === 'string') return fail(`line ${lineNo}: ${m}`);
          if (m.formats.length === 0) warnings.push(`line ${lineNo}: m= without formats (accepted because its port is 0)`);
          media.push({ line: m, index: media.length, connection: null, bandwidths: [], attributes: [], otherLines: [] });
          break;
        }
        default:
          if (type === 't') sawTiming = true;
          otherLines.push({ type, value });
      }
      continue;
    }
    const where = `line ${lineNo} (m=${current.line.media} #${current.index + 1})`;
    switch (type) {
      case 'm': {
        const m = parseMediaLine(value);
        if (typeof m === 'string') return fail(`line ${lineNo}: ${m}`);
        if (m.formats.length === 0) warnings.push(`line ${lineNo}: m= without formats (accepted because its port is 0)`);
        media.push({ line: m, index: media.length, connection: null, bandwidths: [], attributes: [], otherLines: [] });
        break;
      }
      case 'c': {
        const c = parseConnection(value);
        if (typeof c === 'string') return fail(`${where}: ${c}`);
        // RFC 8866 §5.7 allows several c= per media for layered multicast, which a phone call never uses.
        if (current.connection !== null) warnings.push(`${where}: a second c= line, ignored`);
        else current.connection = c;
        break;
      }
      case 'b': {
        const b = parseBandwidth(value);
        if (b === null) warnings.push(`${where}: b=${value} is malformed, ignored`);
        else current.bandwidths.push(b);
        break;
      }
      case 'a': {
        const a = parseAttribute(value);
        if (a.name === '') warnings.push(`${where}: a= without a name, ignored`);
        else {
          checkAttribute(a, where, warnings);
          current.attributes.push(a);
        }
        break;
      }
      case 'i':
      case 'k':
        current.otherLines.push({ type, value });
        break;
      default:
        return fail(`${where}: ${type}= is not allowed in a media description (RFC 8866 §5)`);
    }
  }

  if (version === null) return fail('no v= line: this is not SDP');
  if (origin === null) return fail('no o= line (RFC 8866 §5.2)');
  if (sessionName === null) warnings.push('no s= line (RFC 8866 §5.3 requires one)');
  if (!sawTiming) warnings.push('no t= line (RFC 8866 §5.9 requires one)');

  const mediaDescriptions: MediaDescription[] = media.map((m) => ({
    ...m.line,
    connection: m.connection,
    bandwidths: m.bandwidths,
    attributes: m.attributes,
    otherLines: m.otherLines,
  }));
  for (const [i, m] of mediaDescriptions.entries()) {
    if (m.port !== 0 && m.connection === null && connection === null) {
      return fail(`m=${m.media} #${i + 1}: no c= line for it nor for the session (RFC 8866 §5.7)`);
    }
  }
  return {
    ok: true,
    description: {
      version,
      origin,
      sessionName: sessionName ?? '-',
      connection,
      bandwidths,
      attributes,
      otherLines,
      media: mediaDescriptions,
    },
    warnings,
  };
}
