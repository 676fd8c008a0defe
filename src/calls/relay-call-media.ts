/**
 * CallMedia over the SDP offer/answer functions (src/sdp) and a relay of the
 * media engine: keeps the call's media session between exchanges and
 * reconfigures the relay after each completed one.
 */
import type { MediaPlayout, PlayEndReason, PlaylistItem } from '../media/playout/playout-protocol.js';
import type { PlayoutTracker } from '../media/playout-tracker.js';
import type { AmdSettings } from '../media/answering-machine-detector.js';
import type { AllocatedRelay, LegAmdConfig, LegDtmfConfig, LegName, MediaEngine, RelayStats } from '../rtp/media-protocol.js';
import { answerLocally } from '../sdp/local-answer.js';
import { legConfig, relayAnswer, relayOffer, type LegMediaPlan, type MediaSession, type PendingOffer, type RelayOptions } from '../sdp/offer-answer.js';
import { parseSessionDescription } from '../sdp/parser.js';
import { compareOrigins, type SessionDescription } from '../sdp/session-description.js';
import { serializeSessionDescription } from '../sdp/serializer.js';
import type { CallMedia, LegSignalling, MediaOutcome } from './call-media.js';

function signallingKey(s: LegSignalling): string {
  return `${s.transport}|${s.srtpPolicy}|${s.cryptoAllowed}|${s.sourceAddress}`;
}

/**
 * While voix answers the caller itself (menus, announcements), the caller's
 * leg listens for its keys: RFC 4733 events when its SDP has
 * telephone-event, else tones in its G.711 audio (in-band detection costs
 * CPU on every packet, so only for phones that offered no events).
 */
function callerDtmf(plan: LegMediaPlan, local: { readonly codec: 'PCMU' | 'PCMA'; readonly payloadType: number }): LegDtmfConfig {
  const event = plan.payloadTypes.find((f) => f.encodingName.toLowerCase() === 'telephone-event' && f.clockRate === 8000);
  if (event !== undefined) return { telephoneEvent: event.payloadType, inband: null };
  return { telephoneEvent: null, inband: local.codec, inbandPayloadType: local.payloadType };
}

/** voix's own media endpoint on leg b: its port carries nothing, its SRTP policy is its own (see local-answer.ts). */
const LOCAL_ENDPOINT: LegSignalling = { transport: 'udp', sourceAddress: null, srtpPolicy: 'off', cryptoAllowed: false };

export class RelayCallMedia implements CallMedia {
  private session: MediaSession | null = null;
  /** Initial offers waiting for an answer, one per kind of callee contact (forks may differ in transport). */
  private readonly initialOffers = new Map<string, PendingOffer>();
  private reofferPending: PendingOffer | null = null;
  private callee: LegSignalling | null = null;
  private released: Promise<RelayStats | null> | null = null;
  /** Answering-machine detection on leg a (a call voix placed), from acceptAnswer. */
  private amd: LegAmdConfig | null = null;
  /** voix's own offer to leg a (offerFromVoix), until the answer comes. */
  private localOffer: PendingOffer | null = null;
  /** What voix's own endpoint agreed with the caller after answerLocally. */
  private local: { codec: 'PCMU' | 'PCMA'; payloadType: number; telephoneEvent: number | null } | null = null;

  constructor(
    private readonly engine: MediaEngine,
    private readonly relay: AllocatedRelay,
    /** voix's media address written in SDP. */
    private readonly address: string,
    private readonly caller: LegSignalling,
    /** The players of the media engine, for what voix plays itself (announcements, menus, ringback). */
    private readonly playout: { readonly engine: MediaPlayout; readonly tracker: PlayoutTracker } | null = null,
  ) {}

  private options(callee: LegSignalling): RelayOptions {
    return {
      legs: {
        a: { address: this.address, port: this.relay.a.port, srtp: this.caller.srtpPolicy, cryptoAllowed: this.caller.cryptoAllowed },
        b: { address: this.address, port: this.relay.b.port, srtp: callee.srtpPolicy, cryptoAllowed: callee.cryptoAllowed },
      },
    };
  }

