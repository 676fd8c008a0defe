/**
 * The transaction layer (RFC 3261 §17): owns the client and server
 * transactions, matches incoming requests (§17.2.3) and responses (§17.1.3)
 * to them, and hands new requests and stray ACKs to the transaction user.
 */
import type { Logger } from '../../log/logger.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { ownString } from '../../util/own-string.js';
import { getParam } from '../grammar.js';
import { BRANCH_MAGIC_COOKIE, branchOf, tagOf, type Via } from '../headers.js';
import type { SipRequest, SipResponse } from '../message.js';
import { formatUri, isSipUri, sipUrisEqual, type Uri } from '../uri.js';
import { isReliable, type Destination, type Flow, type MessageSender, type TransportError, type TransportProtocol } from '../transport/types.js';
import { ClientInviteTransaction } from './client-invite-transaction.js';
import { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import { ServerInviteTransaction } from './server-invite-transaction.js';
import { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
import { DEFAULT_TIMER_SETTINGS, ExpiryQueue, transactionTimers, type TimerSettings } from './timers.js';

/** How often, per Timer F, the layer looks for non-INVITE requests left unanswered: one gets dropped between 64*T1 and 80*T1. */
const ABANDON_SWEEPS_PER_TIMEOUT = 4;

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

/** What a client transaction tells the TU that sent its request. */
export interface ClientTransactionUser {
  /**
   * Provisional and final responses; in the INVITE Accepted state also the
   * 2xx retransmissions and the 2xx of other forks, each needing its ACK
   * (RFC 6026 §7.2, RFC 3261 §13.2.2.4).
   */
  onResponse(tx: ClientTransaction, response: SipResponse): void;
  /** Timer B or F fired with no final response; the TU treats it as a 408 (§8.1.3.1). */
  onTimeout(tx: ClientTransaction): void;
  /** The request (or the ACK of a non-2xx) could not be sent; treated as a 503 (§8.1.3.1, §17.1.4). */
  onTransportError(tx: ClientTransaction, error: TransportError): void;
  onTerminated?(tx: ClientTransaction): void;
}

/** What the server side tells the TU (the UAS core). */
export interface ServerTransactionUser {
  /** A new request (neither a retransmission nor an ACK), with its new transaction to answer through. */
  onRequest(tx: ServerTransaction, request: SipRequest, flow: Flow): void;
  /**
   * An ACK for a 2xx: `tx` is the INVITE transaction in its Accepted state, or
   * null when that transaction has ended (§13.3.1.4, RFC 6026 §7.1).
   */
  onAck(ack: SipRequest, flow: Flow, tx: ServerInviteTransaction | null): void;
  /** No ACK for the 2xx within 64*T1 (§13.3.1.4): the call core ends the session with a BYE. */
  onAckTimeout(tx: ServerInviteTransaction, response: SipResponse): void;
  /** Timer H fired: no ACK for a non-2xx final response, a transaction failure (§17.2.1). */
  onTimeout(tx: ServerInviteTransaction): void;
  /** A response could not be sent (§17.2.4). */
  onTransportError(tx: ServerTransaction, error: TransportError): void;
  onTerminated?(tx: ServerTransaction): void;
}

/** What a transaction needs from the layer that created it. */
export interface TransactionEnvironment {
  readonly clock: Clock;
  readonly sender: MessageSender;
  readonly settings: TimerSettings;
  /** The transaction's Call-ID; for a server transaction, a copy that does not keep the request's text alive. */
  readonly callId: string;
  /** Bound to the transaction's Call-ID, method and branch. */
  readonly logger: Logger;
  /** Called once when the transaction reaches Terminated, so the layer forgets it. */
  readonly release: () => void;
  /** Server transactions call it when they send their final response: the request is no longer work in flight. */
  readonly answered: () => void;
  /** Starts Timer J of a Completed non-INVITE server transaction over UDP (§17.2.2): one queue for the layer, not a timer each. */
  readonly startTimerJ: (tx: ServerNonInviteTransaction) => void;
}

export interface TransactionLayerOptions {
  readonly sender: MessageSender;
  readonly clock: Clock;
  readonly user: ServerTransactionUser;
  readonly logger: Logger;
  readonly timers?: Partial<TimerSettings>;
  /** Answer UDP requests at their source port even without `rport`, like Asterisk's force_rport. Default true. */
  readonly forceRport?: boolean;
  /**
   * Sees every new request (not a retransmission, not an ACK) before a
   * transaction exists for it. A response returned is sent statelessly
   * (RFC 3261 §8.2.6; overload: a 503 costs no transaction state) and the
   * request goes no further; null lets it through.
   */
  readonly screen?: (request: SipRequest, flow: Flow) => SipResponse | null;
}

export interface ResponseDestinationOptions {
  readonly forceRport: boolean;
  /**
   * Send UDP responses to the top Via `maddr` (RFC 3261 §18.2.2). Off by
   * default: it lets any sender aim voix's responses at a third party.
   */
  readonly honorMaddr?: boolean;
}

const DEFAULT_SIP_PORT = 5060;

/**
 * Where the responses to `request`, received on `flow`, go (RFC 3261 §18.2.2,
 * RFC 3581 §4). Reliable transports answer on the same connection. Over UDP a
 * `maddr` wins; otherwise the packet's source address (what `received`
 * records) at the `rport` port when the client asked for it, or always with
 * `forceRport` (NATed phones rarely ask), else the sent-by port.
 */
export function responseDestination(request: SipRequest, flow: Flow, options: ResponseDestinationOptions): Destination {
  if (isReliable(flow.transport)) {
    return { transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort, connectionId: flow.connectionId };
  }
  const via = request.topVia;
  const maddr = options.honorMaddr === true ? getParam(via.params, 'maddr') : undefined;
  if (maddr !== undefined && maddr.value !== null && maddr.value.length > 0) {
    return { transport: flow.transport, address: maddr.value, port: via.port ?? DEFAULT_SIP_PORT };
  }
  let port: number;
  if (options.forceRport) {
    port = flow.remotePort;
  } else {
    const rport = getParam(via.params, 'rport');
    if (rport !== undefined) {
      // The transport stamped the source port; a bare `rport` means the same.
      const stamped = rport.value === null ? Number.NaN : Number(rport.value);
      port = Number.isInteger(stamped) && stamped > 0 && stamped <= 65535 ? stamped : flow.remotePort;
    } else {
      port = via.port ?? DEFAULT_SIP_PORT;
    }
  }
  return { transport: flow.transport, address: flow.remoteAddress, port };
}

/**
 * The branch of a Via when it identifies a transaction (RFC 3261 §17.2.3):
 * it carries the magic cookie and something after it. RFC 4475 §3.2.1 sends
 * a branch that is exactly the cookie; like a missing one, it leaves only the
 * RFC 2543 matching.
 */
function rfc3261Branch(via: Via): string | null {
  const branch = branchOf(via);
  if (branch === null || branch.length <= BRANCH_MAGIC_COOKIE.length || !branch.startsWith(BRANCH_MAGIC_COOKIE)) return null;
  return branch;
}

function sentBy(via: Via): string {
  const port = via.port ?? (via.transport === 'TLS' ? 5061 : DEFAULT_SIP_PORT);
  return via.host.toLowerCase() + ':' + port;
}

/**
 * §17.2.3 key (branch, sent-by, method), plus the transport the request came
 * over: a retransmission never changes transport, and a request arriving
 * over TCP must be answered over TCP, not as a copy of a UDP transaction.
 */
function serverKey(branch: string, via: Via, method: string, transport: TransportProtocol): string {
  return branch + '\n' + sentBy(via) + '\n' + method + '\n' + transport;
}

function clientKey(branch: string, method: string): string {
  return branch + '\n' + method;
}

function urisEqual(a: Uri, b: Uri): boolean {
  if (isSipUri(a) && isSipUri(b)) return sipUrisEqual(a, b);
  return formatUri(a) === formatUri(b);
}

/**
 * Via equality for RFC 2543 matching (§20.42: same sent-protocol, sent-by and
 * parameters), leaving out `received` and `rport`, which our transport stamps.
 */
function legacyViasEqual(a: Via, b: Via): boolean {
  if (a.protocol.toUpperCase() !== b.protocol.toUpperCase() || a.transport !== b.transport) return false;
  if (sentBy(a) !== sentBy(b)) return false;
  const own = (name: string): boolean => name !== 'received' && name !== 'rport';
  const pa = a.params.filter((p) => own(p.name));
  const pb = b.params.filter((p) => own(p.name));
  if (pa.length !== pb.length) return false;
  return pa.every((p) => {
    const q = getParam(pb, p.name);
    return q !== undefined && (q.value ?? '').toLowerCase() === (p.value ?? '').toLowerCase();
  });
}

export class TransactionLayer {
  private readonly sender: MessageSender;
  private readonly clock: Clock;
  private readonly user: ServerTransactionUser;
  private readonly logger: Logger;
  private readonly settings: TimerSettings;
  private readonly forceRport: boolean;
  private readonly clients = new Map<string, ClientTransaction>();
  /** Server transactions created by requests with an RFC 3261 branch, by branch, sent-by and method. */
  private readonly serversByKey = new Map<string, ServerTransaction>();
  /** Every server transaction by Call-ID, for RFC 2543 matching and ACKs of 2xx. */
  private readonly serversByCallId = new Map<string, ServerTransaction[]>();
  private serverCount = 0;
  /** Server transactions without their final response yet (requests voix is still working on), with when each arrived. */
  private readonly unanswered = new Map<ServerTransaction, number>();
  /** The sweep for non-INVITE requests left unanswered (abandonUnanswered), armed while there may be some. */
  private abandonSweep: TimerHandle | undefined;
  /** Client transactions without a final response (nor timeout, nor transport error) yet. */
  private readonly outstanding = new Set<ClientTransaction>();
  private settleWaiters: Array<() => void> = [];
  private readonly screen: ((request: SipRequest, flow: Flow) => SipResponse | null) | undefined;
  /** Timer J of every Completed non-INVITE server transaction over UDP: they all wait 64*T1, so a FIFO keeps them in expiry order. */
  private readonly timerJ: ExpiryQueue<ServerNonInviteTransaction>;
  private readonly startTimerJ = (tx: ServerNonInviteTransaction): void => this.timerJ.add(tx);

  constructor(options: TransactionLayerOptions) {
    this.sender = options.sender;
    this.clock = options.clock;
    this.user = options.user;
    this.logger = options.logger;
    this.settings = { ...DEFAULT_TIMER_SETTINGS, ...options.timers };
    this.forceRport = options.forceRport ?? true;
    this.screen = options.screen;
    this.timerJ = new ExpiryQueue(this.clock, transactionTimers(this.settings, false).timerJ, (tx) => tx.timerJExpired());
  }

  get clientTransactionCount(): number {
    return this.clients.size;
  }

  get serverTransactionCount(): number {
    return this.serverCount;
  }

  /** Server transactions still waiting for their final response. */
  get serverTransactionsInProgress(): number {
    return this.unanswered.size;
  }

  /** Client transactions still waiting for their final response. */
  get clientTransactionsOutstanding(): number {
    return this.outstanding.size;
  }

  /**
   * Resolves once every client transaction has its final response (or timed
   * out, or failed to send), or after `timeoutMs`: at shutdown, the BYEs,
   * CANCELs and unregistrations voix sent are answered before the sockets
   * close. Resolves true when all settled.
   */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.outstanding.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (all: boolean) => {
        this.clock.clearTimer(timer);
        this.settleWaiters = this.settleWaiters.filter((w) => w !== waiter);
        resolve(all);
      };
      const waiter = () => done(true);
      const timer = this.clock.setTimer(Math.max(0, timeoutMs), () => done(false));
      this.settleWaiters.push(waiter);
    });
  }

  /** A request from the transport, which has already stamped `received`/`rport` (§18.2.1, RFC 3581). */
  receiveRequest(request: SipRequest, flow: Flow): void {
    if (request.method === 'ACK') {
      this.receiveAck(request, flow);
      return;
    }
    // The §17.2.3 key, made once: it finds a retransmission's transaction, or files the new one.
    const via = request.topVia;
    const branch = rfc3261Branch(via);
    const key = branch === null ? null : serverKey(branch, via, request.method, flow.transport);
    const existing = key !== null ? (this.serversByKey.get(key) ?? null) : this.matchRfc2543(request, request.method, flow.transport);
    if (existing !== null) {
      existing.receiveRequest(request);
      return;
    }
    const refusal = this.screen?.(request, flow) ?? null;
    if (refusal !== null) {
      this.sender.send(refusal, responseDestination(request, flow, { forceRport: this.forceRport }));
      return;
    }
    const tx = this.createServerTransaction(request, flow, key);
    this.user.onRequest(tx, request, flow);
  }

  /** A response from the transport (§18.1.2). */
  receiveResponse(response: SipResponse, _flow: Flow): void {
    const via = response.via[0];
    const branch = via === undefined ? null : branchOf(via);
    const tx = branch === null ? undefined : this.clients.get(clientKey(branch, response.cseq.method));
    if (tx === undefined) {
      // RFC 6026 §7.2 (§18.1.2 updated): a UA drops responses that match no transaction.
      this.logger.debug('response matches no transaction, dropped', {
        callId: response.callId,
        status: response.status,
        cseq: response.cseq.seq + ' ' + response.cseq.method,
        branch,
      });
      return;
    }
    tx.receiveResponse(response);
  }

  /**
   * Starts a client transaction for `request`, whose top Via the TU built
   * with a fresh RFC 3261 branch (§8.1.1.7). An ACK for a 2xx is no
   * transaction (§17.1.1.3): the UAC core sends it through the MessageSender.
   */
  sendRequest(request: SipRequest, destination: Destination, user: ClientTransactionUser): ClientTransaction {
    if (request.method === 'ACK') {
      throw new Error('an ACK for a 2xx is sent outside any transaction (RFC 3261 §17.1.1.3); use the MessageSender');
    }
    const branch = rfc3261Branch(request.topVia);
    if (branch === null) {
      throw new Error(`the top Via of a new ${request.method} needs a branch starting with ${BRANCH_MAGIC_COOKIE} (RFC 3261 §8.1.1.7)`);
    }
    const key = clientKey(branch, request.method);
    if (this.clients.has(key)) {
      throw new Error(`branch ${branch} is already used by a ${request.method} client transaction (RFC 3261 §8.1.1.7)`);
    }
    const env = this.environment(request.callId, request.method, branch, () => this.clients.delete(key));
    const tracked = this.trackOutstanding(user);
    const tx =
      request.method === 'INVITE'
        ? new ClientInviteTransaction(request, destination, tracked, env)
        : new ClientNonInviteTransaction(request, destination, tracked, env);
    this.clients.set(key, tx);
    this.outstanding.add(tx);
    tx.start();
    return tx;
  }

  /**
   * The INVITE server transaction a CANCEL targets (§9.2): the transaction
   * the CANCEL would match if its method were INVITE (§17.2.3).
   */
  findInviteServerTransaction(cancel: SipRequest, flow: Flow): ServerInviteTransaction | null {
    const tx = this.matchServerTransaction(cancel, 'INVITE', flow.transport);
    return tx instanceof ServerInviteTransaction ? tx : null;
  }

  /** The TU, seen through the layer: a final response, a timeout, a transport error or the end settle the transaction. */
  private trackOutstanding(user: ClientTransactionUser): ClientTransactionUser {
    return {
      onResponse: (tx, response) => {
        if (response.status >= 200) this.settle(tx);
        user.onResponse(tx, response);
      },
      onTimeout: (tx) => {
        this.settle(tx);
        user.onTimeout(tx);
      },
      onTransportError: (tx, error) => {
        this.settle(tx);
        user.onTransportError(tx, error);
      },
      onTerminated: (tx) => {
        this.settle(tx);
        user.onTerminated?.(tx);
      },
    };
  }

  private settle(tx: ClientTransaction): void {
    if (!this.outstanding.delete(tx) || this.outstanding.size > 0) return;
    for (const waiter of [...this.settleWaiters]) waiter();
  }

  private receiveAck(ack: SipRequest, flow: Flow): void {
    const tx = this.matchServerTransaction(ack, 'INVITE', flow.transport) ?? this.matchAcceptedInvite(ack);
    if (tx instanceof ServerInviteTransaction) {
      tx.receiveAck(ack, flow);
      return;
    }
    this.user.onAck(ack, flow, null);
  }

  /** §17.2.3 matching of `request` against server transactions created by a `method` request (ACK → INVITE). */
  private matchServerTransaction(request: SipRequest, method: string, transport: TransportProtocol): ServerTransaction | null {
    const via = request.topVia;
    const branch = rfc3261Branch(via);
    if (branch !== null) return this.serversByKey.get(serverKey(branch, via, method, transport)) ?? null;
    return this.matchRfc2543(request, method, transport);
  }

  /**
   * §17.2.3, last paragraphs: without an RFC 3261 branch a request matches
   * on Request-URI, To tag, From tag, Call-ID, CSeq and top Via; an ACK
   * matches on the same but the CSeq number only, with its To tag equal to
   * that of the response the transaction sent.
   */
  private matchRfc2543(request: SipRequest, method: string, transport: TransportProtocol): ServerTransaction | null {
    const candidates = this.serversByCallId.get(request.callId);
    if (candidates === undefined) return null;
    const isAck = request.method === 'ACK';
    const fromTag = tagOf(request.from);
    const toTag = tagOf(request.to);
    for (const tx of candidates) {
      // A transaction matched by branch may have let its request go in Completed; it is skipped just below anyway.
      const original = tx.request;
      if (original === null || rfc3261Branch(original.topVia) !== null || tx.flow.transport !== transport) continue;
      if (original.method !== method || original.cseq.seq !== request.cseq.seq) continue;
      if (tagOf(original.from) !== fromTag) continue;
      if (!urisEqual(original.uri, request.uri) || !legacyViasEqual(original.topVia, request.topVia)) continue;
      if (isAck) {
        const answered = tx instanceof ServerInviteTransaction ? tx.finalResponse : null;
        if (answered === null || tagOf(answered.to) !== toTag) continue;
      } else if (tagOf(original.to) !== toTag) {
        continue;
      }
      return tx;
    }
    return null;
  }

  /**
   * An ACK for a 2xx carries a new branch (§13.2.2.4), so it cannot match by
   * branch. RFC 6026 §7.1 still wants it passed to the TU through the
   * Accepted transaction, which here also stops the 2xx retransmissions: it
   * is matched by Call-ID, CSeq number, From tag and the To tag of the 2xx.
   */
  private matchAcceptedInvite(ack: SipRequest): ServerInviteTransaction | null {
    const candidates = this.serversByCallId.get(ack.callId);
    if (candidates === undefined) return null;
    const fromTag = tagOf(ack.from);
    const toTag = tagOf(ack.to);
    for (const tx of candidates) {
      if (!(tx instanceof ServerInviteTransaction) || tx.state !== 'Accepted') continue;
      const answered = tx.finalResponse;
      if (answered === null || tx.request.cseq.seq !== ack.cseq.seq) continue;
      if (tagOf(tx.request.from) === fromTag && tagOf(answered.to) === toTag) return tx;
    }
    return null;
  }

  /** `key`: the request's §17.2.3 key when it has an RFC 3261 branch, else null. */
  private createServerTransaction(request: SipRequest, flow: Flow, receivedKey: string | null): ServerTransaction {
    const via = request.topVia;
    // What a completed transaction keeps for Timer J must not keep the request's header text alive (see ownString).
    const key = receivedKey === null ? null : ownString(receivedKey);
    const branch = branchOf(via);
    const env = this.environment(ownString(request.callId), request.method, branch === null ? null : ownString(branch), () => this.forgetServer(tx, key), () => this.unanswered.delete(tx));
    const destination = responseDestination(request, flow, { forceRport: this.forceRport });
    const tx: ServerTransaction =
      request.method === 'INVITE'
        ? new ServerInviteTransaction(request, flow, destination, this.user, env)
        : new ServerNonInviteTransaction(request, flow, destination, this.user, env, key !== null);
    if (key !== null) this.serversByKey.set(key, tx);
    const sameCall = this.serversByCallId.get(env.callId);
    if (sameCall === undefined) this.serversByCallId.set(env.callId, [tx]);
    else sameCall.push(tx);
    this.serverCount++;
    this.unanswered.set(tx, this.clock.now());
    if (tx instanceof ServerInviteTransaction) tx.start();
    else if (this.abandonSweep === undefined) this.armAbandonSweep();
    return tx;
  }

  private armAbandonSweep(): void {
    this.abandonSweep = this.clock.setTimer(transactionTimers(this.settings, false).timerF / ABANDON_SWEEPS_PER_TIMEOUT, () => this.abandonUnanswered());
  }

  /**
   * A non-INVITE request the TU never answered (a bug, or work that died
   * on the way) would keep its transaction, and everything it holds, for
   * good: RFC 3261 gives a server transaction in Trying or Proceeding no
   * timer of its own. Its client gave up after 64*T1 (Timer F, §17.1.2.2);
   * so does voix, with a warning. INVITEs are left to the call core (a
   * phone may ring for minutes).
   */
  private abandonUnanswered(): void {
    this.abandonSweep = undefined;
    const giveUpAfter = transactionTimers(this.settings, false).timerF;
    const now = this.clock.now();
    let waiting = false;
    for (const [tx, arrivedAt] of this.unanswered) {
      if (!(tx instanceof ServerNonInviteTransaction)) continue;
      if (now - arrivedAt >= giveUpAfter) tx.abandon();
      else waiting = true;
    }
    if (waiting) this.armAbandonSweep();
  }

  private forgetServer(tx: ServerTransaction, key: string | null): void {
    this.unanswered.delete(tx);
    if (key !== null && this.serversByKey.get(key) === tx) this.serversByKey.delete(key);
    const callId = tx.callId;
    const sameCall = this.serversByCallId.get(callId);
    const index = sameCall === undefined ? -1 : sameCall.indexOf(tx);
    if (sameCall === undefined || index === -1) return;
    sameCall.splice(index, 1);
    if (sameCall.length === 0) this.serversByCallId.delete(callId);
    this.serverCount--;
  }

  private environment(callId: string, method: string, branch: string | null, release: () => void, answered: () => void = () => undefined): TransactionEnvironment {
    return {
      callId,
      clock: this.clock,
      sender: this.sender,
      settings: this.settings,
      logger: this.logger.child({ callId, method, branch }),
      release,
      answered,
      startTimerJ: this.startTimerJ,
    };
  }
}
