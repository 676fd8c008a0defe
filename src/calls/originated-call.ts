/**
 * A call voix places itself (the campaign dialer): voix is the UAC of one
 * INVITE through a trunk (RFC 3261 §13.2, with the provider's digest
 * challenge answered as for any trunk call), offers its own G.711 endpoint,
 * and once answered plays a message to the called party and listens for
 * its keys (RFC 4733 or in-band from the media worker, SIP INFO here). The
 * opt-out key ends the call with a short confirmation.
 *
 * It ends in one outcome the dialer records: answered (the message was
 * played, or the called party hung up during it), opted-out, busy,
 * no-answer (ring timeout: voix cancels), rejected (603), congestion (503)
 * or failed (any other status, a timeout, a transport error, an unusable
 * answer), with the SIP status and a detail for the report.
 */
import type { Logger } from '../log/logger.js';
import type { AmdReason, AmdSettings, AmdVerdict } from '../media/answering-machine-detector.js';
import type { DtmfDigit } from '../media/dtmf/dtmf-digit.js';
import { parseSipInfoDtmf } from '../media/dtmf/sip-info.js';
import type { PlaylistItem } from '../media/playout/playout-protocol.js';
import type { LegName } from '../rtp/media-protocol.js';
import type { RelayStats } from '../rtp/media-protocol.js';
import { createCancel, createResponse, newBranch, newTag } from '../sip/builders.js';
import { Dialog } from '../sip/dialog.js';
import { Headers, tagOf, type NameAddr, type Via } from '../sip/headers.js';
import { SipRequest, type SipResponse } from '../sip/message.js';
import type { ClientInviteTransaction } from '../sip/transaction/client-invite-transaction.js';
import type { ClientTransactionUser, ServerTransaction, TransactionLayer } from '../sip/transaction/transaction-layer.js';
import { viaTransport, type MessageSender, type TransportProtocol } from '../sip/transport/types.js';
import { cloneSipUri } from '../sip/uri.js';
import { answerChallenge, INITIAL_CLIENT_AUTH_STATE, type ClientAuthState } from '../trunks/client-authentication.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { CALL_ALLOW } from './call.js';
import type { Call, CallEnding, CallerLeg } from './call.js';
import type { CallMedia, LegSignalling } from './call-media.js';
import type { CallTarget } from './call-target.js';
import type { CdrStore, EndCause, HangupBy } from './cdr-store.js';

const SDP = 'application/sdp';
/** RFC 3261 §9.1: without a final response 64*T1 after a CANCEL, the INVITE is given up. */
const CANCEL_GIVE_UP_MS = 32_000;

export type OriginatedOutcome = 'answered' | 'machine' | 'opted-out' | 'busy' | 'no-answer' | 'rejected' | 'congestion' | 'failed';

/** Answering-machine detection for a call, and what voix does when it finds one. */
export interface OriginateAmd {
  readonly settings: AmdSettings;
  /** hangup: voix hangs up at once; message: the message is played to the machine, then voix hangs up. */
  readonly onMachine: 'hangup' | 'message';
}

export interface OriginatedCallResult {
  readonly outcome: OriginatedOutcome;
  /** The INVITE's final status (200 when answered), or 408/503 for a timeout or transport error. */
  readonly status: number;
  readonly detail: string;
  readonly answeredAt: number | null;
  readonly endedAt: number;
}

export interface OriginateRequest {
  readonly callId: string;
  /** For logs and the CDR's caller: "campaign relance". */
  readonly origin: string;
  readonly target: CallTarget;
  readonly ringSeconds: number;
  /** What the called party hears once it answers; voix hangs up when it ends. */
  readonly message: readonly PlaylistItem[];
  /** The key that adds the number to the do-not-call list, or null. */
  readonly optOutKey: DtmfDigit | null;
  /** Played after the opt-out key, before voix hangs up. */
  readonly optOutConfirmation: readonly PlaylistItem[];
  /** Called at once when the opt-out key is pressed (the dialer records it before anything else can fail). */
  readonly onOptOut: () => void;
  /** Listen for an answering machine before playing anything; null: play the message at once. */
  readonly amd: OriginateAmd | null;
  /**
   * After the message, a person is put through to this internal number (a
   * menu, a user, a group) instead of being hung up on; null: voix hangs up.
   */
  readonly connect: string | null;
}

