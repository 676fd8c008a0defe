import { describe, expect, it } from 'vitest';
import type { LegName, SrtpKeying } from '../../../src/rtp/media-protocol.js';
import { formatCryptoAttribute, type RandomBytes } from '../../../src/sdp/crypto-attribute.js';
import {
  legConfig,
  relayAnswer,
  relayOffer,
  type MediaSession,
  type PendingOffer,
  type RelayLegOptions,
  type RelayOptions,
} from '../../../src/sdp/offer-answer.js';
import { serializeSessionDescription } from '../../../src/sdp/serializer.js';
import { attributeValues, compareOrigins, type MediaDescription, type SessionDescription } from '../../../src/sdp/session-description.js';
import { fixture, sdp } from './sdp-fixtures.js';

// --- arrange helpers -----------------------------------------------------------

const RELAY_A = '203.0.113.1';
const RELAY_B = '198.51.100.1';

/** Deterministic "random" bytes: 0, 1, 2… so that keys differ but tests repeat. */
function counter(): RandomBytes {
  let n = 0;
  return (size) => Uint8Array.from({ length: size }, () => n++ & 0xff);
}

function options(legs: { a?: Partial<RelayLegOptions>; b?: Partial<RelayLegOptions> } = {}, more: Partial<RelayOptions> = {}): RelayOptions {
  return {
    legs: {
      a: { address: RELAY_A, port: 30000, srtp: 'optional', cryptoAllowed: true, ...legs.a },
      b: { address: RELAY_B, port: 40000, srtp: 'optional', cryptoAllowed: true, ...legs.b },
    },
    randomBytes: counter(),
    ...more,
  };
}

type OfferOk = Extract<ReturnType<typeof relayOffer>, { ok: true }>;
type AnswerOk = Extract<ReturnType<typeof relayAnswer>, { ok: true }>;

function offered(offer: SessionDescription, opts: RelayOptions, from: LegName = 'a', session: MediaSession | null = null): OfferOk {
  const r = relayOffer(offer, from, opts, session);
  if (!r.ok) throw new Error(`relayOffer failed: ${r.reason}`);
  return r;
}

function answered(answer: SessionDescription, pending: PendingOffer, opts: RelayOptions): AnswerOk {
  const r = relayAnswer(answer, pending, opts);
  if (!r.ok) throw new Error(`relayAnswer failed: ${r.reason}`);
  return r;
}

function audio(d: SessionDescription, index = 0): MediaDescription {
  const m = d.media[index];
  if (m === undefined) throw new Error(`no m= line #${index + 1}`);
  return m;
}

function cryptoLines(m: MediaDescription): string[] {
  return attributeValues(m.attributes, 'crypto');
}

function text(d: SessionDescription): string {
  return serializeSessionDescription(d);
}

const KEY_B = Buffer.alloc(30, 0xbb).toString('base64');
const KEY_A2 = Buffer.alloc(30, 0xa2).toString('base64');

/** An answer from phone B (Asterisk-like), with what a test changes. */
function answerFromB(p: { formats?: string; extra?: string[]; direction?: string; address?: string; protocol?: string; port?: number; version?: number } = {}): SessionDescription {
  return sdp(
    [
      'v=0',
      `o=- 1781208133 ${p.version ?? 3} IN IP4 198.51.100.5`,
      's=Asterisk',
      `c=IN IP4 ${p.address ?? '198.51.100.5'}`,
      't=0 0',
      `m=audio ${p.port ?? 17252} ${p.protocol ?? 'RTP/AVP'} ${p.formats ?? '0 101'}`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      ...(p.extra ?? []),
      'a=ptime:20',
      `a=${p.direction ?? 'sendrecv'}`,
      '',
    ].join('\n'),
  );
}

/** An offer from phone A, plain RTP unless crypto lines are added. */
interface OfferParts {
  readonly formats?: string;
  readonly rtpmaps?: string[];
  readonly extra?: string[];
  readonly version?: number;
  readonly address?: string;
  readonly protocol?: string;
  /** null: no direction attribute. */
  readonly direction?: string | null;
  /** Lines of further m= sections. */
  readonly media?: string[];
}

