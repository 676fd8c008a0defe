/**
 * The native UDP ports (src/rtp/native/udp-io.c, native-relay-port.ts,
 * docs/adr/0006) on real loopback sockets, where they differ from dgram:
 * errors as codes, ports free again as soon as they are closed, ICMP
 * errors on a connected socket reported without stopping reception,
 * oversized datagrams, and the source address of each datagram (IPv4,
 * IPv6, IPv4-mapped on a dual-stack socket).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadUdpIoAddon, NativeRelayPortOpener, NativeUdp } from '../../../src/rtp/native-relay-port.js';
import type { RelayPort } from '../../../src/rtp/relay-port.js';
import { waitUntil } from './phones.js';

let io: NativeUdp;
const opened: RelayPort[] = [];
const peers: dgram.Socket[] = [];

beforeAll(() => {
  const loaded = loadUdpIoAddon();
  if (!('addon' in loaded)) throw new Error(`the native UDP addon is not built (npm run build): ${loaded.reason}`);
  io = new NativeUdp(loaded.addon);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((port) => port.close()));
  for (const peer of peers.splice(0)) peer.close();
  expect(io.openSockets).toBe(0);
});

interface Datagram {
  readonly bytes: Buffer;
  readonly length: number;
  readonly address: string;
  readonly port: number;
}

async function open(port: number, connectedSender = false, family: 'udp4' | 'udp6' = 'udp4', address = '127.0.0.1') {
  const relayPort = await new NativeRelayPortOpener(family, io).open(address, port, connectedSender);
  opened.push(relayPort);
  const received: Datagram[] = [];
  const errors: Error[] = [];
  // The slot is lent for the call: copy what is kept.
  relayPort.listen(
    (packet, length, from, fromPort) => received.push({ bytes: Buffer.from(packet.subarray(0, length)), length, address: from, port: fromPort }),
    (err) => errors.push(err),
  );
  return { port: relayPort, received, errors };
}

async function peer(type: 'udp4' | 'udp6' = 'udp4', address = '127.0.0.1'): Promise<dgram.Socket> {
  const socket = dgram.createSocket(type);
  peers.push(socket);
  socket.bind(0, address);
  await once(socket, 'listening');
  return socket;
}

describe('native UDP ports', () => {
  it('delivers each datagram with its length and source, and sends to the destination', async () => {
    const { port, received } = await open(43700);
    const phone = await peer();
    phone.send(Buffer.from('hello'), 43700, '127.0.0.1');
    phone.send(Buffer.from('again!'), 43700, '127.0.0.1');
    await waitUntil('two datagrams', () => received.length === 2);
    expect(received.map((d) => [d.bytes.toString(), d.length, d.address, d.port])).toEqual([
      ['hello', 5, '127.0.0.1', phone.address().port],
      ['again!', 6, '127.0.0.1', phone.address().port],
    ]);

    const answer = once(phone, 'message');
    port.setDestination('127.0.0.1', phone.address().port);
    expect(port.send(Buffer.from('answer and more'), 6)).toBe(true);
    const [bytes, from] = (await answer) as [Buffer, dgram.RemoteInfo];
    expect([bytes.toString(), from.port]).toEqual(['answer', 43700]);
  });

  it('tells two sources apart on the same socket', async () => {
    const { received } = await open(43702);
    const [first, second] = [await peer(), await peer()];
    first.send(Buffer.from('1'), 43702, '127.0.0.1');
    await waitUntil('first datagram', () => received.length === 1);
    second.send(Buffer.from('2'), 43702, '127.0.0.1');
    await waitUntil('second datagram', () => received.length === 2);
    expect(received.map((d) => d.port)).toEqual([first.address().port, second.address().port]);
  });

  it('refuses a port another socket holds, with its code, and frees a closed port at once', async () => {
    const holder = await peer();
    await expect(new NativeRelayPortOpener('udp4', io).open('127.0.0.1', holder.address().port, true)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const { port } = await open(43704, true);
    await port.close();
    // Bound again right away: nothing of the closed port lingers.
    await open(43704, true);
  });

  it('reports ICMP port unreachable on the connected sender and keeps receiving', async () => {
    const { port, received, errors } = await open(43706, true);
    const gone = await peer();
    const closedPort = gone.address().port;
    gone.close();
    peers.splice(peers.indexOf(gone), 1);
    port.setDestination('127.0.0.1', closedPort);
    await waitUntil('the ICMP error', () => {
      if (errors.length > 0) return true;
      // The kernel reports the ICMP error of one send on the socket's next read or send.
      port.send(Buffer.from('nobody'), 6);
      return false;
    });
    expect(errors.map((e) => (e as { code?: string }).code)).toContain('ECONNREFUSED');

    const phone = await peer();
    phone.send(Buffer.from('still there'), 43706, '127.0.0.1');
    await waitUntil('a datagram after the error', () => received.length === 1);
    expect(received[0]?.bytes.toString()).toBe('still there');
  });

  it('passes a datagram longer than a slot as empty, so the relay drops it', async () => {
    const { received } = await open(43708);
    const phone = await peer();
    phone.send(Buffer.alloc(3000, 1), 43708, '127.0.0.1');
    phone.send(Buffer.from('small'), 43708, '127.0.0.1');
    await waitUntil('both datagrams', () => received.length === 2);
    expect(received.map((d) => d.length)).toEqual([0, 5]);
  });

  it('gives IPv6 sources as dgram writes them, IPv4 peers of a dual-stack socket as mapped addresses', async () => {
    const { received } = await open(43710, false, 'udp6', '::');
    const v6 = await peer('udp6', '::1');
    const v4 = await peer('udp4', '127.0.0.1');
    v6.send(Buffer.from('6'), 43710, '::1');
    await waitUntil('the IPv6 datagram', () => received.length === 1);
    v4.send(Buffer.from('4'), 43710, '127.0.0.1');
    await waitUntil('the IPv4 datagram', () => received.length === 2);
    expect(received.map((d) => d.address)).toEqual(['::1', '::ffff:127.0.0.1']);
  });
});
