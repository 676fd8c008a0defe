/**
 * SDP serializer: lines in the order RFC 8866 §5 fixes, each ended by CRLF.
 * A description parsed from text already in that order comes back byte for
 * byte, apart from line ends and trailing white space.
 */
import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpLine, SdpOrigin, SessionDescription } from './session-description.js';

const CRLF = '\r\n';

/** RFC 8866 §5: i=, u=, e=, p= come before c=; t=, r=, z=, k= after b=. */
const BEFORE_CONNECTION = new Set(['i', 'u', 'e', 'p']);

export function formatOrigin(o: SdpOrigin): string {
  return `${o.username} ${o.sessionId} ${o.sessionVersion.toString()} ${o.netType} ${o.addrType} ${o.address}`;
}

export function formatConnection(c: SdpConnection): string {
  return `${c.netType} ${c.addrType} ${c.address}${c.suffix}`;
}

function formatBandwidth(b: SdpBandwidth): string {
  return `${b.type}:${b.bandwidth}`;
}

export function formatAttribute(a: SdpAttribute): string {
  return a.value === null ? a.name : `${a.name}:${a.value}`;
}

function pushLines(out: string[], lines: readonly SdpLine[], keep: (type: string) => boolean): void {
  for (const l of lines) if (keep(l.type)) out.push(`${l.type}=${l.value}`);
}

function pushMedia(out: string[], m: MediaDescription): void {
  const port = m.portCount === null ? `${m.port}` : `${m.port}/${m.portCount}`;
  out.push(`m=${[m.media, port, m.protocol, ...m.formats].join(' ')}`);
  pushLines(out, m.otherLines, (t) => t === 'i');
  if (m.connection !== null) out.push(`c=${formatConnection(m.connection)}`);
  for (const b of m.bandwidths) out.push(`b=${formatBandwidth(b)}`);
  pushLines(out, m.otherLines, (t) => t === 'k');
  for (const a of m.attributes) out.push(`a=${formatAttribute(a)}`);
}

export function serializeSessionDescription(sd: SessionDescription): string {
  const out: string[] = [`v=${sd.version}`, `o=${formatOrigin(sd.origin)}`];
  // RFC 8866 §5.3: s= may not be empty; "-" is the conventional "no name".
  out.push(`s=${sd.sessionName === '' ? '-' : sd.sessionName}`);
  pushLines(out, sd.otherLines, (t) => BEFORE_CONNECTION.has(t));
  if (sd.connection !== null) out.push(`c=${formatConnection(sd.connection)}`);
  for (const b of sd.bandwidths) out.push(`b=${formatBandwidth(b)}`);
  pushLines(out, sd.otherLines, (t) => t === 't' || t === 'r' || t === 'z');
  pushLines(out, sd.otherLines, (t) => t === 'k');
  for (const a of sd.attributes) out.push(`a=${formatAttribute(a)}`);
  for (const m of sd.media) pushMedia(out, m);
  return out.join(CRLF) + CRLF;
}
