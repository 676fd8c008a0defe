import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SrtpKeying, SrtpSuite } from '../../../src/rtp/media-protocol.js';
import {
  SRTP_ERROR_AUTHENTICATION,
  SRTP_ERROR_BUFFER_TOO_SMALL,
  SRTP_ERROR_MALFORMED,
  SRTP_ERROR_REPLAY,
  SRTP_ERROR_REPLAY_OLD,
  SRTP_ERROR_TOO_MANY_SSRCS,
  SrtpKeyingError,
  describeSrtpError,
} from '../../../src/srtp/srtp-error.js';
import { SrtpSession } from '../../../src/srtp/srtp-session.js';
import { forEachSrtpCrypto, newSession } from './srtp-crypto-choices.js';
import { makeRtcp, makeRtp, referenceProtectRtcp, referenceProtectRtp, roomy } from './reference-srtp.js';

const SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];
const TAG: Readonly<Record<SrtpSuite, number>> = { AES_CM_128_HMAC_SHA1_80: 10, AES_CM_128_HMAC_SHA1_32: 4 };

function keying(suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80'): SrtpKeying {
  return { suite, key: Uint8Array.from(randomBytes(16)), salt: Uint8Array.from(randomBytes(14)) };
}

/** Protects `rtp` with `session` and returns the SRTP packet alone. */
function protect(session: SrtpSession, rtp: Uint8Array): Uint8Array {
  const buf = roomy(rtp);
  const length = session.protectRtp(buf, rtp.length);
  expect(length, describeSrtpError(length)).toBeGreaterThan(0);
  return buf.slice(0, length);
}

/** Unprotects a copy of `srtp`: the RTP packet, or the error code. */
function unprotect(session: SrtpSession, srtp: Uint8Array): Uint8Array | number {
  const buf = roomy(srtp);
  const length = session.unprotectRtp(buf, srtp.length);
  return length < 0 ? length : buf.slice(0, length);
}

function protectRtcp(session: SrtpSession, rtcp: Uint8Array): Uint8Array {
  const buf = roomy(rtcp);
  const length = session.protectRtcp(buf, rtcp.length);
  expect(length, describeSrtpError(length)).toBeGreaterThan(0);
  return buf.slice(0, length);
}

function unprotectRtcp(session: SrtpSession, srtcp: Uint8Array): Uint8Array | number {
  const buf = roomy(srtcp);
  const length = session.unprotectRtcp(buf, srtcp.length);
  return length < 0 ? length : buf.slice(0, length);
}

