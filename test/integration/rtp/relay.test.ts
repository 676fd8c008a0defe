/**
 * The relay in its worker threads, against loopback sockets acting as
 * phones A (caller, leg a) and B (callee, leg b).
 */
import { describe, expect, it } from 'vitest';
import { MediaConfigurationError, UnknownRelayError, type AllocatedRelay } from '../../../src/rtp/media-protocol.js';
import type { WorkerMediaEngine } from '../../../src/rtp/worker-media-engine.js';
import { Phone, rtcpCompound, rtpPacket, settle, telephoneEvent, waitUntil } from './phones.js';
import { UDP_IO, useRelayEngine } from './relay-engine-fixture.js';

let engine: WorkerMediaEngine;
const cleanups: Array<() => Promise<void>> = [];

async function phone(address = '127.0.0.1'): Promise<Phone> {
  const p = await Phone.open(address);
  cleanups.push(() => p.close());
  return p;
}

/** A relay for a call between A and B, both legs configured from their "SDP". */
async function call(a: Phone, b: Phone): Promise<AllocatedRelay> {
  const relay = await engine.allocate(`call-${Math.random()}`);
  cleanups.push(async () => {
    if (engine.activeRelays() > 0) await engine.release(relay.relayId).catch(() => undefined);
  });
  await engine.configure(relay.relayId, 'a', a.legConfig());
  await engine.configure(relay.relayId, 'b', b.legConfig());
  return relay;
}