function offerFromA(p: OfferParts = {}): SessionDescription {
  return sdp(
    [
      'v=0',
      `o=alice 1000 ${p.version ?? 1000} IN IP4 192.0.2.10`,
      's=-',
      `c=IN IP4 ${p.address ?? '192.0.2.10'}`,
      't=0 0',
      `m=audio 4000 ${p.protocol ?? 'RTP/AVP'} ${p.formats ?? '0 8 101'}`,
      ...(p.rtpmaps ?? ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']),
      ...(p.extra ?? []),
      ...(p.direction === null ? [] : [`a=${p.direction ?? 'sendrecv'}`]),
      ...(p.media ?? []),
      '',
    ].join('\n'),
  );
}

function keyOf(value: string): string {
  return /inline:([A-Za-z0-9+/=]+)/.exec(value)?.[1] ?? '';
}

function keyingBase64(k: SrtpKeying): string {
  return Buffer.concat([Buffer.from(k.key), Buffer.from(k.salt)]).toString('base64');
}

// --- a plain call ----------------------------------------------------------------

describe('a first call: offer relayed to B, answer relayed to A', () => {
  it('offers B the codecs voix relays with A payload type numbers, voix address and port, and its own keys', () => {
    // Arrange
    const offer = fixture('baresip-1.0-srtp-best-effort-offer');
    // Act
    const r = offered(offer, options());
    // Assert
    const m = audio(r.offer);
    expect(r.offer.connection).toMatchObject({ addrType: 'IP4', address: RELAY_B });
    expect(r.offer.origin).toMatchObject({ username: '-', address: RELAY_B });
    expect(r.offer.sessionName).toBe('voix');
    expect(m).toMatchObject({ media: 'audio', port: 40000, protocol: 'RTP/AVP', formats: ['96', '9', '0', '8', '101'] });
    // Forwarded as written (baresip's tool, label, rtcp-rsize, ssrc, ptime); A's key never leaves leg a.
    expect(r.offer.attributes).toEqual([{ name: 'tool', value: 'baresip 1.0.0' }]);
    expect(m.attributes.map((a) => a.name)).toEqual([
      'rtpmap', 'fmtp', 'rtpmap', 'rtpmap', 'rtpmap', 'rtpmap', 'fmtp', 'label', 'rtcp-rsize', 'ssrc', 'minptime', 'ptime', 'crypto', 'crypto', 'sendrecv',
    ]);
    const crypto = cryptoLines(m);
    expect(crypto.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['1 AES_CM_128_HMAC_SHA1_80', '2 AES_CM_128_HMAC_SHA1_32']);
    expect(crypto.map(keyOf)).not.toContain('0AUpQ11G8qxa6oF0b6pRfzLOtqu8QcAzO4TSXrmD');
    expect(r.warnings).toEqual([]);
  });

  it('answers A with B codecs, voix address and port for A, and voix key for A echoing A tag', () => {
    // Arrange
    const opts = options();
    const offer = offered(fixture('baresip-1.0-srtp-best-effort-offer'), opts);
    // Act
    const r = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    // Assert
    const m = audio(r.answer);
    expect(r.answer.connection).toMatchObject({ address: RELAY_A });
    expect(r.answer.origin.address).toBe(RELAY_A);
    expect(m).toMatchObject({ port: 30000, protocol: 'RTP/AVP', formats: ['0', '101'] });
    expect(m.attributes).toEqual([
      { name: 'rtpmap', value: '0 PCMU/8000' },
      { name: 'rtpmap', value: '101 telephone-event/8000' },
      { name: 'fmtp', value: '101 0-16' },
      { name: 'ptime', value: '20' },
      { name: 'maxptime', value: '150' },
      { name: 'crypto', value: expect.stringMatching(/^1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$/) },
      { name: 'sendrecv', value: null },
    ]);
    // The t= of the answer is the offer's (RFC 3264 §6).
    expect(text(r.answer)).toContain('\r\nt=0 0\r\n');
  });

  it('gives the relay what it needs per leg: endpoints, keys, forwarding, clock rates', () => {
    // Arrange
    const opts = options();
    const offer = offered(fixture('baresip-1.0-srtp-best-effort-offer'), opts);
    // Act
    const r = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    // Assert
    const { a, b } = r.mediaPlan;
    expect(a.remote).toEqual({ address: '192.0.2.10', rtpPort: 17776, rtcpPort: 17777 });
    expect(b.remote).toEqual({ address: '198.51.100.5', rtpPort: 17252, rtcpPort: 17253 });
    expect(a.srtp?.inbound.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(keyingBase64(a.srtp!.inbound)).toBe('0AUpQ11G8qxa6oF0b6pRfzLOtqu8QcAzO4TSXrmD');
    expect(keyingBase64(a.srtp!.outbound)).toBe(keyOf(cryptoLines(audio(r.answer))[0]!));
    // B answered plain RTP to voix's best-effort offer: plain on leg b.
    expect(b.srtp).toBeNull();
    expect(a).toMatchObject({ forward: true, direction: 'sendrecv', legacyHold: false, clockRates: { 0: 8000, 101: 8000 } });
    expect(b).toMatchObject({ forward: true, direction: 'sendrecv', clockRates: { 0: 8000, 101: 8000 } });
    expect(legConfig(a, '192.0.2.10')).toEqual({ remote: a.remote, expectedSource: '192.0.2.10', srtp: a.srtp, forward: true, clockRates: a.clockRates });
  });

  it('gives the same answer to A for the same answer from B (a 183 then a 200 with the same SDP)', () => {
    const opts = options();
    const offer = offered(fixture('baresip-1.0-srtp-best-effort-offer'), opts);
    const early = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    const final = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    expect(text(final.answer)).toBe(text(early.answer));
    expect(final.mediaPlan).toEqual(early.mediaPlan);
  });

  it('knows the offerer leg as soon as the offer is relayed (early media), the other leg not yet', () => {
    const r = offered(fixture('sipp-3.6-uac-offer'), options());
    expect(r.mediaPlan.a).toMatchObject({ remote: { address: '192.0.2.30', rtpPort: 6000, rtcpPort: 6001 }, srtp: null, clockRates: { 0: 8000 } });
    expect(r.mediaPlan.b).toMatchObject({ remote: null, srtp: null, forward: false });
  });

  it('serializes an offer a phone can read', () => {
    const r = offered(fixture('sipp-3.6-uac-offer'), options({ b: { srtp: 'off' } }));
    expect(text(r.offer)).toBe(
      [
        'v=0',
        `o=- ${r.offer.origin.sessionId} ${r.offer.origin.sessionVersion} IN IP4 ${RELAY_B}`,
        's=voix',
        `c=IN IP4 ${RELAY_B}`,
        't=0 0',
        'm=audio 40000 RTP/AVP 0',
        'a=rtpmap:0 PCMU/8000',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
  });
});

// --- codecs ----------------------------------------------------------------------

describe('codecs', () => {
  it('keeps the intersection with what voix relays, in the offerer order and numbering (Linphone)', () => {
    const r = offered(fixture('linphone-5.1-srtp-offer'), options());
    const m = audio(r.offer);
    // speex, G.729 and telephone-event at 48 and 16 kHz are not relayed.
    expect(m.formats).toEqual(['96', '0', '8', '101']);
    expect(attributeValues(m.attributes, 'rtpmap')).toEqual(['96 opus/48000/2', '101 telephone-event/8000']);
    expect(attributeValues(m.attributes, 'fmtp')).toEqual(['96 useinbandfec=1']);
    expect(attributeValues(m.attributes, 'rtcp-fb')).toEqual(['* trr-int 5000', '* ccm tmmbr']);
    expect(r.offer.attributes).toEqual([{ name: 'rtcp-xr', value: 'rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics' }]);
  });

  it('recognises static payload types 0, 8 and 9 without rtpmap', () => {
    const r = offered(offerFromA({ formats: '0 8 9 3', rtpmaps: [] }), options());
    expect(audio(r.offer).formats).toEqual(['0', '8', '9']);
    expect(r.mediaPlan.a.clockRates).toEqual({ 0: 8000, 8: 8000, 9: 8000 });
  });

  it('matches encoding names case-insensitively', () => {
    const r = offered(offerFromA({ formats: '107', rtpmaps: ['a=rtpmap:107 OPUS/48000/2'] }), options());
    expect(audio(r.offer).formats).toEqual(['107']);
  });

  it('refuses with 488 an offer without any codec voix relays, telephone-event alone not being one', () => {
    const r = relayOffer(offerFromA({ formats: '18 101', rtpmaps: ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000'] }), 'a', options());
    expect(r).toEqual({ ok: false, status: 488, leg: 'a', reason: 'no codec voix relays in the offer (offered: G729/8000, telephone-event/8000)' });
  });

  it('relays only the codecs configured', () => {
    const opts = options({}, { codecs: [{ encodingName: 'PCMA', clockRate: 8000 }, { encodingName: 'telephone-event', clockRate: 8000 }] });
    expect(audio(offered(fixture('baresip-1.0-srtp-best-effort-offer'), opts).offer).formats).toEqual(['8', '101']);
  });

  it('passes opus and G.722 only when both phones have them', () => {
    const opts = options();
    const offer = offered(fixture('baresip-1.0-srtp-best-effort-offer'), opts);
    const pcmuOnly = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    expect(audio(pcmuOnly.answer).formats).toEqual(['0', '101']);

    const opus = sdp(
      [
        'v=0',
        'o=- 1 1 IN IP4 198.51.100.5',
        's=-',
        'c=IN IP4 198.51.100.5',
        't=0 0',
        'm=audio 5000 RTP/AVP 96 9 101',
        'a=rtpmap:96 opus/48000/2',
        'a=fmtp:96 useinbandfec=1',
        'a=rtpmap:9 G722/8000',
        'a=rtpmap:101 telephone-event/8000',
        '',
      ].join('\n'),
    );
    const r = answered(opus, offer.pending, opts);
    expect(audio(r.answer).formats).toEqual(['96', '9', '101']);
    // B's own format parameters reach A: they say what B wants to receive.
    expect(attributeValues(audio(r.answer).attributes, 'fmtp')).toEqual(['96 useinbandfec=1']);
    expect(r.mediaPlan.a.clockRates).toEqual({ 96: 48000, 9: 8000, 101: 8000 });
  });

  it('keeps the payload type numbers each phone chose, so no RTP header is rewritten', () => {
    // Arrange: B answers telephone-event as 100 where A offered 101 (RFC 3264 §6.1 allows it).
    const opts = options();
    const offer = offered(offerFromA(), opts);
    const answer = sdp('v=0\no=- 1 1 IN IP4 198.51.100.5\ns=-\nc=IN IP4 198.51.100.5\nt=0 0\nm=audio 5000 RTP/AVP 8 100\na=rtpmap:100 telephone-event/8000\n');
    // Act
    const r = answered(answer, offer.pending, opts);
    // Assert: A gets B's numbers (A sends with them), B sends with A's.
    expect(audio(offer.offer).formats).toEqual(['0', '8', '101']);
    expect(audio(r.answer).formats).toEqual(['8', '100']);
    expect(r.mediaPlan.a.payloadTypes.map((f) => f.payloadType)).toEqual([8, 100]);
    expect(r.mediaPlan.b.payloadTypes.map((f) => f.payloadType)).toEqual([8, 101]);
    expect(r.mediaPlan.b.clockRates).toEqual({ 8: 8000, 101: 8000 });
  });

  it('reads an answered dynamic type without rtpmap with the offer mapping, and adds the rtpmap for A', () => {
    const opts = options();
    const offer = offered(offerFromA(), opts);
    const answer = sdp('v=0\no=- 1 1 IN IP4 198.51.100.5\ns=-\nc=IN IP4 198.51.100.5\nt=0 0\nm=audio 5000 RTP/AVP 0 101\n');
    const r = answered(answer, offer.pending, opts);
    expect(audio(r.answer).formats).toEqual(['0', '101']);
    expect(attributeValues(audio(r.answer).attributes, 'rtpmap')).toEqual(['101 telephone-event/8000']);
    expect(r.warnings).toEqual(['leg b: answered format 101 has no rtpmap, read as telephone-event/8000']);
  });

  it('refuses with 488 an answer without a common codec', () => {
    const opts = options();
    const offer = offered(offerFromA(), opts);
    const answer = sdp('v=0\no=- 1 1 IN IP4 198.51.100.5\ns=-\nc=IN IP4 198.51.100.5\nt=0 0\nm=audio 5000 RTP/AVP 18 101\na=rtpmap:18 G729/8000\na=rtpmap:101 telephone-event/8000\n');
    expect(relayAnswer(answer, offer.pending, opts)).toEqual({ ok: false, status: 488, leg: 'b', reason: 'no common codec in the answer on leg b' });
  });
});

// --- SRTP ------------------------------------------------------------------------

describe('SRTP per leg', () => {
  it('SAVP from A (required, TLS) to a plain leg b: voix decrypts from A and sends B plain RTP', () => {
    const opts = options({ a: { srtp: 'required' }, b: { srtp: 'off' } });
    const offer = offered(fixture('baresip-1.0-srtp-mand-offer'), opts);
    expect(audio(offer.offer).protocol).toBe('RTP/AVP');
    expect(cryptoLines(audio(offer.offer))).toEqual([]);
    const r = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    expect(audio(r.answer).protocol).toBe('RTP/SAVP');
    expect(cryptoLines(audio(r.answer))).toHaveLength(1);
    expect(r.mediaPlan.a.srtp).not.toBeNull();
    expect(r.mediaPlan.b.srtp).toBeNull();
  });

  it('plain RTP from A to an SRTP-required leg b: voix offers RTP/SAVP and both suites', () => {
    const opts = options({ a: { srtp: 'off' }, b: { srtp: 'required' } });
    const offer = offered(fixture('sipp-3.6-uac-offer'), opts);
    const m = audio(offer.offer);
    expect(m.protocol).toBe('RTP/SAVP');
    expect(cryptoLines(m).map((c) => c.split(' ')[1])).toEqual(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
    // B picks tag 2.
    const answer = answerFromB({ protocol: 'RTP/SAVP', formats: '0', extra: [`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KEY_B}`] });
    const r = answered(answer, offer.pending, opts);
    expect(r.mediaPlan.a.srtp).toBeNull();
    expect(r.mediaPlan.b.srtp?.inbound).toEqual({ suite: 'AES_CM_128_HMAC_SHA1_32', key: new Uint8Array(16).fill(0xbb), salt: new Uint8Array(14).fill(0xbb) });
    expect(keyingBase64(r.mediaPlan.b.srtp!.outbound)).toBe(keyOf(cryptoLines(m)[1]!));
    expect(audio(r.answer).protocol).toBe('RTP/AVP');
  });

  it('SRTP on both legs with different keys on each', () => {
    const opts = options({ a: { srtp: 'required' }, b: { srtp: 'required' } });
    const offer = offered(fixture('yealink-style-offer'), opts);
    const answer = answerFromB({ protocol: 'RTP/SAVP', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_B}`] });
    const r = answered(answer, offer.pending, opts);
    const { a, b } = r.mediaPlan;
    const keys = [a.srtp!.inbound, a.srtp!.outbound, b.srtp!.inbound, b.srtp!.outbound].map(keyingBase64);
    expect(new Set(keys).size).toBe(4);
  });

  it('refuses with 488 when SRTP is required on leg a and the offer has no crypto', () => {
    const r = relayOffer(fixture('sipp-3.6-uac-offer'), 'a', options({ a: { srtp: 'required' } }));
    expect(r).toEqual({ ok: false, status: 488, leg: 'a', reason: 'SRTP is required on leg a but the offer has no a=crypto' });
  });

  it('refuses with 488 when SRTP is required and no offered crypto line is usable, saying why', () => {
    const offer = offerFromA({ protocol: 'RTP/SAVP', extra: [`a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:${Buffer.alloc(46).toString('base64')}`, 'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:short'] });
    const r = relayOffer(offer, 'a', options({ a: { srtp: 'required' } }));
    expect(r).toEqual({
      ok: false,
      status: 488,
      leg: 'a',
      reason:
        'RTP/SAVP offered on leg a with no usable a=crypto line (' +
        'a=crypto:1 AES_256_CM_HMAC_SHA1_80: crypto suite AES_256_CM_HMAC_SHA1_80 is not supported; ' +
        'a=crypto:2 AES_CM_128_HMAC_SHA1_80: key "short" is not base64)',
    });
  });

  it('refuses RTP/SAVP with 488 when SRTP is off on the leg', () => {
    const r = relayOffer(fixture('baresip-1.0-srtp-mand-offer'), 'a', options({ a: { srtp: 'off' } }));
    expect(r).toMatchObject({ ok: false, status: 488, leg: 'a', reason: 'RTP/SAVP offered but SRTP is off on leg a' });
  });

  it('refuses RTP/SAVP with 488 when the leg signalling is not TLS (keys came in clear)', () => {
    const r = relayOffer(fixture('baresip-1.0-srtp-mand-offer'), 'a', options({ a: { cryptoAllowed: false } }));
    expect(r).toMatchObject({ ok: false, status: 488, leg: 'a' });
    expect(!r.ok && r.reason).toMatch(/not TLS/);
  });

  it('ignores best-effort a=crypto over non-TLS when SRTP is optional, refuses it when required', () => {
    const optional = offered(fixture('baresip-1.0-srtp-best-effort-offer'), options({ a: { cryptoAllowed: false } }));
    expect(optional.mediaPlan.a.srtp).toBeNull();
    expect(optional.warnings).toEqual(['leg a: a=crypto ignored, the signalling is not TLS']);
    const required = relayOffer(fixture('baresip-1.0-srtp-best-effort-offer'), 'a', options({ a: { srtp: 'required', cryptoAllowed: false } }));
    expect(required).toMatchObject({ ok: false, status: 488, reason: 'a=crypto on leg a, whose signalling is not TLS, is refused (RFC 4568 §8)' });
  });

  it('ignores best-effort a=crypto when SRTP is off, and answers plain', () => {
    const opts = options({ a: { srtp: 'off' } });
    const offer = offered(fixture('baresip-1.0-srtp-best-effort-offer'), opts);
    const r = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    expect(cryptoLines(audio(r.answer))).toEqual([]);
    expect(r.mediaPlan.a.srtp).toBeNull();
  });

  it('never sends a=crypto on a leg whose signalling is not TLS; refuses when SRTP is required there', () => {
    const optional = offered(fixture('sipp-3.6-uac-offer'), options({ b: { cryptoAllowed: false } }));
    expect(audio(optional.offer)).toMatchObject({ protocol: 'RTP/AVP' });
    expect(cryptoLines(audio(optional.offer))).toEqual([]);
    const required = relayOffer(fixture('sipp-3.6-uac-offer'), 'a', options({ b: { srtp: 'required', cryptoAllowed: false } }));
    expect(required).toMatchObject({ ok: false, status: 488, leg: 'b' });
  });

  it('answers with the tag of the chosen line (RFC 4568 §7.1.2)', () => {
    const opts = options();
    const offer = offered(
      offerFromA({
        protocol: 'RTP/SAVP',
        extra: [`a=crypto:5 AES_CM_128_HMAC_SHA1_32 inline:${KEY_A2}`, `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A2}`],
      }),
      opts,
    );
    const r = answered(fixture('asterisk-22-answer'), offer.pending, opts);
    expect(cryptoLines(audio(r.answer))).toEqual([expect.stringMatching(/^7 AES_CM_128_HMAC_SHA1_80 inline:/)]);
  });

  it('picks the preferred suite among several lines, skipping unsupported ones (Linphone), or the configured preference', () => {
    const opts = options();
    const linphone = offered(fixture('linphone-5.1-srtp-offer'), opts);
    expect(linphone.mediaPlan.a.srtp?.inbound.suite).toBe('AES_CM_128_HMAC_SHA1_80');
    const r = answered(fixture('asterisk-22-answer'), linphone.pending, opts);
    expect(cryptoLines(audio(r.answer))).toEqual([expect.stringMatching(/^1 AES_CM_128_HMAC_SHA1_80 /)]);

    const prefers32 = options({}, { srtpSuites: ['AES_CM_128_HMAC_SHA1_32', 'AES_CM_128_HMAC_SHA1_80'] });
    const yealink = offered(fixture('yealink-style-offer'), prefers32);
    const answer = answered(fixture('asterisk-22-answer'), yealink.pending, prefers32);
    expect(cryptoLines(audio(answer.answer))).toEqual([expect.stringMatching(/^2 AES_CM_128_HMAC_SHA1_32 /)]);
    expect(cryptoLines(audio(yealink.offer)).map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['1 AES_CM_128_HMAC_SHA1_32', '2 AES_CM_128_HMAC_SHA1_80']);
  });

  it('refuses an answer without a=crypto when voix offered RTP/SAVP', () => {
    const opts = options({ b: { srtp: 'required' } });
    const offer = offered(fixture('sipp-3.6-uac-offer'), opts);
    const r = relayAnswer(answerFromB({ protocol: 'RTP/SAVP' }), offer.pending, opts);
    expect(r).toEqual({ ok: false, status: 488, leg: 'b', reason: 'the answer on leg b has no a=crypto although SRTP is required' });
  });

  it('refuses an answer whose crypto tag was not offered, or changes the suite of the tag', () => {
    const opts = options({ b: { srtp: 'required' } });
    const offer = offered(fixture('sipp-3.6-uac-offer'), opts);
    const wrongTag = relayAnswer(answerFromB({ protocol: 'RTP/SAVP', extra: [`a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:${KEY_B}`] }), offer.pending, opts);
    expect(wrongTag).toMatchObject({ ok: false, status: 488, reason: 'the answer on leg b has no usable a=crypto (tag 9 was not offered)' });
    const wrongSuite = relayAnswer(answerFromB({ protocol: 'RTP/SAVP', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY_B}`] }), offer.pending, opts);
    expect(wrongSuite).toMatchObject({
      ok: false,
      reason: 'the answer on leg b has no usable a=crypto (tag 1 was offered as AES_CM_128_HMAC_SHA1_80, answered as AES_CM_128_HMAC_SHA1_32)',
    });
  });

  it('falls back to plain RTP on an optional leg when the answer has no crypto, but not when its crypto is unusable', () => {
    const opts = options();
    const offer = offered(fixture('sipp-3.6-uac-offer'), opts);
    expect(answered(answerFromB(), offer.pending, opts).mediaPlan.b.srtp).toBeNull();
    const broken = relayAnswer(answerFromB({ extra: ['a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!'] }), offer.pending, opts);
    expect(broken).toMatchObject({ ok: false, status: 488, leg: 'b' });
  });
});

// --- other streams ---------------------------------------------------------------

describe('streams voix does not relay', () => {
  it('refuses the video m-line with port 0 in the offer to B and in the answer to A (RFC 3264 §6)', () => {
    const opts = options();
    const offer = offered(fixture('yealink-style-offer'), opts);
    expect(offer.offer.media).toHaveLength(2);
    expect(offer.offer.media[1]).toEqual({
      media: 'video', port: 0, portCount: null, protocol: 'RTP/SAVP', formats: ['99'], connection: null, bandwidths: [], attributes: [], otherLines: [],
    });
    const r = answered(sdp(text(fixture('asterisk-22-answer')) + 'm=video 0 RTP/AVP 99\r\n'), offer.pending, opts);
    expect(r.answer.media.map((m) => `${m.media} ${m.port} ${m.protocol}`)).toEqual(['audio 30000 RTP/SAVP', 'video 0 RTP/SAVP']);
  });

  it('relays the first audio stream it can and refuses the others', () => {
    const offer = offerFromA({
      protocol: 'UDP/TLS/RTP/SAVPF',
      media: ['m=audio 4002 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'],
    });
    const r = offered(offer, options());
    expect(r.offer.media.map((m) => `${m.media} ${m.port}`)).toEqual(['audio 0', 'audio 40000']);
    expect(r.mediaPlan.a.remote).toMatchObject({ rtpPort: 4002 });
  });

  it('refuses DTLS-SRTP and offers without audio with 488', () => {
    expect(relayOffer(offerFromA({ protocol: 'UDP/TLS/RTP/SAVPF' }), 'a', options())).toMatchObject({
      ok: false,
      reason: 'UDP/TLS/RTP/SAVPF (DTLS-SRTP) is not supported: voix keys SRTP with SDES a=crypto only',
    });
    const videoOnly = sdp('v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=video 5000 RTP/AVP 99\na=rtpmap:99 H264/90000\n');
    expect(relayOffer(videoOnly, 'a', options())).toMatchObject({ ok: false, status: 488, reason: 'the offer has no audio stream' });
  });

  it('refuses with 488 when B refuses the audio stream', () => {
    const opts = options();
    const offer = offered(offerFromA(), opts);
    expect(relayAnswer(answerFromB({ port: 0 }), offer.pending, opts)).toMatchObject({ ok: false, status: 488, leg: 'b', reason: 'the phone on leg b refused the audio stream' });
  });

  it('does not forward what binds a phone own transport: ICE, rtcp-mux, DTLS, BUNDLE', () => {
    const offer = offerFromA({
      extra: [
        'a=rtcp-mux',
        'a=ice-ufrag:abcd',
        'a=ice-pwd:secret',
        'a=candidate:1 1 UDP 2130706431 192.0.2.10 4000 typ host',
        'a=fingerprint:sha-256 AA:BB',
        'a=setup:actpass',
        'a=mid:0',
        'a=X-custom:kept',
      ],
    });
    const r = offered(offer, options());
    expect(audio(r.offer).attributes.map((a) => a.name)).toEqual(['rtpmap', 'rtpmap', 'rtpmap', 'fmtp', 'mid', 'X-custom', 'crypto', 'crypto', 'sendrecv']);
  });
});

// --- RTCP ------------------------------------------------------------------------

describe('RTCP port', () => {
  it('comes from a=rtcp (RFC 3605), else RTP port + 1', () => {
    const withRtcp = offered(offerFromA({ extra: ['a=rtcp:53020 IN IP4 192.0.2.10'] }), options());
    expect(withRtcp.mediaPlan.a.remote).toEqual({ address: '192.0.2.10', rtpPort: 4000, rtcpPort: 53020 });
    expect(attributeValues(audio(withRtcp.offer).attributes, 'rtcp')).toEqual([]);
    expect(offered(offerFromA(), options()).mediaPlan.a.remote?.rtcpPort).toBe(4001);
  });

  it('ignores rtcp-mux: voix answers without it, so the phone keeps RTCP on its RTCP port', () => {
    const opts = options();
    const offer = offered(offerFromA({ extra: ['a=rtcp-mux'] }), opts);
    const r = answered(answerFromB({ extra: ['a=rtcp:17300'] }), offer.pending, opts);
    expect(attributeValues(audio(r.answer).attributes, 'rtcp-mux')).toEqual([]);
    expect(r.mediaPlan.a.remote?.rtcpPort).toBe(4001);
    expect(r.mediaPlan.b.remote?.rtcpPort).toBe(17300);
  });
});

// --- re-INVITEs --------------------------------------------------------------------

/** A call set up A → B with SRTP both ways (A: SAVP, B: voix's SAVP offer). */
function establishedCall(opts: RelayOptions): { session: MediaSession; offerToB: SessionDescription; answerToA: SessionDescription } {
  const offer = offered(offerFromA({ protocol: 'RTP/SAVP', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A2}`] }), opts);
  const r = answered(answerFromB({ protocol: 'RTP/SAVP', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_B}`] }), offer.pending, opts);
  return { session: r.session, offerToB: offer.offer, answerToA: r.answer };
}

function reofferFromA(version: number, p: { direction?: string; address?: string; key?: string } = {}): SessionDescription {
  return offerFromA({
    version,
    protocol: 'RTP/SAVP',
    ...(p.address === undefined ? {} : { address: p.address }),
    direction: p.direction ?? 'sendrecv',
    extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${p.key ?? KEY_A2}`],
  });
}

function reanswerFromB(version: number, direction: string): SessionDescription {
  return answerFromB({ version, protocol: 'RTP/SAVP', direction, extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_B}`] });
}

const SECURE = options({ a: { srtp: 'required' }, b: { srtp: 'required' } });

describe('hold and resume (RFC 3264 §8.4, RFC 6337)', () => {
  it('A holds with sendonly: B is offered sendonly, the answers say recvonly, only A media is forwarded', () => {
    // Arrange
    const call = establishedCall(SECURE);
    // Act
    const offer = offered(reofferFromA(1001, { direction: 'sendonly' }), SECURE, 'a', call.session);
    const r = answered(reanswerFromB(4, 'recvonly'), offer.pending, SECURE);
    // Assert
    expect(attributeValues(audio(offer.offer).attributes, 'sendonly')).toEqual(['']);
    expect(attributeValues(audio(r.answer).attributes, 'recvonly')).toEqual(['']);
    expect(r.mediaPlan.a).toMatchObject({ direction: 'sendonly', forward: true });
    expect(r.mediaPlan.b).toMatchObject({ direction: 'recvonly', forward: false });
  });

  it('A resumes with sendrecv: everything flows again', () => {
    const call = establishedCall(SECURE);
    const hold = answered(reanswerFromB(4, 'recvonly'), offered(reofferFromA(1001, { direction: 'sendonly' }), SECURE, 'a', call.session).pending, SECURE);
    const offer = offered(reofferFromA(1002), SECURE, 'a', hold.session);
    const r = answered(reanswerFromB(5, 'sendrecv'), offer.pending, SECURE);
    expect(attributeValues(audio(offer.offer).attributes, 'sendrecv')).toEqual(['']);
    expect(attributeValues(audio(r.answer).attributes, 'sendrecv')).toEqual(['']);
    expect(r.mediaPlan.a).toMatchObject({ direction: 'sendrecv', forward: true });
    expect(r.mediaPlan.b).toMatchObject({ direction: 'sendrecv', forward: true });
  });

  it('B holds A: the offer comes from leg b and A is offered sendonly', () => {
    // Arrange
    const call = establishedCall(SECURE);
    const holdFromB = answerFromB({ version: 4, protocol: 'RTP/SAVP', direction: 'sendonly', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_B}`] });
    // Act
    const offer = offered(holdFromB, SECURE, 'b', call.session);
    const answerFromA = offerFromA({ version: 1001, protocol: 'RTP/SAVP', formats: '0 101', direction: 'recvonly', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A2}`] });
    const r = answered(answerFromA, offer.pending, SECURE);
    // Assert
    expect(offer.offer.connection?.address).toBe(RELAY_A);
    expect(audio(offer.offer)).toMatchObject({ port: 30000, protocol: 'RTP/SAVP' });
    expect(attributeValues(audio(offer.offer).attributes, 'sendonly')).toEqual(['']);
    expect(audio(r.answer).port).toBe(40000);
    expect(attributeValues(audio(r.answer).attributes, 'recvonly')).toEqual(['']);
    expect(r.mediaPlan.b).toMatchObject({ direction: 'sendonly', forward: true });
    expect(r.mediaPlan.a).toMatchObject({ direction: 'recvonly', forward: false });
  });

  it('reads the RFC 2543 hold c=0.0.0.0 as "send nothing to A" and offers B a modern sendonly', () => {
    const call = establishedCall(SECURE);
    const offer = offered(reofferFromA(1001, { address: '0.0.0.0' }), SECURE, 'a', call.session);
    expect(offer.offer.connection?.address).toBe(RELAY_B);
    expect(attributeValues(audio(offer.offer).attributes, 'sendonly')).toEqual(['']);
    const r = answered(reanswerFromB(4, 'recvonly'), offer.pending, SECURE);
    expect(r.mediaPlan.a).toMatchObject({ remote: null, legacyHold: true, direction: 'sendonly', forward: true });
    expect(r.mediaPlan.b).toMatchObject({ forward: false });
    expect(attributeValues(audio(r.answer).attributes, 'recvonly')).toEqual(['']);
  });

  it('reads an answer that ignores the hold (sendrecv to sendonly) as recvonly, with a warning', () => {
    const call = establishedCall(SECURE);
    const offer = offered(reofferFromA(1001, { direction: 'sendonly' }), SECURE, 'a', call.session);
    const r = answered(reanswerFromB(4, 'sendrecv'), offer.pending, SECURE);
    expect(r.mediaPlan.b).toMatchObject({ direction: 'recvonly', forward: false });
    expect(r.warnings).toEqual(['leg b: answered sendrecv to sendonly, read as recvonly']);
  });

  it('mirrors inactive both ways', () => {
    const call = establishedCall(SECURE);
    const offer = offered(reofferFromA(1001, { direction: 'inactive' }), SECURE, 'a', call.session);
    const r = answered(reanswerFromB(4, 'inactive'), offer.pending, SECURE);
    expect(attributeValues(audio(r.answer).attributes, 'inactive')).toEqual(['']);
    expect(r.mediaPlan.a.forward).toBe(false);
    expect(r.mediaPlan.b.forward).toBe(false);
  });
});

