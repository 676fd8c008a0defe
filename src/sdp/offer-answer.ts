/**
 * Offer/answer (RFC 3264) across the two legs of voix's B2BUA, which
 * anchors the media. Pure functions, no I/O: the call core parses the SDP,
 * calls relayOffer when a phone offers and relayAnswer when the other phone
 * answers, sends the SDP they return and hands the media plan to the relay.
 *
 * - The offerer's phone talks to leg `from`, the other phone to leg `to`.
 *   An initial INVITE from the caller has from = 'a'; a re-INVITE or UPDATE
 *   can come from either side.
 * - voix relays the first audio stream it can (RTP/AVP, RTP/AVPF, RTP/SAVP,
 *   RTP/SAVPF); every other m= line is mirrored with port 0, which refuses it
 *   (RFC 3264 §6) and keeps the m= lines of both legs at the same indexes.
 * - No transcoding and no renumbering: the offer to the other phone keeps
 *   the offerer's payload type numbers, the answer to the offerer keeps the
 *   answerer's, so each phone receives the numbers it asked for (RFC 3264
 *   §5.1, §6.1) and the relay never rewrites an RTP header.
 * - SRTP is decided per leg: each leg has its own keys (SDES, RFC 4568),
 *   and voix decrypts with the key a phone gave and encrypts with the key
 *   voix gave that phone.
 * - Every outcome is a value: a failure carries the status to answer the
 *   offer with (488, RFC 3261 §21.4.26) and a reason for the log.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { LegConfig, LegName, RemoteEndpoint, SrtpKeying, SrtpSuite } from '../rtp/media-protocol.js';
import {
  DEFAULT_SUITE_PREFERENCE,
  chooseCrypto,
  formatCryptoAttribute,
  generateSrtpKeying,
  parseCryptoAttribute,
  sameKeying,
  usableKeying,
  type ChosenCrypto,
  type RandomBytes,
} from './crypto-attribute.js';
import {
  directionFlags,
  effectiveDirection,
  formatRtpmap,
  intersectDirections,
  isDirectionAttribute,
  isUnspecifiedAddress,
  leadingPayloadType,
  parsePayloadType,
  reverseDirection,
  rtcpAttributeOf,
  rtpmapsOf,
  type MediaDirection,
} from './media-attributes.js';
import { DEFAULT_RELAYED_CODECS, isRelayed, isVoiceCodec, payloadFormatsOf, sameCodec, type PayloadFormat, type RelayedCodec } from './payload-types.js';
import { serializeSessionDescription } from './serializer.js';
import {
  addrTypeOf,
  attributeValues,
  connectionFor,
  effectiveConnection,
  nextOrigin,
  type MediaDescription,
  type SdpAttribute,
  type SdpLine,
  type SdpOrigin,
  type SessionDescription,
} from './session-description.js';

/** Whether a leg uses SRTP: `required` refuses plain RTP, `optional` uses SRTP when the phone does, `off` never. */
export type SrtpPolicy = 'required' | 'optional' | 'off';

export interface RelayLegOptions {
  /** voix's media address towards this leg's phone (c= and o= of the SDP sent on this leg). */
  readonly address: string;
  /** The relay's RTP port on this leg (RTCP on port + 1). */
  readonly port: number;
  readonly srtp: SrtpPolicy;
  /**
   * Whether SDES keys may be exchanged on this leg: false when its SIP is
   * not over TLS, since a=crypto carries the key in clear (RFC 4568 §8).
   */
  readonly cryptoAllowed: boolean;
}

export interface RelayOptions {
  readonly legs: Readonly<Record<LegName, RelayLegOptions>>;
  /** Codecs voix passes between the legs; DEFAULT_RELAYED_CODECS when absent. */
  readonly codecs?: readonly RelayedCodec[];
  /** SRTP suites voix accepts and offers, best first; DEFAULT_SUITE_PREFERENCE when absent. */
  readonly srtpSuites?: readonly SrtpSuite[];
  /** s= of the SDP voix sends; "voix" when absent. */
  readonly sessionName?: string;
  /** Source of keys and session ids; node:crypto's randomBytes when absent (tests inject a fixed one). */
  readonly randomBytes?: RandomBytes;
}

/** What the relay needs for one leg (LegConfig without the SIP source, which the call core knows), plus what was negotiated. */
export interface LegMediaPlan extends Omit<LegConfig, 'expectedSource'> {
  /** The phone's direction from its own point of view, as negotiated (RFC 3264 §6.1). */
  readonly direction: MediaDirection;
  /** The phone signalled hold the RFC 2543 way, c=0.0.0.0 (RFC 3264 §8.4): nothing may be sent to it. */
  readonly legacyHold: boolean;
  /** The payload formats this phone sends, with the numbers it uses (telephone-event included). */
  readonly payloadTypes: readonly PayloadFormat[];
}

