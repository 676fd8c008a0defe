/**
 * DTMF on a relay leg's receive path (LegConfig.dtmf): RFC 4733 events and
 * in-band tones reach the leg's listener once per key press, only when the
 * leg's config asks, with RFC 4733 taking precedence over in-band. The leg
 * is driven as relay-allocation-probe.ts drives it: unbound sockets, packets
 * handed to receiveRtp, a clock the test moves.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { DtmfDigit } from '../../../src/media/dtmf/dtmf-digit.js';
import { writeTelephoneEvent } from '../../../src/media/dtmf/telephone-event.js';
import { MediaConfigurationError, type LegConfig, type LegDtmfConfig, type LegName, type MediaDtmfSource } from '../../../src/rtp/media-protocol.js';
import { OutboundBufferRing } from '../../../src/rtp/outbound-buffers.js';
import { PLAIN_LEG } from '../../../src/rtp/packet-transform.js';
import { RelayLeg } from '../../../src/rtp/relay-leg.js';
import type { LegPorts } from '../../../src/rtp/relay-port.js';
import { dgramLegPorts } from './dgram-leg-ports.js';
import { RtpHeaderView } from '../../../src/rtp/rtp-header.js';
import { encodeG711, SignalBuilder, toInt16 } from '../media/dtmf/dtmf-signals.js';

const PHONE = '192.0.2.10';
const TELEPHONE_EVENT = 101;

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function legSockets(): LegPorts {
  return dgramLegPorts(sockets);
}

interface Heard {
  readonly leg: LegName;
  readonly digit: DtmfDigit;
  readonly source: MediaDtmfSource;
}

/** Leg a facing the phone, configured with `dtmf`, and what its listener heard. */
function listeningLeg(dtmf: LegDtmfConfig | null) {
  const clock = { ms: 1000 };
  const leg = new RelayLeg(
    'a',
    40000,
    legSockets(),
    {
      family: 'udp4',
      rtpHeader: new RtpHeaderView(),
      outboundBuffers: new OutboundBufferRing(),
      now: () => clock.ms,
      log: () => undefined,
      createTransforms: () => PLAIN_LEG,
    },
    {},
  );
  const heard: Heard[] = [];
  leg.listenForDtmf({ dtmfReceived: (legName, digit, source) => heard.push({ leg: legName, digit, source }), answeringMachine: () => undefined });
  const config = (d: LegDtmfConfig | null): LegConfig => ({
    remote: null,
    expectedSource: PHONE,
    srtp: null,
    forward: false,
    clockRates: { 0: 8000, 8: 8000, [TELEPHONE_EVENT]: 8000 },
    dtmf: d,
  });
  leg.configure(config(dtmf));
  let sequence = 0;
  const send = (payloadType: number, timestamp: number, marker: boolean, payload: Uint8Array): void => {
    const packet = Buffer.alloc(12 + payload.length);
    packet[0] = 0x80;
    packet[1] = (marker ? 0x80 : 0) | payloadType;
    packet.writeUInt16BE(sequence++ & 0xffff, 2);
    packet.writeUInt32BE(timestamp >>> 0, 4);
    packet.writeUInt32BE(0x5eed, 8);
    packet.set(payload, 12);
    leg.receiveRtp(packet, packet.length, PHONE, 5004);
  };
  return { leg, heard, clock, send, reconfigure: (d: LegDtmfConfig | null) => leg.configure(config(d)) };
}

type Leg = ReturnType<typeof listeningLeg>;

/** RFC 4733 §2.5.1 as a phone sends it: start (M), updates every 20 ms, `ends` end packets; the clock moves 20 ms a packet. */
function pressKey(leg: Leg, event: number, timestamp: number, { updates = 4, ends = 3 } = {}): void {
  const payload = new Uint8Array(4);
  for (let i = 0; i <= updates; i++) {
    writeTelephoneEvent(payload, 0, event, false, 10, (i + 1) * 160);
    leg.send(TELEPHONE_EVENT, timestamp, i === 0, payload);
    leg.clock.ms += 20;
  }
  for (let i = 0; i < ends; i++) {
    writeTelephoneEvent(payload, 0, event, true, 10, (updates + 2) * 160);
    leg.send(TELEPHONE_EVENT, timestamp, false, payload);
    leg.clock.ms += 20;
  }
}

/** `audio` in 20 ms voice packets of payload type `payloadType`. */
function sendAudio(leg: Leg, payloadType: number, audio: Uint8Array, firstTimestamp: number): void {
  for (let offset = 0; offset < audio.length; offset += 160) {
    leg.send(payloadType, firstTimestamp + offset, false, audio.subarray(offset, offset + 160));
    leg.clock.ms += 20;
  }
}

function toneAudio(digit: DtmfDigit, law: 'mulaw' | 'alaw'): Uint8Array {
  return encodeG711(toInt16(new SignalBuilder().silence(60).digit(digit, 100, -10).silence(100).build()), law);
}

