/**
 * The INVITE server transaction (RFC 3261 §17.2.1) with the Accepted state
 * and Timer L of RFC 6026 §7.1.
 *
 * Design decision: RFC 3261 §13.3.1.4 gives the 2xx retransmissions to the
 * UAS core, and RFC 6026 §7.1 keeps them out of the transaction state
 * machine. voix does them here, in the Accepted state, on behalf of the UAS
 * core: the transaction already owns the 2xx, the destination, the clock and
 * the ACK matching, and the call core then deals with one object per INVITE.
 * On the wire this is exactly §13.3.1.4: the 2xx is resent at T1, doubling up
 * to T2, until an ACK arrives, on every transport (the ACK is end-to-end and
 * some hop may be UDP). If no ACK comes within 64*T1 the TU is told
 * (onAckTimeout) so that the call core can end the session with a BYE.
 */
import { createResponse } from '../builders.js';
import { Headers } from '../headers.js';
import type { SipRequest, SipResponse } from '../message.js';
import { isReliable, type Destination, type Flow, type TransportError } from '../transport/types.js';
import { TransactionTimer, doubledUpToT2, transactionTimers, type TransactionTimers } from './timers.js';
import type { ServerTransactionUser, TransactionEnvironment } from './transaction-layer.js';

export type ServerInviteState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

/** §17.2.1: a 100 (Trying) goes out unless the TU answers within 200 ms. */
export const TRYING_DELAY_MS = 200;

export class ServerInviteTransaction {
  private currentState: ServerInviteState = 'Proceeding';
  private readonly timers: TransactionTimers;
  private readonly tryingTimer: TransactionTimer;
  private readonly timerG: TransactionTimer;
  private readonly timerH: TransactionTimer;
  private readonly timerI: TransactionTimer;
  private readonly timerL: TransactionTimer;
  private readonly retransmit2xxTimer: TransactionTimer;
  private timerGInterval = 0;
  private retransmit2xxInterval = 0;
  private provisional: SipResponse | null = null;
  private final: SipResponse | null = null;
  private acked = false;

  constructor(
    readonly request: SipRequest,
    readonly flow: Flow,
    /** Where responses go (§18.2.2), computed by the layer from the request and its flow. */
    readonly destination: Destination,
    private readonly user: ServerTransactionUser,
    private readonly env: TransactionEnvironment,
  ) {
    this.timers = transactionTimers(env.settings, isReliable(flow.transport));
    this.tryingTimer = new TransactionTimer(env.clock, 'Trying');
    this.timerG = new TransactionTimer(env.clock, 'G');
    this.timerH = new TransactionTimer(env.clock, 'H');
    this.timerI = new TransactionTimer(env.clock, 'I');
    this.timerL = new TransactionTimer(env.clock, 'L');
    this.retransmit2xxTimer = new TransactionTimer(env.clock, '2xx');
  }

  get state(): ServerInviteState {
    return this.currentState;
  }

  get callId(): string {
    return this.request.callId;
  }

  /** The most recent provisional response sent (by the TU or the automatic 100). */
  get lastProvisionalResponse(): SipResponse | null {
    return this.provisional;
  }

  /** The final response sent; in Accepted, the latest 2xx. */
  get finalResponse(): SipResponse | null {
    return this.final;
  }

  /** True once an ACK for the 2xx has arrived (Accepted state). */
  get ackReceived(): boolean {
    return this.acked;
  }

  /** Arms the automatic 100 (Trying). Called once by the layer before the TU sees the INVITE. */
  start(): void {
    this.tryingTimer.start(TRYING_DELAY_MS, () => this.sendTrying());
  }

  /** Sends a response from the TU. */
  sendResponse(response: SipResponse): void {
    const status = response.status;
    if (this.currentState === 'Proceeding') {
      this.tryingTimer.stop();
      if (status < 200) {
        this.provisional = response;
        this.send(response);
      } else if (status < 300) {
        this.enterAccepted(response);
      } else {
        this.enterCompleted(response);
      }
      return;
    }
    if (this.currentState === 'Accepted' && status >= 200 && status < 300) {
      // RFC 6026 §7.1: a 2xx passed down in Accepted goes out; it becomes the one retransmitted.
      this.final = response;
      this.send(response);
      return;
    }
    this.env.logger.debug('response discarded: INVITE already answered', { status, state: this.currentState });
  }

  /** A retransmission of the INVITE, matched by the layer (§17.2.3). */
  receiveRequest(_request: SipRequest): void {
    if (this.currentState === 'Proceeding') {
      // §17.2.1: resend the most recent provisional response.
      if (this.provisional !== null) this.send(this.provisional);
    } else if (this.currentState === 'Completed') {
      if (this.final !== null) this.send(this.final);
    }
    // Confirmed, and Accepted (RFC 6026 §7.1): absorbed, never passed to the TU.
  }

