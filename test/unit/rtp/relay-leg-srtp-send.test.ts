/**
 * How a relay leg sends what its peer received, with SRTP on the way out
 * (relay-leg.ts sendRtp): when the packet dgram gave has exactly the room
 * the outbound tag needs (SRTP in with the same tag size), it is protected
 * in place and sent whole; otherwise (plain RTP in, or a shorter inbound
 * tag) it is copied into the outbound ring first and the received Buffer is
 * left as it was. Either way the phone on the other side gets a packet that
 * its key unprotects to what the first phone sent. Real SrtpSessions and a
 * real UDP socket for the receiving phone.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { LegConfig, SrtpKeying, SrtpSuite } from '../../../src/rtp/media-protocol.js';
import { MAX_LENGTHS, OutboundBufferRing } from '../../../src/rtp/outbound-buffers.js';
import { createLegTransforms } from '../../../src/rtp/packet-transform.js';
import { RelayLeg } from '../../../src/rtp/relay-leg.js';
import type { LegPorts } from '../../../src/rtp/relay-port.js';
import { dgramLegPorts } from './dgram-leg-ports.js';
import { RtpHeaderView } from '../../../src/rtp/rtp-header.js';
import { SrtpSession } from '../../../src/srtp/srtp-session.js';

const PHONE_A = '127.0.0.1';
const PAYLOAD = 160;

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function track(socket: dgram.Socket): dgram.Socket {
  sockets.push(socket);
  return socket;
}

function legSockets(): LegPorts {
  return dgramLegPorts(sockets);
}

function keying(suite: SrtpSuite, seed: number): SrtpKeying {
  return { suite, key: Uint8Array.from({ length: 16 }, (_, i) => seed + i), salt: Uint8Array.from({ length: 14 }, (_, i) => seed * 3 + i) };
}

function rtp(sequenceNumber: number): Buffer {
  const packet = Buffer.alloc(12 + PAYLOAD, 0x5a);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt16BE(sequenceNumber, 2);
  packet.writeUInt32BE(sequenceNumber * 160, 4);
  packet.writeUInt32BE(0x1234abcd, 8);
  return packet;
}

/**
 * Legs a and b of one relay: phone A sends with `aInbound` (null: plain
 * RTP), phone B listens on a real socket and gets what b protects with
 * `bOutbound`.
 */
async function relay(aInbound: SrtpKeying | null, bOutbound: SrtpKeying) {
  const phoneB = track(dgram.createSocket('udp4'));
  phoneB.bind(0, '127.0.0.1');
  await once(phoneB, 'listening');
  const context = {
    family: 'udp4' as const,
    rtpHeader: new RtpHeaderView(),
    outboundBuffers: new OutboundBufferRing(),
    now: () => 0,
    log: () => undefined,
    createTransforms: createLegTransforms,
  };
  const a = new RelayLeg('a', 40000, legSockets(), context, {});
  const b = new RelayLeg('b', 40002, legSockets(), context, {});
  a.pairWith(b);
  b.pairWith(a);
  const base: Omit<LegConfig, 'remote' | 'srtp'> = { expectedSource: '127.0.0.1', forward: true, clockRates: { 0: 8000 }, dtmf: null };
  const unused = keying('AES_CM_128_HMAC_SHA1_80', 90);
  a.configure({ ...base, remote: null, srtp: aInbound === null ? null : { inbound: aInbound, outbound: unused } });
  b.configure({
    ...base,
    remote: { address: '127.0.0.1', rtpPort: phoneB.address().port, rtcpPort: phoneB.address().port + 1 },
    srtp: { inbound: unused, outbound: bOutbound },
  });
  return { a, phoneB };
}

