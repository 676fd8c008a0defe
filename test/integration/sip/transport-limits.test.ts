/**
 * The transport's limits over real loopback sockets, as a client sees them:
 * messages too large (513) or with too many header fields (400), TCP and
 * TLS connections per source address and in all (a TLS handshake in
 * progress counts), the time a new connection has to deliver its first
 * message, and the idle timeout. Short limits keep the waits short; every
 * wait is for an event (a response, a close), bounded.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { DEFAULT_TRANSPORT_LIMITS, SipTransportLayer, type LimitEvent, type TransportLimits } from '../../../src/sip/transport/transport-layer.js';
import { ensureServerCertificate } from '../../../src/tls/certificates.js';
import { sipBytes } from '../../support/messages.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let certificate: { key: string; cert: string } | null = null;
function testCertificate(): { key: string; cert: string } {
  if (certificate === null) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-limits-'));
    const generated = ensureServerCertificate({ dir: path.join(dir, 'tls'), hostnames: ['voix.test'], ipAddresses: ['127.0.0.1'] });
    rmSync(dir, { recursive: true, force: true });
    certificate = { key: generated.keyPem, cert: generated.certPem };
  }
  return certificate;
}

interface Lab {
  readonly layer: SipTransportLayer;
  readonly events: LimitEvent[];
  readonly requests: string[];
  readonly port: { udp: number; tcp: number; tls: number };
}

async function startLayer(limits: Partial<TransportLimits>, options: { tls?: boolean } = {}): Promise<Lab> {
  const events: LimitEvent[] = [];
  const requests: string[] = [];
  const layer = new SipTransportLayer({
    udp: { address: '127.0.0.1', port: 0 },
    tcp: { address: '127.0.0.1', port: 0 },
    tls: options.tls === true ? { address: '127.0.0.1', port: 0, ...testCertificate() } : null,
    limits: () => ({ ...DEFAULT_TRANSPORT_LIMITS, ...limits }),
    onLimit: (event) => events.push(event),
    logger: createMemoryLogger().logger,
  });
  layer.setHandler({ onRequest: (req) => requests.push(req.callId), onResponse: () => undefined });
  await layer.start();
  cleanups.push(() => layer.stop());
  return { layer, events, requests, port: { udp: layer.localEndpoint('udp').port, tcp: layer.localEndpoint('tcp').port, tls: layer.localEndpoint('tls').port } };
}

function options(callId: string, extraHeaders: string[] = [], body = ''): Buffer {
  return sipBytes(
    [
      'OPTIONS sip:voix.test SIP/2.0',
      `Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-${callId}`,
      'From: <sip:probe@voix.test>;tag=1',
      'To: <sip:voix.test>',
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      ...extraHeaders,
      'Content-Type: text/plain',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\n'),
  );
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms))]);
}

/** A TCP client that keeps what it receives and tells when the server closes. */
async function connect(port: number, localAddress = '127.0.0.1'): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  cleanups.push(() => void socket.destroy());
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await within(new Promise<void>((resolve) => socket.once('connect', () => resolve())), 3000, 'connect');
  return { socket, received: () => text, closed };
}

function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const poll = () => (check() ? resolve() : setTimeout(poll, 5));
      poll();
    }),
    ms,
    what,
  );
}

describe('SipTransportLayer limits: messages', () => {
  it('answers 513 Message Too Large to a UDP request over max_message_size, and still serves the next one', async () => {
    const lab = await startLayer({ maxMessageBytes: 1500 });
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => new Promise((r) => socket.close(() => r())));
    const answers: string[] = [];
    socket.on('message', (m) => answers.push(m.toString('latin1')));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));

    socket.send(options('udp-too-big', [], 'x'.repeat(2000)), lab.port.udp, '127.0.0.1');
    await waitUntil(() => answers.length === 1, 3000, '513');
    socket.send(options('udp-fits', [], 'y'), lab.port.udp, '127.0.0.1');
    await waitUntil(() => lab.requests.length === 1, 3000, 'next request');

    expect(answers[0]).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/);
    expect(answers[0]).toContain('Call-ID: udp-too-big');
    expect(lab.requests).toEqual(['udp-fits']);
    expect(lab.events).toEqual([{ kind: 'message', transport: 'udp', reason: 'message-too-large' }]);
  });

  it('answers 513 over TCP and closes the connection: the rest of the stream cannot be framed', async () => {
    const lab = await startLayer({ maxMessageBytes: 1500 });
    const client = await connect(lab.port.tcp);

    client.socket.write(Buffer.concat([options('tcp-fits'), options('tcp-too-big', [], 'x'.repeat(2000)), options('tcp-after')]));
    await within(client.closed, 3000, 'close');

    expect(lab.requests).toEqual(['tcp-fits']);
    expect(client.received()).toMatch(/^SIP\/2\.0 513 Message Too Large\r\n/m);
    expect(lab.events).toEqual([{ kind: 'message', transport: 'tcp', reason: 'message-too-large' }]);
  });

  it('answers 400 Too Many Header Fields and keeps the TCP connection for the next message', async () => {
    const lab = await startLayer({ maxHeaders: 20 });
    const client = await connect(lab.port.tcp);
    const crowded = options('crowded', Array.from({ length: 30 }, (_, i) => `X-Extra-${i}: ${i}`), 'body');

    client.socket.write(Buffer.concat([crowded, options('after-crowded')]));
    await waitUntil(() => lab.requests.length === 1, 3000, 'next request');

    expect(client.received()).toMatch(/^SIP\/2\.0 400 Too Many Header Fields\r\n/);
    expect(lab.requests).toEqual(['after-crowded']);
    expect(client.socket.destroyed).toBe(false);
    expect(lab.events).toEqual([{ kind: 'message', transport: 'tcp', reason: 'too-many-headers' }]);
  });
});