forEachSrtpCrypto(() => {
  describe.each(SUITES)('SRTP round trip, %s', (suite) => {
    it('protects in place into the bytes of an independent implementation, and unprotects back', () => {
      // Arrange
      const k = keying(suite);
      const sender = newSession(k);
      const receiver = newSession(k);
      const rtp = makeRtp(1234);
      // Act
      const srtp = protect(sender, rtp);
      const back = unprotect(receiver, srtp);
      // Assert
      expect(srtp.length).toBe(rtp.length + TAG[suite]);
      expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, 0))).toBe(true);
      expect(srtp.subarray(0, 12)).toEqual(rtp.subarray(0, 12));
      expect(srtp.subarray(12, rtp.length)).not.toEqual(rtp.subarray(12));
      expect(back).toEqual(rtp);
    });

    it('leaves CSRCs and the header extension in clear and authenticates them (RFC 3711 §3.1)', () => {
      const k = keying(suite);
      const rtp = new Uint8Array(12 + 8 + 4 + 8 + 40);
      rtp.set(makeRtp(7, 0x01020304, 0));
      rtp[0] = 0x80 | 0x10 | 2; // X and two CSRCs
      rtp.set([0xbe, 0xde, 0x00, 0x02], 20); // extension of two words
      rtp.fill(0x77, 24);
      const srtp = protect(newSession(k), rtp);
      expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, 0))).toBe(true);
      expect(srtp.subarray(0, 32)).toEqual(rtp.subarray(0, 32));
      expect(unprotect(newSession(k), srtp)).toEqual(rtp);
    });

    it('handles payloads of every size from 0 to 1500 bytes, batched or not, as the reference does', () => {
      const k = keying(suite);
      const sender = newSession(k);
      const receiver = newSession(k);
      let sequenceNumber = 100;
      for (const payloadLength of [0, 1, 15, 16, 17, 160, 161, 240, 320, 1023, 1024, 1025, 1500, 160, 7]) {
        const rtp = makeRtp(sequenceNumber++, 0xcafe0001, payloadLength);
        const srtp = protect(sender, rtp);
        expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, 0)), `payload ${payloadLength}`).toBe(true);
        expect(unprotect(receiver, srtp)).toEqual(rtp);
      }
    });

    it('refuses a packet with any single bit changed, header, payload or tag, and still takes the genuine one', () => {
      const k = keying(suite);
      const receiver = newSession(k);
      const srtp = protect(newSession(k), makeRtp(42));
      for (let i = 0; i < srtp.length; i++) {
        for (const bit of [0x01, 0x80]) {
          if (i === 0 && bit === 0x80) continue; // that one makes it version 0: malformed, tested below
          const forged = srtp.slice();
          forged[i] = forged[i]! ^ bit;
          expect(unprotect(receiver, forged), `byte ${i} bit ${bit}`).toBe(SRTP_ERROR_AUTHENTICATION);
        }
      }
      expect(unprotect(receiver, srtp)).toEqual(makeRtp(42));
    });

    it('refuses a packet protected with another key', () => {
      const srtp = protect(newSession(keying(suite)), makeRtp(1));
      expect(unprotect(newSession(keying(suite)), srtp)).toBe(SRTP_ERROR_AUTHENTICATION);
    });
  });

  describe('SRTP replay protection (RFC 3711 §3.3.2)', () => {
    const k = keying();

    it('refuses a replayed packet', () => {
      const receiver = newSession(k);
      const srtp = protect(newSession(k), makeRtp(5));
      expect(unprotect(receiver, srtp)).toEqual(makeRtp(5));
      expect(unprotect(receiver, srtp)).toBe(SRTP_ERROR_REPLAY);
    });

    it('accepts a late packet inside the 64-packet window once, refuses one older than the window', () => {
      // Arrange: packets 0..99, of which 40 and 10 are held back
      const sender = newSession(k);
      const receiver = newSession(k);
      const packets = Array.from({ length: 100 }, (_, i) => protect(sender, makeRtp(i)));
      for (let i = 0; i < 100; i++) if (i !== 40 && i !== 10) expect(unprotect(receiver, packets[i]!)).toEqual(makeRtp(i));
      // Act / Assert: 99 - 40 = 59 is inside the window, 99 - 10 = 89 is not
      expect(unprotect(receiver, packets[40]!)).toEqual(makeRtp(40));
      expect(unprotect(receiver, packets[40]!)).toBe(SRTP_ERROR_REPLAY);
      expect(unprotect(receiver, packets[10]!)).toBe(SRTP_ERROR_REPLAY_OLD);
      // The window's edge: 99 - 36 = 63 is its oldest slot, 99 - 35 = 64 is past it.
      expect(unprotect(receiver, packets[36]!)).toBe(SRTP_ERROR_REPLAY);
      expect(unprotect(receiver, packets[35]!)).toBe(SRTP_ERROR_REPLAY_OLD);
    });

    it('takes every packet once when they arrive shuffled within the window, across a wrap', () => {
      const sender = newSession(k);
      const receiver = newSession(k);
      const count = 2000;
      const first = 65000;
      const sent = Array.from({ length: count }, (_, i) => {
        const rtp = makeRtp((first + i) & 0xffff);
        const srtp = protect(sender, rtp);
        expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, first + i >= 0x10000 ? 1 : 0))).toBe(true);
        return { rtp, srtp };
      });
      // Blocks of 8 delivered backwards, every 50th packet lost, every 7th duplicated.
      const order: number[] = [];
      for (let block = 0; block < count; block += 8) for (let i = Math.min(block + 7, count - 1); i >= block; i--) order.push(i);
      let accepted = 0;
      for (const i of order) {
        if (i % 50 === 0) continue;
        const { rtp, srtp } = sent[i]!;
        expect(unprotect(receiver, srtp), `packet ${i}`).toEqual(rtp);
        accepted++;
        if (i % 7 === 0) expect(unprotect(receiver, srtp)).toBe(SRTP_ERROR_REPLAY);
      }
      expect(accepted).toBe(count - 40);
    });

    it('gives the reference bytes whatever the stream does: gaps, jumps, resumptions, payloads growing and shrinking', () => {
      // The keystream is computed ahead in batches (keystream-batch.ts); every
      // way of falling out of a batch must still give the same bytes.
      const k = keying();
      const sender = newSession(k);
      const receiver = newSession(k);
      const sequence: number[] = [];
      for (let s = 0; s < 40; s++) sequence.push(s);
      sequence.push(50, 66, 67, 140, 180, 260, 261, 262, 300, 301, 340);
      for (let s = 341; s < 420; s += 2) sequence.push(s);
      sequence.push(430, 429, 428, 431, 500, 470, 501);
      sequence.forEach((s, i) => {
        const payloadLength = i % 13 === 0 ? 400 : i % 17 === 0 ? 1100 : i % 5 === 0 ? 30 : 160;
        const rtp = makeRtp(s, 0xcafe0001, payloadLength);
        const srtp = protect(sender, rtp);
        expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, 0)), `seq ${s}`).toBe(true);
        expect(unprotect(receiver, srtp), `seq ${s}`).toEqual(rtp);
      });
    });

    it('makes the sender refuse to encrypt a packet index twice (the keystream would be reused)', () => {
      const sender = newSession(k);
      protect(sender, makeRtp(9));
      const buf = roomy(makeRtp(9));
      expect(sender.protectRtp(buf, 172)).toBe(SRTP_ERROR_REPLAY);
    });
  });

  describe('SRTP rollover counter (RFC 3711 §3.3.1)', () => {
    it('increments ROC when SEQ wraps from 65535 to 0, and decrypts a late packet from before the wrap with the old ROC', () => {
      // Arrange
      const k = keying();
      const sender = newSession(k);
      const receiver = newSession(k);
      const sequence = [65533, 65534, 65535, 0, 1];
      const srtp = sequence.map((s) => protect(sender, makeRtp(s)));
      // Assert on the sender: 0 and 1 went out with ROC 1
      sequence.forEach((s, i) => {
        expect(Buffer.from(srtp[i]!).equals(referenceProtectRtp(k, makeRtp(s), s < 100 ? 1 : 0)), `seq ${s}`).toBe(true);
      });
      // Act on the receiver: 65534 comes last
      for (const i of [0, 2, 3, 4]) expect(unprotect(receiver, srtp[i]!)).toEqual(makeRtp(sequence[i]!));
      expect(unprotect(receiver, srtp[1]!)).toEqual(makeRtp(65534));
      expect(unprotect(receiver, srtp[3]!)).toBe(SRTP_ERROR_REPLAY);
    });

    it('keeps counting through several wraps', () => {
      const k = keying('AES_CM_128_HMAC_SHA1_32');
      const sender = newSession(k);
      const receiver = newSession(k);
      for (let index = 0; index < 3 * 65536 + 10; index += 997) {
        const rtp = makeRtp(index & 0xffff);
        const srtp = protect(sender, rtp);
        expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, Math.floor(index / 65536)))).toBe(true);
        expect(unprotect(receiver, srtp)).toEqual(rtp);
      }
    });

    it('reads a jump past 32768 while ROC is 0 as a jump forward, as libsrtp2 does', () => {
      const k = keying();
      const sender = newSession(k);
      const receiver = newSession(k);
      for (const s of [2, 65534, 65535, 0]) {
        const rtp = makeRtp(s);
        const srtp = protect(sender, rtp);
        expect(Buffer.from(srtp).equals(referenceProtectRtp(k, rtp, s === 0 ? 1 : 0))).toBe(true);
        expect(unprotect(receiver, srtp)).toEqual(rtp);
      }
    });

    it('gives a new SSRC its own ROC, starting at 0', () => {
      // Arrange: SSRC A is past a wrap (ROC 1)
      const k = keying();
      const sender = newSession(k);
      const receiver = newSession(k);
      for (const s of [65535, 0, 1]) expect(unprotect(receiver, protect(sender, makeRtp(s, 0xaaaa0001)))).toEqual(makeRtp(s, 0xaaaa0001));
      // Act: SSRC B starts at 100
      const b = makeRtp(100, 0xbbbb0002);
      const srtpB = protect(sender, b);
      // Assert: B used ROC 0, A still uses ROC 1
      expect(Buffer.from(srtpB).equals(referenceProtectRtp(k, b, 0))).toBe(true);
      expect(unprotect(receiver, srtpB)).toEqual(b);
      const a = makeRtp(2, 0xaaaa0001);
      const srtpA = protect(sender, a);
      expect(Buffer.from(srtpA).equals(referenceProtectRtp(k, a, 1))).toBe(true);
      expect(unprotect(receiver, srtpA)).toEqual(a);
      expect(receiver.ssrcCount).toBe(2);
    });

    it('starts again at ROC 0 with a new key (a new session)', () => {
      const k = keying();
      const old = newSession(k);
      for (const s of [65535, 0]) protect(old, makeRtp(s));
      const fresh = keying();
      expect(Buffer.from(protect(newSession(fresh), makeRtp(1))).equals(referenceProtectRtp(fresh, makeRtp(1), 0))).toBe(true);
    });
  });

  describe('SSRC cap', () => {
    it('tracks at most maxSsrcs SSRCs, and forged packets with new SSRCs take no place', () => {
      const k = keying();
      const sender = newSession(k);
      const receiver = newSession(k, { maxSsrcs: 2 });
      for (let i = 0; i < 50; i++) {
        const forged = Uint8Array.from(randomBytes(182));
        forged[0] = 0x80;
        expect(unprotect(receiver, forged)).toBe(SRTP_ERROR_AUTHENTICATION);
      }
      expect(receiver.ssrcCount).toBe(0);
      expect(unprotect(receiver, protect(sender, makeRtp(1, 1)))).toEqual(makeRtp(1, 1));
      expect(unprotect(receiver, protect(sender, makeRtp(1, 2)))).toEqual(makeRtp(1, 2));
      expect(unprotect(receiver, protect(sender, makeRtp(1, 3)))).toBe(SRTP_ERROR_TOO_MANY_SSRCS);
      expect(receiver.ssrcCount).toBe(2);

      const cappedSender = newSession(k, { maxSsrcs: 1 });
      protect(cappedSender, makeRtp(1, 1));
      expect(cappedSender.protectRtp(roomy(makeRtp(1, 2)), 172)).toBe(SRTP_ERROR_TOO_MANY_SSRCS);
    });

    it('defaults to 16', () => {
      const k = keying();
      const sender = newSession(k);
      for (let ssrc = 1; ssrc <= 16; ssrc++) protect(sender, makeRtp(1, ssrc));
      expect(sender.protectRtp(roomy(makeRtp(1, 17)), 172)).toBe(SRTP_ERROR_TOO_MANY_SSRCS);
    });
  });

  describe.each(SUITES)('SRTCP (RFC 3711 §3.4), %s', (suite) => {
    it('round-trips with an 80-bit tag whatever the suite, E set and the index counting from 0', () => {
      // Arrange
      const k = keying(suite);
      const sender = newSession(k);
      const receiver = newSession(k);
      const rtcp = makeRtcp();
      // Act
      const first = protectRtcp(sender, rtcp);
      const second = protectRtcp(sender, rtcp);
      // Assert
      expect(first.length).toBe(rtcp.length + 4 + 10);
      expect(Buffer.from(first).equals(referenceProtectRtcp(k, rtcp, 0))).toBe(true);
      expect(Buffer.from(second).equals(referenceProtectRtcp(k, rtcp, 1))).toBe(true);
      expect(first.subarray(0, 8)).toEqual(rtcp.subarray(0, 8));
      expect(unprotectRtcp(receiver, first)).toEqual(rtcp);
      expect(unprotectRtcp(receiver, second)).toEqual(rtcp);
    });

    it('refuses a replay, accepts a late packet inside the window once, refuses one older than the window', () => {
      const k = keying(suite);
      const receiver = newSession(k);
      const rtcp = makeRtcp();
      const packets = Array.from({ length: 80 }, (_, index) => referenceProtectRtcp(k, rtcp, index));
      for (let i = 0; i < 80; i++) if (i !== 3 && i !== 50) expect(unprotectRtcp(receiver, packets[i]!)).toEqual(rtcp);
      expect(unprotectRtcp(receiver, packets[79]!)).toBe(SRTP_ERROR_REPLAY);
      expect(unprotectRtcp(receiver, packets[50]!)).toEqual(rtcp);
      expect(unprotectRtcp(receiver, packets[50]!)).toBe(SRTP_ERROR_REPLAY);
      expect(unprotectRtcp(receiver, packets[3]!)).toBe(SRTP_ERROR_REPLAY_OLD);
    });

    it('authenticates but does not decrypt a packet sent with E = 0', () => {
      const k = keying(suite);
      const rtcp = makeRtcp();
      const clear = referenceProtectRtcp(k, rtcp, 9, false);
      expect(unprotectRtcp(newSession(k), clear)).toEqual(rtcp);
    });

    it('refuses a packet with any single bit changed, the E flag and index included', () => {
      const k = keying(suite);
      const receiver = newSession(k);
      const srtcp = protectRtcp(newSession(k), makeRtcp());
      for (let i = 0; i < srtcp.length; i++) {
        const forged = srtcp.slice();
        forged[i] = forged[i]! ^ (i === 0 ? 0x01 : 0x80);
        expect(unprotectRtcp(receiver, forged), `byte ${i}`).toBe(SRTP_ERROR_AUTHENTICATION);
      }
      expect(unprotectRtcp(receiver, srtcp)).toEqual(makeRtcp());
    });

    it('keeps SRTCP and SRTP state of one SSRC apart', () => {
      const k = keying(suite);
      const sender = newSession(k);
      const receiver = newSession(k);
      expect(unprotect(receiver, protect(sender, makeRtp(0)))).toEqual(makeRtp(0));
      expect(unprotectRtcp(receiver, protectRtcp(sender, makeRtcp()))).toEqual(makeRtcp());
      expect(unprotect(receiver, protect(sender, makeRtp(1)))).toEqual(makeRtp(1));
    });
  });

  describe('malformed input gives an error code, never an exception', () => {
    const k = keying();

    it('refuses RTP packets too short for the header and tag', () => {
      const session = newSession(k);
      const buf = new Uint8Array(64);
      buf[0] = 0x80;
      for (let length = 0; length < 12; length++) expect(session.protectRtp(buf, length)).toBe(SRTP_ERROR_MALFORMED);
      for (let length = 0; length < 22; length++) expect(session.unprotectRtp(buf, length)).toBe(SRTP_ERROR_MALFORMED);
    });

    it('refuses RTCP packets too short for the header, the SRTCP index and the tag', () => {
      const session = newSession(k);
      const buf = new Uint8Array(64);
      buf[0] = 0x80;
      for (let length = 0; length < 8; length++) expect(session.protectRtcp(buf, length)).toBe(SRTP_ERROR_MALFORMED);
      for (let length = 0; length < 22; length++) expect(session.unprotectRtcp(buf, length)).toBe(SRTP_ERROR_MALFORMED);
    });

    it('refuses a version other than 2, CSRCs or an extension running past the end, and lengths that are not sizes in the buffer', () => {
      const session = newSession(k);
      const rtp = roomy(makeRtp(1));
      const at = (mutate: (b: Uint8Array) => void): Uint8Array => {
        const b = rtp.slice();
        mutate(b);
        return b;
      };
      expect(session.protectRtp(at((b) => (b[0] = 0x40)), 172)).toBe(SRTP_ERROR_MALFORMED);
      expect(session.unprotectRtp(at((b) => (b[0] = 0xc0)), 182)).toBe(SRTP_ERROR_MALFORMED);
      expect(session.protectRtp(at((b) => (b[0] = 0x8f)), 60)).toBe(SRTP_ERROR_MALFORMED);
      expect(session.protectRtp(at((b) => ((b[0] = 0x90), (b[14] = 0xff))), 172)).toBe(SRTP_ERROR_MALFORMED);
      expect(session.protectRtp(at((b) => (b[0] = 0x90)), 14)).toBe(SRTP_ERROR_MALFORMED);
      expect(session.unprotectRtcp(at((b) => (b[0] = 0x00)), 60)).toBe(SRTP_ERROR_MALFORMED);
      for (const length of [-1, 1.5, Number.NaN, rtp.length + 1, Number.POSITIVE_INFINITY]) {
        expect(session.protectRtp(rtp.slice(), length)).toBe(SRTP_ERROR_MALFORMED);
        expect(session.unprotectRtp(rtp.slice(), length)).toBe(SRTP_ERROR_MALFORMED);
        expect(session.protectRtcp(rtp.slice(), length)).toBe(SRTP_ERROR_MALFORMED);
        expect(session.unprotectRtcp(rtp.slice(), length)).toBe(SRTP_ERROR_MALFORMED);
      }
    });

    it('says when there is no room after the packet for the tag', () => {
      const session = newSession(k);
      const rtp = makeRtp(1);
      expect(session.protectRtp(rtp.slice(), rtp.length)).toBe(SRTP_ERROR_BUFFER_TOO_SMALL);
      const rtcp = makeRtcp();
      const tight = new Uint8Array(rtcp.length + 13);
      tight.set(rtcp);
      expect(session.protectRtcp(tight, rtcp.length)).toBe(SRTP_ERROR_BUFFER_TOO_SMALL);
    });

    it('survives random bytes and lengths on all four operations', () => {
      const session = newSession(k);
      for (let i = 0; i < 3000; i++) {
        const buf = Uint8Array.from(randomBytes(i % 300));
        if (i % 2 === 0 && buf.length > 0) buf[0] = (buf[0]! & 0x3f) | 0x80;
        const length = i % 5 === 0 ? buf.length : Math.floor((i * 7919) % (buf.length + 20)) - 5;
        expect(() => session.unprotectRtp(buf.slice(), length)).not.toThrow();
        expect(() => session.unprotectRtcp(buf.slice(), length)).not.toThrow();
        expect(() => session.protectRtp(buf.slice(), length)).not.toThrow();
        expect(() => session.protectRtcp(buf.slice(), length)).not.toThrow();
        expect(session.unprotectRtp(buf.slice(), length)).toBeLessThan(0);
        expect(session.unprotectRtcp(buf.slice(), length)).toBeLessThan(0);
      }
    });

    it('names every error code for logs', () => {
      expect(describeSrtpError(SRTP_ERROR_AUTHENTICATION)).toBe('authentication failure');
      expect(describeSrtpError(-99)).toBe('unknown');
    });
  });

  describe('keying', () => {
    it('refuses a master key or salt of the wrong length, or another suite, when the session is made', () => {
      const k = keying();
      expect(() => newSession({ ...k, key: new Uint8Array(15) })).toThrow(SrtpKeyingError);
      expect(() => newSession({ ...k, salt: new Uint8Array(16) })).toThrow(SrtpKeyingError);
      expect(() => newSession({ ...k, suite: 'AEAD_AES_128_GCM' as SrtpSuite })).toThrow(SrtpKeyingError);
    });
  });
});
