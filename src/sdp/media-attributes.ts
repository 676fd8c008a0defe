/**
 * Typed views of the a= lines voix acts on, read from (and written back as)
 * the raw attributes the model keeps: rtpmap and fmtp (RFC 8866 §6.6,
 * §6.15), ptime and maxptime (§6.4, §6.5), the direction attributes (§6.7),
 * and rtcp (RFC 3605). A malformed value reads as absent; the parser reports
 * it as a warning, and the offer/answer code decides what that costs.
 */
import { isIP } from 'node:net';
import { attributeValue, attributeValues, type MediaDescription, type SdpAttribute, type SdpConnection, type SessionDescription } from './session-description.js';

/** RFC 8866 §6.6 `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`. */
export interface Rtpmap {
  readonly payloadType: number;
  readonly encodingName: string;
  readonly clockRate: number;
  /** Channels for audio; null when not written (RFC 3551 §6: one channel). */
  readonly channels: number | null;
}

const DIGITS = /^\d+$/;

/** An RTP payload type number (RFC 3550 §5.1: 7 bits), or null. */
export function parsePayloadType(text: string): number | null {
  if (!DIGITS.test(text) || text.length > 3) return null;
  const pt = Number(text);
  return pt <= 127 ? pt : null;
}

export function parseRtpmap(value: string): Rtpmap | null {
  const m = /^(\d{1,3})[ \t]+([^/ \t]+)\/(\d+)(?:\/(\d+))?[ \t]*$/.exec(value);
  if (m === null) return null;
  const payloadType = parsePayloadType(m[1] ?? '');
  const clockRate = Number(m[3]);
  if (payloadType === null || !Number.isSafeInteger(clockRate) || clockRate === 0) return null;
  const channels = m[4] === undefined ? null : Number(m[4]);
  if (channels === 0) return null;
  return { payloadType, encodingName: m[2] ?? '', clockRate, channels };
}

export function formatRtpmap(r: Rtpmap): string {
  return `${r.payloadType} ${r.encodingName}/${r.clockRate}${r.channels === null ? '' : `/${r.channels}`}`;
}

/** The payload type an attribute value starts with (rtpmap, fmtp, rtcp-fb), `*` for rtcp-fb's wildcard, or null. */
export function leadingPayloadType(value: string | null): number | '*' | null {
  if (value === null) return null;
  const m = /^(\d{1,3}|\*)(?:[ \t]|$)/.exec(value);
  if (m === null) return null;
  return m[1] === '*' ? '*' : parsePayloadType(m[1] ?? '');
}

export function rtpmapsOf(attributes: readonly SdpAttribute[]): Map<number, Rtpmap> {
  const out = new Map<number, Rtpmap>();
  for (const value of attributeValues(attributes, 'rtpmap')) {
    const r = parseRtpmap(value);
    // RFC 8866 §6.6 allows one rtpmap per payload type; the first one wins, like the SIP parser's first-header rule.
    if (r !== null && !out.has(r.payloadType)) out.set(r.payloadType, r);
  }
  return out;
}

/** The format parameters of one payload type (RFC 8866 §6.15 `a=fmtp:<fmt> <parameters>`), or null. */
export function fmtpOf(attributes: readonly SdpAttribute[], payloadType: number): string | null {
  for (const value of attributeValues(attributes, 'fmtp')) {
    const m = /^(\d{1,3})[ \t]+(.*)$/.exec(value);
    if (m !== null && Number(m[1]) === payloadType) return m[2] ?? '';
  }
  return null;
}

/** a=ptime / a=maxptime in milliseconds (RFC 8866 §6.4, §6.5); decimals are allowed there. */
export function packetTimeOf(attributes: readonly SdpAttribute[], name: 'ptime' | 'maxptime'): number | null {
  const value = attributeValue(attributes, name);
  if (value === null || !/^\d+(?:\.\d+)?$/.test(value)) return null;
  const ms = Number(value);
  return ms > 0 ? ms : null;
}

/** RFC 8866 §6.7 (and RFC 3264 §5.1): the direction of a stream from the point of view of the one who wrote the SDP. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

export function isDirectionAttribute(name: string): boolean {
  return DIRECTIONS.has(name.toLowerCase());
}

/** The first direction attribute among `attributes`, or null. */
export function directionOf(attributes: readonly SdpAttribute[]): MediaDirection | null {
  for (const a of attributes) {
    const name = a.name.toLowerCase();
    if (DIRECTIONS.has(name)) return name as MediaDirection;
  }
  return null;
}

/** RFC 8866 §6.7: a media-level direction overrides the session-level one; sendrecv when neither is there. */
export function effectiveDirection(session: SessionDescription, media: MediaDescription): MediaDirection {
  return directionOf(media.attributes) ?? directionOf(session.attributes) ?? 'sendrecv';
}

export interface DirectionFlags {
  readonly send: boolean;
  readonly recv: boolean;
}

export function directionFlags(d: MediaDirection): DirectionFlags {
  return { send: d === 'sendrecv' || d === 'sendonly', recv: d === 'sendrecv' || d === 'recvonly' };
}

export function directionFromFlags(f: DirectionFlags): MediaDirection {
  if (f.send) return f.recv ? 'sendrecv' : 'sendonly';
  return f.recv ? 'recvonly' : 'inactive';
}

/** The same stream seen from the other end: what one side sends, the other receives. */
export function reverseDirection(d: MediaDirection): MediaDirection {
  const f = directionFlags(d);
  return directionFromFlags({ send: f.recv, recv: f.send });
}

export function intersectDirections(x: MediaDirection, y: MediaDirection): MediaDirection {
  const fx = directionFlags(x);
  const fy = directionFlags(y);
  return directionFromFlags({ send: fx.send && fy.send, recv: fx.recv && fy.recv });
}

/** RFC 3605 `a=rtcp:<port> [<nettype> <addrtype> <address>]`. */
export interface RtcpAttribute {
  readonly port: number;
  readonly connection: SdpConnection | null;
}

export function parseRtcpAttribute(value: string): RtcpAttribute | null {
  const fields = value.trim().split(/[ \t]+/);
  const portText = fields[0] ?? '';
  if (!DIGITS.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  if (fields.length === 1) return { port, connection: null };
  if (fields.length !== 4) return null;
  const [, netType = '', addrType = '', address = ''] = fields;
  return { port, connection: { netType, addrType, address, suffix: '' } };
}

export function rtcpAttributeOf(attributes: readonly SdpAttribute[]): RtcpAttribute | null {
  const value = attributeValue(attributes, 'rtcp');
  return value === null ? null : parseRtcpAttribute(value);
}

/**
 * The connection address that means "send nothing here": RFC 3264 §8.4
 * (RFC 2543 hold) for 0.0.0.0; the IPv6 unspecified address is read the
 * same way, since sending to it reaches no phone either.
 */
export function isUnspecifiedAddress(address: string): boolean {
  if (address === '0.0.0.0') return true;
  return isIP(address) === 6 && /^[0:]+$/.test(address);
}
