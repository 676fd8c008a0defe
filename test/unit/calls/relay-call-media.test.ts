import { describe, expect, it } from 'vitest';
import { RelayCallMedia } from '../../../src/calls/relay-call-media.js';
import type { AllocatedRelay, LegConfig, LegName, MediaEngine, RelayStats } from '../../../src/rtp/media-protocol.js';

class RecordingEngine implements MediaEngine {
  configured: Array<{ leg: LegName; config: LegConfig }> = [];
  releases = 0;
  async allocate(): Promise<AllocatedRelay> {
    return { relayId: 7, a: { port: 30000 }, b: { port: 30002 } };
  }
  async configure(_id: number, leg: LegName, config: LegConfig): Promise<void> {
    this.configured.push({ leg, config });
  }
  async stats(): Promise<RelayStats> {
    throw new Error('not used');
  }
  async release(): Promise<RelayStats> {
    this.releases++;
    const leg = { packetsReceived: 0, bytesReceived: 0, packetsSent: 0, bytesSent: 0, packetsLost: 0, extendedHighestSequence: 0, jitterMs: 0, packetsDropped: 0, rtcpReceived: 0, rtcpSent: 0, latchedTo: null };
    return { a: leg, b: leg };
  }
  activeRelays(): number {
    return 0;
  }
  async stop(): Promise<void> {}
}

const sdp = (lines: string[]) => Buffer.from(lines.join('\r\n') + '\r\n');
const OFFER_A = sdp(['v=0', 'o=alice 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 4000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv']);
const ANSWER_B = sdp(['v=0', 'o=bob 5 5 IN IP4 192.0.2.30', 's=-', 'c=IN IP4 192.0.2.30', 't=0 0', 'm=audio 5000 RTP/AVP 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv']);
const PLAIN = { transport: 'udp', srtpPolicy: 'optional', cryptoAllowed: false } as const;

describe('RelayCallMedia', () => {
  it('anchors a plain call in the relay: each phone is told voix’s port for its leg, and the relay learns both phones', async () => {
    const engine = new RecordingEngine();
    const relay = await engine.allocate();
    const media = new RelayCallMedia(engine, relay, '192.0.2.1', { ...PLAIN, sourceAddress: '192.0.2.10' });

    const offer = media.offerForCallee(OFFER_A, { ...PLAIN, sourceAddress: '192.0.2.30' });
    const answer = await media.answerForCaller(ANSWER_B, { ...PLAIN, sourceAddress: '192.0.2.30' });

    expect(offer.ok && offer.sdp.toString()).toMatch(/c=IN IP4 192\.0\.2\.1\r\n[\s\S]*m=audio 30002 RTP\/AVP 0 8 101/);
    expect(answer.ok && answer.sdp.toString()).toMatch(/m=audio 30000 RTP\/AVP 8 101/);
    expect(engine.configured.map((c) => [c.leg, c.config.remote, c.config.expectedSource, c.config.srtp])).toEqual([
      ['a', { address: '192.0.2.10', rtpPort: 4000, rtcpPort: 4001 }, '192.0.2.10', null],
      ['b', { address: '192.0.2.30', rtpPort: 5000, rtcpPort: 5001 }, '192.0.2.30', null],
    ]);
    expect(media.isSecure('a')).toBe(false);
  });

  it('recognises a refresh that repeats the last offer and gives back the last SDP sent', async () => {
    const engine = new RecordingEngine();
    const media = new RelayCallMedia(engine, await engine.allocate(), '192.0.2.1', { ...PLAIN, sourceAddress: '192.0.2.10' });
    media.offerForCallee(OFFER_A, { ...PLAIN, sourceAddress: '192.0.2.30' });
    const answer = await media.answerForCaller(ANSWER_B, { ...PLAIN, sourceAddress: '192.0.2.30' });

    expect(media.repeatsLastOffer('a', OFFER_A)).toBe(true);
    expect(media.repeatsLastOffer('a', Buffer.from(OFFER_A.toString().replace('o=alice 1 1', 'o=alice 1 2')))).toBe(false);
    expect(media.lastSdpTo('a')?.toString()).toBe(answer.ok ? answer.sdp.toString() : '');
  });

  it('refuses an offer without SRTP for a leg that requires it (488) and releases the relay once', async () => {
    const engine = new RecordingEngine();
    const media = new RelayCallMedia(engine, await engine.allocate(), '192.0.2.1', { transport: 'tls', srtpPolicy: 'required', cryptoAllowed: true, sourceAddress: '192.0.2.10' });

    const offer = media.offerForCallee(OFFER_A, { transport: 'tls', srtpPolicy: 'required', cryptoAllowed: true, sourceAddress: '192.0.2.30' });
    await media.release();
    await media.release();

    expect(offer).toMatchObject({ ok: false, status: 488 });
    expect(engine.releases).toBe(1);
  });

  it('listens for the caller’s RFC 4733 events while voix answers it, and stops once the call is bridged', async () => {
    const engine = new RecordingEngine();
    const media = new RelayCallMedia(engine, await engine.allocate(), '192.0.2.1', { ...PLAIN, sourceAddress: '192.0.2.10' });

    const answered = await media.answerLocally(OFFER_A);
    // A menu's choice: the callee is offered only what the caller agreed with voix (PCMU and telephone-event).
    const offer = media.offerForCallee(OFFER_A, { ...PLAIN, sourceAddress: '192.0.2.30' });
    const bridged = await media.answerForCaller(Buffer.from(ANSWER_B.toString().replace('RTP/AVP 8 101', 'RTP/AVP 0 101')), { ...PLAIN, sourceAddress: '192.0.2.30' });

    expect([answered.ok, offer.ok, bridged.ok]).toEqual([true, true, true]);
    expect(engine.configured.map((c) => [c.leg, c.config.forward, c.config.dtmf ?? null])).toEqual([
      ['a', false, { telephoneEvent: 101, inband: null }],
      ['a', true, null],
      ['b', true, null],
    ]);
  });

  it('detects in-band tones in the caller’s G.711 audio when its offer has no telephone-event', async () => {
    const engine = new RecordingEngine();
    const media = new RelayCallMedia(engine, await engine.allocate(), '192.0.2.1', { ...PLAIN, sourceAddress: '192.0.2.10' });
    const offer = sdp(['v=0', 'o=alice 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 4000 RTP/AVP 8', 'a=sendrecv']);

    const answered = await media.answerLocally(offer);

    expect(answered.ok).toBe(true);
    expect(engine.configured.map((c) => [c.leg, c.config.dtmf])).toEqual([['a', { telephoneEvent: null, inband: 'PCMA', inbandPayloadType: 8 }]]);
  });
});
