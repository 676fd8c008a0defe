/**
 * Raw bytes to a SIP server over UDP, TCP or TLS, and what comes back.
 *
 * For malformed input (RFC 4475 torture messages) the test must observe
 * the server without trusting it: this module has its own minimal reading
 * of what comes back (first line, Call-ID, CSeq, Content-Length framing)
 * and never imports voix's parser.
 *
 * "Was it dropped?" is decided without waiting an arbitrary time: after the
 * message, a probe (OPTIONS with a Call-ID of our own) goes on the same
 * socket or connection. A server handles one socket's or connection's
 * messages in order, so once the probe is answered, anything it would have
 * answered to the message is in; "probe answered and nothing else before
 * it" means dropped.
 *
 * UDP and Via: RFC 3261 §18.2.2 sends a UDP response to the source address
 * but to the port of the top Via's sent-by (5060 if none) unless it has
 * `rport`. Torture messages carry their own Via, so their answers would not
 * reach our socket: `pointTopViaAt` (option `viaToLocal`) rewrites the top
 * Via's sent-by to our address and port, leaving the rest as it is.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect as connectTcp, isIP, type Socket as TcpSocket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { registerCleanup } from './cleanup.js';

export type RawTransport = 'udp' | 'tcp' | 'tls';

export interface RawSipTarget {
  readonly transport: RawTransport;
  readonly host: string;
  readonly port: number;
  /** TLS: PEM file of the CA to trust (the server's certificate is verified against it, host name included). */
  readonly caFile?: string;
  /** TLS: name to verify and send as SNI; default the host (an IP is checked against the certificate's IP SANs). */
  readonly servername?: string;
  /** Source address to bind (e.g. 127.0.0.5, to be another client for ban tests); default the kernel's choice. */
  readonly localAddress?: string;
}

export interface ReceivedSipMessage {
  readonly firstLine: string;
  /** Status code of a response; null for a request. */
  readonly statusCode: number | null;
  readonly reason: string | null;
  /** Method of a request; null for a response. */
  readonly method: string | null;
  readonly callId: string | null;
  readonly cseq: string | null;
  /** The whole message as latin1 text. */
  readonly text: string;
  readonly at: number;
}

const COMPACT: Readonly<Record<string, string>> = { i: 'call-id', l: 'content-length', v: 'via' };

function headerName(raw: string): string {
  const name = raw.trim().toLowerCase();
  return COMPACT[name] ?? name;
}

/** Headers of a message head (folded lines joined), by lower-case full name; first occurrence wins. */
function readHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  const lines = head.split(/\r?\n/).slice(1);
  const unfolded: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    else unfolded.push(line);
  }
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = headerName(line.slice(0, colon));
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/** Minimal reading of a SIP message: first line, status or method, Call-ID, CSeq. */
export function readSipMessage(text: string, at = Date.now()): ReceivedSipMessage {
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const firstLine = head.split(/\r?\n/)[0] ?? '';
  const status = /^SIP\/2\.0 (\d{3})(?: (.*))?$/.exec(firstLine);
  const request = status === null ? /^(\S+) \S+ SIP\/2\.0$/.exec(firstLine) : null;
  const headers = readHeaders(head);
  return {
    firstLine,
    statusCode: status?.[1] === undefined ? null : Number(status[1]),
    reason: status === null ? null : (status[2] ?? ''),
    method: request?.[1] ?? null,
    callId: headers.get('call-id') ?? null,
    cseq: headers.get('cseq') ?? null,
    text,
    at,
  };
}

/**
 * Splits a byte stream (TCP/TLS) into messages by Content-Length (RFC 3261
 * §18.3); leading CRLFs (keepalives) are skipped. Returns complete messages
 * and the bytes left over.
 */
export function frameStream(buffer: Buffer): { messages: string[]; rest: Buffer } {
  const messages: string[] = [];
  let rest = buffer;
  for (;;) {
    let start = 0;
    while (start < rest.length && (rest[start] === 0x0d || rest[start] === 0x0a)) start += 1;
    rest = rest.subarray(start);
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const head = rest.subarray(0, headEnd).toString('latin1');
    const length = Number.parseInt(readHeaders(head).get('content-length') ?? '0', 10);
    const total = headEnd + 4 + (Number.isFinite(length) && length > 0 ? length : 0);
    if (rest.length < total) break;
    messages.push(rest.subarray(0, total).toString('latin1'));
    rest = rest.subarray(total);
  }
  return { messages, rest };
}

/**
 * Rewrites the sent-by (host[:port]) of the first Via header, folded or
 * compact (`v:`) included, to host:port. Everything else is left byte for
 * byte. Returns the message unchanged if it has no recognisable Via.
 */