export interface OriginatedCallServices {
  readonly transactions: TransactionLayer;
  readonly sender: MessageSender;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly serverHeader: string;
  localEndpoint(transport: TransportProtocol): { host: string; port: number };
  readonly cdrs: CdrStore | null;
  registerDialog(callId: string, localTag: string, call: OriginatedCall, side: LegName): void;
  unregisterDialog(callId: string, localTag: string): void;
  onEnded(call: OriginatedCall): void;
  /**
   * The answered call goes on as a B2BUA call (call.ts) to `destination`;
   * resolves when that call ends, or null when it cannot be handed over.
   * The Call owns the media, the dialog and the CDR from then on.
   */
  handOver(from: OriginatedCall, leg: Extract<CallerLeg, { kind: 'placed' }>, media: CallMedia, destination: string, keyFilter: (digit: DtmfDigit, call: Call) => boolean): Promise<CallEnding> | null;
}

/** How a final status the trunk gave maps to the dialer's outcomes. */
export function originatedOutcomeOf(status: number): OriginatedOutcome {
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no-answer';
  if (status === 603) return 'rejected';
  if (status === 503) return 'congestion';
  return 'failed';
}

function endCauseOf(outcome: OriginatedOutcome): EndCause {
  switch (outcome) {
    case 'answered':
    case 'machine':
    case 'opted-out':
      return 'normal';
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no-answer';
    case 'rejected':
      return 'rejected';
    case 'congestion':
    case 'failed':
      return 'failed';
  }
}

type State = 'calling' | 'answering' | 'answered' | 'handed-over' | 'ended';

export class OriginatedCall {
  private state: State = 'calling';
  private readonly localTag = newTag();
  private invite: SipRequest;
  private auth: ClientAuthState = INITIAL_CLIENT_AUTH_STATE;
  private tx: ClientInviteTransaction | null = null;
  private cseq = 1;
  private provisional = false;
  private cancelWanted = false;
  private cancelled = false;
  private dialog: Dialog | null = null;
  private ack: SipRequest | null = null;
  private ringTimer: TimerHandle | undefined;
  private cdrId: number | null = null;
  private answeredAt: number | null = null;
  private optedOut = false;
  /** The answering-machine verdict, once the detector gave it. */
  private machine: { readonly verdict: AmdVerdict; readonly reason: AmdReason } | null = null;
  private amdTimer: TimerHandle | undefined;
  /** The called party's SDP answer: what a hand-over cuts the next offers from. */
  private answerSdp: Buffer | null = null;
  private readonly log: Logger;
  private readonly done: Promise<OriginatedCallResult>;
  private resolve: (result: OriginatedCallResult) => void = () => undefined;

  constructor(
    private readonly services: OriginatedCallServices,
    private readonly request: OriginateRequest,
    private readonly media: CallMedia,
  ) {
    this.log = services.logger.child({ callId: request.callId, origin: request.origin, callee: request.target.label });
    this.done = new Promise((resolve) => (this.resolve = resolve));
    this.invite = this.buildInvite(null);
  }

  get callId(): string {
    return this.request.callId;
  }

  get trunk(): string | null {
    return this.request.target.trunk;
  }

  /** The number called, as sent to the trunk. */
  get calledNumber(): string {
    return this.request.target.to.uri.user ?? this.request.target.label;
  }

  /** For logs and the CDR: "campaign relance". */
  get origin(): string {
    return this.request.origin;
  }

  get signalling(): LegSignalling {
    return this.request.target.signalling;
  }

  /** The outcome, when the call is over. */
  result(): Promise<OriginatedCallResult> {
    return this.done;
  }

