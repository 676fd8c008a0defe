/**
 * The SDP model (RFC 8866 §5). voix interprets v=, o=, s=, c=, b=, m= and
 * keeps every a= line as a name and a raw value, in order: the typed views
 * (rtpmap, direction, rtcp, crypto…) are read from those lines on demand by
 * media-attributes.ts and crypto-attribute.ts, so a description that is
 * parsed and serialized again loses nothing, including the attributes voix
 * does not know. Other lines (i=, u=, e=, p=, t=, r=, z=, k=) are kept as
 * they came.
 */

/** RFC 8866 §5.2 `o=`. The session id and version are decimal strings of any size; the version is a bigint to count on. */
export interface SdpOrigin {
  readonly username: string;
  readonly sessionId: string;
  readonly sessionVersion: bigint;
  readonly netType: string;
  readonly addrType: string;
  readonly address: string;
}

/** RFC 8866 §5.7 `c=`. `suffix` keeps a multicast `/ttl[/count]` as written. */
export interface SdpConnection {
  readonly netType: string;
  /** `IP4` or `IP6` in practice. */
  readonly addrType: string;
  readonly address: string;
  readonly suffix: string;
}

/** RFC 8866 §5.8 `b=<bwtype>:<bandwidth>`. */
export interface SdpBandwidth {
  readonly type: string;
  readonly bandwidth: number;
}

/** RFC 8866 §5.13 `a=<name>` (value null) or `a=<name>:<value>`. */
export interface SdpAttribute {
  readonly name: string;
  readonly value: string | null;
}

/** A line voix keeps without interpreting it (i=, u=, e=, p=, t=, r=, z=, k=). */
export interface SdpLine {
  readonly type: string;
  readonly value: string;
}

/** RFC 8866 §5.14 media description. */
export interface MediaDescription {
  /** `audio`, `video`, `text`, `application`, `message`… */
  readonly media: string;
  /** 0 means the stream is refused or disabled (RFC 3264 §6, §8.2). */
  readonly port: number;
  /** The `/<number of ports>` of `m=`, null when absent. */
  readonly portCount: number | null;
  /** `RTP/AVP`, `RTP/SAVP`, `RTP/AVPF`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`… as written. */
  readonly protocol: string;
  /** Payload type numbers for RTP profiles, as written. */
  readonly formats: readonly string[];
  readonly connection: SdpConnection | null;
  readonly bandwidths: readonly SdpBandwidth[];
  readonly attributes: readonly SdpAttribute[];
  /** i= and k= lines of this media description. */
  readonly otherLines: readonly SdpLine[];
}

export interface SessionDescription {
  /** Always 0 (RFC 8866 §5.1). */
  readonly version: number;
  readonly origin: SdpOrigin;
  readonly sessionName: string;
  readonly connection: SdpConnection | null;
  readonly bandwidths: readonly SdpBandwidth[];
  readonly attributes: readonly SdpAttribute[];
  /** i=, u=, e=, p=, t=, r=, z=, k= lines of the session part, in order. */
  readonly otherLines: readonly SdpLine[];
  readonly media: readonly MediaDescription[];
}

/** The value of the first attribute named `name` (case-insensitive), '' for a flag, null when absent. */
export function attributeValue(attributes: readonly SdpAttribute[], name: string): string | null {
  const wanted = name.toLowerCase();
  for (const a of attributes) {
    if (a.name.toLowerCase() === wanted) return a.value ?? '';
  }
  return null;
}

/** The values of every attribute named `name` (case-insensitive), in order; '' for flags. */
export function attributeValues(attributes: readonly SdpAttribute[], name: string): string[] {
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const a of attributes) {
    if (a.name.toLowerCase() === wanted) out.push(a.value ?? '');
  }
  return out;
}

export function hasAttribute(attributes: readonly SdpAttribute[], name: string): boolean {
  return attributeValue(attributes, name) !== null;
}

/** The connection that applies to a media description: its own c=, else the session's (RFC 8866 §5.7). */
export function effectiveConnection(session: SessionDescription, media: MediaDescription): SdpConnection | null {
  return media.connection ?? session.connection;
}

/** `IP6` when the address has a colon, else `IP4`: what c= and o= must say for an address voix owns. */
export function addrTypeOf(address: string): 'IP4' | 'IP6' {
  return address.includes(':') ? 'IP6' : 'IP4';
}

export function connectionFor(address: string): SdpConnection {
  return { netType: 'IN', addrType: addrTypeOf(address), address, suffix: '' };
}

/**
 * The `o=` of the next SDP a party sends in the same session: RFC 3264 §8
 * keeps every field and adds one to the version when the description
 * changed. An unchanged description keeps its version (a session refresh).
 */
export function nextOrigin(previous: SdpOrigin, changed: boolean): SdpOrigin {
  return changed ? { ...previous, sessionVersion: previous.sessionVersion + 1n } : previous;
}

/** How a received `o=` relates to the last one from the same party (RFC 3264 §8). */
export type OriginChange =
  /** Same session, same version: the SDP must be identical to the last one, nothing to renegotiate. */
  | 'unchanged'
  /** Same session, higher version: a modification. */
  | 'newer'
  /** Same session, lower version: stale or broken; the caller decides (usually treat as a new offer anyway). */
  | 'older'
  /** Another username, session id, network type or address: a different session (e.g. a new device after a transfer). */
  | 'different-session';

export function compareOrigins(previous: SdpOrigin, next: SdpOrigin): OriginChange {
  if (
    previous.username !== next.username ||
    previous.sessionId !== next.sessionId ||
    previous.netType !== next.netType ||
    previous.addrType !== next.addrType ||
    previous.address !== next.address
  ) {
    return 'different-session';
  }
  if (next.sessionVersion === previous.sessionVersion) return 'unchanged';
  return next.sessionVersion > previous.sessionVersion ? 'newer' : 'older';
}
