/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { serializeMessage } from '../serializer.js';
import { isReliable, type Destination, type Flow, type TransportError } from '../transport/types.js';
import { transactionTimers } from './timers.js';
import type { ServerTransactionUser, TransactionEnvironment } from './transaction-layer.js';

export type ServerNonInviteState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export class ServerNonInviteTransaction {
  private currentState: ServerNonInviteState = 'Trying';
  /** The last provisional response, then the final one until it is kept as bytes. */
  private latestResponse: SipResponse | null = null;
  /** In Completed over UDP: the final response as sent, one latin1 char per byte (a compact string, exact both ways). */
  private finalBytes: string | null = null;
  private originalRequest: SipRequest | null;

  constructor(
    request: SipRequest,
    readonly flow: Flow,
    /** Where responses go (§18.2.2), computed by the layer from the request and its flow. */
    readonly destination: Destination,
    private readonly user: ServerTransactionUser,
    private readonly env: TransactionEnvironment,
    /**
     * Whether retransmissions find this transaction by its §17.2.3 key (an
     * RFC 3261 branch) rather than by comparing their headers with the
     * request's (RFC 2543): only then can the request go once answered.
     */
    private readonly matchedByKey = true,
  ) {
    this.originalRequest = request;
  }

  get callId(): string {
    return this.env.callId;
  }

  get state(): ServerNonInviteState {
    return this.currentState;
  }

  /**
   * The request that created the transaction; null once it is answered over
   * UDP and matched by branch: for the 32 s of Timer J a retransmission needs
   * only the key, the destination and the final response's bytes, and at
   * hundreds of REGISTERs a second, keeping each parsed request and response
   * that long is what fills the heap.
   */
  get request(): SipRequest | null {
    return this.originalRequest;
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
    if (this.currentState !== 'Completed') return;
    if (transactionTimers(this.env.settings, isReliable(this.flow.transport)).timerJ === 0) {
      // Timer J is zero on reliable transports: Terminated at once.
      this.terminate();
      return;
    }
    this.finalBytes = serializeMessage(response).toString('latin1');
    this.latestResponse = null;
    if (this.matchedByKey) this.originalRequest = null;
    this.env.startTimerJ(this);
  }

  /** A retransmission of the request, matched by the layer (§17.2.3). */
  receiveRequest(_request: SipRequest): void {
    // §17.2.2: absorbed in Trying; in Proceeding and Completed the last
    // response is sent again, which is what the peer is missing.
    if (this.currentState === 'Completed' && this.finalBytes !== null) {
      this.env.sender.sendSerialized(Buffer.from(this.finalBytes, 'latin1'), this.destination, (error) => this.onTransportError(error));
    } else if ((this.currentState === 'Proceeding' || this.currentState === 'Completed') && this.latestResponse !== null) {
      this.send(this.latestResponse);
    }
  }

  /** The TU never answered and the client has given up (the layer's sweep, after Timer F's 64*T1): the transaction ends. */
  abandon(): void {
    if (this.currentState !== 'Trying' && this.currentState !== 'Proceeding') return;
    this.env.logger.warn('request never answered: transaction dropped', { state: this.currentState });
    this.terminate();
  }

  /** Timer J fired (the layer runs one queue for all of them): §17.2.2, Completed → Terminated. */
  timerJExpired(): void {
    this.terminate();
  }

  private terminate(): void {
    if (this.currentState === 'Terminated') return;
    this.currentState = 'Terminated';
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
