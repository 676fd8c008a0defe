/**
 * The SIP transport layer (RFC 3261 §18): UDP, TCP and TLS listeners behind
 * one interface. Inbound: parse, answer what cannot be parsed with a
 * stateless 400, stamp `received`/`rport` on the top Via (§18.2.1, RFC 3581)
 * and hand messages up. Outbound: serialize and send on the right socket or
 * connection, moving large UDP requests to TCP (§18.1.1).
 */
import os from 'node:os';
import type tls from 'node:tls';
import type { Logger } from '../../log/logger.js';
import { getParam, setParam } from '../grammar.js';
import { canonicalHeaderName, type Via } from '../headers.js';
import type { AnySipMessage, SipRequest, SipResponse } from '../message.js';
import { TOO_MANY_HEADERS, findHeadEnd, parseDatagram, rawHeaderValues, skipLeadingCrlf, type SipParseFailure } from '../parser.js';
import { serializeMessage } from '../serializer.js';
import { MESSAGE_TOO_LARGE, type FrameEvent } from './stream-framer.js';
import { StreamTransport, type ConnectionRefusal, type StreamConnection, type StreamLimits } from './stream-transport.js';
import { TransportError, type Destination, type Flow, type MessageSender, type TransportProtocol } from './types.js';
import { UdpTransport, type UdpEndpoint, type UdpTransportOptions } from './udp-transport.js';

export interface ListenOptions {
  readonly address: string;
  readonly port: number;
}

export interface TransportLayerOptions {
  readonly udp: ListenOptions | null;
  readonly tcp: ListenOptions | null;
  readonly tls: (ListenOptions & { readonly key: string; readonly cert: string; readonly ciphers?: string }) | null;
  /** Address advertised in Via and Contact when voix is behind NAT. */
  readonly publicAddress?: string | null;
  /** Read at each new connection and message: a reload applies at once (DEFAULT_TRANSPORT_LIMITS when absent). */
  readonly limits?: () => TransportLimits;
  /** A connection or a message refused by a limit, for the metrics. */
  readonly onLimit?: (event: LimitEvent) => void;
  /** Sources whose packets are dropped unread (bans). */
  readonly isBlocked?: (address: string) => boolean;
  /** Options for TLS connections voix opens. */
  readonly tlsClient?: tls.ConnectionOptions;
  /** Value of the Server header on the stateless answers sent here. */
  readonly serverHeader?: string;
  readonly logger: Logger;
  /** Makes the UDP socket; a real one (UdpTransport) by default, a fake to run without a network. */
  readonly createUdp?: (options: UdpTransportOptions) => UdpEndpoint;
}

export interface InboundHandler {
  onRequest(request: SipRequest, flow: Flow): void;
  onResponse(response: SipResponse, flow: Flow): void;
}

export type TransportLimits = StreamLimits;

/** What the schema's limits section defaults to. */
export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  idleTimeoutMs: 3_900_000,
  firstMessageTimeoutMs: 10_000,
  maxConnectionsPerAddress: 64,
  maxConnections: 4096,
  maxMessageBytes: 65_535,
  maxHeaders: 100,
};

export type LimitEvent =
  | { readonly kind: 'connection'; readonly transport: 'tcp' | 'tls'; readonly reason: ConnectionRefusal }
  | { readonly kind: 'message'; readonly transport: TransportProtocol; readonly reason: 'message-too-large' | 'too-many-headers' };

/** RFC 3261 §18.1.1: above this size a request meant for UDP goes over TCP. */
export const UDP_REQUEST_LIMIT = 1300;

/**
 * Modern TLS 1.2 suites only (forward secrecy, AEAD); TLS 1.3 suites are
 * configured separately by OpenSSL and are all strong.
 */
export const DEFAULT_TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const CRLF = Buffer.from('\r\n');

export interface LocalEndpoint {
  readonly host: string;
  readonly port: number;
}

function firstExternalAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) return info.address;
    }
  }
  return '127.0.0.1';
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** RFC 3261 §18.2.1 and RFC 3581 §4: record where the request really came from. */
export function stampReceived(via: Via, flow: Flow): void {
  const rport = getParam(via.params, 'rport');
  if (stripBrackets(via.host) !== flow.remoteAddress || rport !== undefined) {
    setParam(via.params, 'received', flow.remoteAddress);
  }
  if (rport !== undefined && rport.value === null) setParam(via.params, 'rport', String(flow.remotePort));
}

/**
 * A stateless answer to a request that could not be parsed, built from its
 * raw header lines (RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq copied).
 */
export function rawErrorResponse(failure: SipParseFailure, serverHeader: string): Buffer {
  const head = failure.head ?? '';
  const reason = failure.reason.replace(/[\r\n]/g, ' ');
  let out = `SIP/2.0 ${failure.status} ${reason}\r\n`;
  for (const v of rawHeaderValues(head, 'via')) out += 'Via: ' + v + '\r\n';
  for (const key of ['from', 'to', 'call-id', 'cseq']) {
    const value = rawHeaderValues(head, key)[0];
    if (value !== undefined) out += canonicalHeaderName(key) + ': ' + value + '\r\n';
  }
  out += `Server: ${serverHeader}\r\nContent-Length: 0\r\n\r\n`;
  return Buffer.from(out, 'utf8');
}

/**
 * The refusal of a datagram larger than the limit: 513 (RFC 3261 §21.4.11)
 * when its header section can be found, to copy Via, From, To, Call-ID and
 * CSeq from; nothing is parsed beyond that.
 */
function oversizedDatagram(data: Buffer): SipParseFailure {
  const start = skipLeadingCrlf(data, 0);
  const bounds = findHeadEnd(data, start);
  const head = bounds === null ? null : data.toString('utf8', start, bounds.headEnd);
  const isRequest = !data.subarray(start, start + 4).equals(Buffer.from('SIP/'));
  return { ok: false, status: 513, reason: MESSAGE_TOO_LARGE, isRequest, head };
}

export class SipTransportLayer implements MessageSender {
  private udp: UdpEndpoint | null = null;
  private tcp: StreamTransport | null = null;
  private tls: StreamTransport | null = null;
  private handler: InboundHandler | null = null;
  private connectionIds = 0;
  private readonly advertisedHost: string;
  private readonly serverHeader: string;
  private readonly isBlocked: (address: string) => boolean;
  private readonly limits: () => TransportLimits;

  constructor(private readonly options: TransportLayerOptions) {
    this.serverHeader = options.serverHeader ?? 'voix';
    this.isBlocked = options.isBlocked ?? (() => false);
    this.limits = options.limits ?? (() => DEFAULT_TRANSPORT_LIMITS);
    const listenAddress = [options.udp, options.tcp, options.tls].find((l) => l !== null)?.address;
    this.advertisedHost =
      options.publicAddress ?? (listenAddress !== undefined && listenAddress !== '0.0.0.0' && listenAddress !== '::' ? listenAddress : firstExternalAddress());
  }

  setHandler(handler: InboundHandler): void {
    this.handler = handler;
  }

  /** Opens the listeners; resolves with what each one is bound to. */
  async start(): Promise<Array<{ transport: TransportProtocol; address: string; port: number }>> {
    const { logger } = this.options;
    const bound: Array<{ transport: TransportProtocol; address: string; port: number }> = [];
    const common = {
      limits: this.limits,
      isBlocked: this.isBlocked,
      onFrame: (connection: StreamConnection, event: FrameEvent) => this.onFrame(connection, event),
      logger,
      nextConnectionId: () => ++this.connectionIds,
    };
    if (this.options.udp !== null) {
      const createUdp = this.options.createUdp ?? ((options: UdpTransportOptions) => new UdpTransport(options));
      this.udp = createUdp({
        ...this.options.udp,
        onDatagram: (data, address, port) => this.onDatagram(data, address, port),
        onError: (err) => logger.error('udp socket error', { error: err }),
      });
      bound.push({ transport: 'udp', ...(await this.udp.listen()) });
    }
    if (this.options.tcp !== null) {
      this.tcp = new StreamTransport({ ...common, transport: 'tcp', ...this.options.tcp, onRefused: (reason) => this.options.onLimit?.({ kind: 'connection', transport: 'tcp', reason }) });
      bound.push({ transport: 'tcp', ...(await this.tcp.listen()) });
    }
    if (this.options.tls !== null) {
      const { key, cert, ciphers, address, port } = this.options.tls;
      this.tls = new StreamTransport({
        ...common,
        transport: 'tls',
        address,
        port,
        onRefused: (reason) => this.options.onLimit?.({ kind: 'connection', transport: 'tls', reason }),
        tls: { key, cert, minVersion: 'TLSv1.2', ciphers: ciphers ?? DEFAULT_TLS_CIPHERS, honorCipherOrder: true },
        ...(this.options.tlsClient !== undefined ? { tlsClient: this.options.tlsClient } : {}),
      });
      bound.push({ transport: 'tls', ...(await this.tls.listen()) });
    }
    return bound;
  }