describe.each(UDP_IO)('RTP/RTCP relay in media workers (%s UDP sockets)', (udpIo) => {
  useRelayEngine({ portMin: 42000, portMax: 42099, workers: 2, udpIo }, cleanups, (started) => {
    engine = started;
  });

  it('relays RTP both ways, payload bytes unchanged, RFC 4733 events included', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    const fromA = [0, 1, 2].map((seq) => rtpPacket({ sequenceNumber: seq, ssrc: 0xa }));
    fromA.push(rtpPacket({ sequenceNumber: 3, ssrc: 0xa, payloadType: 101, marker: true, timestamp: 480, payload: telephoneEvent(5, false, 160) }));
    const fromB = [0, 1, 2].map((seq) => rtpPacket({ sequenceNumber: 100 + seq, ssrc: 0xb, payload: Buffer.from(`hello from B ${seq}`) }));

    for (const p of fromA) await A.sendRtp(p, relay.a.port);
    for (const p of fromB) await B.sendRtp(p, relay.b.port);
    await waitUntil('packets on both sides', () => B.rtp.length === fromA.length && A.rtp.length === fromB.length);

    expect(B.rtp.map((r) => r.data)).toEqual(fromA);
    expect(A.rtp.map((r) => r.data)).toEqual(fromB);
    // Each phone hears the relay from the port its own leg gave it in SDP.
    expect(new Set(B.rtp.map((r) => r.port))).toEqual(new Set([relay.b.port]));
    expect(new Set(A.rtp.map((r) => r.port))).toEqual(new Set([relay.a.port]));
    await engine.release(relay.relayId);
  });

  it('relays RTCP between the ports next to the RTP ports (RFC 3550 §11)', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    await A.sendRtcp(rtcpCompound(0xa), relay.a.port + 1);
    await B.sendRtcp(rtcpCompound(0xb), relay.b.port + 1);
    await waitUntil('RTCP on both sides', () => B.rtcp.length === 1 && A.rtcp.length === 1);

    expect(B.rtcp[0]?.data).toEqual(rtcpCompound(0xa));
    expect(B.rtcp[0]?.port).toBe(relay.b.port + 1);
    expect(A.rtcp[0]?.data).toEqual(rtcpCompound(0xb));
    expect(B.rtp).toHaveLength(0);
    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({ rtcpReceived: 1, rtcpSent: 1, packetsReceived: 0 });
    expect(stats.b).toMatchObject({ rtcpReceived: 1, rtcpSent: 1 });
  });

  it('latches to the port a phone really sends from (NAT), and follows it when it moves', async () => {
    const [A, B] = [await phone(), await phone()];
    const behindNat = await phone(); // A's packets leave from here; A's SDP still names A's own ports
    const movedAgain = await phone();
    const relay = await call(A, B);

    await behindNat.sendRtp(rtpPacket({ sequenceNumber: 1 }), relay.a.port);
    await waitUntil('B hears A', () => B.rtp.length === 1);
    await B.sendRtp(rtpPacket({ sequenceNumber: 50, ssrc: 0xb }), relay.b.port);
    await waitUntil('the latched port hears B', () => behindNat.rtp.length === 1);
    expect(A.rtp).toHaveLength(0);
    expect((await engine.stats(relay.relayId)).a.latchedTo).toEqual({ address: '127.0.0.1', port: behindNat.rtpPort });

    // NAT rebinding mid-call: the connected sender is re-connected to the new port.
    await movedAgain.sendRtp(rtpPacket({ sequenceNumber: 2 }), relay.a.port);
    await waitUntil('B hears A again', () => B.rtp.length === 2);
    for (let seq = 51; seq < 55; seq++) await B.sendRtp(rtpPacket({ sequenceNumber: seq, ssrc: 0xb }), relay.b.port);
    await waitUntil('the new port hears B', () => movedAgain.rtp.length === 4);
    expect(behindNat.rtp).toHaveLength(1);
    expect((await engine.stats(relay.relayId)).a.latchedTo).toEqual({ address: '127.0.0.1', port: movedAgain.rtpPort });
    await engine.release(relay.relayId);
  });

  it('sends to the SDP address until the phone has sent anything', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    expect((await engine.stats(relay.relayId)).b.latchedTo).toEqual({ address: '127.0.0.1', port: B.rtpPort });
    await A.sendRtp(rtpPacket({ sequenceNumber: 9 }), relay.a.port);
    await waitUntil('B hears A before B sent anything', () => B.rtp.length === 1);
    await engine.release(relay.relayId);
  });

  it('drops and counts packets from a foreign address; the latch stays where it was', async () => {
    const [A, B] = [await phone(), await phone()];
    const stranger = await phone('127.0.0.2');
    const relay = await call(A, B);
    await A.sendRtp(rtpPacket({ sequenceNumber: 1 }), relay.a.port);
    await waitUntil('B hears A', () => B.rtp.length === 1);

    await stranger.sendRtp(rtpPacket({ sequenceNumber: 2, ssrc: 0x666 }), relay.a.port);
    await stranger.sendRtcp(rtcpCompound(0x666), relay.a.port + 1);
    await settle();
    await B.sendRtp(rtpPacket({ sequenceNumber: 70, ssrc: 0xb }), relay.b.port);
    await waitUntil('A still hears B', () => A.rtp.length === 1);

    expect(B.rtp).toHaveLength(1);
    expect(B.rtcp).toHaveLength(0);
    expect(stranger.rtp).toHaveLength(0);
    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({ packetsDropped: 2, packetsReceived: 1, latchedTo: { address: '127.0.0.1', port: A.rtpPort } });
  });

  it('drops what reaches a leg before the call core configured it', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await engine.allocate('early');
    cleanups.push(async () => {
      if (engine.activeRelays() > 0) await engine.release(relay.relayId).catch(() => undefined);
    });
    await engine.configure(relay.relayId, 'b', B.legConfig());
    await A.sendRtp(rtpPacket({ sequenceNumber: 1 }), relay.a.port);
    await settle(50);
    expect(B.rtp).toHaveLength(0);
    await engine.configure(relay.relayId, 'a', A.legConfig());
    await A.sendRtp(rtpPacket({ sequenceNumber: 2 }), relay.a.port);
    await waitUntil('B hears A once leg a is configured', () => B.rtp.length === 1);
    expect((await engine.release(relay.relayId)).a).toMatchObject({ packetsDropped: 1, packetsReceived: 1 });
  });

  it('drops and counts datagrams that are not RTP', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    await A.sendRtp(Buffer.from('not rtp at all'), relay.a.port);
    await A.sendRtp(Buffer.alloc(4, 0x80), relay.a.port);
    await A.sendRtcp(Buffer.alloc(6, 0x80), relay.a.port + 1);
    await A.sendRtp(rtpPacket({ sequenceNumber: 1 }), relay.a.port);
    await waitUntil('the good packet', () => B.rtp.length === 1);
    await settle(50);
    expect(B.rtp).toHaveLength(1);
    expect(B.rtcp).toHaveLength(0);
    expect((await engine.release(relay.relayId)).a).toMatchObject({ packetsDropped: 3, packetsReceived: 1 });
  });

  it('with forward: false, stops what that phone sends and nothing else (hold)', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    await engine.configure(relay.relayId, 'a', A.legConfig({ forward: false }));

    for (let seq = 0; seq < 3; seq++) {
      await A.sendRtp(rtpPacket({ sequenceNumber: seq }), relay.a.port);
      await B.sendRtp(rtpPacket({ sequenceNumber: seq, ssrc: 0xb }), relay.b.port);
    }
    await A.sendRtcp(rtcpCompound(0xa), relay.a.port + 1);
    await waitUntil('A hears B', () => A.rtp.length === 3);
    // RFC 3264 §5.1: RTCP still flows on a held stream.
    await waitUntil('B gets A\'s RTCP', () => B.rtcp.length === 1);
    await settle(50);
    expect(B.rtp).toHaveLength(0);

    await engine.configure(relay.relayId, 'a', A.legConfig({ forward: true }));
    await A.sendRtp(rtpPacket({ sequenceNumber: 3 }), relay.a.port);
    await waitUntil('B hears A after resume', () => B.rtp.length === 1);
    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({ packetsReceived: 4, packetsDropped: 0 });
    expect(stats.b).toMatchObject({ packetsSent: 1 });
  });

  it('gives final statistics on release that match what was sent', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    // A: 20 packets, seq 65530.. wrapping past 65535, two of them never sent (lost on the way).
    const lost = new Set([65533, 3]);
    let sentFromA = 0;
    let bytesFromA = 0;
    for (let i = 0; i < 20; i++) {
      const seq = (65530 + i) % 65536;
      if (lost.has(seq)) continue;
      const packet = rtpPacket({ sequenceNumber: seq, timestamp: i * 160, ssrc: 0xa });
      await A.sendRtp(packet, relay.a.port);
      sentFromA++;
      bytesFromA += packet.length;
    }
    // B: 7, 8, 8, 9, 9 — two duplicates.
    for (const seq of [7, 8, 8, 9, 9]) await B.sendRtp(rtpPacket({ sequenceNumber: seq, ssrc: 0xb, payload: Buffer.alloc(80) }), relay.b.port);
    for (let i = 0; i < 2; i++) await B.sendRtcp(rtcpCompound(0xb), relay.b.port + 1);
    await waitUntil('everything relayed', () => B.rtp.length === sentFromA && A.rtp.length === 5 && A.rtcp.length === 2);

    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({
      packetsReceived: sentFromA,
      bytesReceived: bytesFromA,
      packetsSent: 5,
      bytesSent: 5 * 92,
      packetsLost: 2,
      // The last sequence number, 13, after one wrap.
      extendedHighestSequence: 65536 + 13,
      packetsDropped: 0,
      rtcpReceived: 0,
      rtcpSent: 2,
    });
    expect(stats.b).toMatchObject({ packetsReceived: 5, packetsSent: sentFromA, bytesSent: bytesFromA, rtcpReceived: 2 });
    // Seq 7 is the source's probation packet (RFC 3550 A.1); from 8 on, 2 expected and 4 received:
    // duplicates count as received, so the loss goes negative (RFC 3550 §6.4.1).
    expect(stats.b.packetsLost).toBe(-2);
    expect(stats.b.extendedHighestSequence).toBe(9);
    expect(stats.a.jitterMs).toBeGreaterThanOrEqual(0);
    await expect(engine.stats(relay.relayId)).rejects.toThrow(UnknownRelayError);
  });

  it('refuses a leg configuration it cannot apply', async () => {
    const [A, B] = [await phone(), await phone()];
    const relay = await call(A, B);
    await expect(engine.configure(relay.relayId, 'b', B.legConfig({ remote: { address: 'phone.example.com', rtpPort: 4000, rtcpPort: 4001 } }))).rejects.toThrow(
      MediaConfigurationError,
    );
    await expect(engine.configure(relay.relayId, 'b', B.legConfig({ remote: { address: '::1', rtpPort: 4000, rtcpPort: 4001 } }))).rejects.toThrow(/IPv4/);
    await expect(engine.configure(relay.relayId, 'b', B.legConfig({ remote: { address: '127.0.0.1', rtpPort: 70000, rtcpPort: 4001 } }))).rejects.toThrow(
      /not a UDP port/,
    );
    await expect(engine.configure(9999, 'a', A.legConfig())).rejects.toThrow(UnknownRelayError);
    // The leg kept its previous configuration.
    await A.sendRtp(rtpPacket({ sequenceNumber: 1 }), relay.a.port);
    await waitUntil('B still reachable', () => B.rtp.length === 1);
    await engine.release(relay.relayId);
  });
});
