/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { isReliable, type Destination, type Flow, type TransportError } from '../transport/types.js';
import { TransactionTimer, transactionTimers, type TransactionTimers } from './timers.js';
import type { ServerTransactionUser, TransactionEnvironment } from './transaction-layer.js';

export type ServerNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export class ServerNonInviteTransaction {
  private currentState: ServerNonInviteState = 'Trying';
  private readonly timers: TransactionTimers;
  private readonly timerJ: TransactionTimer;
  private latestResponse: SipResponse | null = null;

  constructor(
    readonly request: SipRequest,
    readonly flow: Flow,
    /** Where responses go (§18.2.2), computed by the layer from the request and its flow. */
    readonly destination: Destination,
    private readonly user: ServerTransactionUser,
    private readonly env: TransactionEnvironment,
  ) {
    this.timers = transactionTimers(env.settings, isReliable(flow.transport));
    this.timerJ = new TransactionTimer(env.clock, 'J');
  }

  get state(): ServerNonInviteState {
    return this.currentState;
  }

  /** The most recent response the TU sent, provisional or final. */
  get lastResponse(): SipResponse | null {
    return this.latestResponse;
  }

  /** Sends a response from the TU (§17.2.2). */
  sendResponse(response: SipResponse): void {
    if (this.currentState === 'Completed' || this.currentState === 'Terminated') {
      // §17.2.2: further final responses from the TU are discarded in Completed.
      this.env.logger.debug('response discarded: transaction already answered', {
        status: response.status,
        state: this.currentState,
      });
      return;
    }
    this.latestResponse = response;
    if (response.status < 200) {
      this.currentState = 'Proceeding';
      this.send(response);
      return;
    }
    this.currentState = 'Completed';
    this.env.answered();
    this.send(response);
    // Timer J is zero on reliable transports: Terminated at once.
    if (this.currentState === 'Completed') this.timerJ.start(this.timers.timerJ, () => this.terminate());
  }

  /** A retransmission of the request, matched by the layer (§17.2.3). */
  receiveRequest(_request: SipRequest): void {
    // §17.2.2: absorbed in Trying; in Proceeding and Completed the last
    // response is sent again, which is what the peer is missing.
    if ((this.currentState === 'Proceeding' || this.currentState === 'Completed') && this.latestResponse !== null) {
      this.send(this.latestResponse);
    }
  }

  private terminate(): void {
    if (this.currentState === 'Terminated') return;
    this.currentState = 'Terminated';
    this.timerJ.stop();
    this.env.release();
    this.user.onTerminated?.(this);
  }

  private send(response: SipResponse): void {
    this.env.sender.send(response, this.destination, (error) => this.onTransportError(error));
  }

  private onTransportError(error: TransportError): void {
    if (this.currentState === 'Terminated') return;
    // §17.2.4: inform the TU and end the transaction.
    this.env.logger.debug('non-INVITE server transaction transport error', { state: this.currentState, error: error.message });
    this.user.onTransportError(this, error);
    this.terminate();
  }
}
