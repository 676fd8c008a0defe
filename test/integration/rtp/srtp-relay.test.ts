/**
 * SRTP through the relay (RFC 3711, keys by SDES, RFC 4568): each leg
 * decrypts with the key its phone gave and encrypts with the key voix gave
 * that phone. The phones here use SrtpSession too, with the keys from
 * their side of the SDP.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MediaConfigurationError, type AllocatedRelay, type LegConfig, type SrtpKeying } from '../../../src/rtp/media-protocol.js';
import type { WorkerMediaEngine } from '../../../src/rtp/worker-media-engine.js';
import { SrtpSession } from '../../../src/srtp/srtp-session.js';
import { Phone, rtcpCompound, rtpPacket, settle, waitUntil } from './phones.js';
import { UDP_IO, useRelayEngine } from './relay-engine-fixture.js';

let engine: WorkerMediaEngine;
const cleanups: Array<() => Promise<void>> = [];

function keying(suite: SrtpKeying['suite'] = 'AES_CM_128_HMAC_SHA1_80'): SrtpKeying {
  return { suite, key: randomBytes(16), salt: randomBytes(14) };
}

/** A phone with SRTP: `sends` is the key it put in its SDP, `receives` the key voix put in its answer. */
class SecurePhone {
  readonly sends: SrtpKeying;
  readonly receives: SrtpKeying;
  private readonly protector: SrtpSession;
  private readonly unprotector: SrtpSession;

  constructor(
    readonly phone: Phone,
    suite?: SrtpKeying['suite'],
  ) {
    this.sends = keying(suite);
    this.receives = keying(suite);
    this.protector = new SrtpSession(this.sends);
    this.unprotector = new SrtpSession(this.receives);
  }

  legConfig(): LegConfig {
    return this.phone.legConfig({ srtp: { inbound: this.sends, outbound: this.receives } });
  }

  protectRtp(packet: Buffer): Buffer {
    const buf = Buffer.alloc(packet.length + 10);
    packet.copy(buf);
    return buf.subarray(0, this.protector.protectRtp(buf, packet.length));
  }

  protectRtcp(packet: Buffer): Buffer {
    const buf = Buffer.alloc(packet.length + 14);
    packet.copy(buf);
    return buf.subarray(0, this.protector.protectRtcp(buf, packet.length));
  }

  /** What it received, decrypted; throws on a packet that does not authenticate. */
  receivedRtp(): Buffer[] {
    return this.phone.rtp.map(({ data }) => {
      const buf = Buffer.from(data);
      const length = this.unprotector.unprotectRtp(buf, buf.length);
      if (length < 0) throw new Error(`SRTP unprotect failed: ${length}`);
      return buf.subarray(0, length);
    });
  }

  receivedRtcp(): Buffer[] {
    return this.phone.rtcp.map(({ data }) => {
      const buf = Buffer.from(data);
      const length = this.unprotector.unprotectRtcp(buf, buf.length);
      if (length < 0) throw new Error(`SRTCP unprotect failed: ${length}`);
      return buf.subarray(0, length);
    });
  }
}

async function phone(): Promise<Phone> {
  const p = await Phone.open();
  cleanups.push(() => p.close());
  return p;
}

async function relayFor(a: LegConfig, b: LegConfig): Promise<AllocatedRelay> {
  const relay = await engine.allocate(`srtp-${Math.random()}`);
  cleanups.push(async () => {
    if (engine.activeRelays() > 0) await engine.release(relay.relayId).catch(() => undefined);
  });
  await engine.configure(relay.relayId, 'a', a);
  await engine.configure(relay.relayId, 'b', b);
  return relay;
}