  /** Sends the INVITE with voix's offer (when the media cannot make one, the call ends as failed). */
  start(): void {
    const offer = this.media.offerFromVoix();
    if (!offer.ok) {
      void this.finish('failed', 500, `no offer: ${offer.reason}`, 'voix');
      return;
    }
    this.invite = this.buildInvite(offer.sdp);
    this.cdrId =
      this.services.cdrs?.start({
        callId: this.callId,
        caller: this.request.origin,
        callee: this.request.target.to.uri.user ?? this.request.target.label,
        callerTransport: this.request.target.destination.transport,
        startedAt: this.services.clock.now(),
        srtpCaller: false,
      }) ?? null;
    this.services.registerDialog(this.callId, this.localTag, this, 'a');
    this.log.info('dialling', { ringSeconds: this.request.ringSeconds });
    this.sendInvite();
    this.ringTimer = this.services.clock.setTimer(this.request.ringSeconds * 1000, () => this.onRingTimeout());
  }

  private via(): Via {
    const transport = this.request.target.destination.transport;
    const local = this.services.localEndpoint(transport);
    return { protocol: 'SIP/2.0', transport: viaTransport(transport), host: local.host, port: local.port, params: [{ name: 'rport', value: null }] };
  }

  private buildInvite(sdp: Buffer | null): SipRequest {
    const { target } = this.request;
    const transport = target.destination.transport;
    const local = this.services.localEndpoint(transport);
    const from: NameAddr = { displayName: target.from.displayName, uri: cloneSipUri(target.from.uri), params: [{ name: 'tag', value: this.localTag }] };
    const to: NameAddr = { displayName: target.to.displayName, uri: cloneSipUri(target.to.uri), params: [] };
    const headers = new Headers();
    for (const p of target.route) headers.append('Route', p);
    headers.append('Contact', `<sip:${target.contactUser}@${local.host}:${local.port};transport=${transport}>`);
    headers.append('Allow', CALL_ALLOW);
    headers.append('User-Agent', this.services.serverHeader);
    for (const [name, value] of target.extraHeaders) headers.append(name, value);
    if (sdp !== null) headers.append('Content-Type', SDP);
    const via = this.via();
    via.params.push({ name: 'branch', value: newBranch() });
    return new SipRequest('INVITE', cloneSipUri(target.requestUri), {
      via: [via],
      from,
      to,
      callId: this.callId,
      cseq: { seq: this.cseq, method: 'INVITE' },
      maxForwards: 70,
      headers,
      ...(sdp !== null ? { body: sdp } : {}),
    });
  }

  private sendInvite(): void {
    const user: ClientTransactionUser = {
      onResponse: (tx, response) => {
        if (tx === this.tx) void this.onResponse(response);
      },
      onTimeout: (tx) => {
        if (tx === this.tx) void this.finish('failed', 408, 'no response from the trunk', 'voix');
      },
      onTransportError: (tx) => {
        if (tx === this.tx) void this.finish('failed', 503, 'the trunk could not be reached', 'voix');
      },
    };
    this.tx = this.services.transactions.sendRequest(this.invite, this.request.target.destination, user) as ClientInviteTransaction;
  }

  private async onResponse(response: SipResponse): Promise<void> {
    const status = response.status;
    if (status < 200) {
      if (status === 100) return;
      this.provisional = true;
      if (this.cancelWanted) this.sendCancel();
      return;
    }
    if (status >= 300) {
      if ((status === 401 || status === 407) && this.retryWithCredentials(response)) return;
      if (this.state !== 'calling') return;
      const outcome = this.cancelled && status === 487 ? 'no-answer' : originatedOutcomeOf(status);
      await this.finish(outcome, status, this.cancelled ? 'no answer before the ring timeout' : `${status} ${response.reason}`, 'callee');
      return;
    }
    await this.on2xx(response);
  }

