/**
 * The call core: turns an authenticated INVITE to an extension into a Call,
 * finds the call of every in-dialog request by voix's tag, and keeps the
 * list of active calls.
 */
import type { CallsConfig, TrunkConfig, VoixConfig } from '../config/types.js';
import type { DirectoryUser } from '../core/users.js';
import type { Logger } from '../log/logger.js';
import { MediaUnavailableError, type LegName } from '../rtp/media-protocol.js';
import { createResponse, newTag } from '../sip/builders.js';
import { parseBoundedInt } from '../sip/grammar.js';
import { Headers, tagOf } from '../sip/headers.js';
import type { SipRequest } from '../sip/message.js';
import type { ServerInviteTransaction } from '../sip/transaction/server-invite-transaction.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/transaction-layer.js';
import type { Flow, MessageSender, TransportProtocol } from '../sip/transport/types.js';
import { isSipUri, isTelUri } from '../sip/uri.js';
import type { CallRouter, CallerIdentity, RouteResult } from '../routing/call-router.js';
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import type { AmdReason, AmdVerdict } from '../media/answering-machine-detector.js';
import type { Clock } from '../util/clock.js';
import { Call, type CallEnding, type CallerLeg, type CallServices } from './call.js';
import { OriginatedCall, type OriginateRequest, type OriginatedCallResult, type OriginatedCallServices } from './originated-call.js';
import type { CallMedia, LegSignalling } from './call-media.js';
import type { CdrStore, EndCause } from './cdr-store.js';

export interface CallCoreOptions {
  readonly transactions: TransactionLayer;
  readonly sender: MessageSender;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: CallsConfig;
  readonly serverHeader: string;
  readonly domain: string;
  localEndpoint(transport: TransportProtocol): { host: string; port: number };
  readonly cdrs: CdrStore | null;
  /** The running configuration (reload replaces it). */
  readonly config: () => VoixConfig;
  /** Decides where each call goes. */
  readonly router: CallRouter;
  /** Allocates the relay of a new call and gives its SDP handling. */
  readonly openMedia: (callId: string, caller: LegSignalling) => Promise<CallMedia>;
  /** An INVITE refused before any call started (the metrics count them by status). */
  readonly onRefused?: (status: number) => void;
}

export interface ActiveCall {
  readonly callId: string;
  readonly caller: string;
  readonly callee: string;
  readonly state: string;
  readonly startedAt: number;
  readonly answeredAt: number | null;
}

function dialogKey(callId: string, localTag: string): string {
  return callId + '\n' + localTag;
}

/** The user part of the Request-URI as received: never unescaped, so the dial rules judge what was sent. */
function dialledNumber(request: SipRequest): string | null {
  const uri = request.uri;
  if (isSipUri(uri)) return uri.user;
  if (isTelUri(uri)) return uri.number;
  return null;
}

function sourceOf(flow: Flow): { address: string; port: number; transport: TransportProtocol } {
  return { address: flow.remoteAddress, port: flow.remotePort, transport: flow.transport };
}

export class CallCore {
  private readonly calls = new Set<Call>();
  /** Calls through each trunk, for its max_calls. */
  private readonly trunkOf = new Map<Call, string>();
  /** Calls voix places itself (the dialer). */
  private readonly originated = new Set<OriginatedCall>();
  private readonly dialogs = new Map<string, { call: Call | OriginatedCall; side: LegName }>();
  private readonly services: CallServices;
  private readonly originatedServices: OriginatedCallServices;

