/**
 * SIP over TCP and TLS (RFC 3261 §18, RFC 5630 §3): accepts connections,
 * frames each one with a StreamFramer, keeps connections by id so that
 * responses and later requests to a phone reuse the connection it opened
 * (its Contact port is usually not listening), and opens outbound
 * connections when none exists.
 *
 * Limits (read at each new connection, so a reload applies to the next
 * ones): connections accepted per source address and in all, counted from
 * the TCP accept (a TLS handshake in progress counts); a first complete SIP
 * message within a short time after the accept (TLS handshake included),
 * else the connection is closed; an idle timeout after that; the size and
 * header count of each message (stream-framer.ts).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../log/logger.js';
import { StreamFramer, type FrameEvent } from './stream-framer.js';

export interface StreamConnection {
  readonly id: number;
  readonly transport: 'tcp' | 'tls';
  readonly socket: net.Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** True when voix opened the connection. */
  readonly outbound: boolean;
  readonly framer: StreamFramer;
}

export interface StreamLimits {
  /** A connection without traffic for this long is closed. */
  readonly idleTimeoutMs: number;
  /** An accepted connection that has not delivered a complete SIP message (TLS handshake included) within this is closed. */
  readonly firstMessageTimeoutMs: number;
  /** Most simultaneous accepted connections from one address. */
  readonly maxConnectionsPerAddress: number;
  /** Most simultaneous accepted connections in all. */
  readonly maxConnections: number;
  /** Largest SIP message, header section and body (stream-framer.ts). */
  readonly maxMessageBytes: number;
  readonly maxHeaders: number;
}

/** Why a connection was refused or closed by a limit (the metrics' reason label). */
export type ConnectionRefusal = 'per-address-limit' | 'total-limit' | 'first-message-timeout';

export interface StreamTransportOptions {
  readonly transport: 'tcp' | 'tls';
  readonly address: string;
  readonly port: number;
  /** Certificate and key for TLS; ignored for TCP. */
  readonly tls?: tls.SecureContextOptions & { minVersion?: tls.SecureVersion; ciphers?: string };
  /** Options for connections voix opens over TLS (CA to trust, server name). */
  readonly tlsClient?: tls.ConnectionOptions;
  readonly limits: () => StreamLimits;
  /** A connection refused or closed by a limit. */
  readonly onRefused?: (reason: ConnectionRefusal, remoteAddress: string) => void;
  readonly isBlocked: (address: string) => boolean;
  readonly onFrame: (connection: StreamConnection, event: FrameEvent) => void;
  readonly onClosed?: (connection: StreamConnection) => void;
  readonly logger: Logger;
  /** Shared across transports so that connection ids are unique in the process. */
  readonly nextConnectionId: () => number;
}

/** Strip the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A warning per source address at most this often when its connections are refused: an attack must not flood the log. */
const REFUSAL_WARNING_INTERVAL_MS = 60_000;

export class StreamTransport {
  private server: net.Server | null = null;
  private readonly connections = new Map<number, StreamConnection>();
  private readonly byRemote = new Map<string, number>();
  /** Accepted connections (TLS handshakes included) per source address, and in all. */
  private readonly perAddress = new Map<string, number>();
  private accepted = 0;
  /** Accepted connections still waiting for their first complete message, by remote address and port. */
  private readonly firstMessageTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastRefusalWarning = new Map<string, number>();
  private readonly pendingConnects = new Map<string, { queue: Buffer[]; errors: Array<(err: Error) => void> }>();
  private boundPort = 0;

  constructor(private readonly options: StreamTransportOptions) {}