describe('session versions (RFC 3264 §8)', () => {
  it('counts up by one per changed SDP on each leg, keeps the session id, and keeps the version of an unchanged refresh', () => {
    // Arrange
    const call = establishedCall(SECURE);
    const v0b = call.offerToB.origin.sessionVersion;
    const v0a = call.answerToA.origin.sessionVersion;
    // Act
    const refresh = offered(reofferFromA(1000), SECURE, 'a', call.session);
    const refreshed = answered(reanswerFromB(3, 'sendrecv'), refresh.pending, SECURE);
    const hold = offered(reofferFromA(1001, { direction: 'sendonly' }), SECURE, 'a', refreshed.session);
    const held = answered(reanswerFromB(4, 'recvonly'), hold.pending, SECURE);
    const resume = offered(reofferFromA(1002), SECURE, 'a', held.session);
    const resumed = answered(reanswerFromB(5, 'sendrecv'), resume.pending, SECURE);
    // Assert
    expect(call.offerToB.origin.sessionId).not.toBe(call.answerToA.origin.sessionId);
    expect([refresh.offer, hold.offer, resume.offer].map((d) => d.origin.sessionVersion - v0b)).toEqual([0n, 1n, 2n]);
    expect([refreshed.answer, held.answer, resumed.answer].map((d) => d.origin.sessionVersion - v0a)).toEqual([0n, 1n, 2n]);
    expect(text(refresh.offer)).toBe(text(call.offerToB));
    for (const d of [hold.offer, resume.offer]) expect({ ...d.origin, sessionVersion: 0n }).toEqual({ ...call.offerToB.origin, sessionVersion: 0n });
  });

  it('does not count a re-offer that B refused: the next one takes the same version', () => {
    const call = establishedCall(SECURE);
    const refused = offered(reofferFromA(1001, { direction: 'sendonly' }), SECURE, 'a', call.session);
    expect(relayAnswer(answerFromB({ port: 0 }), refused.pending, SECURE).ok).toBe(false);
    const again = offered(reofferFromA(1002, { direction: 'sendonly' }), SECURE, 'a', call.session);
    expect(again.offer.origin.sessionVersion).toBe(refused.offer.origin.sessionVersion);
  });

  it('counts versions of the offers voix makes to A when B re-offers', () => {
    const call = establishedCall(SECURE);
    const hold = offered(reanswerFromB(4, 'sendonly'), SECURE, 'b', call.session);
    expect(hold.offer.origin).toEqual({ ...call.answerToA.origin, sessionVersion: call.answerToA.origin.sessionVersion + 1n });
  });
});

