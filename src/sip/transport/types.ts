/**
 * What the layers above the transports know about where a message came from
 * and where one goes (RFC 3261 §18).
 */
import type { AnySipMessage } from '../message.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

/** Reliable transports need no retransmissions (RFC 3261 §17.1.1.2, §17.1.2.2). */
export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}

/** The Via transport token for a transport. */
export function viaTransport(transport: TransportProtocol): string {
  return transport.toUpperCase();
}

/**
 * A path between voix and a peer: the transport, both ends and, for TCP and
 * TLS, the connection carrying it. A request that arrived on a connection is
 * answered on it; a phone registered over TCP/TLS is reached through it.
 */
export interface Flow {
  readonly transport: TransportProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The connection for TCP/TLS, null for UDP. */
  readonly connectionId: number | null;
}

/** Where to send a message. With a connection id, that connection is used if it is still open. */
export interface Destination {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly connectionId?: number | null;
}

export function destinationOfFlow(flow: Flow): Destination {
  return { transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort, connectionId: flow.connectionId };
}

export interface InboundMessage {
  readonly message: AnySipMessage;
  readonly flow: Flow;
}

/** Why a message could not be sent (RFC 3261 §8.1.3.1 transport error). */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly destination: Destination,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * Sends messages. The transaction layer depends on this interface only, so
 * tests drive it with a fake. `onError` is called when the message could not
 * leave (no route, connection refused or closed).
 */
export interface MessageSender {
  send(message: AnySipMessage, destination: Destination, onError?: (error: TransportError) => void): void;
  /**
   * Sends the bytes a message was serialized to, as they are: what a
   * Completed server transaction keeps to resend its final response to a
   * retransmitted request (RFC 3261 §17.2.2) instead of the message.
   */
  sendSerialized(data: Buffer, destination: Destination, onError?: (error: TransportError) => void): void;
}
