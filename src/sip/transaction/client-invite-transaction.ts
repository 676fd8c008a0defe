/**
 * The INVITE client transaction (RFC 3261 §17.1.1) with the Accepted state
 * and Timer M of RFC 6026 §7.2.
 */
import { createAckForNon2xx } from '../builders.js';
import type { SipRequest, SipResponse } from '../message.js';
import { isReliable, type Destination, type TransportError } from '../transport/types.js';
import { TransactionTimer, transactionTimers, type TransactionTimers } from './timers.js';
import type { ClientTransactionUser, TransactionEnvironment } from './transaction-layer.js';

export type ClientInviteState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

export class ClientInviteTransaction {
  private currentState: ClientInviteState = 'Calling';
  private readonly timers: TransactionTimers;
  private readonly timerA: TransactionTimer;
  private readonly timerB: TransactionTimer;
  private readonly timerD: TransactionTimer;
  private readonly timerM: TransactionTimer;
  private timerAInterval = 0;
  private ackRequest: SipRequest | null = null;

  constructor(
    readonly request: SipRequest,
    readonly destination: Destination,
    private readonly user: ClientTransactionUser,
    private readonly env: TransactionEnvironment,
  ) {
    this.timers = transactionTimers(env.settings, isReliable(destination.transport));
    this.timerA = new TransactionTimer(env.clock, 'A');
    this.timerB = new TransactionTimer(env.clock, 'B');
    this.timerD = new TransactionTimer(env.clock, 'D');
    this.timerM = new TransactionTimer(env.clock, 'M');
  }

  get state(): ClientInviteState {
    return this.currentState;
  }

  /** The ACK this transaction sent for a non-2xx final response (§17.1.1.3), once it has. */
  get ack(): SipRequest | null {
    return this.ackRequest;
  }

  /** Sends the INVITE. Called once by the transaction layer after registering the transaction. */
  start(): void {
    // RFC 3261 §17.1.1.2: Timer A only on unreliable transports; Timer B on all.
    if (this.timers.timerA !== null) {
      this.timerAInterval = this.timers.timerA;
      this.timerA.start(this.timerAInterval, () => this.onTimerA());
    }
    this.timerB.start(this.timers.timerB, () => this.onTimerB());
    this.send(this.request);
  }

  receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.currentState) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          // §17.1.1.2: no more retransmissions once a provisional response arrived.
          // Timer B belongs to Calling only; how long Proceeding may last is the
          // TU's call (Expires, CANCEL, then terminate() per §9.1).
          this.timerA.stop();
          this.timerB.stop();
          this.currentState = 'Proceeding';
          this.user.onResponse(this, response);
        } else if (status < 300) {
          this.enterAccepted(response);
        } else {
          this.enterCompleted(response);
        }
        return;
      case 'Completed':
        // §17.1.1.2: a retransmitted final response gets the same ACK again and
        // is not passed to the TU.
        if (status >= 300 && this.ackRequest !== null) this.send(this.ackRequest);
        return;
      case 'Accepted':
        // RFC 6026 §7.2: 2xx retransmissions and 2xx from other forks go to the
        // TU, which acknowledges each of them; anything else is discarded.
        if (status >= 200 && status < 300) this.user.onResponse(this, response);
        return;
      case 'Terminated':
        return;
    }
  }

  /**
   * Ends the transaction without waiting for a response. RFC 3261 §9.1: a UAC
   * that gets no final response 64*T1 after its CANCEL destroys the INVITE
   * client transaction.
   */
  terminate(): void {
    if (this.currentState === 'Terminated') return;
    this.currentState = 'Terminated';
    this.timerA.stop();
    this.timerB.stop();
    this.timerD.stop();
    this.timerM.stop();
    this.env.release();
    this.user.onTerminated?.(this);
  }

  private enterAccepted(response: SipResponse): void {
    // RFC 6026 §7.2: instead of terminating on a 2xx (RFC 3261), stay for
    // Timer M so that 2xx retransmissions and forked 2xx still match.
    this.timerA.stop();
    this.timerB.stop();
    this.currentState = 'Accepted';
    this.timerM.start(this.timers.timerM, () => this.terminate());
    this.user.onResponse(this, response);
  }

  private enterCompleted(response: SipResponse): void {
    this.timerA.stop();
    this.timerB.stop();
    this.currentState = 'Completed';
    // §17.1.1.3: the ACK for a non-2xx is part of this transaction: same
    // branch as the INVITE, To (with its tag) from the response, sent to the
    // INVITE's destination. It leaves before the TU hears of the response, so
    // that a TU sending the INVITE again (with credentials after a 401/407,
    // §22.2) does not overtake it: peers that expect the ACK first (SIPp)
    // would take the new INVITE for an unexpected message.
    this.ackRequest = createAckForNon2xx(this.request, response);
    this.send(this.ackRequest);
    this.user.onResponse(this, response);
    // Timer D is zero on reliable transports: Terminated at once.
    if (this.currentState === 'Completed') this.timerD.start(this.timers.timerD, () => this.terminate());
  }

  private onTimerA(): void {
    // §17.1.1.2: Timer A doubles at each retransmission, with no cap; Timer B ends it.
    this.timerAInterval *= 2;
    this.timerA.start(this.timerAInterval, () => this.onTimerA());
    this.send(this.request);
  }

  private onTimerB(): void {
    this.env.logger.debug('INVITE client transaction timed out (Timer B)', { state: this.currentState });
    this.user.onTimeout(this);
    this.terminate();
  }

  private send(message: SipRequest): void {
    this.env.sender.send(message, this.destination, (error) => this.onTransportError(error));
  }

  private onTransportError(error: TransportError): void {
    if (this.currentState === 'Terminated') return;
    // §17.1.4: a transport failure ends the transaction; the TU treats it as a 503 (§8.1.3.1).
    this.env.logger.debug('INVITE client transaction transport error', { state: this.currentState, error: error.message });
    this.user.onTransportError(this, error);
    this.terminate();
  }
}