describe('what the session remembers', () => {
  it('keeps the last SDP sent to and received from each phone, to spot a refresh (RFC 3264 §8)', () => {
    const call = establishedCall(SECURE);
    expect(call.session.legs.a.lastSent).toBe(call.answerToA);
    expect(call.session.legs.b.lastSent).toBe(call.offerToB);
    expect(call.session.legs.a.lastReceived?.origin.sessionVersion).toBe(1000n);
    expect(call.session.legs.b.lastReceived?.origin.sessionVersion).toBe(3n);
    expect(compareOrigins(call.session.legs.a.lastReceived!.origin, reofferFromA(1000).origin)).toBe('unchanged');
    expect(call.session.plan.a.srtp).not.toBeNull();
  });
});

describe('keys across re-INVITEs', () => {
  it('keeps voix keys for both legs while the phones keep theirs', () => {
    const call = establishedCall(SECURE);
    const offer = offered(reofferFromA(1001, { direction: 'sendonly' }), SECURE, 'a', call.session);
    const r = answered(reanswerFromB(4, 'recvonly'), offer.pending, SECURE);
    expect(cryptoLines(audio(offer.offer))).toEqual(cryptoLines(audio(call.offerToB)));
    expect(cryptoLines(audio(r.answer))).toEqual(cryptoLines(audio(call.answerToA)));
    expect(r.mediaPlan.a.srtp).toEqual(call.session.plan.a.srtp);
    expect(r.mediaPlan.b.srtp).toEqual(call.session.plan.b.srtp);
  });

  it('gives A a new key when A changes its own', () => {
    const call = establishedCall(SECURE);
    const newKey = Buffer.alloc(30, 0x5a).toString('base64');
    const offer = offered(reofferFromA(1001, { key: newKey }), SECURE, 'a', call.session);
    const r = answered(reanswerFromB(4, 'sendrecv'), offer.pending, SECURE);
    expect(keyingBase64(r.mediaPlan.a.srtp!.inbound)).toBe(newKey);
    expect(keyOf(cryptoLines(audio(r.answer))[0]!)).not.toBe(keyOf(cryptoLines(audio(call.answerToA))[0]!));
    expect(r.mediaPlan.b.srtp).toEqual(call.session.plan.b.srtp);
  });

  it('answers B re-offer with the key voix offered B for that suite', () => {
    const call = establishedCall(SECURE);
    const offer = offered(reanswerFromB(4, 'sendrecv'), SECURE, 'b', call.session);
    const answerFromA = offerFromA({ version: 1001, protocol: 'RTP/SAVP', formats: '0 101', extra: [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_A2}`] });
    const r = answered(answerFromA, offer.pending, SECURE);
    const voixKeyForB = keyOf(cryptoLines(audio(call.offerToB))[0]!);
    expect(cryptoLines(audio(r.answer))).toEqual([`1 AES_CM_128_HMAC_SHA1_80 inline:${voixKeyForB}`]);
    expect(r.mediaPlan.b.srtp).toEqual(call.session.plan.b.srtp);
  });
});

describe('the plan and the SDP agree', () => {
  it('the key in the answer to A is the outbound key of leg a', () => {
    const call = establishedCall(SECURE);
    const line = cryptoLines(audio(call.answerToA))[0]!;
    expect(line).toBe(formatCryptoAttribute(1, call.session.plan.a.srtp!.outbound));
  });
});