  offerForCallee(offerFromCaller: Buffer, callee: LegSignalling): MediaOutcome {
    const key = signallingKey(callee);
    const known = this.initialOffers.get(key);
    if (known !== undefined) return { ok: true, sdp: Buffer.from(serializeSessionDescription(known.sent)) };
    const parsed = parseSessionDescription(offerFromCaller);
    if (!parsed.ok) return { ok: false, status: parsed.status, reason: parsed.reason };
    const result = this.local !== null && this.session !== null ? this.bridgingOffer(parsed.description, callee, this.local, this.session) : relayOffer(parsed.description, 'a', this.options(callee), null);
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    this.initialOffers.set(key, result.pending);
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.offer)) };
  }

  async answerForCaller(answerFromCallee: Buffer, callee: LegSignalling): Promise<MediaOutcome> {
    const pending = this.initialOffers.get(signallingKey(callee));
    if (pending === undefined) return { ok: false, status: 500, reason: 'no offer was sent to this contact' };
    const parsed = parseSessionDescription(answerFromCallee);
    if (!parsed.ok) return { ok: false, status: 488, reason: parsed.reason };
    const result = relayAnswer(parsed.description, pending, this.options(callee));
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    this.callee = callee;
    const before = this.session;
    if (this.local !== null && before !== null) {
      // Bridged after voix answered the caller itself: the caller never sees this answer, so its leg
      // remembers what it really exchanged (its own offer, voix's local answer) for its next offers.
      const a = { ...result.session.legs.a, lastSent: before.legs.a.lastSent, lastReceived: before.legs.a.lastReceived };
      this.session = { ...result.session, legs: { a, b: result.session.legs.b } };
      this.local = null;
    } else {
      this.session = result.session;
    }
    this.initialOffers.clear();
    await this.apply();
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.answer)) };
  }

  /**
   * After voix answered the caller itself, the offer to a callee (a menu's
   * choice) carries only what the caller already agreed with voix — its
   * codec and telephone-event — so that any answer the callee can give fits
   * the caller's session as it stands, without asking the caller again. The
   * caller's leg keeps its keys (relayOffer reuses them); the callee's leg
   * starts afresh.
   */
  private bridgingOffer(callerOffer: SessionDescription, callee: LegSignalling, local: { readonly payloadType: number; readonly telephoneEvent: number | null }, session: MediaSession): ReturnType<typeof relayOffer> {
    const keep = new Set([String(local.payloadType), ...(local.telephoneEvent !== null ? [String(local.telephoneEvent)] : [])]);
    const restricted: SessionDescription = {
      ...callerOffer,
      media: callerOffer.media.map((m, i) => (i === session.index ? { ...m, formats: m.formats.filter((f) => keep.has(f)) } : m)),
    };
    const fresh = { lastSent: null, lastReceived: null, localKeys: {}, remoteKeying: null };
    return relayOffer(restricted, 'a', this.options(callee), { ...session, legs: { a: session.legs.a, b: fresh } });
  }

  async answerLocally(offerFromCaller: Buffer): Promise<MediaOutcome> {
    const parsed = parseSessionDescription(offerFromCaller);
    if (!parsed.ok) return { ok: false, status: parsed.status, reason: parsed.reason };
    const endpoint = LOCAL_ENDPOINT;
    const result = answerLocally(parsed.description, this.options(endpoint));
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    this.callee = endpoint;
    this.session = result.session;
    this.local = { codec: result.codec, payloadType: result.payloadType, telephoneEvent: result.telephoneEvent };
    await this.apply();
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.answer)) };
  }

  offerFromVoix(): MediaOutcome {
    const address = this.address;
    const family = address.includes(':') ? 'IP6' : 'IP4';
    // voix's endpoint stands on leg b, as in answerLocally; its offer is relayed to leg a like a phone's.
    const own = parseSessionDescription(
      [
        'v=0',
        `o=- 1 1 IN ${family} ${address}`,
        's=voix',
        `c=IN ${family} ${address}`,
        't=0 0',
        `m=audio ${this.relay.b.port} RTP/AVP 0 8 101`,
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
    if (!own.ok) return { ok: false, status: 500, reason: `voix's own offer does not parse: ${own.reason}` };
    const result = relayOffer(own.description, 'b', this.options(LOCAL_ENDPOINT), null);
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    this.localOffer = result.pending;
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.offer)) };
  }

  async acceptAnswer(answer: Buffer, amd: AmdSettings | null = null): Promise<MediaOutcome> {
    const pending = this.localOffer;
    if (pending === null) return { ok: false, status: 500, reason: 'voix made no offer' };
    const parsed = parseSessionDescription(answer);
    if (!parsed.ok) return { ok: false, status: 488, reason: parsed.reason };
    const result = relayAnswer(parsed.description, pending, this.options(LOCAL_ENDPOINT));
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    const formats = result.session.plan.a.payloadTypes;
    const voice = formats.find((f) => (f.encodingName.toUpperCase() === 'PCMU' || f.encodingName.toUpperCase() === 'PCMA') && f.clockRate === 8000);
    if (voice === undefined) return { ok: false, status: 488, reason: 'the answer has neither PCMU nor PCMA, which voix plays prompts in' };
    const event = formats.find((f) => f.encodingName.toLowerCase() === 'telephone-event' && f.clockRate === 8000);
    this.localOffer = null;
    this.callee = LOCAL_ENDPOINT;
    this.session = result.session;
    this.local = { codec: voice.encodingName.toUpperCase() === 'PCMU' ? 'PCMU' : 'PCMA', payloadType: voice.payloadType, telephoneEvent: event?.payloadType ?? null };
    this.amd = amd === null ? null : { ...amd, law: this.local.codec, payloadType: voice.payloadType };
    await this.apply();
    return { ok: true, sdp: answer };
  }

  async play(promptId: string, repeat: number): Promise<boolean> {
    const items: PlaylistItem[] = Array.from({ length: repeat }, () => ({ kind: 'prompt', prompt: promptId }));
    return (await this.playToCaller(items)) === 'completed';
  }

  /**
   * The caller hears `items` instead of the other leg (after answerLocally,
   * or while a transfer rings); resolves when the play ends, and why. A new
   * play replaces the current one.
   */
  async playToCaller(items: readonly PlaylistItem[], onItemEnded?: (item: number) => void): Promise<PlayEndReason> {
    if (this.playout === null || this.local === null || this.released !== null) return 'released';
    const playId = await this.playout.engine.play(this.relay.relayId, 'a', { playlist: items, codec: this.local.codec, payloadType: this.local.payloadType });
    if (onItemEnded !== undefined) this.playout.tracker.onItemEnded(playId, onItemEnded);
    return this.playout.tracker.whenEnded(playId);
  }

  /** Stops what the caller hears from voix; false when nothing played. */
  async stopPlaying(): Promise<boolean> {
    if (this.playout === null || this.released !== null) return false;
    return this.playout.engine.stopPlay(this.relay.relayId, 'a');
  }

  reoffer(from: LegName, offer: Buffer): MediaOutcome {
    if (this.session === null || this.callee === null) return { ok: false, status: 491, reason: 'the call has no media session yet' };
    const parsed = parseSessionDescription(offer);
    if (!parsed.ok) return { ok: false, status: parsed.status, reason: parsed.reason };
    const result = relayOffer(parsed.description, from, this.options(this.callee), this.session);
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    this.reofferPending = result.pending;
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.offer)) };
  }

  async reanswer(from: LegName, answer: Buffer): Promise<MediaOutcome> {
    const pending = this.reofferPending;
    this.reofferPending = null;
    if (pending === null || pending.from !== from || this.callee === null) return { ok: false, status: 500, reason: 'no re-offer pending' };
    const parsed = parseSessionDescription(answer);
    if (!parsed.ok) return { ok: false, status: 488, reason: parsed.reason };
    const result = relayAnswer(parsed.description, pending, this.options(this.callee));
    if (!result.ok) return { ok: false, status: result.status, reason: result.reason };
    this.session = result.session;
    await this.apply();
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.answer)) };
  }

  repeatsLastOffer(from: LegName, offer: Buffer): boolean {
    const last = this.session?.legs[from].lastReceived ?? null;
    if (last === null) return false;
    const parsed = parseSessionDescription(offer);
    // RFC 3264 §8: an offer with the same origin version changes nothing.
    return parsed.ok && compareOrigins(last.origin, parsed.description.origin) === 'unchanged';
  }

  lastSdpTo(to: LegName): Buffer | null {
    const last = this.session?.legs[to].lastSent ?? null;
    return last === null ? null : Buffer.from(serializeSessionDescription(last));
  }

  isSecure(leg: LegName): boolean {
    return this.session !== null && this.session.plan[leg].srtp !== null;
  }

  /** The relay follows the plan of the last completed exchange; latching accepts each phone's SIP address only. */
  private async apply(): Promise<void> {
    const session = this.session;
    const callee = this.callee;
    if (session === null || callee === null || this.released !== null) return;
    const a = legConfig(session.plan.a, this.caller.sourceAddress ?? session.plan.a.remote?.address ?? null);
    if (this.local !== null) {
      // voix itself is the other end: what the caller sends goes nowhere, and leg b (voix's own address in the SDP) stays unconfigured.
      await this.engine.configure(this.relay.relayId, 'a', { ...a, forward: false, dtmf: callerDtmf(session.plan.a, this.local), amd: this.amd });
      return;
    }
    await this.engine.configure(this.relay.relayId, 'a', a);
    await this.engine.configure(this.relay.relayId, 'b', legConfig(session.plan.b, callee.sourceAddress ?? session.plan.b.remote?.address ?? null));
  }

  release(): Promise<RelayStats | null> {
    this.released ??= this.engine.release(this.relay.relayId).then(
      (stats): RelayStats | null => stats,
      () => null,
    );
    return this.released;
  }
}