  get transport(): 'tcp' | 'tls' {
    return this.options.transport;
  }

  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<{ address: string; port: number }> {
    const server = this.options.transport === 'tls' ? tls.createServer({ ...this.options.tls, handshakeTimeout: 10_000 }) : net.createServer();
    // The TCP accept, before any TLS: where the limits apply, so a handshake in progress counts too.
    server.on('connection', (socket: net.Socket) => {
      if (this.admit(socket) && this.options.transport === 'tcp') this.register(socket, false);
    });
    if (this.options.transport === 'tls') {
      server.on('secureConnection', (socket: tls.TLSSocket) => this.register(socket, false));
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        this.options.logger.debug('tls handshake failed', { remote: normalizeAddress(socket.remoteAddress), error: err.message });
      });
    }
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.address, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.logger.error('listener error', { transport: this.options.transport, error: err }));
        const addr = server.address() as net.AddressInfo;
        this.boundPort = addr.port;
        resolve({ address: addr.address, port: addr.port });
      });
    });
  }

  /** Counts an accepted TCP connection against the limits; false (and the socket destroyed) when refused. */
  private admit(socket: net.Socket): boolean {
    const remoteAddress = normalizeAddress(socket.remoteAddress);
    if (this.options.isBlocked(remoteAddress)) {
      socket.destroy();
      return false;
    }
    const limits = this.options.limits();
    const fromAddress = this.perAddress.get(remoteAddress) ?? 0;
    const refusal: ConnectionRefusal | null = fromAddress >= limits.maxConnectionsPerAddress ? 'per-address-limit' : this.accepted >= limits.maxConnections ? 'total-limit' : null;
    if (refusal !== null) {
      this.refuse(refusal, remoteAddress, { connections: refusal === 'total-limit' ? this.accepted : fromAddress });
      socket.destroy();
      return false;
    }
    this.perAddress.set(remoteAddress, fromAddress + 1);
    this.accepted += 1;
    const key = remoteKey(remoteAddress, socket.remotePort ?? 0);
    const timer = setTimeout(() => {
      this.refuse('first-message-timeout', remoteAddress, { afterMs: limits.firstMessageTimeoutMs });
      socket.destroy();
    }, limits.firstMessageTimeoutMs);
    timer.unref();
    this.firstMessageTimers.set(key, timer);
    socket.once('close', () => {
      this.clearFirstMessageTimer(key);
      this.accepted -= 1;
      const n = (this.perAddress.get(remoteAddress) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(remoteAddress);
      else this.perAddress.set(remoteAddress, n);
    });
    return true;
  }

  private refuse(reason: ConnectionRefusal, remoteAddress: string, fields: Record<string, unknown>): void {
    this.options.onRefused?.(reason, remoteAddress);
    const now = Date.now();
    const last = this.lastRefusalWarning.get(remoteAddress);
    if (last !== undefined && now - last < REFUSAL_WARNING_INTERVAL_MS) return;
    if (this.lastRefusalWarning.size >= 10_000) this.lastRefusalWarning.clear();
    this.lastRefusalWarning.set(remoteAddress, now);
    const what = reason === 'first-message-timeout' ? 'connection closed: no complete SIP message in time' : 'connection refused: too many connections';
    this.options.logger.warn(what, { transport: this.options.transport, remote: remoteAddress, reason, ...fields });
  }

  private clearFirstMessageTimer(key: string): void {
    const timer = this.firstMessageTimers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.firstMessageTimers.delete(key);
  }

  private register(socket: net.Socket, outbound: boolean): StreamConnection {
    const limits = this.options.limits();
    const connection: StreamConnection = {
      id: this.options.nextConnectionId(),
      transport: this.options.transport,
      socket,
      remoteAddress: normalizeAddress(socket.remoteAddress),
      remotePort: socket.remotePort ?? 0,
      localAddress: normalizeAddress(socket.localAddress),
      localPort: socket.localPort ?? 0,
      outbound,
      framer: new StreamFramer({ maxMessageBytes: limits.maxMessageBytes, maxHeaders: limits.maxHeaders }),
    };
    this.track(connection);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    const firstMessageKey = outbound ? null : remoteKey(connection.remoteAddress, connection.remotePort);
    socket.on('data', (chunk: Buffer) => {
      for (const event of connection.framer.push(chunk)) {
        if (event.type === 'message' && firstMessageKey !== null) this.clearFirstMessageTimer(firstMessageKey);
        this.options.onFrame(connection, event);
      }
    });
    socket.on('error', (err) => {
      this.options.logger.debug('connection error', { transport: this.options.transport, connectionId: connection.id, error: err.message });
    });
    socket.on('close', () => this.untrack(connection));
    return connection;
  }

  private track(connection: StreamConnection): void {
    this.connections.set(connection.id, connection);
    this.byRemote.set(remoteKey(connection.remoteAddress, connection.remotePort), connection.id);
  }

  private untrack(connection: StreamConnection): void {
    if (!this.connections.delete(connection.id)) return;
    const key = remoteKey(connection.remoteAddress, connection.remotePort);
    if (this.byRemote.get(key) === connection.id) this.byRemote.delete(key);
    this.options.onClosed?.(connection);
  }

  connection(id: number): StreamConnection | undefined {
    return this.connections.get(id);
  }

  /** Writes on a connection: the one given if open, else one to the same address and port, else a new one. */
  send(data: Buffer, address: string, port: number, connectionId: number | null | undefined, onError: (err: Error) => void): void {
    let connection = connectionId === null || connectionId === undefined ? undefined : this.connections.get(connectionId);
    if (connection === undefined) {
      const existing = this.byRemote.get(remoteKey(address, port));
      if (existing !== undefined) connection = this.connections.get(existing);
    }
    if (connection !== undefined && !connection.socket.destroyed) {
      connection.socket.write(data, (err) => {
        if (err) onError(err);
      });
      return;
    }
    this.connectAndSend(data, address, port, onError);
  }

  private connectAndSend(data: Buffer, address: string, port: number, onError: (err: Error) => void): void {
    const key = remoteKey(address, port);
    const pending = this.pendingConnects.get(key);
    if (pending !== undefined) {
      pending.queue.push(data);
      pending.errors.push(onError);
      return;
    }
    const socket =
      this.options.transport === 'tls'
        ? tls.connect({ host: address, port, ...this.options.tlsClient })
        : net.connect({ host: address, port });
    const entry = { queue: [data], errors: [onError] };
    this.pendingConnects.set(key, entry);
    const ready = this.options.transport === 'tls' ? 'secureConnect' : 'connect';
    socket.once(ready, () => {
      this.pendingConnects.delete(key);
      this.register(socket, true);
      for (const chunk of entry.queue) socket.write(chunk);
    });
    socket.once('error', (err) => {
      if (this.pendingConnects.get(key) === entry) {
        this.pendingConnects.delete(key);
        for (const fail of entry.errors) fail(err);
      }
    });
  }

  /** Closes one connection (after a fatal framing error, for instance). */
  closeConnection(id: number): void {
    const connection = this.connections.get(id);
    if (connection === undefined) return;
    // end() flushes what was written (the 400 that explains the close) before the FIN.
    connection.socket.end();
  }

  /** Closes every connection from an address (when it gets banned). */
  closeConnectionsFrom(address: string): void {
    for (const connection of this.connections.values()) {
      if (connection.remoteAddress === address) connection.socket.destroy();
    }
  }

  /** Accepts no new connection; those open keep working (shutdown: the BYEs of their calls still need them). */
  stopListening(): void {
    const server = this.server;
    if (server?.listening === true) server.close();
  }

  close(): Promise<void> {
    for (const connection of this.connections.values()) connection.socket.destroy();
    const server = this.server;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

function remoteKey(address: string, port: number): string {
  return address + '|' + port;
}