  constructor(private readonly options: CallCoreOptions) {
    this.services = {
      transactions: options.transactions,
      sender: options.sender,
      clock: options.clock,
      logger: options.logger,
      settings: options.settings,
      serverHeader: options.serverHeader,
      domain: options.domain,
      localEndpoint: (t) => options.localEndpoint(t),
      cdrs: options.cdrs,
      registerDialog: (callId, localTag, call, side) => this.dialogs.set(dialogKey(callId, localTag), { call, side }),
      unregisterDialog: (callId, localTag) => this.dialogs.delete(dialogKey(callId, localTag)),
      config: options.config,
      router: options.router,
      onEnded: (call) => {
        this.calls.delete(call);
        this.trunkOf.delete(call);
      },
    };
    this.originatedServices = {
      ...this.services,
      registerDialog: (callId, localTag, call, side) => this.dialogs.set(dialogKey(callId, localTag), { call, side }),
      onEnded: (call) => this.originated.delete(call),
      handOver: (from, leg, media, destination, keyFilter) => this.handOver(from, leg, media, destination, keyFilter),
    };
  }

  /**
   * Places a call from voix itself (the dialer) to `request.target`; resolves
   * when it is over. Without a free media port it fails at once as congestion.
   */
  async originate(request: OriginateRequest): Promise<OriginatedCallResult> {
    let media: CallMedia;
    try {
      media = await this.options.openMedia(request.callId, request.target.signalling);
    } catch (err) {
      if (!(err instanceof MediaUnavailableError)) throw err;
      this.options.logger.warn('no media port free', { callId: request.callId, error: err.message });
      const now = this.options.clock.now();
      return { outcome: 'congestion', status: 503, detail: 'no media port free in voix', answeredAt: null, endedAt: now };
    }
    const call = new OriginatedCall(this.originatedServices, request, media);
    this.originated.add(call);
    call.start();
    return call.result();
  }

  activeCalls(): ActiveCall[] {
    return [...this.calls].map((c) => c.summary());
  }

  /** Calls in progress, campaign calls included. */
  activeCallCount(): number {
    return this.calls.size + this.originated.size;
  }

  /**
   * An answered campaign call goes on to an internal number (a menu, a user,
   * a group) as a Call whose caller is the called party, like a call from
   * the campaign's trunk: it can reach internal numbers only.
   */
  private handOver(from: OriginatedCall, leg: Extract<CallerLeg, { kind: 'placed' }>, media: CallMedia, destination: string, keyFilter: (digit: DtmfDigit, call: Call) => boolean): Promise<CallEnding> | null {
    const trunk = this.options.config().trunks.find((t) => t.name === from.trunk);
    const number = from.calledNumber;
    if (trunk === undefined) return null;
    const call = new Call(this.services, { extension: number, name: number }, { extension: destination, name: destination }, leg, media, from.signalling);
    this.originated.delete(from);
    this.calls.add(call);
    this.trunkOf.set(call, trunk.name);
    call.startPlaced(
      { caller: { kind: 'trunk', trunk, number, name: null }, dialled: destination, callId: leg.callId, source: { address: trunk.host, port: trunk.port, transport: trunk.transport } },
      destination,
      { menu: from.origin, permissionClass: 'internal' },
      keyFilter,
    );
    return call.whenEnded();
  }

  /** Users ringing or in a call now: an agent among them is not free. */
  occupiedUsers(): Set<string> {
    const users = new Set<string>();
    for (const call of this.calls) for (const user of call.occupiedUsers()) users.add(user);
    return users;
  }

  /** Calls `origin` placed that are in progress and hold no user yet (ringing, playing their message, in a menu). */
  placedCallsWithoutUser(origin: string): number {
    let n = 0;
    for (const call of this.originated) if (call.origin === origin) n += 1;
    for (const call of this.calls) if (call.placedBy === origin && call.occupiedUsers().length === 0) n += 1;
    return n;
  }

  /** Calls in progress through a trunk, both ways, the dialer's included. */
  callsThrough(trunk: string): number {
    let n = 0;
    for (const name of this.trunkOf.values()) if (name === trunk) n += 1;
    for (const call of this.originated) if (call.trunk === trunk) n += 1;
    return n;
  }

