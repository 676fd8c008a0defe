/**
 * One call through voix as a back-to-back user agent (RFC 3261 §12–§15,
 * RFC 7092): leg A is the caller's INVITE, answered by voix as a UAS; leg B
 * is voix's own INVITE to each registered contact of the callee (parallel
 * forking), the first 2xx winning. Media is anchored in voix's relay and
 * negotiated separately on each leg (CallMedia).
 */
import type { CallsConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { LegName, RelayStats } from '../rtp/media-protocol.js';
import { createCancel, createResponse, newBranch, newCallId, newTag } from '../sip/builders.js';
import { Dialog } from '../sip/dialog.js';
import { parseBoundedInt, paramValue, parseHeaderParams } from '../sip/grammar.js';
import { Headers, tagOf, type NameAddr, type Via } from '../sip/headers.js';
import { SipRequest, type SipResponse } from '../sip/message.js';
import { optionTags } from '../sip/request-checks.js';
import type { ClientInviteTransaction } from '../sip/transaction/client-invite-transaction.js';
import type { ServerInviteTransaction } from '../sip/transaction/server-invite-transaction.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, TransactionLayer } from '../sip/transaction/transaction-layer.js';
import { destinationOfFlow, viaTransport, type Destination, type Flow, type MessageSender, type TransportProtocol } from '../sip/transport/types.js';
import { cloneSipUri } from '../sip/uri.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { CallMedia, LegSignalling } from './call-media.js';
import { answerChallenge, INITIAL_CLIENT_AUTH_STATE, type ClientAuthState } from '../trunks/client-authentication.js';
import type { VoixConfig } from '../config/types.js';
import { menuPromptId } from '../ivr/menu-prompts.js';
import { MenuSession, type MenuTransferOrigin } from '../ivr/menu-session.js';
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import type { PlaylistItem } from '../media/playout/playout-protocol.js';
import { parseSipInfoDtmf } from '../media/dtmf/sip-info.js';
import type { CallRouter, RouteRequest } from '../routing/call-router.js';
import { isAnnouncement, isHuntEnd, isMenuEntry, outcomeOf, type Announcement, type MenuEntry, type Attempt, type CallTarget, type Hunt, type HuntStep, type Party } from './call-target.js';
import type { CdrStore, EndCause, HangupBy } from './cdr-store.js';

export const CALL_ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO';
const SDP = 'application/sdp';

export interface CallServices {
  readonly transactions: TransactionLayer;
  readonly sender: MessageSender;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: CallsConfig;
  readonly serverHeader: string;
  readonly domain: string;
  localEndpoint(transport: TransportProtocol): { host: string; port: number };
  readonly cdrs: CdrStore | null;
  /** Lets in-dialog requests find this call: voix's tag on each leg identifies it. */
  registerDialog(callId: string, localTag: string, call: Call, side: LegName): void;
  unregisterDialog(callId: string, localTag: string): void;
  onEnded(call: Call): void;
  /** For voice menus: their configuration, time conditions, and where their choices lead. */
  readonly config: () => VoixConfig;
  readonly router: CallRouter;
}

export type { Party } from './call-target.js';

/** Attempts one call may go through (forwards, group members): a guard against loops the config checks missed. */
const MAX_ATTEMPTS = 20;

type CallState = 'ringing' | 'answering' | 'answered' | 'confirmed' | 'ended';

/**
 * Leg A of a call: the caller's INVITE, or a call voix placed itself (the
 * campaign dialer) that is handed over once answered, to reach a menu or
 * an agent the way a menu's choice does.
 */
export type CallerLeg =
  | { readonly kind: 'invite'; readonly tx: ServerInviteTransaction }
  | {
      readonly kind: 'placed';
      readonly callId: string;
      /** voix's tag in the dialog it established as UAC. */
      readonly localTag: string;
      readonly dialog: Dialog;
      readonly destination: Destination;
      /** The called party's SDP (its answer): what the offers to the next callee are cut from. */
      readonly sdp: Buffer;
      readonly cdrId: number | null;
      readonly answeredAt: number;
    };

/** How a call ended, for whoever waits for it (a handed-over campaign call). */
export interface CallEnding {
  readonly status: number;
  readonly cause: EndCause;
  readonly by: HangupBy;
}

type ForkState = 'calling' | 'early' | 'answered' | 'failed';

interface Fork {
  readonly target: CallTarget;
  readonly destination: Destination;
  /** Which attempt of the hunt sent it. */
  readonly attempt: number;
  /** The latest INVITE: a challenged one is sent again with credentials. */
  invite: SipRequest;
  /** What answering the provider's challenges of this INVITE taught (client-authentication.ts). */
  auth: ClientAuthState;
  tx: ClientInviteTransaction | null;
  state: ForkState;
  provisional: boolean;
  cancelWanted: boolean;
  cancelled: boolean;
  dialog: Dialog | null;
  /** ACK sent for its 2xx, re-sent on 2xx retransmissions (§13.2.2.4). */
  ack: SipRequest | null;
  final: number | null;
  readonly signalling: LegSignalling;
}

/** RFC 4028 session timer on one leg. */
interface SessionTimer {
  intervalSeconds: number;
  /** Whether voix refreshes (else the phone does and voix watches). */
  voixRefreshes: boolean;
  timer: TimerHandle | undefined;
}

interface PendingReoffer {
  readonly from: LegName;
  /** The request being answered: a re-INVITE or UPDATE server transaction. */
  readonly serverTx: ServerTransaction;
  readonly request: SipRequest;
}

function headersOf(list: ReadonlyArray<readonly [string, string]>): Headers {
  const h = new Headers();
  for (const [n, v] of list) h.append(n, v);
  return h;
}

function sdpBody(message: SipRequest | SipResponse): Buffer | null {
  if (message.body.length === 0) return null;
  const type = message.headers.get('content-type');
  return type !== undefined && type.split(';')[0]?.trim().toLowerCase() === SDP ? message.body : null;
}

function sessionExpiresOf(message: SipRequest | SipResponse): { seconds: number; refresher: 'uac' | 'uas' | null } | null {
  const value = message.headers.get('session-expires');
  if (value === undefined) return null;
  const semi = value.indexOf(';');
  const seconds = parseBoundedInt(semi === -1 ? value : value.slice(0, semi), 2 ** 31);
  if (seconds === null) return null;
  const params = semi === -1 ? [] : (parseHeaderParams(value, semi)?.params ?? []);
  const refresher = paramValue(params, 'refresher');
  return { seconds, refresher: refresher === 'uac' || refresher === 'uas' ? refresher : null };
}

/**
 * RFC 3261 §16.7 item 6, adapted to a B2BUA: the answer the caller gets
 * when every contact failed.
 */
export function selectFailure(statuses: readonly number[]): number {
  if (statuses.some((s) => s >= 600)) return statuses.find((s) => s >= 600) ?? 603;
  if (statuses.includes(486)) return 486;
  if (statuses.includes(488)) return 488;
  if (statuses.includes(603)) return 603;
  return 480;
}

function causeOf(status: number): EndCause {
  if (status === 486 || status === 600) return 'busy';
  if (status === 404 || status === 604) return 'not-found';
  if (status === 487) return 'cancelled';
  if (status === 488 || status === 606) return 'media-refused';
  if (status === 603) return 'rejected';
  if (status === 480 || status === 408) return 'unavailable';
  return 'failed';
}

export class Call {
  private state: CallState = 'ringing';
  readonly startedAt: number;
  private answeredAt: number | null = null;
  private cdrId: number | null = null;
  private readonly aTag: string;
  private aDialog: Dialog | null = null;
  private readonly aDestination: Destination;
  private readonly forks: Fork[] = [];
  private winner: Fork | null = null;
  private ringTimer: TimerHandle | undefined;
  private sentRinging = false;
  private hunt: Hunt | null = null;
  /** How the caller was routed: a menu's choices are routed the same way. */
  private routeRequest: RouteRequest | null = null;
  /** voix answered the caller itself (announcement, menu): its SDP answer stands, whatever comes next. */
  private localAnswered = false;
  /** A hunt runs while the caller is already answered (a menu's choice); the caller hears ringback from voix. */
  private transferring = false;
  private menu: MenuSession | null = null;
  private attempt = 0;
  /** CSeq of voix's INVITEs on leg B: each attempt, and each re-sent INVITE, takes the next one (RFC 3261 §8.1.3.5). */
  private bCseq = 0;
  private readonly bCallId = newCallId();
  private readonly bTag = newTag();
  private reoffer: PendingReoffer | null = null;
  private readonly sessionTimers: Record<LegName, SessionTimer | null> = { a: null, b: null };
  private readonly log: Logger;
  private ending = false;
  private resolveEnded: (ending: CallEnding) => void = () => undefined;
  private readonly ended = new Promise<CallEnding>((resolve) => (this.resolveEnded = resolve));
  /** Keys taken before the menu sees them (a handed-over campaign call's opt-out key): true when taken. */
  private keyFilter: ((digit: DtmfDigit, call: Call) => boolean) | null = null;
  /** For a call voix placed: who placed it ("campaign relance"). */
  private placedByOrigin: string | null = null;

  constructor(
    private readonly services: CallServices,
    readonly caller: Party,
    readonly callee: Party,
    private readonly leg: CallerLeg,
    private readonly media: CallMedia,
    private readonly callerSignalling: LegSignalling,
  ) {
    this.startedAt = services.clock.now();
    this.aTag = leg.kind === 'placed' ? leg.localTag : newTag();
    this.aDestination = leg.kind === 'placed' ? leg.destination : destinationOfFlow(leg.tx.flow);
    this.log = services.logger.child({ callId: this.callId, caller: caller.extension, callee: callee.extension });
  }

  get callId(): string {
    return this.leg.kind === 'placed' ? this.leg.callId : this.leg.tx.request.callId;
  }

  /** Resolves when the call is over. */
  whenEnded(): Promise<CallEnding> {
    return this.ended;
  }

  /** The caller's SDP offer (or, for a placed call, the called party's SDP). */
  private callerSdp(): Buffer | null {
    return this.leg.kind === 'placed' ? this.leg.sdp : sdpBody(this.leg.tx.request);
  }

  get isEnded(): boolean {
    return this.state === 'ended';
  }

  get isAnswered(): boolean {
    return this.state === 'answered' || this.state === 'confirmed';
  }

  /** Whether the INVITE that started the call is the one a CANCEL targets. */
  isInviteTransaction(tx: ServerInviteTransaction): boolean {
    return this.leg.kind === 'invite' && tx === this.leg.tx;
  }

  /** Who placed this call ("campaign relance"), or null for a call a caller made. */
  get placedBy(): string | null {
    return this.placedByOrigin;
  }

  /** The users this call occupies: the caller if a user, and every user its forks ring or reached (agents, for progressive campaigns). */
  occupiedUsers(): string[] {
    if (this.state === 'ended') return [];
    const users = this.leg.kind === 'invite' ? [this.caller.extension] : [];
    for (const fork of this.forks) {
      if (fork.state === 'failed' || fork.target.trunk !== null) continue;
      if (fork.target.to.uri.user !== null) users.push(fork.target.to.uri.user);
    }
    return users;
  }

  summary(): { callId: string; caller: string; callee: string; state: string; startedAt: number; answeredAt: number | null } {
    return { callId: this.callId, caller: this.caller.extension, callee: this.callee.extension, state: this.state, startedAt: this.startedAt, answeredAt: this.answeredAt };
  }

  // ---------------------------------------------------------------------------
  // Leg A: the caller.

  /** Starts the call: the hunt says what to ring first, and what next when that fails. */
  start(hunt: Hunt, routeRequest: RouteRequest): void {
    this.routeRequest = routeRequest;
    this.cdrId =
      this.services.cdrs?.start({
        callId: this.callId,
        caller: this.caller.extension,
        callee: this.callee.extension,
        callerTransport: this.callerSignalling.transport,
        startedAt: this.startedAt,
        srtpCaller: false,
      }) ?? null;
    this.services.registerDialog(this.callId, this.aTag, this, 'a');
    this.services.registerDialog(this.bCallId, this.bTag, this, 'b');
    this.respondToCaller(100);
    this.hunt = hunt;
    this.runStep(hunt.first());
  }

  /**
   * Takes over a call voix placed and the called party answered (leg A is
   * already confirmed, its media answered by voix): it goes to `destination`
   * — a menu, a user, a group — as a menu's choice does, the called party
   * hearing ringback while it rings. `keyFilter` sees each key first.
   */
  startPlaced(routeRequest: RouteRequest, destination: string, origin: { readonly menu: string; readonly permissionClass: string }, keyFilter: (digit: DtmfDigit, call: Call) => boolean): void {
    if (this.leg.kind !== 'placed') throw new Error('startPlaced is for a call voix placed');
    this.routeRequest = routeRequest;
    this.cdrId = this.leg.cdrId;
    this.answeredAt = this.leg.answeredAt;
    this.aDialog = this.leg.dialog;
    this.state = 'confirmed';
    this.localAnswered = true;
    this.keyFilter = keyFilter;
    this.placedByOrigin = origin.menu;
    this.services.registerDialog(this.callId, this.aTag, this, 'a');
    this.services.registerDialog(this.bCallId, this.bTag, this, 'b');
    this.transferFromMenu(destination, 'campaign', origin);
  }

  /** voix ends the call with a last announcement to leg A (a campaign's opt-out confirmation): nothing else plays, then BYE. */
  async endWithAnnouncement(items: readonly PlaylistItem[]): Promise<void> {
    if (this.state === 'ended') return;
    this.menu?.stop();
    this.menu = null;
    this.transferring = false;
    this.services.clock.clearTimer(this.ringTimer);
    for (const fork of this.forks) if (fork !== this.winner) this.cancelFork(fork);
    await this.media.playToCaller(items);
    // The other side may have hung up while it played.
    if (this.isEnded) return;
    this.sendBye('a');
    this.sendBye('b');
    await this.finish(200, 'normal', 'voix');
  }

  /** Whether the call is looking for someone to answer: ringing, or transferring after voix answered. */
  private hunting(): boolean {
    return this.state === 'ringing' || (this.transferring && (this.state === 'answered' || this.state === 'confirmed'));
  }

  private runStep(step: HuntStep): void {
    if (!this.hunting()) return;
    if (isHuntEnd(step)) {
      if (this.transferring) void this.endTransfer(step.status, step.why);
      else void this.fail(step.status, step.why, step.reason);
      return;
    }
    if (isAnnouncement(step)) {
      void this.announce(step);
      return;
    }
    if (isMenuEntry(step)) {
      void this.enterMenu(step);
      return;
    }
    if (this.attempt >= MAX_ATTEMPTS) {
      void this.fail(482, 'too many forwards', 'Loop Detected');
      return;
    }
    this.runAttempt(step);
  }

  private runAttempt(attempt: Attempt): void {
    this.attempt += 1;
    this.log.info('ringing', { attempt: this.attempt, target: attempt.label, contacts: attempt.targets.length });
    const offer = this.callerSdp();
    const failures: number[] = [];
    let sent = 0;
    for (const target of attempt.targets) {
      const offerForB = offer === null ? null : this.media.offerForCallee(offer, target.signalling);
      if (offerForB !== null && !offerForB.ok) {
        this.log.info('contact skipped', { contact: target.label, status: offerForB.status, reason: offerForB.reason });
        failures.push(offerForB.status);
        continue;
      }
      this.forks.push(this.sendInvite(target, offerForB?.sdp ?? null));
      sent += 1;
    }
    if (sent === 0) {
      // Not registered, or no contact could take the media: 480 unless a contact said why.
      this.attemptFailed(selectFailure(failures));
      return;
    }
    const seconds = attempt.ringSeconds ?? this.services.settings.ringTimeoutSeconds;
    this.ringTimer = this.services.clock.setTimer(seconds * 1000, () => this.onRingTimeout());
  }

  /**
   * voix answers the caller itself and plays an announcement, then hangs up
   * (a message destination). The caller's leg is negotiated like any call's
   * (CallMedia.answerLocally); a CANCEL before the answer still wins.
   */
  private async announce(step: Announcement): Promise<void> {
    this.log.info('announcement', { message: step.label });
    this.transferring = false;
    if (!this.localAnswered && !(await this.answerItself())) return;
    const playedToTheEnd = await this.media.play(step.promptId, step.repeat);
    if (!playedToTheEnd || this.ending) return;
    this.log.info('announcement played', { message: step.label });
    this.sendBye('a');
    await this.finish(200, 'normal', 'voix');
  }

  /**
   * voix answers the caller's INVITE itself (RFC 3264 answer from its own
   * G.711 endpoint). False when the call ended or failed instead.
   */
  private async answerItself(): Promise<boolean> {
    const offer = this.callerSdp();
    if (offer === null) {
      await this.fail(488, 'voix needs the caller’s SDP offer to answer itself');
      return false;
    }
    this.state = 'answering';
    const outcome = await this.media.answerLocally(offer);
    if (this.state !== 'answering') return false; // the caller went away meanwhile
    if (!outcome.ok) {
      this.state = 'ringing';
      await this.fail(outcome.status, outcome.reason);
      return false;
    }
    this.state = 'answered';
    this.localAnswered = true;
    this.answeredAt = this.services.clock.now();
    this.respondToCaller(200, { body: outcome.sdp, headers: this.sessionTimerHeadersForA() });
    if (this.cdrId !== null) {
      this.services.cdrs?.answered(this.cdrId, this.answeredAt, this.callerSignalling.transport, { caller: this.media.isSecure('a'), callee: false });
    }
    this.armSessionTimer('a');
    return true;
  }

  /** A voice menu (src/ivr/menu-session.ts) takes the caller: keys choose, its choices start new hunts. */
  private async enterMenu(step: MenuEntry): Promise<void> {
    this.transferring = false;
    if (!this.localAnswered && !(await this.answerItself())) return;
    const config = this.services.config();
    const router = this.services.router;
    this.menu?.stop();
    const session: MenuSession = new MenuSession({
      menus: new Map(config.menus.map((m) => [m.number, m])),
      entryMenu: step.menu,
      isOpen: (condition) => router.isOpen(condition),
      directNumbers: router.internalNumbers(config),
      clock: this.services.clock,
      actions: {
        play: (prompts) => {
          const ids = prompts.map(menuPromptId);
          this.log.debug('menu play', { prompts: ids });
          void this.media.playToCaller(ids.map((prompt) => ({ kind: 'prompt', prompt }))).then((reason) => {
            this.log.debug('menu play ended', { prompts: ids, reason });
            // Only a play that ran to its end starts the menu's key timeout (a stopped or replaced one does not).
            if (reason === 'completed' && this.menu === session) session.onPlaybackEnded();
          });
        },
        stopPlaying: () => void this.media.stopPlaying(),
        transfer: (destination, reason, origin) => {
          this.menu = null;
          this.transferFromMenu(destination, reason, origin);
        },
        hangUp: (reason) => {
          this.menu = null;
          this.log.info('menu hang-up', { reason });
          this.sendBye('a');
          void this.finish(200, 'normal', 'voix');
        },
        log: (event, fields) => this.log.info(event, fields),
      },
    });
    this.menu = session;
    session.start();
  }

  /** A key from the caller: RFC 4733 or in-band (from the media worker) or SIP INFO. */
  onDtmf(digit: DtmfDigit, source: string): void {
    if (this.state === 'ended') return;
    this.log.debug('dtmf', { digit, source });
    if (this.keyFilter?.(digit, this) === true) return;
    this.menu?.onDigit(digit);
  }

  /** A menu's choice: a new hunt while the caller stays answered and hears ringback. */
  private transferFromMenu(destination: string, reason: string, origin: Pick<MenuTransferOrigin, 'menu' | 'permissionClass'>): void {
    const request = this.routeRequest;
    if (request === null || this.state === 'ended') return;
    const routed = this.services.router.routeFromMenu(request, destination, origin.permissionClass);
    if (!routed.ok) {
      void this.endTransfer(routed.status, routed.why);
      return;
    }
    this.log.info('transfer routed', { destination, reason, menu: origin.menu });
    this.hunt = routed.hunt;
    this.transferring = true;
    const first = routed.hunt.first();
    // voix rings on the caller's behalf: the caller hears French ringback until someone answers.
    if (!isAnnouncement(first) && !isMenuEntry(first) && !isHuntEnd(first)) void this.media.playToCaller([{ kind: 'tone', tone: 'ringback', ms: null }]);
    this.runStep(first);
  }

  /** A transfer found nobody: the caller, already answered by voix, is hung up (with the reason in the log and CDR). */
  private async endTransfer(status: number, why: string): Promise<void> {
    if (this.state === 'ended') return;
    this.transferring = false;
    this.log.info('transfer failed', { status, why });
    this.sendBye('a');
    await this.finish(status, causeOf(status), 'callee');
  }

  /** The current attempt is over without an answer: what the hunt does next. */
  private attemptFailed(status: number): void {
    if (!this.hunting() || this.hunt === null) return;
    this.services.clock.clearTimer(this.ringTimer);
    for (const fork of this.forks) if (fork.attempt === this.attempt) this.cancelFork(fork);
    this.runStep(this.hunt.next(outcomeOf(status), status));
  }

  private respondToCaller(status: number, options: { headers?: Array<readonly [string, string]>; body?: Buffer | null; reason?: string } = {}): void {
    const headers = headersOf(options.headers ?? []);
    if (status > 100 && status < 300) {
      headers.append('Contact', this.contactFor(this.callerSignalling.transport, this.callee.extension));
      headers.append('Allow', CALL_ALLOW);
    }
    headers.append('Server', this.services.serverHeader);
    if (options.body !== undefined && options.body !== null) headers.append('Content-Type', SDP);
    // A placed call's leg A was answered by the called party: voix never responds on it.
    if (this.leg.kind !== 'invite') return;
    const request = this.leg.tx.request;
    const response = createResponse(request, status, {
      toTag: this.aTag,
      headers,
      ...(options.body !== undefined && options.body !== null ? { body: options.body } : {}),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    });
    if (status > 100 && status < 300 && this.aDialog === null) {
      this.aDialog = Dialog.forUas(request, this.aTag, status >= 200 ? 'confirmed' : 'early');
    } else if (status >= 200 && status < 300 && this.aDialog !== null) {
      this.aDialog.state = 'confirmed';
    }
    this.leg.tx.sendResponse(response);
  }

  /** The caller cancelled (RFC 3261 §9.2): 487 to the INVITE, CANCEL to every contact. */
  cancelByCaller(): void {
    if (this.state !== 'ringing' && this.state !== 'answering') return;
    this.log.info('call cancelled by caller');
    this.respondToCaller(487);
    // A callee that answered while the CANCEL was on its way is hung up (RFC 3261 §9.1).
    if (this.winner !== null) this.byeFork(this.winner);
    void this.finish(487, 'cancelled', 'caller');
  }

  /** ACK for voix's 2xx on leg A. */
  onCallerAck(): void {
    if (this.state === 'answered') {
      this.state = 'confirmed';
      this.log.debug('call confirmed');
    }
  }

  /** No ACK for voix's 2xx within 64*T1 (RFC 3261 §13.3.1.4): the call is torn down. */
  onCallerAckTimeout(): void {
    if (this.state === 'ended') return;
    this.log.warn('no ACK from caller: ending the call');
    this.sendBye('a');
    this.sendBye('b');
    void this.finish(200, 'ack-timeout', 'voix');
  }

  private onRingTimeout(): void {
    if (!this.hunting()) return;
    this.log.info('no answer before the ring timeout', { attempt: this.attempt });
    this.attemptFailed(408);
  }

  /** Fails the call before any answer: final response to the caller, cleanup. */
  private async fail(status: number, why: string, reason?: string): Promise<void> {
    if (this.state !== 'ringing') return;
    this.log.info('call failed', { status, why });
    this.respondToCaller(status, reason !== undefined ? { reason } : {});
    // A hunt that ran out of time ends in 480 No Answer: voix gave up, not the callee.
    const noAnswer = status === 480 && reason === 'No Answer';
    await this.finish(status, noAnswer ? 'no-answer' : causeOf(status), noAnswer ? 'voix' : 'callee');
  }

  // ---------------------------------------------------------------------------
  // Leg B: voix's INVITE to each contact.

  private via(transport: TransportProtocol): Via {
    const local = this.services.localEndpoint(transport);
    return { protocol: 'SIP/2.0', transport: viaTransport(transport), host: local.host, port: local.port, params: [{ name: 'rport', value: null }] };
  }

  private contactFor(transport: TransportProtocol, user: string): string {
    const local = this.services.localEndpoint(transport);
    return `<sip:${user}@${local.host}:${local.port};transport=${transport}>`;
  }

  private sendInvite(target: CallTarget, sdp: Buffer | null): Fork {
    const from: NameAddr = { displayName: target.from.displayName, uri: cloneSipUri(target.from.uri), params: [{ name: 'tag', value: this.bTag }] };
    const to: NameAddr = { displayName: target.to.displayName, uri: cloneSipUri(target.to.uri), params: [] };
    const headers = new Headers();
    // RFC 3327: a registration that came through a proxy is reached through it.
    for (const p of target.route) headers.append('Route', p);
    headers.append('Contact', this.contactFor(target.destination.transport, target.contactUser));
    headers.append('Allow', CALL_ALLOW);
    headers.append('Supported', 'timer');
    headers.append('Session-Expires', String(this.services.settings.sessionExpiresSeconds));
    headers.append('Min-SE', String(this.services.settings.minSeSeconds));
    headers.append('User-Agent', this.services.serverHeader);
    for (const [name, value] of target.extraHeaders) headers.append(name, value);
    if (sdp !== null) headers.append('Content-Type', SDP);
    const via = this.via(target.destination.transport);
    via.params.push({ name: 'branch', value: newBranch() });
    const maxForwards = Math.max(0, ((this.leg.kind === 'invite' ? this.leg.tx.request.maxForwards : null) ?? 70) - 1);
    this.bCseq += 1;
    const invite = new SipRequest('INVITE', cloneSipUri(target.requestUri), {
      via: [via],
      from,
      to,
      callId: this.bCallId,
      cseq: { seq: this.bCseq, method: 'INVITE' },
      maxForwards,
      headers,
      ...(sdp !== null ? { body: sdp } : {}),
    });
    const fork: Fork = {
      target,
      destination: target.destination,
      attempt: this.attempt,
      invite,
      auth: INITIAL_CLIENT_AUTH_STATE,
      tx: null,
      state: 'calling',
      provisional: false,
      cancelWanted: false,
      cancelled: false,
      dialog: null,
      ack: null,
      final: null,
      signalling: target.signalling,
    };
    this.sendForkInvite(fork);
    this.log.debug('ringing contact', { contact: target.label, transport: target.destination.transport });
    return fork;
  }

  private sendForkInvite(fork: Fork): void {
    const user: ClientTransactionUser = {
      onResponse: (tx, response) => {
        // Responses to an INVITE that was replaced by its authenticated copy are old news.
        if (tx === fork.tx) void this.onForkResponse(fork, response);
      },
      onTimeout: (tx) => {
        if (tx === fork.tx) this.onForkFailed(fork, 408);
      },
      onTransportError: (tx) => {
        if (tx === fork.tx) this.onForkFailed(fork, 503);
      },
    };
    fork.tx = this.services.transactions.sendRequest(fork.invite, fork.destination, user) as ClientInviteTransaction;
  }

  /**
   * A provider's 401/407 (RFC 3261 §22.2): the same INVITE again with
   * credentials, a new branch and the next CSeq. False when there is nothing
   * to answer with or it was already tried.
   */
  private retryWithCredentials(fork: Fork, response: SipResponse): boolean {
    const credentials = fork.target.credentials;
    if (credentials === null || fork.cancelWanted || !this.hunting()) return false;
    const answer = answerChallenge({
      request: fork.invite,
      response,
      credentials: { username: credentials.username, secret: { password: credentials.password } },
      state: fork.auth,
    });
    if (!answer.ok) {
      this.log.warn('provider refused the credentials', { contact: fork.target.label, status: response.status, reason: answer.reason, realm: answer.realm ?? null });
      return false;
    }
    fork.auth = answer.state;
    fork.invite = answer.request;
    this.bCseq = Math.max(this.bCseq, answer.request.cseq.seq);
    fork.provisional = false;
    this.log.debug('INVITE sent again with credentials', { contact: fork.target.label, status: response.status });
    this.sendForkInvite(fork);
    return true;
  }

  /** RFC 3261 §9.1: CANCEL only once a provisional response arrived; until then, remember to. */
  private cancelFork(fork: Fork): void {
    if (fork.state === 'failed' || fork.state === 'answered' || fork.cancelled) return;
    fork.cancelWanted = true;
    if (!fork.provisional) return;
    fork.cancelled = true;
    const cancel = createCancel(fork.invite);
    this.services.transactions.sendRequest(cancel, fork.destination, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    // RFC 3261 §9.1: no final response 64*T1 after the CANCEL: the INVITE transaction is given up.
    const tx = fork.tx;
    this.services.clock.setTimer(32_000, () => {
      if (fork.state !== 'answered' && fork.state !== 'failed') {
        fork.state = 'failed';
        tx?.terminate();
      }
    });
  }

  private async onForkResponse(fork: Fork, response: SipResponse): Promise<void> {
    const status = response.status;
    if (status < 200) {
      if (status === 100) return;
      fork.provisional = true;
      if (fork.cancelWanted) {
        this.cancelFork(fork);
        return;
      }
      if (fork.state === 'calling') fork.state = 'early';
      if (this.state !== 'ringing') return;
      if (!this.sentRinging && (status === 180 || status === 183)) {
        this.sentRinging = true;
        // voix plays no early media yet: the caller's phone rings locally.
        this.respondToCaller(180);
      }
      return;
    }
    if (status >= 300) {
      if ((status === 401 || status === 407) && this.retryWithCredentials(fork, response)) return;
      this.onForkFailed(fork, status);
      return;
    }
    await this.onFork2xx(fork, response);
  }

  private ackFor(fork: Fork, response: SipResponse): SipRequest | null {
    if (fork.dialog === null) fork.dialog = Dialog.forUac(fork.invite, response);
    if (fork.dialog === null) return null;
    fork.dialog.state = 'confirmed';
    fork.ack ??= fork.dialog.createAck(fork.invite.cseq.seq, this.via(fork.destination.transport));
    return fork.ack;
  }

  private async onFork2xx(fork: Fork, response: SipResponse): Promise<void> {
    const ack = this.ackFor(fork, response);
    if (ack === null) {
      this.log.warn('2xx without To tag from contact', { contact: fork.target.label });
      return;
    }
    // Every 2xx, retransmissions included, gets its ACK (RFC 3261 §13.2.2.4).
    this.services.sender.send(ack, fork.destination);
    if (fork.state === 'answered') return;
    if (!this.hunting() || this.winner !== null) {
      // CANCEL/2xx race, or another contact answered first: acknowledge, then hang up (§9.1, §13.2.2.4).
      fork.state = 'answered';
      this.byeFork(fork);
      return;
    }
    if (this.transferring) {
      await this.bridge(fork, response);
      return;
    }
    fork.state = 'answered';
    this.winner = fork;
    this.state = 'answering';
    this.services.clock.clearTimer(this.ringTimer);
    for (const other of this.forks) if (other !== fork) this.cancelFork(other);
    this.negotiateSessionTimerB(response);

    const answer = sdpBody(response);
    let sdpForA: Buffer | null = null;
    if (answer !== null) {
      const outcome = await this.media.answerForCaller(answer, fork.signalling);
      if (!outcome.ok) {
        this.log.warn('answer from callee unusable', { status: outcome.status, reason: outcome.reason });
        this.byeFork(fork);
        this.state = 'ringing';
        await this.fail(outcome.status, outcome.reason);
        return;
      }
      sdpForA = outcome.sdp;
    }
    if (this.state !== 'answering') return; // the caller went away meanwhile
    this.state = 'answered';
    this.answeredAt = this.services.clock.now();
    const headers = this.sessionTimerHeadersForA();
    this.respondToCaller(200, { body: sdpForA, headers });
    if (this.cdrId !== null) {
      this.services.cdrs?.answered(this.cdrId, this.answeredAt, fork.destination.transport, { caller: this.media.isSecure('a'), callee: this.media.isSecure('b') });
    }
    this.log.info('call answered', { contact: fork.target.label, transport: fork.destination.transport, srtpCaller: this.media.isSecure('a'), srtpCallee: this.media.isSecure('b') });
    this.armSessionTimer('a');
    this.armSessionTimer('b');
  }

  /**
   * The callee of a menu's choice answered: the caller, answered by voix
   * long ago, is connected to it. The caller's SDP stands (the offer to the
   * callee only had the codec voix agreed with the caller), so nothing is
   * renegotiated with the caller; the relay joins the two legs.
   */
  private async bridge(fork: Fork, response: SipResponse): Promise<void> {
    fork.state = 'answered';
    this.winner = fork;
    this.transferring = false;
    this.services.clock.clearTimer(this.ringTimer);
    for (const other of this.forks) if (other !== fork) this.cancelFork(other);
    this.negotiateSessionTimerB(response);
    await this.media.stopPlaying();
    const answer = sdpBody(response);
    const outcome = answer === null ? null : await this.media.answerForCaller(answer, fork.signalling);
    if (outcome === null || !outcome.ok) {
      this.log.warn('answer from callee unusable after a menu', { reason: outcome === null ? 'no SDP in the 2xx' : outcome.reason });
      this.byeFork(fork);
      this.sendBye('a');
      await this.finish(488, 'media-refused', 'voix');
      return;
    }
    this.log.info('call transferred', { contact: fork.target.label, transport: fork.destination.transport, srtpCallee: this.media.isSecure('b') });
    this.armSessionTimer('b');
  }

  private onForkFailed(fork: Fork, status: number): void {
    if (fork.state === 'failed' || fork.state === 'answered') return;
    fork.state = 'failed';
    fork.final = status;
    if (!this.hunting() || fork.attempt !== this.attempt) return;
    const current = this.forks.filter((f) => f.attempt === this.attempt);
    if (current.every((f) => f.state === 'failed')) this.attemptFailed(selectFailure(current.map((f) => f.final ?? 480)));
  }

  private byeFork(fork: Fork): void {
    if (fork.dialog === null) return;
    const bye = fork.dialog.createRequest('BYE', this.via(fork.destination.transport));
    this.services.transactions.sendRequest(bye, fork.destination, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
  }

  // ---------------------------------------------------------------------------
  // In-dialog requests.

  /** A request received in one of the call's dialogs (not ACK, not CANCEL). */
  async onInDialogRequest(side: LegName, tx: ServerTransaction, request: SipRequest): Promise<void> {
    const dialog = side === 'a' ? this.aDialog : (this.winner?.dialog ?? null);
    // voix's tag names the call; the phone's tag must name this dialog too (a losing fork's is another one).
    if (dialog === null || this.state === 'ended' || tagOf(request.from) !== dialog.remoteTag) {
      this.respondIn(tx, request, 481);
      return;
    }
    const check = dialog.checkIncoming(request);
    if (!check.ok) {
      this.respondIn(tx, request, check.status, [], null, check.reason);
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.respondIn(tx, request, 200);
        this.log.info('hang-up', { by: side === 'a' ? 'caller' : 'callee' });
        this.sendBye(side === 'a' ? 'b' : 'a');
        await this.finish(200, 'normal', side === 'a' ? 'caller' : 'callee');
        return;
      case 'INVITE':
      case 'UPDATE':
        await this.onReoffer(side, tx, request);
        return;
      case 'OPTIONS':
        this.respondIn(tx, request, 200, [['Allow', CALL_ALLOW]]);
        return;
      case 'INFO': {
        // RFC 6086 with the de facto DTMF bodies (application/dtmf-relay, application/dtmf).
        const info = parseSipInfoDtmf(request.headers.get('content-type') ?? '', request.body.toString('utf8'));
        if (!info.ok) {
          this.respondIn(tx, request, info.status, info.status === 415 ? [['Accept', 'application/dtmf-relay, application/dtmf']] : [], null, info.reason);
          return;
        }
        this.respondIn(tx, request, 200);
        if (side === 'a') this.onDtmf(info.digit, 'sip-info');
        return;
      }
      default:
        this.respondIn(tx, request, 405, [['Allow', CALL_ALLOW]]);
    }
  }

  /** ACK received in leg B's dialog (voix never asks for one there) or a late one on leg A. */
  onInDialogAck(side: LegName): void {
    if (side === 'a') this.onCallerAck();
  }

  private respondIn(tx: ServerTransaction, request: SipRequest, status: number, extra: Array<readonly [string, string]> = [], body: Buffer | null = null, reason?: string): void {
    const headers = headersOf(extra);
    headers.append('Server', this.services.serverHeader);
    if (body !== null) headers.append('Content-Type', SDP);
    const response = createResponse(request, status, {
      headers,
      ...(body !== null ? { body } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
    tx.sendResponse(response);
  }

  /**
   * A re-INVITE or UPDATE from one side (RFC 3261 §14, RFC 3311): a session
   * refresh (same SDP or none) is answered by voix alone; a new offer (hold,
   * resume, codec change) goes to the other side and its answer comes back.
   */
  private async onReoffer(from: LegName, tx: ServerTransaction, request: SipRequest): Promise<void> {
    if (this.state !== 'confirmed' && this.state !== 'answered') {
      this.respondIn(tx, request, 491);
      return;
    }
    if (this.reoffer !== null) {
      // RFC 3261 §14.2: an offer crossing another one pending on the call gets 491.
      this.respondIn(tx, request, 491);
      return;
    }
    // RFC 3261 §12.2.2 / RFC 3311: a 2xx to a target refresh request carries voix's Contact.
    const transport = from === 'a' ? this.callerSignalling.transport : (this.winner?.destination.transport ?? 'udp');
    const contactHeader = [['Contact', this.contactFor(transport, from === 'a' ? this.callee.extension : this.bContactUser())] as const];
    const offer = sdpBody(request);
    if (offer === null || this.media.repeatsLastOffer(from, offer)) {
      // A session refresh (RFC 4028 §7): answered here with the SDP last sent to that side.
      const last = this.media.lastSdpTo(from);
      this.respondIn(tx, request, 200, [...contactHeader, ...this.sessionTimerHeadersFor(from, request)], request.method === 'INVITE' || offer !== null ? last : null);
      this.armSessionTimer(from);
      return;
    }
    const relayed = this.media.reoffer(from, offer);
    if (!relayed.ok) {
      this.respondIn(tx, request, relayed.status, [], null, relayed.reason);
      return;
    }
    this.reoffer = { from, serverTx: tx, request };
    const other: LegName = from === 'a' ? 'b' : 'a';
    this.sendReinvite(other, relayed.sdp, async (response) => {
      const pending = this.reoffer;
      this.reoffer = null;
      if (pending === null) return;
      if (response === null || response.status >= 300) {
        const status = response === null ? 500 : response.status === 491 ? 491 : response.status;
        this.respondIn(pending.serverTx, pending.request, status);
        return;
      }
      const answer = sdpBody(response);
      const outcome = answer === null ? null : await this.media.reanswer(from, answer);
      if (outcome === null || !outcome.ok) {
        this.respondIn(pending.serverTx, pending.request, 488, [], null, outcome === null ? 'No answer from the other side' : outcome.reason);
        return;
      }
      this.respondIn(pending.serverTx, pending.request, 200, [...contactHeader, ...this.sessionTimerHeadersFor(from, pending.request)], outcome.sdp);
      this.armSessionTimer(from);
    });
  }

  /** A re-INVITE from voix to one side, with its ACK on 2xx. */
  private sendReinvite(to: LegName, sdp: Buffer | null, done: (response: SipResponse | null) => void): void {
    const dialog = to === 'a' ? this.aDialog : (this.winner?.dialog ?? null);
    const destination = to === 'a' ? this.aDestination : this.winner?.destination;
    const transport = to === 'a' ? this.callerSignalling.transport : this.winner?.destination.transport;
    if (dialog === null || destination === undefined || transport === undefined) {
      done(null);
      return;
    }
    const headers = new Headers();
    headers.append('Contact', this.contactFor(transport, to === 'a' ? this.callee.extension : this.bContactUser()));
    headers.append('Allow', CALL_ALLOW);
    if (sdp !== null) headers.append('Content-Type', SDP);
    const reinvite = dialog.createRequest('INVITE', this.via(transport), { headers, ...(sdp !== null ? { body: sdp } : {}) });
    let finished = false;
    const finish = (response: SipResponse | null) => {
      if (finished) return;
      finished = true;
      done(response);
    };
    this.services.transactions.sendRequest(reinvite, destination, {
      onResponse: (_tx: ClientTransaction, response: SipResponse) => {
        if (response.status < 200) return;
        if (response.status < 300) {
          dialog.updateTargetFrom(response);
          const ack = dialog.createAck(reinvite.cseq.seq, this.via(transport));
          this.services.sender.send(ack, destination);
        }
        finish(response);
      },
      onTimeout: () => finish(null),
      onTransportError: () => finish(null),
    });
  }

  /** The user part of voix's Contact on leg B: the one the answering target was given. */
  private bContactUser(): string {
    return this.winner?.target.contactUser ?? this.caller.extension;
  }

  /** BYE to one side if its dialog exists. */
  private sendBye(to: LegName): void {
    if (to === 'b') {
      if (this.winner !== null) this.byeFork(this.winner);
      else for (const fork of this.forks) this.cancelFork(fork);
      return;
    }
    if (this.aDialog === null || this.aDialog.state !== 'confirmed') return;
    const bye = this.aDialog.createRequest('BYE', this.via(this.callerSignalling.transport));
    this.services.transactions.sendRequest(bye, this.aDestination, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
  }

  /** Ends the call from voix's side (shutdown): BYE or CANCEL both ways. */
  async hangUp(cause: EndCause): Promise<void> {
    if (this.state === 'ended') return;
    if (this.state === 'ringing' || this.state === 'answering') {
      this.respondToCaller(503, { reason: 'Service Unavailable' });
      if (this.winner !== null) this.byeFork(this.winner);
      await this.finish(503, cause, 'voix');
      return;
    }
    this.sendBye('a');
    this.sendBye('b');
    await this.finish(200, cause, 'voix');
  }

  // ---------------------------------------------------------------------------
  // Session timers (RFC 4028).

  /** Headers of voix's 2xx to the caller's INVITE: the interval agreed on leg A. */
  private sessionTimerHeadersForA(): Array<readonly [string, string]> {
    return this.leg.kind === 'invite' ? this.sessionTimerHeadersFor('a', this.leg.tx.request) : [];
  }

  private sessionTimerHeadersFor(side: LegName, request: SipRequest): Array<readonly [string, string]> {
    const asked = sessionExpiresOf(request);
    const supported = optionTags(request.headers.getAll('supported')).includes('timer');
    if (asked === null && !supported) {
      // A refresh that does not restate the interval keeps the one agreed (RFC 4028 §9).
      const current = this.sessionTimers[side];
      return current === null ? [] : [['Session-Expires', `${current.intervalSeconds};refresher=${current.voixRefreshes ? 'uas' : 'uac'}`]];
    }
    const seconds = Math.max(asked?.seconds ?? this.services.settings.sessionExpiresSeconds, this.services.settings.minSeSeconds);
    // RFC 4028 §9: the UAC refreshes unless it said otherwise or cannot.
    const refresher: 'uac' | 'uas' = asked?.refresher ?? (supported ? 'uac' : 'uas');
    // On leg A voix is the UAS; on leg B, when the callee re-offers, voix is the UAS too.
    this.sessionTimers[side] = { intervalSeconds: seconds, voixRefreshes: refresher === 'uas', timer: this.sessionTimers[side]?.timer };
    const headers: Array<readonly [string, string]> = [['Session-Expires', `${seconds};refresher=${refresher}`]];
    if (supported) headers.push(['Require', 'timer']);
    return headers;
  }

  private negotiateSessionTimerB(response: SipResponse): void {
    const agreed = sessionExpiresOf(response);
    if (agreed === null) {
      this.sessionTimers.b = null;
      return;
    }
    // voix is the UAC on leg B: it refreshes when the callee says refresher=uac or says nothing.
    this.sessionTimers.b = { intervalSeconds: agreed.seconds, voixRefreshes: agreed.refresher !== 'uas', timer: undefined };
  }

  private armSessionTimer(side: LegName): void {
    const st = this.sessionTimers[side];
    if (st === null || this.state === 'ended') return;
    this.services.clock.clearTimer(st.timer);
    if (st.voixRefreshes) {
      // RFC 4028 §10: the refresher sends its refresh at half the interval.
      st.timer = this.services.clock.setTimer((st.intervalSeconds * 1000) / 2, () => this.refresh(side));
    } else {
      // RFC 4028 §10: the other side gives up at the interval minus min(32 s, a third of it).
      const grace = Math.min(32, st.intervalSeconds / 3);
      st.timer = this.services.clock.setTimer((st.intervalSeconds - grace) * 1000, () => this.onSessionExpired(side));
    }
  }

  private refresh(side: LegName): void {
    if (this.state !== 'confirmed' && this.state !== 'answered') return;
    this.sendReinvite(side, this.media.lastSdpTo(side), (response) => {
      if (response === null || response.status >= 300) {
        if (response?.status === 491) this.armSessionTimer(side);
        else this.onSessionExpired(side);
        return;
      }
      this.armSessionTimer(side);
    });
  }

  private onSessionExpired(side: LegName): void {
    if (this.state === 'ended') return;
    this.log.info('session expired', { leg: side });
    this.sendBye('a');
    this.sendBye('b');
    void this.finish(200, 'session-expired', 'voix');
  }

  // ---------------------------------------------------------------------------

  private async finish(status: number, cause: EndCause, by: HangupBy): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    this.state = 'ended';
    this.menu?.stop();
    this.menu = null;
    this.transferring = false;
    this.services.clock.clearTimer(this.ringTimer);
    for (const st of [this.sessionTimers.a, this.sessionTimers.b]) if (st !== null) this.services.clock.clearTimer(st.timer);
    for (const fork of this.forks) if (fork !== this.winner) this.cancelFork(fork);
    let stats: RelayStats | null = null;
    try {
      stats = await this.media.release();
    } catch (err) {
      this.log.error('media release failed', { error: err });
    }
    const endedAt = this.services.clock.now();
    if (this.cdrId !== null) {
      this.services.cdrs?.end(this.cdrId, this.answeredAt, { endedAt, status, cause, hangupBy: by, media: stats });
    }
    this.services.unregisterDialog(this.callId, this.aTag);
    this.services.unregisterDialog(this.bCallId, this.bTag);
    this.log.info('call ended', {
      cause,
      by,
      status,
      durationSeconds: this.answeredAt === null ? 0 : Math.round((endedAt - this.answeredAt) / 1000),
    });
    this.services.onEnded(this);
    this.resolveEnded({ status, cause, by });
  }
}