describe('relay leg sending SRTP to its phone', () => {
  it('protects in place and sends the received Buffer whole when the inbound tag has the outbound tag’s size', async () => {
    const aKey = keying('AES_CM_128_HMAC_SHA1_80', 1);
    const bKey = keying('AES_CM_128_HMAC_SHA1_80', 2);
    const { a, phoneB } = await relay(aKey, bKey);
    const phoneA = new SrtpSession(aKey);
    const received = once(phoneB, 'message') as Promise<[Buffer]>;

    const wire = Buffer.alloc(12 + PAYLOAD + 10);
    rtp(7).copy(wire);
    expect(phoneA.protectRtp(wire, 12 + PAYLOAD)).toBe(wire.length);
    const asSent = Buffer.from(wire);
    a.receiveRtp(wire, wire.length, PHONE_A, 5004);

    const [packet] = await received;
    // What left is the very Buffer that came in, now holding b's encryption and tag.
    expect(packet.equals(wire)).toBe(true);
    expect(wire.equals(asSent)).toBe(false);
    const phoneBKey = new SrtpSession(bKey);
    expect(phoneBKey.unprotectRtp(packet, packet.length)).toBe(12 + PAYLOAD);
    expect(packet.subarray(0, 12 + PAYLOAD).equals(rtp(7))).toBe(true);
  });

  it('copies into the outbound ring when the received Buffer has no room for the tag (plain RTP in)', async () => {
    const bKey = keying('AES_CM_128_HMAC_SHA1_80', 2);
    const { a, phoneB } = await relay(null, bKey);
    const received = once(phoneB, 'message') as Promise<[Buffer]>;

    const wire = rtp(9);
    a.receiveRtp(wire, wire.length, PHONE_A, 5004);

    const [packet] = await received;
    expect(wire.equals(rtp(9))).toBe(true);
    expect(packet.length).toBe(12 + PAYLOAD + 10);
    expect(new SrtpSession(bKey).unprotectRtp(packet, packet.length)).toBe(12 + PAYLOAD);
    expect(packet.subarray(0, 12 + PAYLOAD).equals(rtp(9))).toBe(true);
  });

  it('copies when the inbound tag is shorter than the outbound one (_32 in, _80 out)', async () => {
    const aKey = keying('AES_CM_128_HMAC_SHA1_32', 1);
    const bKey = keying('AES_CM_128_HMAC_SHA1_80', 2);
    const { a, phoneB } = await relay(aKey, bKey);
    const received = once(phoneB, 'message') as Promise<[Buffer]>;

    const wire = Buffer.alloc(12 + PAYLOAD + 4);
    rtp(11).copy(wire);
    expect(new SrtpSession(aKey).protectRtp(wire, 12 + PAYLOAD)).toBe(wire.length);
    a.receiveRtp(wire, wire.length, PHONE_A, 5004);

    const [packet] = await received;
    expect(packet.length).toBe(12 + PAYLOAD + 10);
    expect(new SrtpSession(bKey).unprotectRtp(packet, packet.length)).toBe(12 + PAYLOAD);
    expect(packet.subarray(0, 12 + PAYLOAD).equals(rtp(11))).toBe(true);
  });
});

describe('outbound buffer ring', () => {
  it('hands out buffers of exactly the length asked, reused in turn per length', () => {
    const ring = new OutboundBufferRing(2, 64);
    const first = ring.take(30);
    expect(first.length).toBe(30);
    const other = ring.take(40);
    expect(other.length).toBe(40);
    expect(ring.take(30)).not.toBe(first);
    expect(ring.take(30), 'back to the first slot of the 30-byte ring').toBe(first);
  });

  it('past MAX_LENGTHS lengths, still gives the length asked (a view of a shared slot)', () => {
    const ring = new OutboundBufferRing(2, 64);
    for (let length = 1; length <= MAX_LENGTHS; length++) expect(ring.take(length).length).toBe(length);
    const beyond = ring.take(MAX_LENGTHS + 1);
    expect(beyond.length).toBe(MAX_LENGTHS + 1);
    expect(beyond.buffer.byteLength).toBeGreaterThanOrEqual(64);
  });
});