  /** A provider's 401/407: the INVITE again with credentials, once per challenge (client-authentication.ts). */
  private retryWithCredentials(response: SipResponse): boolean {
    const credentials = this.request.target.credentials;
    if (credentials === null || this.cancelWanted || this.state !== 'calling') return false;
    const answer = answerChallenge({ request: this.invite, response, credentials: { username: credentials.username, secret: { password: credentials.password } }, state: this.auth });
    if (!answer.ok) {
      this.log.warn('provider refused the credentials', { status: response.status, reason: answer.reason, realm: answer.realm ?? null });
      return false;
    }
    this.auth = answer.state;
    this.invite = answer.request;
    this.cseq = answer.request.cseq.seq;
    this.provisional = false;
    this.sendInvite();
    return true;
  }

  private async on2xx(response: SipResponse): Promise<void> {
    if (this.dialog === null) this.dialog = Dialog.forUac(this.invite, response);
    if (this.dialog === null) {
      this.log.warn('2xx without To tag from the trunk');
      return;
    }
    this.dialog.state = 'confirmed';
    this.ack ??= this.dialog.createAck(this.invite.cseq.seq, this.via());
    // Every 2xx, retransmissions included, gets its ACK (RFC 3261 §13.2.2.4).
    this.services.sender.send(this.ack, this.request.target.destination);
    if (this.state === 'ended') {
      // Answered after voix gave up: acknowledged, then hung up (§9.1).
      this.sendBye();
      return;
    }
    if (this.state !== 'calling') return;
    if (this.cancelWanted) {
      // The CANCEL/2xx race (§9.1): the ring timeout had passed; the late answer is hung up.
      this.sendBye();
      await this.finish('no-answer', 200, 'answered after the ring timeout: hung up', 'voix');
      return;
    }
    this.state = 'answering';
    this.services.clock.clearTimer(this.ringTimer);
    const answer = response.body.length > 0 ? response.body : null;
    this.answerSdp = answer;
    const accepted = answer === null ? null : await this.media.acceptAnswer(answer, this.request.amd?.settings ?? null);
    if (this.state !== 'answering') return;
    if (accepted === null || !accepted.ok) {
      this.log.warn('answer unusable', { reason: accepted === null ? 'no SDP in the 2xx' : accepted.reason });
      this.sendBye();
      await this.finish('failed', 488, accepted === null ? 'answered without SDP' : `answer unusable: ${accepted.reason}`, 'voix');
      return;
    }
    this.state = 'answered';
    this.answeredAt = this.services.clock.now();
    if (this.cdrId !== null) this.services.cdrs?.answered(this.cdrId, this.answeredAt, this.request.target.destination.transport, { caller: false, callee: this.media.isSecure('a') });
    this.log.info('answered', { srtp: this.media.isSecure('a') });
    const amd = this.request.amd;
    if (amd === null) {
      void this.playMessage();
      return;
    }
    // The detector gives its verdict within its total time; a lost verdict (a worker restarted) counts as unsure.
    this.amdTimer = this.services.clock.setTimer(amd.settings.totalMs + 1000, () => this.onAmd('unsure', 'too-long'));
  }

  /** The verdict of the answering-machine detection on the called party's audio. */
  onAmd(verdict: AmdVerdict, reason: AmdReason): void {
    if (this.state !== 'answered' || this.machine !== null || this.request.amd === null) return;
    this.services.clock.clearTimer(this.amdTimer);
    this.machine = { verdict, reason };
    this.log.info('answering machine detection', { verdict, reason });
    if (verdict !== 'machine') {
      void this.playMessage();
      return;
    }
    if (this.request.amd.onMachine === 'message') {
      void this.playMessage();
      return;
    }
    this.sendBye();
    void this.finish('machine', 200, `answering machine (${reason}): hung up`, 'voix');
  }

  private async playMessage(): Promise<void> {
    const reason = await this.media.playToCaller(this.request.message);
    if (reason !== 'completed' || this.state !== 'answered' || this.optedOut) return;
    this.log.info('message played');
    const connect = this.request.connect;
    if (connect !== null && this.machine?.verdict !== 'machine') {
      await this.handOver(connect);
      return;
    }
    this.sendBye();
    if (this.machine?.verdict === 'machine') await this.finish('machine', 200, `answering machine (${this.machine.reason}): message left`, 'voix');
    else await this.finish('answered', 200, 'message played', 'voix');
  }