export function pointTopViaAt(message: Buffer, host: string, port: number): Buffer {
  const text = message.toString('latin1');
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const via = /(^|\n)[ \t]*(?:via|v)[ \t]*:((?:[^\n]*)(?:\n[ \t][^\n]*)*)/i.exec(head);
  if (via === null || via[2] === undefined) return message;
  const valueStart = via.index + via[0].length - via[2].length;
  const sentBy = /(SIP[ \t\r\n]*\/[ \t\r\n]*[^ \t\r\n/]+[ \t\r\n]*\/[ \t\r\n]*[A-Za-z]+[ \t\r\n]+)([^;,\s]+)/.exec(via[2]);
  if (sentBy === null || sentBy[1] === undefined || sentBy[2] === undefined) return message;
  const hostStart = valueStart + sentBy.index + sentBy[1].length;
  const hostPort = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  const rewritten = text.slice(0, hostStart) + hostPort + text.slice(hostStart + sentBy[2].length);
  return Buffer.from(rewritten, 'latin1');
}

function token(): string {
  return randomBytes(8).toString('hex');
}

/** An OPTIONS request to the target, from our socket, with the given Call-ID. */
export function probeRequest(options: {
  transport: RawTransport;
  localAddress: string;
  localPort: number;
  host: string;
  port: number;
  callId: string;
}): string {
  const target = isIP(options.host) === 6 ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const local = isIP(options.localAddress) === 6 ? `[${options.localAddress}]` : options.localAddress;
  return [
    `OPTIONS sip:${target} SIP/2.0`,
    `Via: SIP/2.0/${options.transport.toUpperCase()} ${local}:${options.localPort};branch=z9hG4bK${token()};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@raw-sip.harness>;tag=${token()}`,
    `To: <sip:${target}>`,
    `Call-ID: ${options.callId}`,
    'CSeq: 1 OPTIONS',
    'Accept: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export class RawSipConnection {
  private readonly messages: ReceivedSipMessage[] = [];
  private readonly listeners = new Set<() => void>();
  private streamBuffer: Buffer = Buffer.alloc(0);
  private closed = false;
  private readonly unregister: () => void;

  private constructor(
    readonly target: RawSipTarget,
    private readonly socket: UdpSocket | TcpSocket | TLSSocket,
    readonly localAddress: string,
    readonly localPort: number,
  ) {
    this.unregister = registerCleanup(`close raw ${target.transport} socket`, () => this.close());
    if (target.transport === 'udp') {
      (socket as UdpSocket).on('message', (data, source) => {
        if (source.port === target.port) this.push(data.toString('latin1'));
      });
    } else {
      const stream = socket as TcpSocket;
      stream.on('data', (chunk: Buffer) => {
        const { messages, rest } = frameStream(Buffer.concat([this.streamBuffer, chunk]));
        this.streamBuffer = rest;
        for (const message of messages) this.push(message);
      });
      stream.on('close', () => {
        this.closed = true;
        this.notify();
      });
      stream.on('error', () => {
        this.closed = true;
        this.notify();
      });
    }
  }

  /** Opens a UDP socket, a TCP connection or a TLS connection (certificate verified when caFile is given). */
  static async open(target: RawSipTarget, timeoutMs = 5000): Promise<RawSipConnection> {
    if (target.transport === 'udp') {
      const socket = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: 0, ...(target.localAddress === undefined ? {} : { address: target.localAddress }) }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const address = socket.address();
      const local = target.localAddress ?? (isIP(target.host) === 6 ? '::1' : '127.0.0.1');
      return new RawSipConnection(target, socket, local, address.port);
    }
    const ca = target.caFile === undefined ? undefined : await readFile(target.caFile);
    const socket = await new Promise<TcpSocket | TLSSocket>((resolve, reject) => {
      const base = { host: target.host, port: target.port, ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }) };
      const servername = target.servername ?? (isIP(target.host) === 0 ? target.host : undefined);
      const attempt =
        target.transport === 'tcp'
          ? connectTcp(base)
          : connectTls({
              ...base,
              ...(servername === undefined ? {} : { servername }),
              ...(ca === undefined ? { rejectUnauthorized: false } : { ca, rejectUnauthorized: true }),
            });
      const event = target.transport === 'tcp' ? 'connect' : 'secureConnect';
      const timer = setTimeout(() => {
        attempt.destroy();
        reject(new Error(`raw-sip: no ${target.transport} connection to ${target.host}:${target.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      attempt.once(event, () => {
        clearTimeout(timer);
        resolve(attempt);
      });
      attempt.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`raw-sip: ${target.transport} connection to ${target.host}:${target.port} failed: ${error.message}`));
      });
    });
    return new RawSipConnection(target, socket, socket.localAddress ?? '127.0.0.1', socket.localPort ?? 0);
  }

  private push(text: string): void {
    this.messages.push(readSipMessage(text));
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Whether the peer closed the connection (TCP/TLS). */
  get closedByPeer(): boolean {
    return this.closed;
  }

  received(): readonly ReceivedSipMessage[] {
    return this.messages;
  }

  send(data: Buffer | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (this.target.transport === 'udp') (this.socket as UdpSocket).send(bytes, this.target.port, this.target.host);
    else (this.socket as TcpSocket).write(bytes);
  }

  /**
   * Resolves when `done(received so far)` holds, or when the connection is
   * closed, or after timeoutMs, with everything received; never rejects.
   */
  collect(done: (messages: readonly ReceivedSipMessage[]) => boolean, timeoutMs: number): Promise<{ messages: ReceivedSipMessage[]; timedOut: boolean }> {
    return new Promise((resolve) => {
      const check = (timedOut: boolean): boolean => {
        if (!timedOut && !done(this.messages) && !this.closed) return false;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve({ messages: [...this.messages], timedOut });
        return true;
      };
      const listener = (): void => {
        check(false);
      };
      const timer = setTimeout(() => check(true), timeoutMs);
      this.listeners.add(listener);
      check(false);
    });
  }

  close(): void {
    this.unregister();
    if (this.target.transport === 'udp') {
      try {
        (this.socket as UdpSocket).close();
      } catch {
        // Already closed.
      }
    } else {
      (this.socket as TcpSocket).destroy();
    }
  }
}

function isFinal(message: ReceivedSipMessage): boolean {
  return message.statusCode !== null && message.statusCode >= 200;
}

export interface SendRawOptions {
  /** Upper bound on the wait; default 2000 ms. */
  readonly timeoutMs?: number;
  /** Stop waiting once this holds; default: a final response (≥ 200) arrived. */
  readonly until?: (messages: readonly ReceivedSipMessage[]) => boolean;
  /** UDP: rewrite the top Via's sent-by to our socket so answers come back (see the top of this file). */
  readonly viaToLocal?: boolean;
}

export interface RawExchange {
  readonly messages: readonly ReceivedSipMessage[];
  readonly responses: readonly ReceivedSipMessage[];
  readonly closedByPeer: boolean;
  readonly timedOut: boolean;
}

function prepare(connection: RawSipConnection, data: Buffer, viaToLocal: boolean | undefined): Buffer {
  return viaToLocal === true ? pointTopViaAt(data, connection.localAddress, connection.localPort) : data;
}

/** Sends bytes and collects what comes back until `until` holds or the bounded wait ends. */
export async function sendRaw(target: RawSipTarget, data: Buffer | string, options: SendRawOptions = {}): Promise<RawExchange> {
  const connection = await RawSipConnection.open(target);
  try {
    connection.send(prepare(connection, typeof data === 'string' ? Buffer.from(data, 'latin1') : data, options.viaToLocal));
    const until = options.until ?? ((messages) => messages.some(isFinal));
    const { messages, timedOut } = await connection.collect(until, options.timeoutMs ?? 2000);
    return {
      messages,
      responses: messages.filter((m) => m.statusCode !== null),
      closedByPeer: connection.closedByPeer,
      timedOut,
    };
  } finally {
    connection.close();
  }
}

export interface ProbeOutcome {
  /** Responses to anything but the probe that arrived before the probe's answer (or before the end). */
  readonly responses: readonly ReceivedSipMessage[];
  /** Every message received, probe's answer included. */
  readonly messages: readonly ReceivedSipMessage[];
  /** The final answer to the probe, or null if none came (connection closed, or timeout). */
  readonly probeResponse: ReceivedSipMessage | null;
  /** Probe answered and nothing else answered before it. */
  readonly dropped: boolean;
  readonly closedByPeer: boolean;
  readonly probeCallId: string;
}

/**
 * Sends `data`, then an OPTIONS probe on the same socket/connection, and
 * waits (at most timeoutMs, default 5000) for the probe's final answer.
 */
export async function sendWithProbe(
  target: RawSipTarget,
  data: Buffer | string,
  options: { timeoutMs?: number; viaToLocal?: boolean } = {},
): Promise<ProbeOutcome> {
  const connection = await RawSipConnection.open(target);
  const probeCallId = `probe-${token()}@raw-sip.harness`;
  try {
    connection.send(prepare(connection, typeof data === 'string' ? Buffer.from(data, 'latin1') : data, options.viaToLocal));
    connection.send(
      probeRequest({
        transport: target.transport,
        localAddress: connection.localAddress,
        localPort: connection.localPort,
        host: target.host,
        port: target.port,
        callId: probeCallId,
      }),
    );
    const isProbeAnswer = (m: ReceivedSipMessage): boolean => m.callId === probeCallId && isFinal(m);
    const { messages } = await connection.collect((received) => received.some(isProbeAnswer), options.timeoutMs ?? 5000);
    const probeIndex = messages.findIndex(isProbeAnswer);
    const before = (probeIndex < 0 ? messages : messages.slice(0, probeIndex)).filter((m) => m.statusCode !== null && m.callId !== probeCallId);
    const probeResponse = probeIndex < 0 ? null : (messages[probeIndex] ?? null);
    return {
      responses: before,
      messages,
      probeResponse,
      dropped: probeResponse !== null && before.length === 0,
      closedByPeer: connection.closedByPeer,
      probeCallId,
    };
  } finally {
    connection.close();
  }
}
