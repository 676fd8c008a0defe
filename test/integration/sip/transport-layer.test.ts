/**
 * SipTransportLayer over real loopback sockets: where messages leave from
 * and on which connection, as a peer sees it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { Headers } from '../../../src/sip/headers.js';
import { SipRequest } from '../../../src/sip/message.js';
import { SipTransportLayer } from '../../../src/sip/transport/transport-layer.js';
import type { Flow } from '../../../src/sip/transport/types.js';
import { parseUri } from '../../../src/sip/uri.js';
import { sipBytes } from '../../support/messages.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startLayer(): Promise<{ layer: SipTransportLayer; requests: Array<{ req: SipRequest; flow: Flow }> }> {
  const requests: Array<{ req: SipRequest; flow: Flow }> = [];
  const layer = new SipTransportLayer({
    udp: { address: '127.0.0.1', port: 0 },
    tcp: { address: '127.0.0.1', port: 0 },
    tls: null,
    logger: createMemoryLogger().logger,
  });
  layer.setHandler({ onRequest: (req, flow) => requests.push({ req, flow }), onResponse: () => undefined });
  await layer.start();
  cleanups.push(() => layer.stop());
  return { layer, requests };
}

/** A peer listening on one port for both UDP and TCP, recording what arrives where. */
async function startPeer(): Promise<{ port: number; udp: string[]; tcp: string[]; tcpSockets: net.Socket[] }> {
  const udp: string[] = [];
  const tcp: string[] = [];
  const tcpSockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    tcpSockets.push(s);
    s.on('data', (d) => tcp.push(d.toString('latin1')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', r));
  socket.on('message', (m) => udp.push(m.toString('latin1')));
  cleanups.push(() => {
    for (const s of tcpSockets) s.destroy();
    return new Promise((r) => server.close(() => socket.close(() => r())));
  });
  return { port, udp, tcp, tcpSockets };
}

function request(size: number): SipRequest {
  const uri = parseUri('sip:1001@127.0.0.1');
  if (uri === null) throw new Error('uri');
  return new SipRequest('MESSAGE', uri, {
    via: [{ protocol: 'SIP/2.0', transport: 'UDP', host: '127.0.0.1', port: 5060, params: [{ name: 'branch', value: 'z9hG4bKbig' }] }],
    from: { displayName: null, uri, params: [{ name: 'tag', value: 'a' }] },
    to: { displayName: null, uri, params: [] },
    callId: `size-${size}`,
    cseq: { seq: 1, method: 'MESSAGE' },
    maxForwards: 70,
    headers: new Headers().append('Content-Type', 'text/plain'),
    body: Buffer.alloc(size, 0x61),
  });
}

function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setImmediate(poll);
    };
    poll();
  });
}

describe('SipTransportLayer sending', () => {
  it('sends a small request over UDP and one larger than 1300 bytes over TCP with its Via rewritten (RFC 3261 §18.1.1)', async () => {
    const { layer } = await startLayer();
    const peer = await startPeer();

    layer.send(request(200), { transport: 'udp', address: '127.0.0.1', port: peer.port });
    layer.send(request(1400), { transport: 'udp', address: '127.0.0.1', port: peer.port });
    await waitFor(() => peer.udp.length === 1 && peer.tcp.join('').includes('size-1400'));

    expect(peer.udp[0]).toContain('Call-ID: size-200');
    expect(peer.udp[0]).toContain('Via: SIP/2.0/UDP');
    expect(peer.tcp.join('')).toContain('Via: SIP/2.0/TCP');
  });

  it('falls back to UDP when the TCP connection for a large request is refused', async () => {
    const { layer } = await startLayer();
    const socket = dgram.createSocket('udp4');
    const got: string[] = [];
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    socket.on('message', (m) => got.push(m.toString('latin1')));
    cleanups.push(() => new Promise((r) => socket.close(() => r())));

    layer.send(request(1400), { transport: 'udp', address: '127.0.0.1', port: socket.address().port });
    await waitFor(() => got.length === 1);

    expect(got[0]).toContain('Via: SIP/2.0/UDP');
  });

  it('sends a request to a phone on the TCP connection it opened (its Contact port is not listening)', async () => {
    const { layer, requests } = await startLayer();
    const phone = net.connect({ host: '127.0.0.1', port: layer.localEndpoint('tcp').port });
    const received: string[] = [];
    phone.on('data', (d) => received.push(d.toString('latin1')));
    cleanups.push(() => void phone.destroy());
    await new Promise<void>((r) => phone.once('connect', () => r()));
    phone.write(
      sipBytes(`REGISTER sip:voix.test SIP/2.0
Via: SIP/2.0/TCP 10.0.0.5:5099;branch=z9hG4bKreg
From: <sip:1001@voix.test>;tag=1
To: <sip:1001@voix.test>
Call-ID: reg-tcp
CSeq: 1 REGISTER
Contact: <sip:1001@10.0.0.5:5099;transport=tcp>
Content-Length: 0

`),
    );
    await waitFor(() => requests.length === 1);
    const flow = requests[0]!.flow;

    layer.send(request(100), { transport: 'tcp', address: '10.0.0.5', port: 5099, connectionId: flow.connectionId });
    await waitFor(() => received.join('').includes('size-100'));

    expect(flow).toMatchObject({ transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: phone.localPort });
    expect(requests[0]!.req.topVia.params).toContainEqual({ name: 'received', value: '127.0.0.1' });
  });
});