  /** The called party goes on to `destination` in a Call; this call's result waits for that call's end. */
  private async handOver(destination: string): Promise<void> {
    const dialog = this.dialog;
    const answer = this.answerSdp;
    if (dialog === null || answer === null || this.answeredAt === null) return;
    const leg = {
      kind: 'placed' as const,
      callId: this.callId,
      localTag: this.localTag,
      dialog,
      destination: this.request.target.destination,
      sdp: answer,
      cdrId: this.cdrId,
      answeredAt: this.answeredAt,
    };
    const keyFilter = (digit: DtmfDigit, call: Call): boolean => {
      if (digit !== this.request.optOutKey || this.optedOut) return false;
      this.optedOut = true;
      this.log.info('opt-out', { digit, source: 'menu' });
      this.request.onOptOut();
      void call.endWithAnnouncement(this.request.optOutConfirmation);
      return true;
    };
    const ending = this.services.handOver(this, leg, this.media, destination, keyFilter);
    if (ending === null) {
      this.sendBye();
      await this.finish('answered', 200, `could not be put through to ${destination}`, 'voix');
      return;
    }
    this.state = 'handed-over';
    this.services.clock.clearTimer(this.amdTimer);
    this.log.info('put through', { destination });
    const end = await ending;
    this.state = 'ended';
    const outcome = this.optedOut ? 'opted-out' : 'answered';
    const detail = this.optedOut ? `opt-out key ${this.request.optOutKey ?? ''} pressed after being put through to ${destination}` : `put through to ${destination}: ${end.cause}, hung up by ${end.by}`;
    this.log.info('call ended', { outcome, status: end.status, detail });
    this.resolve({ outcome, status: 200, detail, answeredAt: this.answeredAt, endedAt: this.services.clock.now() });
  }

  /** A key from the called party: RFC 4733 or in-band (media worker) or SIP INFO. */
  onDtmf(digit: DtmfDigit, source: string): void {
    if (this.state !== 'answered' || this.optedOut) return;
    this.log.debug('dtmf', { digit, source });
    if (digit !== this.request.optOutKey) return;
    this.optedOut = true;
    this.log.info('opt-out', { digit, source });
    this.request.onOptOut();
    void this.media.playToCaller(this.request.optOutConfirmation).then(async () => {
      if (this.state !== 'answered') return;
      this.sendBye();
      await this.finish('opted-out', 200, `opt-out key ${digit} pressed`, 'voix');
    });
  }

  private onRingTimeout(): void {
    if (this.state !== 'calling') return;
    this.log.info('no answer before the ring timeout');
    this.cancelWanted = true;
    if (this.provisional) this.sendCancel();
    const tx = this.tx;
    this.services.clock.setTimer(CANCEL_GIVE_UP_MS, () => {
      if (this.state !== 'calling') return;
      tx?.terminate();
      void this.finish('no-answer', 408, 'no answer before the ring timeout (no response to CANCEL)', 'voix');
    });
  }

  /** RFC 3261 §9.1: CANCEL only once a provisional response came; until then it waits for one. */
  private sendCancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const cancel = createCancel(this.invite);
    this.services.transactions.sendRequest(cancel, this.request.target.destination, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
  }