  private reject(tx: ServerTransaction, request: SipRequest, status: number, reason?: string, extra: Array<readonly [string, string]> = []): void {
    this.options.onRefused?.(status);
    const headers = new Headers();
    for (const [n, v] of extra) headers.append(n, v);
    headers.append('Server', this.options.serverHeader);
    tx.sendResponse(createResponse(request, status, { toTag: newTag(), headers, ...(reason !== undefined ? { reason } : {}) }));
  }

  /** An initial INVITE (no To tag) from an authenticated user. */
  async handleInvite(tx: ServerInviteTransaction, request: SipRequest, flow: Flow, caller: DirectoryUser): Promise<void> {
    const user = this.options.config().users.find((u) => u.extension === caller.extension);
    if (user === undefined) {
      // Removed by a reload between authentication and now.
      this.reject(tx, request, 403);
      return;
    }
    await this.setUp(tx, request, flow, { kind: 'user', user, name: caller.name }, (identity) =>
      this.options.router.route({ caller: identity, dialled: dialledNumber(request), callId: request.callId, source: sourceOf(flow) }),
    );
  }

  /** An initial INVITE from a trunk, identified by its source address. */
  async handleTrunkInvite(tx: ServerInviteTransaction, request: SipRequest, flow: Flow, trunk: TrunkConfig): Promise<void> {
    const fromUri = request.from.uri;
    const number = isSipUri(fromUri) ? (fromUri.user ?? 'anonymous') : isTelUri(fromUri) ? fromUri.number : 'anonymous';
    const toUri = request.to.uri;
    const toUser = isSipUri(toUri) ? toUri.user : isTelUri(toUri) ? toUri.number : null;
    const identity = { kind: 'trunk' as const, trunk, number, name: request.from.displayName };
    if (this.callsThrough(trunk.name) >= trunk.maxCalls) {
      this.options.logger.warn('trunk at its call limit', { callId: request.callId, trunk: trunk.name });
      this.reject(tx, request, 503, 'Trunk Busy', [['Retry-After', '30']]);
      return;
    }
    await this.setUp(tx, request, flow, identity, (caller) =>
      this.options.router.routeInbound({ caller, dialled: dialledNumber(request), callId: request.callId, source: sourceOf(flow) }, toUser),
    );
  }

  private async setUp<C extends CallerIdentity>(tx: ServerInviteTransaction, request: SipRequest, flow: Flow, caller: C, route: (caller: C) => RouteResult): Promise<void> {
    const { settings, logger } = this.options;
    // RFC 4028 §8.1: an interval below our minimum gets 422 with Min-SE.
    const se = request.headers.get('session-expires');
    if (se !== undefined) {
      const seconds = parseBoundedInt(se.split(';')[0] ?? '', 2 ** 31);
      if (seconds !== null && seconds < settings.minSeSeconds) {
        this.reject(tx, request, 422, undefined, [['Min-SE', String(settings.minSeSeconds)]]);
        return;
      }
    }
    const callerParty = caller.kind === 'user' ? { extension: caller.user.extension, name: caller.name } : { extension: caller.number, name: caller.name ?? caller.number };
    const routed = route(caller);
    if (!routed.ok) {
      logger.info('call not routed', { callId: request.callId, caller: callerParty.extension, status: routed.status, why: routed.why });
      this.reject(tx, request, routed.status, routed.reason);
      return;
    }
    if (request.body.length === 0) {
      // voix relays media between the legs: it needs the caller's offer in the INVITE.
      this.reject(tx, request, 488, 'SDP Offer Required', [['Warning', '399 voix "an SDP offer is required in the INVITE"']]);
      return;
    }
    const config = this.options.config();
    const srtpPolicy = caller.kind === 'user' ? caller.user.srtp : caller.trunk.srtp;
    const callerSignalling: LegSignalling = {
      transport: flow.transport,
      // A trunk's media servers are not its SIP server: latch on its SDP address instead.
      sourceAddress: caller.kind === 'user' ? flow.remoteAddress : null,
      srtpPolicy,
      cryptoAllowed: flow.transport === 'tls' || config.security.sdesOverPlaintext,
    };
    let media: CallMedia;
    try {
      media = await this.options.openMedia(request.callId, callerSignalling);
    } catch (err) {
      if (!(err instanceof MediaUnavailableError)) throw err;
      logger.warn('no media port free', { callId: request.callId, error: err.message });
      this.reject(tx, request, 503, 'No Media Port Available', [['Retry-After', '5']]);
      return;
    }
    if (tx.finalResponse !== null) {
      // The caller cancelled while the relay was being set up.
      await media.release();
      return;
    }
    const call = new Call(this.services, callerParty, routed.callee, { kind: 'invite', tx }, media, callerSignalling);
    this.calls.add(call);
    const trunk = caller.kind === 'trunk' ? caller.trunk.name : routed.trunk;
    if (trunk !== null) this.trunkOf.set(call, trunk);
    call.start(routed.hunt, { caller, dialled: dialledNumber(request), callId: request.callId, source: sourceOf(flow) });
  }

