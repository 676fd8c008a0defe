/**
 * DTMF found in a real media worker and told to the main thread
 * (WorkerMediaEngine's onDtmf, with the relay's call): a loopback socket
 * stands for the caller's phone on leg a, sending RFC 4733 events or
 * in-band tones in µ-law packets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import type { AllocatedRelay, DtmfEvent, LegConfig } from '../../../src/rtp/media-protocol.js';
import { WorkerMediaEngine } from '../../../src/rtp/worker-media-engine.js';
import { encodeG711, SignalBuilder, toInt16 } from '../../unit/media/dtmf/dtmf-signals.js';
import { Phone, rtpPacket, settle, telephoneEvent, waitUntil } from './phones.js';

let engine: WorkerMediaEngine;
const heard: DtmfEvent[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  engine = new WorkerMediaEngine({
    address: '127.0.0.1',
    portMin: 42700,
    portMax: 42739,
    workers: 2,
    logger: createMemoryLogger().logger,
    onDtmf: (event) => heard.push(event),
  });
  await engine.start();
}, 30_000);

afterAll(async () => {
  await engine.stop();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(engine.activeRelays()).toBe(0);
  heard.length = 0;
});

async function phone(): Promise<Phone> {
  const p = await Phone.open();
  cleanups.push(() => p.close());
  return p;
}

/** voix answering the caller itself: leg a faces the phone, forwards nothing, and listens for DTMF as `dtmf` says. */
async function answeredCall(callId: string, caller: Phone, dtmf: LegConfig['dtmf']): Promise<AllocatedRelay> {
  const relay = await engine.allocate(callId);
  cleanups.push(async () => {
    await engine.release(relay.relayId).catch(() => undefined);
  });
  await engine.configure(relay.relayId, 'a', caller.legConfig({ forward: false, dtmf }));
  return relay;
}

const pace = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('DTMF from the media workers', () => {
  it('reports an RFC 4733 key press (start, updates, three end packets) once, with the call it belongs to', async () => {
    const caller = await phone();
    const relay = await answeredCall('call-rfc4733', caller, { telephoneEvent: 101, inband: null });
    const timestamp = 48_000;
    let sequenceNumber = 1000;
    const send = (end: boolean, duration: number, marker = false): Promise<void> =>
      caller.sendRtp(rtpPacket({ sequenceNumber: sequenceNumber++, timestamp, payloadType: 101, marker, payload: telephoneEvent(5, end, duration) }), relay.a.port);

    await send(false, 160, true);
    for (const duration of [320, 480, 640]) {
      await pace();
      await send(false, duration);
    }
    for (let i = 0; i < 3; i++) {
      await pace();
      await send(true, 800);
    }
    await waitUntil('a digit', () => heard.length > 0);
    await settle(300);

    expect(heard).toEqual([{ callId: 'call-rfc4733', relayId: relay.relayId, leg: 'a', digit: '5', source: 'rfc4733' }]);
  });

  it('reports a DTMF tone in the caller’s µ-law audio once (in-band)', async () => {
    const caller = await phone();
    const relay = await answeredCall('call-inband', caller, { telephoneEvent: null, inband: 'PCMU' });
    const audio = encodeG711(toInt16(new SignalBuilder().silence(60).digit('7', 120, -12).silence(200).build()), 'mulaw');

    for (let offset = 0, sequenceNumber = 0; offset < audio.length; offset += 160, sequenceNumber++) {
      await caller.sendRtp(rtpPacket({ sequenceNumber, timestamp: offset, payloadType: 0, payload: Buffer.from(audio.subarray(offset, offset + 160)) }), relay.a.port);
      await pace();
    }
    await waitUntil('a digit', () => heard.length > 0);
    await settle(200);

    expect(heard).toEqual([{ callId: 'call-inband', relayId: relay.relayId, leg: 'a', digit: '7', source: 'inband' }]);
  });

  it('reports nothing for a leg whose config does not ask (a bridged call)', async () => {
    const caller = await phone();
    const relay = await answeredCall('call-bridged', caller, null);

    await caller.sendRtp(rtpPacket({ sequenceNumber: 1, payloadType: 101, marker: true, payload: telephoneEvent(5, true, 800) }), relay.a.port);
    await settle(200);
    const stats = await engine.stats(relay.relayId);

    expect(stats.a.packetsReceived).toBe(1);
    expect(heard).toEqual([]);
  });
});
