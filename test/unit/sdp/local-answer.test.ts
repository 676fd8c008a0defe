import { describe, expect, it } from 'vitest';
import type { RandomBytes } from '../../../src/sdp/crypto-attribute.js';
import { answerLocally } from '../../../src/sdp/local-answer.js';
import type { RelayLegOptions, RelayOptions } from '../../../src/sdp/offer-answer.js';
import { serializeSessionDescription } from '../../../src/sdp/serializer.js';
import { fixture, sdp } from './sdp-fixtures.js';

function counter(): RandomBytes {
  let n = 0;
  return (size) => Uint8Array.from({ length: size }, () => n++ & 0xff);
}

function options(a: Partial<RelayLegOptions> = {}): RelayOptions {
  return {
    legs: {
      a: { address: '203.0.113.1', port: 30000, srtp: 'optional', cryptoAllowed: true, ...a },
      b: { address: '203.0.113.1', port: 30002, srtp: 'required', cryptoAllowed: true },
    },
    randomBytes: counter(),
  };
}

describe('answerLocally (voix answers the caller itself)', () => {
  it('answers a baresip SRTP offer with PCMU and telephone-event, on the relay port of leg a, with its own key', () => {
    const result = answerLocally(fixture('baresip-1.0-srtp-mand-offer'), options({ srtp: 'required' }));

    if (!result.ok) throw new Error(result.reason);
    const text = serializeSessionDescription(result.answer);
    expect(result).toMatchObject({ codec: 'PCMU', payloadType: 0, telephoneEvent: 101 });
    expect(text).toMatch(/^m=audio 30000 RTP\/SAVP 0 101\r$/m);
    expect(text).toMatch(/^c=IN IP4 203\.0\.113\.1\r$/m);
    expect(text).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:/m);
    expect(text).not.toContain('opus');
    expect(result.session.plan.a).toMatchObject({ remote: { address: '192.0.2.10', rtpPort: 17378 }, payloadTypes: [{ payloadType: 0 }, { payloadType: 101 }] });
    expect(result.session.plan.a.srtp).not.toBeNull();
  });

  it('takes PCMA when the caller has no PCMU, and works without telephone-event', () => {
    const offer = sdp('v=0\no=- 1 1 IN IP4 192.0.2.20\ns=-\nc=IN IP4 192.0.2.20\nt=0 0\nm=audio 4000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\n');

    const result = answerLocally(offer, options());

    expect(result).toMatchObject({ ok: true, codec: 'PCMA', payloadType: 8, telephoneEvent: null });
  });

  it('refuses with 488 an offer without G.711, and a plain offer to a user whose SRTP is required', () => {
    const opus = sdp('v=0\no=- 1 1 IN IP4 192.0.2.20\ns=-\nc=IN IP4 192.0.2.20\nt=0 0\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 opus/48000/2\n');
    const plain = sdp('v=0\no=- 1 1 IN IP4 192.0.2.20\ns=-\nc=IN IP4 192.0.2.20\nt=0 0\nm=audio 4000 RTP/AVP 0\n');

    expect(answerLocally(opus, options())).toMatchObject({ ok: false, status: 488 });
    expect(answerLocally(plain, options({ srtp: 'required' }))).toMatchObject({ ok: false, status: 488 });
  });
});