describe('SipTransportLayer limits: connections', () => {
  it('refuses connections beyond max_connections_per_address from one source, not from another', async () => {
    const lab = await startLayer({ maxConnectionsPerAddress: 2 });
    const first = await connect(lab.port.tcp);
    const second = await connect(lab.port.tcp);

    const third = await connect(lab.port.tcp);
    await within(third.closed, 3000, 'third closed');
    const other = await connect(lab.port.tcp, '127.0.0.2');
    other.socket.write(options('from-other-address'));
    first.socket.write(options('from-first'));
    await waitUntil(() => lab.requests.length === 2, 3000, 'requests');

    expect(lab.requests.sort()).toEqual(['from-first', 'from-other-address']);
    expect([first.socket.destroyed, second.socket.destroyed]).toEqual([false, false]);
    expect(lab.events).toEqual([{ kind: 'connection', transport: 'tcp', reason: 'per-address-limit' }]);
  });

  it('frees the place of a closed connection', async () => {
    const lab = await startLayer({ maxConnectionsPerAddress: 1 });
    const first = await connect(lab.port.tcp);
    first.socket.destroy();
    await within(first.closed, 3000, 'first closed');
    await waitUntil(() => lab.layer.connectionCounts().tcp === 0, 3000, 'server side closed');

    const second = await connect(lab.port.tcp);
    second.socket.write(options('second'));
    await waitUntil(() => lab.requests.length === 1, 3000, 'request');

    expect(lab.events).toEqual([]);
  });

  it('refuses connections beyond max_connections in all', async () => {
    const lab = await startLayer({ maxConnections: 2 });
    await connect(lab.port.tcp, '127.0.0.1');
    await connect(lab.port.tcp, '127.0.0.2');

    const third = await connect(lab.port.tcp, '127.0.0.3');
    await within(third.closed, 3000, 'third closed');

    expect(lab.events).toEqual([{ kind: 'connection', transport: 'tcp', reason: 'total-limit' }]);
  });

  it('counts TLS handshakes in progress against the limit, and closes one that never completes', async () => {
    const lab = await startLayer({ maxConnectionsPerAddress: 2, firstMessageTimeoutMs: 300 }, { tls: true });
    // Two TCP connections to the TLS port that never start a handshake: a slowloris.
    const idle = [await connect(lab.port.tls), await connect(lab.port.tls)];

    const third = await connect(lab.port.tls);
    await within(third.closed, 3000, 'third closed');
    await within(Promise.all(idle.map((c) => c.closed)), 3000, 'idle handshakes closed');
    const phone = tls.connect({ host: '127.0.0.1', port: lab.port.tls, servername: 'voix.test', rejectUnauthorized: false });
    cleanups.push(() => void phone.destroy());
    await within(new Promise<void>((resolve) => phone.once('secureConnect', () => resolve())), 3000, 'handshake');
    phone.write(options('over-tls'));
    await waitUntil(() => lab.requests.length === 1, 3000, 'request over TLS');

    expect(lab.events).toEqual([
      { kind: 'connection', transport: 'tls', reason: 'per-address-limit' },
      { kind: 'connection', transport: 'tls', reason: 'first-message-timeout' },
      { kind: 'connection', transport: 'tls', reason: 'first-message-timeout' },
    ]);
    expect(lab.requests).toEqual(['over-tls']);
  });

  it('closes a connection that sends no complete message in time, not one that did', async () => {
    const lab = await startLayer({ firstMessageTimeoutMs: 300 });
    const talker = await connect(lab.port.tcp);
    talker.socket.write(options('talker'));
    await waitUntil(() => lab.requests.length === 1, 3000, 'talker request');
    // Opened after the talker: when its first-message time is up, the talker's would have been too.
    const silent = await connect(lab.port.tcp);
    silent.socket.write('OPTIONS sip:voix.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bKpartial\r\n');

    await within(silent.closed, 3000, 'silent closed');

    expect(talker.socket.destroyed).toBe(false);
    expect(lab.events).toEqual([{ kind: 'connection', transport: 'tcp', reason: 'first-message-timeout' }]);
  });

  it('closes a connection idle for idle_timeout', async () => {
    const lab = await startLayer({ idleTimeoutMs: 300 });
    const client = await connect(lab.port.tcp);
    client.socket.write(options('then-idle'));
    await waitUntil(() => lab.requests.length === 1, 3000, 'request');

    await within(client.closed, 3000, 'idle close');
    await waitUntil(() => lab.layer.connectionCounts().tcp === 0, 3000, 'closed on the server side');

    expect(lab.events).toEqual([]);
  });
});