  /** An ACK matched to this transaction by the layer. */
  receiveAck(ack: SipRequest, flow: Flow): void {
    switch (this.currentState) {
      case 'Completed':
        // §17.2.1: the ACK for a non-2xx belongs to the transaction and stops
        // here. Confirmed then absorbs ACK retransmissions for Timer I (zero
        // on reliable transports).
        this.timerG.stop();
        this.timerH.stop();
        this.currentState = 'Confirmed';
        this.timerI.start(this.timers.timerI, () => this.terminate());
        return;
      case 'Accepted':
        // RFC 6026 §7.1: ACKs for the 2xx go to the TU; the first one stops
        // the 2xx retransmissions (§13.3.1.4).
        this.acked = true;
        this.retransmit2xxTimer.stop();
        this.user.onAck(ack, flow, this);
        return;
      case 'Proceeding':
      case 'Confirmed':
      case 'Terminated':
        return;
    }
  }

  private sendTrying(): void {
    // §8.2.6.1: a 100 copies the request's Timestamp; §17.2.1: and gets no To tag.
    const headers = new Headers();
    const timestamp = this.request.headers.get('timestamp');
    if (timestamp !== undefined) headers.append('Timestamp', timestamp);
    const trying = createResponse(this.request, 100, { headers });
    this.provisional = trying;
    this.send(trying);
  }

  private enterAccepted(response: SipResponse): void {
    this.currentState = 'Accepted';
    this.final = response;
    this.env.answered();
    this.retransmit2xxInterval = this.timers.t1;
    this.retransmit2xxTimer.start(this.retransmit2xxInterval, () => this.onRetransmit2xx());
    // Timer L (RFC 6026) and the §13.3.1.4 give-up are both 64*T1 from the
    // first 2xx, so one expiry serves both, the TU hearing of the missing ACK first.
    this.timerL.start(this.timers.timerL, () => this.onTimerL());
    this.send(response);
  }

  private enterCompleted(response: SipResponse): void {
    this.currentState = 'Completed';
    this.final = response;
    this.env.answered();
    // §17.2.1: Timer G only on unreliable transports; Timer H on all.
    if (this.timers.timerG !== null) {
      this.timerGInterval = this.timers.timerG;
      this.timerG.start(this.timerGInterval, () => this.onTimerG());
    }
    this.timerH.start(this.timers.timerH, () => this.onTimerH());
    this.send(response);
  }

  private onRetransmit2xx(): void {
    if (this.final === null) return;
    this.retransmit2xxInterval = doubledUpToT2(this.retransmit2xxInterval, this.timers.t2);
    this.retransmit2xxTimer.start(this.retransmit2xxInterval, () => this.onRetransmit2xx());
    this.send(this.final);
  }

  private onTimerG(): void {
    if (this.final === null) return;
    // §17.2.1: Timer G doubles up to T2.
    this.timerGInterval = doubledUpToT2(this.timerGInterval, this.timers.t2);
    this.timerG.start(this.timerGInterval, () => this.onTimerG());
    this.send(this.final);
  }

  private onTimerH(): void {
    // §17.2.1: no ACK for the non-2xx final response: a transaction failure for the TU.
    this.env.logger.debug('no ACK for the final response (Timer H)', { status: this.final?.status });
    this.user.onTimeout(this);
    this.terminate();
  }

  private onTimerL(): void {
    if (!this.acked && this.final !== null) {
      this.env.logger.debug('no ACK for the 2xx within 64*T1', { status: this.final.status });
      this.user.onAckTimeout(this, this.final);
    }
    this.terminate();
  }

  private terminate(): void {
    if (this.currentState === 'Terminated') return;
    this.currentState = 'Terminated';
    this.tryingTimer.stop();
    this.timerG.stop();
    this.timerH.stop();
    this.timerI.stop();
    this.timerL.stop();
    this.retransmit2xxTimer.stop();
    this.env.release();
    this.user.onTerminated?.(this);
  }

  private send(response: SipResponse): void {
    this.env.sender.send(response, this.destination, (error) => this.onTransportError(error));
  }

  private onTransportError(error: TransportError): void {
    if (this.currentState === 'Terminated') return;
    // §17.2.4: inform the TU and end the transaction.
    this.env.logger.debug('INVITE server transaction transport error', { state: this.currentState, error: error.message });
    this.user.onTransportError(this, error);
    this.terminate();
  }
}