  /** TCP and TLS accept no new connection from now on; UDP, open connections and sending go on (shutdown). */
  stopAccepting(): void {
    this.tcp?.stopListening();
    this.tls?.stopListening();
  }

  async stop(): Promise<void> {
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.tls?.close()]);
  }

  /** Host and port to put in Via and Contact for a transport. */
  localEndpoint(transport: TransportProtocol): LocalEndpoint {
    const port = transport === 'udp' ? this.udp?.port : transport === 'tcp' ? this.tcp?.port : this.tls?.port;
    return { host: this.advertisedHost, port: port ?? 0 };
  }

  hasTransport(transport: TransportProtocol): boolean {
    return (transport === 'udp' ? this.udp : transport === 'tcp' ? this.tcp : this.tls) !== null;
  }

  /** TCP and TLS connections open now. */
  connectionCounts(): { tcp: number; tls: number } {
    return { tcp: this.tcp?.connectionCount ?? 0, tls: this.tls?.connectionCount ?? 0 };
  }

  /** Drops every TCP/TLS connection from an address (after a ban). */
  disconnect(address: string): void {
    this.tcp?.closeConnectionsFrom(address);
    this.tls?.closeConnectionsFrom(address);
  }

  /** Whether the TCP/TLS connection with this id is still open. */
  isConnectionOpen(connectionId: number): boolean {
    return this.tcp?.connection(connectionId) !== undefined || this.tls?.connection(connectionId) !== undefined;
  }

  send(message: AnySipMessage, destination: Destination, onError?: (error: TransportError) => void): void {
    const fail = this.failure(destination, onError);
    let data = serializeMessage(message);
    if (destination.transport === 'udp') {
      if (this.udp === null) return fail(new Error('UDP is not enabled'));
      if (message.kind === 'request' && data.length > UDP_REQUEST_LIMIT && this.tcp !== null) {
        // RFC 3261 §18.1.1: a large request goes over TCP, its Via says so, and UDP is the fallback.
        const via = message.topVia;
        via.transport = 'TCP';
        const overTcp = serializeMessage(message);
        const udp = this.udp;
        this.tcp.send(overTcp, destination.address, destination.port, null, () => {
          via.transport = 'UDP';
          data = serializeMessage(message);
          udp.send(data, destination.address, destination.port, fail);
        });
        return;
      }
      this.udp.send(data, destination.address, destination.port, fail);
      return;
    }
    const stream = destination.transport === 'tcp' ? this.tcp : this.tls;
    if (stream === null) return fail(new Error(`${destination.transport.toUpperCase()} is not enabled`));
    let port = destination.port;
    const connectionId = destination.connectionId ?? null;
    if (message.kind === 'response' && connectionId !== null && stream.connection(connectionId) === undefined) {
      // RFC 3261 §18.2.2: the request's connection is gone; open one to the received address at the sent-by port.
      port = message.topVia.port ?? (destination.transport === 'tls' ? 5061 : 5060);
    }
    stream.send(data, destination.address, port, connectionId, fail);
  }

  sendSerialized(data: Buffer, destination: Destination, onError?: (error: TransportError) => void): void {
    const fail = this.failure(destination, onError);
    if (destination.transport === 'udp') {
      if (this.udp === null) return fail(new Error('UDP is not enabled'));
      this.udp.send(data, destination.address, destination.port, fail);
      return;
    }
    const stream = destination.transport === 'tcp' ? this.tcp : this.tls;
    if (stream === null) return fail(new Error(`${destination.transport.toUpperCase()} is not enabled`));
    stream.send(data, destination.address, destination.port, destination.connectionId ?? null, fail);
  }

  private failure(destination: Destination, onError: ((error: TransportError) => void) | undefined): (err: Error) => void {
    return (err: Error) => {
      this.options.logger.debug('send failed', { transport: destination.transport, address: destination.address, port: destination.port, error: err.message });
      onError?.(new TransportError(err.message, destination));
    };
  }

  private onDatagram(data: Buffer, address: string, port: number): void {
    if (this.isBlocked(address)) return;
    // Keep-alives: CRLF and CRLF CRLF datagrams carry nothing to answer.
    if (data.length <= 4 && data.every((b) => b === 0x0d || b === 0x0a)) return;
    const udp = this.udp;
    if (udp === null) return;
    const flow: Flow = { transport: 'udp', remoteAddress: address, remotePort: port, localAddress: udp.address, localPort: udp.port, connectionId: null };
    const limits = this.limits();
    if (data.length > limits.maxMessageBytes) {
      this.rejectUnparsable(oversizedDatagram(data), flow, (answer) => udp.send(answer, address, port, () => undefined));
      return;
    }
    const parsed = parseDatagram(data, { maxHeaders: limits.maxHeaders });
    if (!parsed.ok) {
      this.rejectUnparsable(parsed, flow, (answer) => udp.send(answer, address, port, () => undefined));
      return;
    }
    this.dispatch(parsed.message, flow);
  }

  private onFrame(connection: StreamConnection, event: FrameEvent): void {
    const flow: Flow = {
      transport: connection.transport,
      remoteAddress: connection.remoteAddress,
      remotePort: connection.remotePort,
      localAddress: connection.localAddress,
      localPort: connection.localPort,
      connectionId: connection.id,
    };
    switch (event.type) {
      case 'ping':
        // RFC 5626 §3.5.1: answer a CRLF CRLF ping with a CRLF pong.
        connection.socket.write(CRLF);
        return;
      case 'error':
        this.rejectUnparsable(event.failure, flow, (answer) => connection.socket.write(answer));
        if (event.fatal) {
          const stream = connection.transport === 'tcp' ? this.tcp : this.tls;
          stream?.closeConnection(connection.id);
        }
        return;
      case 'message':
        this.dispatch(event.message, flow);
    }
  }

  private rejectUnparsable(failure: SipParseFailure, flow: Flow, write: (answer: Buffer) => void): void {
    if (failure.status === 513 && failure.reason === MESSAGE_TOO_LARGE) this.options.onLimit?.({ kind: 'message', transport: flow.transport, reason: 'message-too-large' });
    else if (failure.reason === TOO_MANY_HEADERS) this.options.onLimit?.({ kind: 'message', transport: flow.transport, reason: 'too-many-headers' });
    this.options.logger.debug('unparsable message', {
      transport: flow.transport,
      remote: flow.remoteAddress,
      port: flow.remotePort,
      reason: failure.reason,
      request: failure.isRequest,
    });
    // RFC 3261 §16.7 / RFC 4475: a broken response is dropped; a broken request is answered.
    if (!failure.isRequest || failure.head === null) return;
    if (rawHeaderValues(failure.head, 'via').length === 0) return;
    write(rawErrorResponse(failure, this.serverHeader));
  }

  private dispatch(message: AnySipMessage, flow: Flow): void {
    const handler = this.handler;
    if (handler === null) return;
    try {
      if (message.kind === 'request') {
        stampReceived(message.topVia, flow);
        handler.onRequest(message, flow);
      } else {
        handler.onResponse(message, flow);
      }
    } catch (err) {
      // A bug met by one message must not take the server down for everyone else.
      this.options.logger.error('internal error while handling a message', { callId: message.callId, remote: flow.remoteAddress, error: err });
    }
  }
}