  /** A key the media worker heard on a call's leg (RFC 4733 or in-band). */
  onDtmf(callId: string, digit: DtmfDigit, source: string): void {
    for (const call of [...this.calls, ...this.originated]) {
      if (call.callId === callId) {
        call.onDtmf(digit, source);
        return;
      }
    }
  }

  /** The verdict of the answering-machine detection on a call voix placed. */
  onAmd(callId: string, verdict: AmdVerdict, reason: AmdReason): void {
    for (const call of this.originated) {
      if (call.callId === callId) {
        call.onAmd(verdict, reason);
        return;
      }
    }
  }

  /** A request with a To tag. Returns false when it belongs to no dialog voix knows (the caller answers 481). */
  handleInDialog(tx: ServerTransaction, request: SipRequest): boolean {
    const localTag = tagOf(request.to);
    if (localTag === null) return false;
    const found = this.dialogs.get(dialogKey(request.callId, localTag));
    if (found === undefined) return false;
    void found.call.onInDialogRequest(found.side, tx, request).catch((err: unknown) => {
      this.options.logger.error('in-dialog request failed', { callId: request.callId, method: request.method, error: err });
    });
    return true;
  }

  /** An ACK for a 2xx (matched to an Accepted transaction or stray). */
  handleAck(ack: SipRequest, tx: ServerInviteTransaction | null): void {
    if (tx !== null) {
      for (const call of this.calls) if (call.isInviteTransaction(tx)) return call.onCallerAck();
    }
    const localTag = tagOf(ack.to);
    if (localTag === null) return;
    const found = this.dialogs.get(dialogKey(ack.callId, localTag));
    found?.call.onInDialogAck(found.side);
  }

  /** No ACK came for the 2xx voix sent on an INVITE transaction. */
  handleAckTimeout(tx: ServerInviteTransaction): void {
    for (const call of this.calls) if (call.isInviteTransaction(tx)) return call.onCallerAckTimeout();
  }

  /** A CANCEL whose INVITE started a call. Returns false when the INVITE is not a call's. */
  cancel(inviteTx: ServerInviteTransaction): boolean {
    for (const call of this.calls) {
      if (call.isInviteTransaction(inviteTx)) {
        call.cancelByCaller();
        return true;
      }
    }
    return false;
  }

  /** The relays of these calls are gone (a media worker died): the calls end. */
  async mediaLost(callIds: readonly string[]): Promise<void> {
    const lost = new Set(callIds);
    await Promise.all([...this.calls, ...this.originated].filter((c) => lost.has(c.callId)).map((c) => c.hangUp('failed')));
  }

  /** Ends every call (graceful shutdown). */
  async hangUpAll(cause: EndCause): Promise<void> {
    await Promise.all([...this.calls, ...this.originated].map((c) => c.hangUp(cause)));
  }
}