export type MediaPlan = Readonly<Record<LegName, LegMediaPlan>>;

export function legConfig(plan: LegMediaPlan, expectedSource: string | null): LegConfig {
  return { remote: plan.remote, expectedSource, srtp: plan.srtp, forward: plan.forward, clockRates: plan.clockRates };
}

/** A leg whose phone has not described its media yet. */
export const UNKNOWN_LEG_PLAN: LegMediaPlan = {
  remote: null,
  srtp: null,
  forward: false,
  clockRates: {},
  direction: 'inactive',
  legacyHold: false,
  payloadTypes: [],
};

/** What voix remembers about one leg between offer/answer exchanges. */
export interface LegSessionState {
  /** The SDP voix last sent on this leg, null before the first: its o= is where the next version counts from (RFC 3264 §8). */
  readonly lastSent: SessionDescription | null;
  /**
   * The SDP the phone sent last (offer or answer). A new offer with the same
   * o= version is a refresh that changes nothing (RFC 3264 §8): see
   * compareOrigins, and answer it with lastSent.
   */
  readonly lastReceived: SessionDescription | null;
  /** voix's SRTP keys for this leg, by suite: reused across re-offers (RFC 4568 §7.1.4). */
  readonly localKeys: Readonly<Partial<Record<SrtpSuite, SrtpKeying>>>;
  /** The key the phone gave last; when it changes, voix changes its own for that leg too. */
  readonly remoteKeying: SrtpKeying | null;
}

/** The media state of a call once an offer/answer exchange completed. Immutable: each exchange returns a new one. */
export interface MediaSession {
  /** Index of the relayed audio m= line, the same on both legs. */
  readonly index: number;
  readonly legs: Readonly<Record<LegName, LegSessionState>>;
  readonly plan: MediaPlan;
}

/** The stream of an offer voix relays, as read from the offerer's SDP. */
export interface OffererStream {
  readonly index: number;
  readonly media: MediaDescription;
  readonly feedback: boolean;
  /** The relayed formats of the offer, in its order and with its numbers. */
  readonly formats: readonly PayloadFormat[];
  readonly remote: RemoteEndpoint | null;
  readonly legacyHold: boolean;
  /** The offerer's direction, with an RFC 2543 hold read as "do not send to me". */
  readonly direction: MediaDirection;
  readonly crypto: ChosenCrypto | null;
}

/** An offer relayed and waiting for the other phone's answer. Pass it to relayAnswer as is. */
export interface PendingOffer {
  readonly from: LegName;
  readonly offer: SessionDescription;
  /** The offer voix sent to the other leg. */
  readonly sent: SessionDescription;
  readonly stream: OffererStream;
  /** voix's key for the offerer's leg when that leg uses SRTP. */
  readonly offererOutbound: SrtpKeying | null;
  /**
   * The o= of voix's answer when it is the first SDP on the offerer's leg:
   * drawn here so that relayAnswer gives the same answer for the same
   * answer from the phone (a 183 then a 200 with the same SDP).
   */
  readonly offererOrigin: SdpOrigin;
  /** The a=crypto lines voix put in its offer to the other leg. */
  readonly offeredCrypto: readonly ChosenCrypto[];
  /** Whether voix offered RTP/SAVP(F) to the other leg (SRTP required there). */
  readonly offeredSecureProfile: boolean;
  /** The session as it will be if the answer is accepted (legs updated for what voix sent). */
  readonly session: MediaSession;
}

export interface NegotiationFailure {
  readonly ok: false;
  /** The status to answer the offer with: 488 Not Acceptable Here. */
  readonly status: 488;
  readonly reason: string;
  /** The leg whose SDP or settings caused it. */
  readonly leg: LegName;
}

export type RelayOfferResult =
  | {
      readonly ok: true;
      /** The offer to send to the other leg. */
      readonly offer: SessionDescription;
      readonly pending: PendingOffer;
      /**
       * The offerer's leg as far as it is known (its address and keys, for
       * early media), the other leg as before. For a re-offer, apply the plan
       * relayAnswer returns rather than this one.
       */
      readonly mediaPlan: MediaPlan;
      readonly warnings: readonly string[];
    }
  | NegotiationFailure;

export type RelayAnswerResult =
  | {
      readonly ok: true;
      /** The answer to send to the offerer. */
      readonly answer: SessionDescription;
      readonly mediaPlan: MediaPlan;
      /** Keep it for the next offer of the call (re-INVITE, UPDATE). */
      readonly session: MediaSession;
      readonly warnings: readonly string[];
    }
  | NegotiationFailure;