  private sendBye(): void {
    if (this.dialog === null) return;
    const bye = this.dialog.createRequest('BYE', this.via());
    this.services.transactions.sendRequest(bye, this.request.target.destination, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
  }

  /** A request in the call's dialog (not ACK, not CANCEL). */
  async onInDialogRequest(_side: LegName, tx: ServerTransaction, request: SipRequest): Promise<void> {
    const dialog = this.dialog;
    if (dialog === null || this.state === 'ended' || tagOf(request.from) !== dialog.remoteTag) {
      this.respond(tx, request, 481);
      return;
    }
    const check = dialog.checkIncoming(request);
    if (!check.ok) {
      this.respond(tx, request, check.status);
      return;
    }
    switch (request.method) {
      case 'BYE':
        this.respond(tx, request, 200);
        this.log.info('hang-up', { by: 'callee' });
        if (this.optedOut) await this.finish('opted-out', 200, 'opted out, then hung up', 'callee');
        else if (this.machine?.verdict === 'machine') await this.finish('machine', 200, `answering machine (${this.machine.reason}): it hung up`, 'callee');
        else await this.finish('answered', 200, this.machine === null && this.request.amd !== null ? 'hung up before the detection ended' : 'hung up during the message', 'callee');
        return;
      case 'INVITE':
      case 'UPDATE': {
        // A session refresh is answered with what voix sent last; voix renegotiates nothing during a message.
        const offer = request.body.length > 0 ? request.body : null;
        if (offer !== null && !this.media.repeatsLastOffer('a', offer)) {
          this.respond(tx, request, 488, [['Warning', '399 voix "no renegotiation during a campaign call"']]);
          return;
        }
        const last = request.method === 'INVITE' || offer !== null ? this.media.lastSdpTo('a') : null;
        this.respond(tx, request, 200, [['Contact', this.contact()]], last);
        return;
      }
      case 'OPTIONS':
        this.respond(tx, request, 200, [['Allow', CALL_ALLOW]]);
        return;
      case 'INFO': {
        const info = parseSipInfoDtmf(request.headers.get('content-type') ?? '', request.body.toString('utf8'));
        if (!info.ok) {
          this.respond(tx, request, info.status);
          return;
        }
        this.respond(tx, request, 200);
        this.onDtmf(info.digit, 'sip-info');
        return;
      }
      default:
        this.respond(tx, request, 405, [['Allow', CALL_ALLOW]]);
    }
  }

  /** An ACK in the call's dialog: voix never asks for one (it answers no INVITE with an offer of its own). */
  onInDialogAck(): void {}

  private contact(): string {
    const transport = this.request.target.destination.transport;
    const local = this.services.localEndpoint(transport);
    return `<sip:${this.request.target.contactUser}@${local.host}:${local.port};transport=${transport}>`;
  }

  private respond(tx: ServerTransaction, request: SipRequest, status: number, extra: Array<readonly [string, string]> = [], body: Buffer | null = null): void {
    const headers = new Headers();
    for (const [n, v] of extra) headers.append(n, v);
    headers.append('Server', this.services.serverHeader);
    if (body !== null) headers.append('Content-Type', SDP);
    tx.sendResponse(createResponse(request, status, { headers, ...(body !== null ? { body } : {}) }));
  }

  /** Ends the call from voix's side (shutdown): CANCEL while it rings, BYE once answered. */
  async hangUp(cause: EndCause): Promise<void> {
    if (this.state === 'ended') return;
    if (this.state === 'calling') {
      this.cancelWanted = true;
      if (this.provisional) this.sendCancel();
    } else {
      this.sendBye();
    }
    await this.finish(this.state === 'calling' ? 'failed' : 'answered', this.state === 'calling' ? 487 : 200, `ended by voix: ${cause}`, 'voix', cause);
  }

  private async finish(outcome: OriginatedOutcome, status: number, detail: string, by: HangupBy, cause: EndCause = endCauseOf(outcome)): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.services.clock.clearTimer(this.ringTimer);
    this.services.clock.clearTimer(this.amdTimer);
    let stats: RelayStats | null = null;
    try {
      stats = await this.media.release();
    } catch (err) {
      this.log.error('media release failed', { error: err });
    }
    const endedAt = this.services.clock.now();
    if (this.cdrId !== null) this.services.cdrs?.end(this.cdrId, this.answeredAt, { endedAt, status, cause, hangupBy: by, media: stats });
    this.services.unregisterDialog(this.callId, this.localTag);
    this.log.info('call ended', { outcome, status, detail });
    this.services.onEnded(this);
    this.resolve({ outcome, status, detail, answeredAt: this.answeredAt, endedAt });
  }
}
