/**
 * The non-INVITE client transaction (RFC 3261 §17.1.2).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { isReliable, type Destination, type TransportError } from '../transport/types.js';
import { TransactionTimer, doubledUpToT2, transactionTimers, type TransactionTimers } from './timers.js';
import type { ClientTransactionUser, TransactionEnvironment } from './transaction-layer.js';

export type ClientNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export class ClientNonInviteTransaction {
  private currentState: ClientNonInviteState = 'Trying';
  private readonly timers: TransactionTimers;
  private readonly timerE: TransactionTimer;
  private readonly timerF: TransactionTimer;
  private readonly timerK: TransactionTimer;
  private timerEInterval = 0;

  constructor(
    readonly request: SipRequest,
    readonly destination: Destination,
    private readonly user: ClientTransactionUser,
    private readonly env: TransactionEnvironment,
  ) {
    this.timers = transactionTimers(env.settings, isReliable(destination.transport));
    this.timerE = new TransactionTimer(env.clock, 'E');
    this.timerF = new TransactionTimer(env.clock, 'F');
    this.timerK = new TransactionTimer(env.clock, 'K');
  }

  get state(): ClientNonInviteState {
    return this.currentState;
  }

  /** Sends the request. Called once by the transaction layer after registering the transaction. */
  start(): void {
    // RFC 3261 §17.1.2.2: Timer E only on unreliable transports; Timer F on all.
    if (this.timers.timerE !== null) {
      this.timerEInterval = this.timers.timerE;
      this.timerE.start(this.timerEInterval, () => this.onTimerE());
    }
    this.timerF.start(this.timers.timerF, () => this.onTimerF());
    this.send();
  }

  receiveResponse(response: SipResponse): void {
    if (this.currentState === 'Completed' || this.currentState === 'Terminated') {
      // §17.1.2.2: Completed exists to absorb response retransmissions.
      return;
    }
    if (response.status < 200) {
      this.currentState = 'Proceeding';
      this.user.onResponse(this, response);
      return;
    }
    this.timerE.stop();
    this.timerF.stop();
    this.currentState = 'Completed';
    this.user.onResponse(this, response);
    // Timer K is zero on reliable transports: Terminated at once.
    if (this.currentState === 'Completed') this.timerK.start(this.timers.timerK, () => this.terminate());
  }

  /** Ends the transaction at once, without telling the TU anything but onTerminated. */
  terminate(): void {
    if (this.currentState === 'Terminated') return;
    this.currentState = 'Terminated';
    this.timerE.stop();
    this.timerF.stop();
    this.timerK.stop();
    this.env.release();
    this.user.onTerminated?.(this);
  }

  private onTimerE(): void {
    // §17.1.2.2: in Trying, Timer E doubles up to T2; once a provisional
    // response has arrived the peer is alive, so retransmit every T2.
    this.timerEInterval =
      this.currentState === 'Proceeding' ? this.timers.t2 : doubledUpToT2(this.timerEInterval, this.timers.t2);
    this.timerE.start(this.timerEInterval, () => this.onTimerE());
    this.send();
  }

  private onTimerF(): void {
    this.env.logger.debug('non-INVITE client transaction timed out (Timer F)', { state: this.currentState });
    this.user.onTimeout(this);
    this.terminate();
  }

  private send(): void {
    this.env.sender.send(this.request, this.destination, (error) => this.onTransportError(error));
  }

  private onTransportError(error: TransportError): void {
    if (this.currentState === 'Terminated') return;
    // §17.1.4: a transport failure ends the transaction; the TU treats it as a 503 (§8.1.3.1).
    this.env.logger.debug('non-INVITE client transaction transport error', { state: this.currentState, error: error.message });
    this.user.onTransportError(this, error);
    this.terminate();
  }
}
