/**
 * The player in a real media worker (WorkerMediaEngine), sending to a
 * loopback socket that stands for the caller's phone on leg a: the IVR
 * answers the caller itself.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../../src/log/logger.js';
import type { PlayoutEvent } from '../../../../src/media/playout/playout-protocol.js';
import type { AllocatedRelay, LegConfig, SrtpKeying } from '../../../../src/rtp/media-protocol.js';
import { WorkerMediaEngine } from '../../../../src/rtp/worker-media-engine.js';
import { SrtpSession } from '../../../../src/srtp/srtp-session.js';
import { Phone, rtpPacket, settle, waitUntil } from '../../rtp/phones.js';

let engine: WorkerMediaEngine;
const events: PlayoutEvent[] = [];
const cleanups: Array<() => Promise<void>> = [];

/** One second of recognisable G.711 bytes (never a silence code). */
const ONE_SECOND = Uint8Array.from({ length: 8000 }, (_, i) => 0x10 + (i % 0xe0));

beforeAll(async () => {
  engine = new WorkerMediaEngine({
    address: '127.0.0.1',
    portMin: 42600,
    portMax: 42639,
    workers: 1,
    logger: createMemoryLogger().logger,
    onPlayout: (event) => events.push(event),
  });
  await engine.start();
  await engine.loadPrompt('one-second', 'PCMU', ONE_SECOND);
}, 30_000);

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(engine.activeRelays()).toBe(0);
  events.length = 0;
});

async function phone(): Promise<Phone> {
  const p = await Phone.open();
  cleanups.push(() => p.close());
  return p;
}

async function relayFacing(caller: Phone, config: Partial<LegConfig> = {}): Promise<AllocatedRelay> {
  const relay = await engine.allocate(`ivr-${Math.random()}`);
  cleanups.push(async () => {
    await engine.release(relay.relayId).catch(() => undefined);
  });
  await engine.configure(relay.relayId, 'a', caller.legConfig(config));
  return relay;
}

function header(packet: Buffer): { marker: boolean; payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number } {
  return {
    marker: (packet[1] ?? 0) >= 0x80,
    payloadType: (packet[1] ?? 0) & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
  };
}

