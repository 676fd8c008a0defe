/**
 * CallMedia over the SDP offer/answer functions (src/sdp) and a relay of the
 * media engine: keeps the call's media session between exchanges and
 * reconfigures the relay after each completed one.
 */
import type { AllocatedRelay, LegName, MediaEngine, RelayStats } from '../rtp/media-protocol.js';
import { legConfig, relayAnswer, relayOffer, type MediaSession, type PendingOffer, type RelayOptions } from '../sdp/offer-answer.js';
import { parseSessionDescription } from '../sdp/parser.js';
import { compareOrigins } from '../sdp/session-description.js';
import { serializeSessionDescription } from '../sdp/serializer.js';
import type { CallMedia, LegSignalling, MediaOutcome } from './call-media.js';

function signallingKey(s: LegSignalling): string {
  return `${s.transport}|${s.srtpPolicy}|${s.cryptoAllowed}|${s.sourceAddress}`;
}

export class RelayCallMedia implements CallMedia {
  private session: MediaSession | null = null;
  /** Initial offers waiting for an answer, one per kind of callee contact (forks may differ in transport). */
  private readonly initialOffers = new Map<string, PendingOffer>();
  private reofferPending: PendingOffer | null = null;
  private callee: LegSignalling | null = null;
  private released: Promise<RelayStats | null> | null = null;

  constructor(
    private readonly engine: MediaEngine,
    private readonly relay: AllocatedRelay,
    /** voix's media address written in SDP. */
    private readonly address: string,
    private readonly caller: LegSignalling,
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
    const result = relayOffer(parsed.description, 'a', this.options(callee), null);
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
    this.session = result.session;
    this.initialOffers.clear();
    await this.apply();
    return { ok: true, sdp: Buffer.from(serializeSessionDescription(result.answer)) };
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
    await this.engine.configure(this.relay.relayId, 'a', legConfig(session.plan.a, this.caller.sourceAddress ?? session.plan.a.remote?.address ?? null));
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