const SILENCE_MULAW = new Uint8Array(160).fill(0xff);

describe('relay leg DTMF (LegConfig.dtmf)', () => {
  it('reports an RFC 4733 key press once, despite the repeated end packets', () => {
    const leg = listeningLeg({ telephoneEvent: TELEPHONE_EVENT, inband: null });

    pressKey(leg, 5, 16000);

    expect(leg.heard).toEqual([{ leg: 'a', digit: '5', source: 'rfc4733' }]);
  });

  it('ends an event whose end packets were all lost on the phone’s next voice packets, without a timer', () => {
    const leg = listeningLeg({ telephoneEvent: TELEPHONE_EVENT, inband: null });

    pressKey(leg, 11, 16000, { ends: 0 });
    leg.send(0, 17000, false, SILENCE_MULAW);
    const beforeTimeout = leg.heard.length;
    leg.clock.ms += 300;
    leg.send(0, 17160, false, SILENCE_MULAW);

    expect(beforeTimeout).toBe(0);
    expect(leg.heard).toEqual([{ leg: 'a', digit: '#', source: 'rfc4733' }]);
  });

  it('detects a DTMF tone in µ-law and in A-law voice packets (in-band), once per tone', () => {
    const mulaw = listeningLeg({ telephoneEvent: null, inband: 'PCMU' });
    const alaw = listeningLeg({ telephoneEvent: null, inband: 'PCMA' });

    sendAudio(mulaw, 0, toneAudio('7', 'mulaw'), 0);
    sendAudio(alaw, 8, toneAudio('*', 'alaw'), 0);

    expect(mulaw.heard).toEqual([{ leg: 'a', digit: '7', source: 'inband' }]);
    expect(alaw.heard).toEqual([{ leg: 'a', digit: '*', source: 'inband' }]);
  });

  it('feeds the in-band detector only the voice payload type the config names', () => {
    const leg = listeningLeg({ telephoneEvent: null, inband: 'PCMU', inbandPayloadType: 96 });

    sendAudio(leg, 0, toneAudio('7', 'mulaw'), 0);
    const onOtherType = leg.heard.length;
    sendAudio(leg, 96, toneAudio('8', 'mulaw'), 4000);

    expect(onOtherType).toBe(0);
    expect(leg.heard).toEqual([{ leg: 'a', digit: '8', source: 'inband' }]);
  });

  it('ignores in-band tones once the phone has sent RFC 4733 events (a phone sending both would double every digit)', () => {
    const leg = listeningLeg({ telephoneEvent: TELEPHONE_EVENT, inband: 'PCMU' });

    sendAudio(leg, 0, toneAudio('3', 'mulaw'), 0);
    pressKey(leg, 1, 8000);
    sendAudio(leg, 0, toneAudio('1', 'mulaw'), 9000);

    expect(leg.heard).toEqual([
      { leg: 'a', digit: '3', source: 'inband' },
      { leg: 'a', digit: '1', source: 'rfc4733' },
    ]);
  });

  it('detects nothing unless the leg’s config asks, and stops when a new config drops it', () => {
    const off = listeningLeg(null);
    const on = listeningLeg({ telephoneEvent: TELEPHONE_EVENT, inband: 'PCMU' });

    pressKey(off, 5, 16000);
    sendAudio(off, 0, toneAudio('7', 'mulaw'), 20000);
    on.reconfigure(null);
    pressKey(on, 5, 16000);

    expect(off.heard).toEqual([]);
    expect(on.heard).toEqual([]);
  });

  it('keeps a key press in progress across a configure that changes nothing (re-INVITE), and reports it once', () => {
    const leg = listeningLeg({ telephoneEvent: TELEPHONE_EVENT, inband: null });
    const payload = new Uint8Array(4);

    writeTelephoneEvent(payload, 0, 9, false, 10, 160);
    leg.send(TELEPHONE_EVENT, 16000, true, payload);
    leg.reconfigure({ telephoneEvent: TELEPHONE_EVENT, inband: null });
    writeTelephoneEvent(payload, 0, 9, true, 10, 800);
    for (let i = 0; i < 3; i++) leg.send(TELEPHONE_EVENT, 16000, false, payload);

    expect(leg.heard).toEqual([{ leg: 'a', digit: '9', source: 'rfc4733' }]);
  });

  it('refuses a DTMF config the relay cannot use', () => {
    const leg = listeningLeg(null);

    expect(() => leg.reconfigure({ telephoneEvent: 128, inband: null })).toThrow(MediaConfigurationError);
    expect(() => leg.reconfigure({ telephoneEvent: 0, inband: 'PCMU' })).toThrow(/both telephone-event and PCMU/);
    expect(() => leg.reconfigure({ telephoneEvent: null, inband: 'G722' as 'PCMU' })).toThrow(MediaConfigurationError);
  });
});