describe('player in a media worker', () => {
  it('plays a 1 s prompt to the caller: 50 packets, consecutive sequence numbers, 160-sample timestamp steps', async () => {
    const caller = await phone();
    const relay = await relayFacing(caller);

    const playId = await engine.play(relay.relayId, 'a', { playlist: [{ kind: 'prompt', prompt: 'one-second' }], codec: 'PCMU', payloadType: 0 });
    await waitUntil('the play to end', () => events.some((e) => e.type === 'playEnded'), 5000);
    await settle();

    expect(caller.rtp).toHaveLength(50);
    const headers = caller.rtp.map(({ data }) => header(data));
    const first = headers[0]!;
    headers.forEach((h, n) => {
      expect(h.sequenceNumber).toBe((first.sequenceNumber + n) & 0xffff);
      expect(h.timestamp).toBe((first.timestamp + 160 * n) >>> 0);
      expect(h.ssrc).toBe(first.ssrc);
      expect(h.payloadType).toBe(0);
      expect(h.marker).toBe(n === 0);
    });
    expect(caller.rtp.every(({ data, port }) => data.length === 172 && port === relay.a.port)).toBe(true);
    expect(Buffer.concat(caller.rtp.map(({ data }) => data.subarray(12)))).toEqual(Buffer.from(ONE_SECOND));
    expect(events).toEqual([
      { type: 'itemEnded', relayId: relay.relayId, leg: 'a', playId, item: 0 },
      { type: 'playEnded', relayId: relay.relayId, leg: 'a', playId, reason: 'completed', packetsSent: 50 },
    ]);
    expect((await engine.stats(relay.relayId)).a.packetsSent).toBe(50);
  });

  it('protects what it plays with the leg outbound SRTP key', async () => {
    const caller = await phone();
    const callerKey: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', key: randomBytes(16), salt: randomBytes(14) };
    const voixKey: SrtpKeying = { suite: 'AES_CM_128_HMAC_SHA1_80', key: randomBytes(16), salt: randomBytes(14) };
    const relay = await relayFacing(caller, { srtp: { inbound: callerKey, outbound: voixKey } });

    await engine.play(relay.relayId, 'a', { playlist: [{ kind: 'silence', ms: 200 }], codec: 'PCMA', payloadType: 8 });
    await waitUntil('the play to end', () => events.some((e) => e.type === 'playEnded'), 5000);
    await settle();

    const unprotect = new SrtpSession(voixKey);
    expect(caller.rtp).toHaveLength(10);
    for (const { data } of caller.rtp) {
      expect(data.length).toBe(172 + 10);
      const clear = Buffer.from(data);
      expect(unprotect.unprotectRtp(clear, clear.length)).toBe(172);
      expect(clear.subarray(12, 172)).toEqual(Buffer.alloc(160, 0xd5));
      expect(header(clear).payloadType).toBe(8);
    }
  });

  it('while playing, the caller hears the player, not leg b; what the caller sends is still received; stopPlay gives the relay back', async () => {
    const [caller, callee] = [await phone(), await phone()];
    const relay = await relayFacing(caller);
    await engine.configure(relay.relayId, 'b', callee.legConfig());
    const playId = await engine.play(relay.relayId, 'a', { playlist: [{ kind: 'tone', tone: 'ringback', ms: null }], codec: 'PCMU', payloadType: 0 });
    await waitUntil('the tone', () => caller.rtp.length >= 3);

    // Act: both phones talk while the tone plays.
    await callee.sendRtp(rtpPacket({ sequenceNumber: 1, ssrc: 0xb }), relay.b.port);
    await caller.sendRtp(rtpPacket({ sequenceNumber: 1, ssrc: 0xa }), relay.a.port);
    await waitUntil('the callee to hear the caller', () => callee.rtp.length === 1);
    await settle();

    expect(caller.rtp.every(({ data }) => header(data).ssrc !== 0xb)).toBe(true);
    expect((await engine.stats(relay.relayId)).a.packetsReceived).toBe(1);

    // Stop: the tone ends and leg b is relayed again.
    expect(await engine.stopPlay(relay.relayId, 'a')).toBe(true);
    await waitUntil('playEnded', () => events.some((e) => e.type === 'playEnded'));
    expect(events.at(-1)).toMatchObject({ type: 'playEnded', playId, reason: 'stopped' });
    await callee.sendRtp(rtpPacket({ sequenceNumber: 2, ssrc: 0xb }), relay.b.port);
    await waitUntil('the caller to hear the callee', () => caller.rtp.some(({ data }) => header(data).ssrc === 0xb));
    expect(await engine.stopPlay(relay.relayId, 'a')).toBe(false);
  });

  it('refuses a prompt it does not have, and a replacement worker has the loaded prompts', async () => {
    const caller = await phone();
    const relay = await relayFacing(caller);
    await expect(engine.play(relay.relayId, 'a', { playlist: [{ kind: 'prompt', prompt: 'nope' }], codec: 'PCMU', payloadType: 0 })).rejects.toThrow(
      /prompt "nope" is not loaded for PCMU/,
    );
    await engine.release(relay.relayId);

    await engine.terminateWorker(0);
    const again = await relayFacing(caller);
    await engine.play(again.relayId, 'a', { playlist: [{ kind: 'prompt', prompt: 'one-second' }], codec: 'PCMU', payloadType: 0 });
    await waitUntil('the first packets', () => caller.rtp.length >= 2);
    expect(caller.rtp[0]?.data.subarray(12)).toEqual(Buffer.from(ONE_SECOND.subarray(0, 160)));
  });
});