describe.each(UDP_IO)('SRTP relay (%s UDP sockets)', (udpIo) => {
  useRelayEngine({ portMin: 42400, portMax: 42499, workers: 1, udpIo }, cleanups, (started) => {
    engine = started;
  });

  it('decrypts with each phone\'s key and re-encrypts with the key voix gave the other', async () => {
    const A = new SecurePhone(await phone());
    const B = new SecurePhone(await phone(), 'AES_CM_128_HMAC_SHA1_32');
    const relay = await relayFor(A.legConfig(), B.legConfig());
    const fromA = [0, 1, 2, 3].map((seq) => rtpPacket({ sequenceNumber: seq, ssrc: 0xa }));
    const fromB = [0, 1, 2].map((seq) => rtpPacket({ sequenceNumber: 1000 + seq, ssrc: 0xb }));

    for (const p of fromA) await A.phone.sendRtp(A.protectRtp(p), relay.a.port);
    for (const p of fromB) await B.phone.sendRtp(B.protectRtp(p), relay.b.port);
    await waitUntil('SRTP both ways', () => B.phone.rtp.length === fromA.length && A.phone.rtp.length === fromB.length);

    // On the wire to B: encrypted (not the clear payload) with B's 32-bit tag, and B's key opens it.
    expect(B.phone.rtp[0]?.data.length).toBe(fromA[0]!.length + 4);
    expect(B.phone.rtp[0]?.data.subarray(12, 172)).not.toEqual(fromA[0]!.subarray(12));
    expect(B.receivedRtp()).toEqual(fromA);
    expect(A.receivedRtp()).toEqual(fromB);
    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({ packetsReceived: 4, packetsSent: 3, packetsDropped: 0 });
    expect(stats.b).toMatchObject({ packetsReceived: 3, packetsSent: 4, bytesSent: 4 * 176 });
  });

  it('bridges an SRTP phone and a plain RTP phone', async () => {
    const A = new SecurePhone(await phone());
    const B = await phone();
    const relay = await relayFor(A.legConfig(), B.legConfig());
    const fromA = rtpPacket({ sequenceNumber: 5, ssrc: 0xa });
    const fromB = rtpPacket({ sequenceNumber: 6, ssrc: 0xb });
    await A.phone.sendRtp(A.protectRtp(fromA), relay.a.port);
    await B.sendRtp(fromB, relay.b.port);
    await waitUntil('both sides', () => B.rtp.length === 1 && A.phone.rtp.length === 1);
    expect(B.rtp[0]?.data).toEqual(fromA);
    expect(A.receivedRtp()).toEqual([fromB]);
    await engine.release(relay.relayId);
  });

  it('relays SRTCP both ways', async () => {
    const A = new SecurePhone(await phone());
    const B = new SecurePhone(await phone());
    const relay = await relayFor(A.legConfig(), B.legConfig());
    await A.phone.sendRtcp(A.protectRtcp(rtcpCompound(0xa)), relay.a.port + 1);
    await B.phone.sendRtcp(B.protectRtcp(rtcpCompound(0xb)), relay.b.port + 1);
    await waitUntil('SRTCP both ways', () => B.phone.rtcp.length === 1 && A.phone.rtcp.length === 1);
    expect(B.receivedRtcp()).toEqual([rtcpCompound(0xa)]);
    expect(A.receivedRtcp()).toEqual([rtcpCompound(0xb)]);
    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({ rtcpReceived: 1, rtcpSent: 1 });
  });

  it('drops and counts packets that do not authenticate, and does not latch on them', async () => {
    const A = new SecurePhone(await phone());
    const B = new SecurePhone(await phone());
    const forger = new SecurePhone(await phone()); // same address as A, its own (wrong) key
    const relay = await relayFor(A.legConfig(), B.legConfig());
    await A.phone.sendRtp(A.protectRtp(rtpPacket({ sequenceNumber: 1 })), relay.a.port);
    await waitUntil('B hears A', () => B.phone.rtp.length === 1);

    await forger.phone.sendRtp(forger.protectRtp(rtpPacket({ sequenceNumber: 2 })), relay.a.port);
    await A.phone.sendRtp(rtpPacket({ sequenceNumber: 3 }), relay.a.port); // clear RTP on an SRTP leg
    await A.phone.sendRtp(A.protectRtp(rtpPacket({ sequenceNumber: 1 })), relay.a.port); // a replay
    await settle();
    expect(B.phone.rtp).toHaveLength(1);
    const stats = await engine.release(relay.relayId);
    expect(stats.a).toMatchObject({ packetsDropped: 3, packetsReceived: 1, latchedTo: { address: '127.0.0.1', port: A.phone.rtpPort } });
  });

  it('refuses a key the SRTP session cannot use', async () => {
    const A = await phone();
    const B = await phone();
    const relay = await relayFor(A.legConfig(), B.legConfig());
    const short: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', key: randomBytes(8), salt: randomBytes(14) };
    await expect(engine.configure(relay.relayId, 'a', A.legConfig({ srtp: { inbound: short, outbound: keying() } }))).rejects.toThrow(MediaConfigurationError);
    await engine.release(relay.relayId);
  });
});