const EMPTY_LEG_STATE: LegSessionState = { lastSent: null, lastReceived: null, localKeys: {}, remoteKeying: null };

function otherLeg(leg: LegName): LegName {
  return leg === 'a' ? 'b' : 'a';
}

function byLeg<T>(leg: LegName, mine: T, other: T): Record<LegName, T> {
  return leg === 'a' ? { a: mine, b: other } : { a: other, b: mine };
}

class Refusal {
  constructor(
    readonly reason: string,
    readonly leg: LegName,
  ) {}
}

function failure(r: Refusal): NegotiationFailure {
  return { ok: false, status: 488, reason: r.reason, leg: r.leg };
}

// --- transport profiles ------------------------------------------------------

interface Profile {
  readonly secure: boolean;
  readonly feedback: boolean;
}

/** RFC 3551 (AVP), RFC 3711 (SAVP), RFC 4585 (AVPF), RFC 5124 (SAVPF): the profiles the relay carries unchanged. */
function classifyProtocol(protocol: string): Profile | string {
  switch (protocol.toUpperCase()) {
    case 'RTP/AVP':
      return { secure: false, feedback: false };
    case 'RTP/AVPF':
      return { secure: false, feedback: true };
    case 'RTP/SAVP':
      return { secure: true, feedback: false };
    case 'RTP/SAVPF':
      return { secure: true, feedback: true };
  }
  if (/\bDTLS\b|^UDP\/TLS\//i.test(protocol)) return `${protocol} (DTLS-SRTP) is not supported: voix keys SRTP with SDES a=crypto only`;
  return `protocol ${protocol} is not relayed (RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF only)`;
}

function protocolFor(p: Profile): string {
  return `RTP/${p.secure ? 'S' : ''}AVP${p.feedback ? 'F' : ''}`;
}

// --- what a phone's SDP says about its stream --------------------------------

interface PhoneEndpoint {
  readonly remote: RemoteEndpoint | null;
  readonly legacyHold: boolean;
}

function phoneEndpoint(sd: SessionDescription, m: MediaDescription, leg: LegName, warnings: string[]): PhoneEndpoint | Refusal {
  const c = effectiveConnection(sd, m);
  if (c === null) return new Refusal(`m=${m.media} has no c= line`, leg);
  if (c.netType.toUpperCase() !== 'IN') return new Refusal(`c= network type ${c.netType} is not IN`, leg);
  if (isUnspecifiedAddress(c.address)) return { remote: null, legacyHold: true };
  // RFC 8866 §5.7 allows a domain name; the relay needs an address and resolving is I/O the call core would have to do first.
  if (isIP(c.address) === 0) return new Refusal(`media address "${c.address}" is not an IP address`, leg);
  const rtcp = rtcpAttributeOf(m.attributes);
  if (rtcp !== null && rtcp.connection !== null && rtcp.connection.address !== c.address) {
    warnings.push(`leg ${leg}: a=rtcp names another address (${rtcp.connection.address}); RTCP goes to ${c.address}`);
  }
  // RFC 3605: a=rtcp gives the RTCP port, else RTP port + 1 (RFC 3550 §11). voix never agrees to rtcp-mux, so that is where RTCP goes.
  return { remote: { address: c.address, rtpPort: m.port, rtcpPort: rtcp?.port ?? m.port + 1 }, legacyHold: false };
}

function directionWithHold(sd: SessionDescription, m: MediaDescription, legacyHold: boolean): MediaDirection {
  const d = effectiveDirection(sd, m);
  // RFC 3264 §8.4: c=0.0.0.0 means "send me nothing", whatever the direction says.
  return legacyHold ? intersectDirections(d, 'sendonly') : d;
}

/** SRTP terms of a stream a phone offers, under the leg's policy. */
function offeredCrypto(
  m: MediaDescription,
  profile: Profile,
  leg: LegName,
  options: RelayLegOptions,
  preference: readonly SrtpSuite[],
  warnings: string[],
): ChosenCrypto | null | Refusal {
  const lines = attributeValues(m.attributes, 'crypto');
  if (profile.secure) {
    if (options.srtp === 'off') return new Refusal(`${m.protocol} offered but SRTP is off on leg ${leg}`, leg);
    if (!options.cryptoAllowed) {
      return new Refusal(`${m.protocol} offered on leg ${leg}, whose signalling is not TLS: SDES keys would travel in clear (RFC 4568 §8)`, leg);
    }
    const choice = chooseCrypto(lines, preference);
    if (!choice.ok) return new Refusal(`${m.protocol} offered on leg ${leg} with ${choice.reason}`, leg);
    return choice.chosen;
  }
  // RTP/AVP with a=crypto: "best effort" SRTP (baresip mediaenc=srtp, Linphone optional): SRTP when both ends can.
  if (lines.length === 0) {
    return options.srtp === 'required' ? new Refusal(`SRTP is required on leg ${leg} but the offer has no a=crypto`, leg) : null;
  }
  if (options.srtp === 'off') {
    warnings.push(`leg ${leg}: a=crypto ignored, SRTP is off on this leg`);
    return null;
  }
  if (!options.cryptoAllowed) {
    if (options.srtp === 'required') return new Refusal(`a=crypto on leg ${leg}, whose signalling is not TLS, is refused (RFC 4568 §8)`, leg);
    warnings.push(`leg ${leg}: a=crypto ignored, the signalling is not TLS`);
    return null;
  }
  const choice = chooseCrypto(lines, preference);
  if (choice.ok) return choice.chosen;
  if (options.srtp === 'required') return new Refusal(`SRTP is required on leg ${leg} but the offer has ${choice.reason}`, leg);
  warnings.push(`leg ${leg}: plain RTP, ${choice.reason}`);
  return null;
}

function analyseOfferedStream(
  offer: SessionDescription,
  index: number,
  leg: LegName,
  options: RelayOptions,
  warnings: string[],
): OffererStream | Refusal {
  const m = offer.media[index];
  if (m === undefined) return new Refusal(`the offer has no m= line #${index + 1}`, leg);
  const profile = classifyProtocol(m.protocol);
  if (typeof profile === 'string') return new Refusal(profile, leg);
  const codecs = options.codecs ?? DEFAULT_RELAYED_CODECS;
  const { known, unknown } = payloadFormatsOf(m);
  if (unknown.length > 0) warnings.push(`leg ${leg}: formats without rtpmap ignored: ${unknown.join(' ')}`);
  const formats = known.filter((f) => isRelayed(f, codecs));
  if (!formats.some(isVoiceCodec)) {
    const offered = known.map((f) => `${f.encodingName}/${f.clockRate}`).join(', ') || 'none';
    return new Refusal(`no codec voix relays in the offer (offered: ${offered})`, leg);
  }
  const endpoint = phoneEndpoint(offer, m, leg, warnings);
  if (endpoint instanceof Refusal) return endpoint;
  const crypto = offeredCrypto(m, profile, leg, options.legs[leg], options.srtpSuites ?? DEFAULT_SUITE_PREFERENCE, warnings);
  if (crypto instanceof Refusal) return crypto;
  return {
    index,
    media: m,
    feedback: profile.feedback,
    formats,
    remote: endpoint.remote,
    legacyHold: endpoint.legacyHold,
    direction: directionWithHold(offer, m, endpoint.legacyHold),
    crypto,
  };
}

/** The stream voix relays: the one relayed so far, else the first audio stream voix can take. */
function selectStream(offer: SessionDescription, leg: LegName, options: RelayOptions, session: MediaSession | null, warnings: string[]): OffererStream | Refusal {
  if (session !== null) {
    const m = offer.media[session.index];
    if (m === undefined || m.media.toLowerCase() !== 'audio') {
      return new Refusal(`the re-offer has no audio stream at m= line #${session.index + 1} (RFC 3264 §8: m= lines are never removed)`, leg);
    }
    // RFC 3264 §8.2 lets a re-offer disable a stream; a call without its audio is not something voix relays.
    if (m.port === 0) return new Refusal('the re-offer disables the audio stream (port 0)', leg);
    return analyseOfferedStream(offer, session.index, leg, options, warnings);
  }
  let first: Refusal | null = null;
  for (const [i, m] of offer.media.entries()) {
    if (m.media.toLowerCase() !== 'audio' || m.port === 0) continue;
    const s = analyseOfferedStream(offer, i, leg, options, warnings);
    if (!(s instanceof Refusal)) return s;
    first ??= s;
  }
  return first ?? new Refusal('the offer has no audio stream', leg);
}

// --- building the SDP voix sends ------------------------------------------

/**
 * Attributes that describe the phone's own transport or keys, or that voix
 * writes itself: never copied from one leg to the other. Everything else is
 * forwarded as written, in order.
 */
const NOT_FORWARDED: ReadonlySet<string> = new Set([
  // voix writes its own direction, keys and RTCP port.
  'sendrecv',
  'sendonly',
  'recvonly',
  'inactive',
  'crypto',
  'rtcp',
  // RFC 5761 / RFC 8858: the relay keeps RTP and RTCP on separate ports, so voix never agrees to multiplexing.
  'rtcp-mux',
  'rtcp-mux-only',
  // ICE (RFC 8839): candidates name the phone's own addresses, which the other phone must not use.
  'candidate',
  'remote-candidates',
  'end-of-candidates',
  'ice-ufrag',
  'ice-pwd',
  'ice-options',
  'ice-lite',
  'ice-mismatch',
  'ice-pacing',
  // DTLS-SRTP and TCP media (RFC 8122, RFC 4145, RFC 8842): voix keys with SDES.
  'fingerprint',
  'setup',
  'connection',
  'tls-id',
  // BUNDLE (RFC 8843): the refused m= lines cannot share the transport.
  'group',
  // End-to-end keying that a relay which re-encrypts breaks: ZRTP (RFC 6189), MIKEY (RFC 4567), SDP capability negotiation (RFC 5939).
  'zrtp-hash',
  'key-mgmt',
  'tcap',
  'pcfg',
  'acap',
]);

/** Attributes whose value starts with the payload type they describe. */
const PER_PAYLOAD_TYPE: ReadonlySet<string> = new Set(['rtpmap', 'fmtp', 'rtcp-fb']);

function forwardedAttributes(attributes: readonly SdpAttribute[], payloadTypes: ReadonlySet<number>): SdpAttribute[] {
  return attributes.filter((a) => {
    const name = a.name.toLowerCase();
    if (NOT_FORWARDED.has(name) || isDirectionAttribute(name)) return false;
    if (PER_PAYLOAD_TYPE.has(name)) {
      const pt = leadingPayloadType(a.value);
      // rtcp-fb "*" applies to all formats (RFC 4585 §4.2).
      return pt === '*' ? name === 'rtcp-fb' : pt !== null && payloadTypes.has(pt);
    }
    return true;
  });
}

/** An m= line refused or disabled by port 0 (RFC 3264 §6: its attributes do not matter). */
function refusedMedia(m: MediaDescription): MediaDescription {
  return { media: m.media, port: 0, portCount: null, protocol: m.protocol, formats: m.formats, connection: null, bandwidths: [], attributes: [], otherLines: [] };
}

interface RelayedLine {
  readonly source: MediaDescription;
  readonly port: number;
  readonly protocol: string;
  readonly formats: readonly PayloadFormat[];
  readonly crypto: readonly ChosenCrypto[];
  readonly direction: MediaDirection;
}

function relayedMedia(line: RelayedLine): MediaDescription {
  const pts = new Set(line.formats.map((f) => f.payloadType));
  const attributes = forwardedAttributes(line.source.attributes, pts);
  // RFC 3264 §6.1: dynamic payload types always need their rtpmap, even when the source left it out.
  const mapped = rtpmapsOf(attributes);
  const missing = line.formats.filter((f) => !mapped.has(f.payloadType) && f.payloadType >= 35);
  return {
    media: line.source.media,
    port: line.port,
    portCount: null,
    protocol: line.protocol,
    formats: line.formats.map((f) => String(f.payloadType)),
    connection: null,
    bandwidths: line.source.bandwidths,
    attributes: [
      ...missing.map((f) => ({ name: 'rtpmap', value: formatRtpmap(f) })),
      ...attributes,
      ...line.crypto.map((c) => ({ name: 'crypto', value: formatCryptoAttribute(c.tag, c.keying) })),
      // Always written, even sendrecv, so that a resume is explicit to every phone.
      { name: line.direction, value: null },
    ],
    otherLines: line.source.otherLines.filter((l) => l.type === 'i'),
  };
}

function timingLines(sd: SessionDescription): SdpLine[] {
  const lines = sd.otherLines.filter((l) => l.type === 't' || l.type === 'r' || l.type === 'z');
  return lines.length > 0 ? lines : [{ type: 't', value: '0 0' }];
}

function randomSessionId(randomBytes: RandomBytes): string {
  // 48 bits: unique enough, and stays a safe integer when a phone reads it as a number.
  const b = randomBytes(6);
  let n = 0;
  for (const byte of b) n = n * 256 + byte;
  return String(n);
}

/** The o= of the first SDP voix sends on a leg (RFC 8866 §5.2): a random session id, which also starts the version. */
function freshOrigin(address: string, randomBytes: RandomBytes): SdpOrigin {
  const sessionId = randomSessionId(randomBytes);
  return { username: '-', sessionId, sessionVersion: BigInt(sessionId), netType: 'IN', addrType: addrTypeOf(address), address };
}

/**
 * Gives `draft` the o= of its leg: `fresh` for the first SDP on the leg,
 * else the last one, with the version one higher when anything else changed
 * (RFC 3264 §8). A rejected offer does not count: the state only moves on
 * once an exchange completes.
 */
function withOrigin(draft: Omit<SessionDescription, 'origin'>, last: SessionDescription | null, fresh: SdpOrigin): SessionDescription {
  if (last === null) return { ...draft, origin: fresh };
  const same: SessionDescription = { ...draft, origin: last.origin };
  const changed = serializeSessionDescription(same) !== serializeSessionDescription(last);
  return { ...draft, origin: nextOrigin(last.origin, changed) };
}

function clockRatesOf(formats: readonly PayloadFormat[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const f of formats) out[f.payloadType] = f.clockRate;
  return out;
}

/** voix's key for a leg: the one it gave before for this suite, unless the phone changed its own key (RFC 4568 §7.1.4). */
function outboundKey(state: LegSessionState, inbound: SrtpKeying, randomBytes: RandomBytes): SrtpKeying {
  const previous = state.localKeys[inbound.suite];
  const phoneKept = state.remoteKeying === null || sameKeying(state.remoteKeying, inbound);
  return previous !== undefined && phoneKept ? previous : generateSrtpKeying(inbound.suite, randomBytes);
}

// --- the two operations --------------------------------------------------------

/**
 * A phone on leg `from` offers `offer`; returns the offer for the phone on
 * the other leg. `session` is the call's media session after its last
 * completed exchange, null for the initial offer.
 */
export function relayOffer(offer: SessionDescription, from: LegName, options: RelayOptions, session: MediaSession | null = null): RelayOfferResult {
  const to = otherLeg(from);
  const warnings: string[] = [];
  const randomBytes = options.randomBytes ?? nodeRandomBytes;
  const stream = selectStream(offer, from, options, session, warnings);
  if (stream instanceof Refusal) return failure(stream);

  const fromState = session?.legs[from] ?? EMPTY_LEG_STATE;
  const toState = session?.legs[to] ?? EMPTY_LEG_STATE;
  const toOptions = options.legs[to];

  let offererOutbound: SrtpKeying | null = null;
  if (stream.crypto !== null) offererOutbound = outboundKey(fromState, stream.crypto.keying, randomBytes);

  // SRTP towards the other phone, by its leg's policy.
  let offeredSecureProfile = false;
  let crypto: ChosenCrypto[] = [];
  if (toOptions.srtp !== 'off') {
    if (!toOptions.cryptoAllowed) {
      if (toOptions.srtp === 'required') {
        return failure(new Refusal(`SRTP is required on leg ${to} but its signalling is not TLS: a=crypto would travel in clear (RFC 4568 §8)`, to));
      }
    } else {
      offeredSecureProfile = toOptions.srtp === 'required';
      // RFC 4568 §7.1.1: one line per suite, tags from 1, best suite first.
      crypto = (options.srtpSuites ?? DEFAULT_SUITE_PREFERENCE).map((suite, i) => ({
        tag: i + 1,
        keying: toState.localKeys[suite] ?? generateSrtpKeying(suite, randomBytes),
      }));
    }
  }

  const media: MediaDescription[] = offer.media.map((m, i) =>
    i === stream.index
      ? relayedMedia({
          source: m,
          port: toOptions.port,
          protocol: protocolFor({ secure: offeredSecureProfile, feedback: stream.feedback }),
          formats: stream.formats,
          crypto,
          direction: stream.direction,
        })
      : refusedMedia(m),
  );
  // RFC 3264 §8: a new offer never has fewer m= lines than the previous SDP on that leg.
  const previousMedia = toState.lastSent?.media ?? [];
  for (let i = media.length; i < previousMedia.length; i++) {
    const m = previousMedia[i];
    if (m !== undefined) media.push(refusedMedia(m));
  }
  const sent = withOrigin(
    {
      version: 0,
      sessionName: options.sessionName ?? 'voix',
      connection: connectionFor(toOptions.address),
      bandwidths: offer.bandwidths,
      attributes: forwardedAttributes(offer.attributes, new Set()),
      otherLines: timingLines(offer),
      media,
    },
    toState.lastSent,
    toState.lastSent?.origin ?? freshOrigin(toOptions.address, randomBytes),
  );

  const localKeys: Partial<Record<SrtpSuite, SrtpKeying>> = { ...toState.localKeys };
  for (const c of crypto) localKeys[c.keying.suite] = c.keying;
  const offererPlan: LegMediaPlan = {
    remote: stream.remote,
    srtp: stream.crypto !== null && offererOutbound !== null ? { inbound: stream.crypto.keying, outbound: offererOutbound } : null,
    forward: directionFlags(stream.direction).send,
    clockRates: clockRatesOf(stream.formats),
    direction: stream.direction,
    legacyHold: stream.legacyHold,
    payloadTypes: stream.formats,
  };
  const mediaPlan = byLeg(from, offererPlan, session?.plan[to] ?? UNKNOWN_LEG_PLAN);
  const nextSession: MediaSession = {
    index: stream.index,
    legs: byLeg(from, { ...fromState, lastReceived: offer }, { ...toState, lastSent: sent, localKeys }),
    plan: mediaPlan,
  };
  return {
    ok: true,
    offer: sent,
    pending: {
      from,
      offer,
      sent,
      stream,
      offererOutbound,
      offererOrigin: fromState.lastSent?.origin ?? freshOrigin(options.legs[from].address, randomBytes),
      offeredCrypto: crypto,
      offeredSecureProfile,
      session: nextSession,
    },
    mediaPlan,
    warnings,
  };
}

interface NegotiatedFormat {
  /** As the answerer numbered it: what the offerer sends. */
  readonly answer: PayloadFormat;
  /** As the offerer numbered it: what the answerer sends. */
  readonly offer: PayloadFormat;
}

function negotiatedFormats(m: MediaDescription, offered: readonly PayloadFormat[], leg: LegName, warnings: string[]): NegotiatedFormat[] {
  const { known, unknown } = payloadFormatsOf(m);
  const answered: PayloadFormat[] = [...known];
  for (const text of unknown) {
    // RFC 3264 §6.1 wants an rtpmap for every dynamic type of the answer; a number voix offered is read with the offer's mapping.
    const pt = parsePayloadType(text);
    const same = offered.find((o) => o.payloadType === pt);
    if (same === undefined) warnings.push(`leg ${leg}: answered format ${text} is unknown, ignored`);
    else {
      warnings.push(`leg ${leg}: answered format ${text} has no rtpmap, read as ${same.encodingName}/${same.clockRate}`);
      answered.push(same);
    }
  }
  const out: NegotiatedFormat[] = [];
  for (const f of m.formats) {
    const pt = parsePayloadType(f);
    const a = answered.find((x) => x.payloadType === pt);
    if (a === undefined || out.some((n) => n.answer.payloadType === a.payloadType)) continue;
    const o = offered.find((x) => x.payloadType === a.payloadType && sameCodec(x, a)) ?? offered.find((x) => sameCodec(x, a));
    if (o === undefined) {
      // RFC 3264 §6.1: an answer lists only formats from the offer.
      warnings.push(`leg ${leg}: answered format ${a.payloadType} ${a.encodingName}/${a.clockRate} was not offered, ignored`);
      continue;
    }
    out.push({ answer: a, offer: o });
  }
  return out;
}

/** SRTP terms of the answer to voix's offer (RFC 4568 §7.1.3 for the offerer's side). */
function answeredCrypto(m: MediaDescription, pending: PendingOffer, leg: LegName, warnings: string[]): ChosenCrypto | null | Refusal {
  const lines = attributeValues(m.attributes, 'crypto');
  if (pending.offeredCrypto.length === 0) {
    if (lines.length > 0) warnings.push(`leg ${leg}: a=crypto in an answer to an offer without one, ignored`);
    return null;
  }
  const answeredProfile = classifyProtocol(m.protocol);
  const mustEncrypt = pending.offeredSecureProfile || (typeof answeredProfile !== 'string' && answeredProfile.secure);
  if (lines.length === 0) {
    return mustEncrypt ? new Refusal(`the answer on leg ${leg} has no a=crypto although SRTP is required`, leg) : null;
  }
  const reasons: string[] = [];
  for (const value of lines) {
    const parsed = parseCryptoAttribute(value);
    if (!parsed.ok) {
      reasons.push(parsed.reason);
      continue;
    }
    const ours = pending.offeredCrypto.find((c) => c.tag === parsed.attribute.tag);
    if (ours === undefined) {
      reasons.push(`tag ${parsed.attribute.tag} was not offered`);
      continue;
    }
    const usable = usableKeying(parsed.attribute);
    if (!usable.ok) {
      reasons.push(usable.reason);
      continue;
    }
    // RFC 4568 §7.1.2: the answer keeps the suite of the tag it accepts.
    if (usable.keying.suite !== ours.keying.suite) {
      reasons.push(`tag ${ours.tag} was offered as ${ours.keying.suite}, answered as ${usable.keying.suite}`);
      continue;
    }
    if (lines.length > 1) warnings.push(`leg ${leg}: the answer has ${lines.length} a=crypto lines, tag ${ours.tag} used`);
    return { tag: ours.tag, keying: usable.keying };
  }
  // The phone believes SRTP is on: falling back to plain RTP would only give noise, so refuse.
  return new Refusal(`the answer on leg ${leg} has no usable a=crypto (${reasons.join('; ')})`, leg);
}

/**
 * The phone on the other leg answered `pending`'s offer with `answer`;
 * returns the answer for the offerer, the plan for both legs and the new
 * media session. On failure, the offerer gets the status (and the other
 * phone a BYE, or nothing in a re-INVITE: the previous session stays).
 */
export function relayAnswer(answer: SessionDescription, pending: PendingOffer, options: RelayOptions): RelayAnswerResult {
  const from = pending.from;
  const to = otherLeg(from);
  const warnings: string[] = [];
  const { stream } = pending;
  const m = answer.media[stream.index];
  if (m === undefined) return failure(new Refusal(`the answer has no m= line #${stream.index + 1}`, to));
  if (answer.media.length !== pending.sent.media.length) {
    warnings.push(`leg ${to}: the answer has ${answer.media.length} m= lines for ${pending.sent.media.length} offered (RFC 3264 §6)`);
  }
  if (m.port === 0) return failure(new Refusal(`the phone on leg ${to} refused the audio stream`, to));

  const formats = negotiatedFormats(m, stream.formats, to, warnings);
  if (!formats.some((f) => isVoiceCodec(f.answer))) return failure(new Refusal(`no common codec in the answer on leg ${to}`, to));
  const endpoint = phoneEndpoint(answer, m, to, warnings);
  if (endpoint instanceof Refusal) return failure(endpoint);
  const crypto = answeredCrypto(m, pending, to, warnings);
  if (crypto instanceof Refusal) return failure(crypto);

  // RFC 3264 §6.1: sendonly is answered recvonly or inactive, recvonly sendonly or inactive, inactive inactive.
  const raw = directionWithHold(answer, m, endpoint.legacyHold);
  const answererDirection = intersectDirections(raw, reverseDirection(stream.direction));
  if (answererDirection !== raw) warnings.push(`leg ${to}: answered ${raw} to ${stream.direction}, read as ${answererDirection}`);
  const offererDirection = intersectDirections(stream.direction, reverseDirection(answererDirection));

  const fromOptions = options.legs[from];
  const session = pending.session;
  const fromState = session.legs[from];
  const toState = session.legs[to];
  const answerFormats = formats.map((f) => f.answer);
  const offererCrypto: ChosenCrypto[] =
    stream.crypto !== null && pending.offererOutbound !== null ? [{ tag: stream.crypto.tag, keying: pending.offererOutbound }] : [];
  const media = pending.offer.media.map((om, i) =>
    i === stream.index
      ? relayedMedia({
          source: m,
          port: fromOptions.port,
          // RFC 3264 §6: the answer keeps the offer's transport protocol.
          protocol: om.protocol,
          formats: answerFormats,
          crypto: offererCrypto,
          direction: answererDirection,
        })
      : refusedMedia(om),
  );
  const sent = withOrigin(
    {
      version: 0,
      sessionName: options.sessionName ?? 'voix',
      connection: connectionFor(fromOptions.address),
      bandwidths: answer.bandwidths,
      attributes: forwardedAttributes(answer.attributes, new Set()),
      // RFC 3264 §6: the t= of the answer equals the offer's.
      otherLines: timingLines(pending.offer),
      media,
    },
    fromState.lastSent,
    pending.offererOrigin,
  );

  const offererPlan: LegMediaPlan = {
    remote: stream.remote,
    srtp: stream.crypto !== null && pending.offererOutbound !== null ? { inbound: stream.crypto.keying, outbound: pending.offererOutbound } : null,
    forward: directionFlags(offererDirection).send,
    clockRates: clockRatesOf(answerFormats),
    direction: offererDirection,
    legacyHold: stream.legacyHold,
    payloadTypes: answerFormats,
  };
  const answererOutbound = crypto === null ? null : (pending.offeredCrypto.find((c) => c.tag === crypto.tag)?.keying ?? null);
  const answererFormats = formats.map((f) => f.offer);
  const answererPlan: LegMediaPlan = {
    remote: endpoint.remote,
    srtp: crypto !== null && answererOutbound !== null ? { inbound: crypto.keying, outbound: answererOutbound } : null,
    forward: directionFlags(answererDirection).send,
    clockRates: clockRatesOf(answererFormats),
    direction: answererDirection,
    legacyHold: endpoint.legacyHold,
    payloadTypes: answererFormats,
  };
  const mediaPlan = byLeg(from, offererPlan, answererPlan);

  const fromKeys: Partial<Record<SrtpSuite, SrtpKeying>> = { ...fromState.localKeys };
  if (pending.offererOutbound !== null) fromKeys[pending.offererOutbound.suite] = pending.offererOutbound;
  const nextSession: MediaSession = {
    index: stream.index,
    legs: byLeg(
      from,
      { ...fromState, lastSent: sent, localKeys: fromKeys, remoteKeying: stream.crypto?.keying ?? fromState.remoteKeying },
      { ...toState, lastReceived: answer, remoteKeying: crypto?.keying ?? toState.remoteKeying },
    ),
    plan: mediaPlan,
  };
  return { ok: true, answer: sent, mediaPlan, session: nextSession, warnings };
}
