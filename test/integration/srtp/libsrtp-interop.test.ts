/**
 * voix against libsrtp2, an independent SRTP implementation: packets that
 * voix protects are unprotected by libsrtp2 and the other way round, for
 * both suites and SRTCP, across a sequence number wrap and with packets
 * delivered late. libsrtp2 runs as bench/srtp/libsrtp-peer.c, compiled
 * with gcc against Debian's libsrtp2-dev at test time.
 *
 * Needs: apt-get install gcc libsrtp2-dev (the test fails, not skips,
 * without them: a skipped cross-check would hide a broken SRTP).
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { libsrtpPeerBinary, libsrtpUnavailableReason, runLibsrtpScript } from '../../../bench/srtp/libsrtp-peer.js';
import type { SrtpKeying, SrtpSuite } from '../../../src/rtp/media-protocol.js';
import { SRTP_ERROR_AUTHENTICATION, describeSrtpError } from '../../../src/srtp/srtp-error.js';
import { SrtpSession } from '../../../src/srtp/srtp-session.js';
import { forEachSrtpCrypto, newSession } from '../../unit/srtp/srtp-crypto-choices.js';

const SSRC = 0x5eed1234;
/** Sent in this order: 65440..65535 then 0..59, a wrap in the middle, longer than a keystream batch. */
const SENT = Array.from({ length: 156 }, (_, i) => (65440 + i) & 0xffff);
/** Delivered in this order: 65532 arrives after the wrap (after 1), 5 before 4. */
const DELIVERED = (() => {
  const order = SENT.filter((s) => s !== 65532);
  order.splice(order.indexOf(1) + 1, 0, 65532);
  const four = order.indexOf(4);
  order[four] = 5;
  order[four + 1] = 4;
  return order;
})();
/** Libsrtp2's srtp_err_status_auth_fail. */
const LIBSRTP_AUTH_FAIL = 'err 7';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

function rtp(sequenceNumber: number): Uint8Array {
  // Sizes vary so the batched and the per-packet keystream paths are both crossed.
  const payloadLength = sequenceNumber === 3 ? 20 : sequenceNumber === 65533 ? 1200 : sequenceNumber === 1 ? 333 : 160;
  const packet = new Uint8Array(12 + payloadLength);
  packet[0] = 0x80;
  packet[1] = 8;
  packet[2] = sequenceNumber >>> 8;
  packet[3] = sequenceNumber & 0xff;
  new DataView(packet.buffer).setUint32(4, (sequenceNumber * 160) >>> 0);
  new DataView(packet.buffer).setUint32(8, SSRC);
  for (let i = 0; i < payloadLength; i++) packet[12 + i] = (sequenceNumber * 3 + i) & 0xff;
  return packet;
}

function rtcp(n: number): Uint8Array {
  // A sender report with no report block (RFC 3550 §6.4.1): 28 bytes.
  const packet = new Uint8Array(28).fill(n);
  packet[0] = 0x80;
  packet[1] = 200;
  packet[2] = 0;
  packet[3] = 6;
  new DataView(packet.buffer).setUint32(4, SSRC);
  return packet;
}

function voix(operation: 'protectRtp' | 'unprotectRtp' | 'protectRtcp' | 'unprotectRtcp', session: SrtpSession, packet: Uint8Array): Uint8Array | string {
  const buf = new Uint8Array(packet.length + 32);
  buf.set(packet);
  const length = session[operation](buf, packet.length);
  return length < 0 ? `voix error ${length} (${describeSrtpError(length)})` : buf.slice(0, length);
}

function answer(line: string | undefined): Uint8Array | string {
  if (line === undefined) return 'no answer';
  return line.startsWith('ok ') ? bytes(line.slice(3)) : line;
}

beforeAll(() => {
  const unavailable = libsrtpUnavailableReason();
  if (unavailable !== null) throw new Error(`libsrtp2 cross-check cannot run: ${unavailable}`);
  libsrtpPeerBinary();
});

forEachSrtpCrypto(() => {
  describe.each<SrtpSuite>(['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'])('voix and libsrtp2, %s', (suite) => {
    const keying: SrtpKeying = { suite, key: Uint8Array.from(randomBytes(16)), salt: Uint8Array.from(randomBytes(14)) };
    const suiteNumber = suite === 'AES_CM_128_HMAC_SHA1_80' ? 80 : 32;
    const sessions = [
      `session tx ${suiteNumber} ${hex(keying.key)} ${hex(keying.salt)} outbound`,
      `session rx ${suiteNumber} ${hex(keying.key)} ${hex(keying.salt)} inbound`,
    ];

    it('SRTP: both produce the same bytes, across the wrap; each unprotects what the other protects, late packets included', () => {
      // Arrange: voix protects the stream
      const voixSender = newSession(keying);
      const voixSrtp = new Map<number, Uint8Array>();
      for (const s of SENT) {
        const out = voix('protectRtp', voixSender, rtp(s));
        if (typeof out === 'string') throw new Error(`voix protect of ${s}: ${out}`);
        voixSrtp.set(s, out);
      }
      // Act: libsrtp2 protects the same stream, and unprotects voix's packets in delivery order
      const answers = runLibsrtpScript([
        ...sessions,
        ...SENT.map((s) => `protect_rtp tx ${hex(rtp(s))}`),
        ...DELIVERED.map((s) => `unprotect_rtp rx ${hex(voixSrtp.get(s)!)}`),
      ]);
      const libsrtpProtected = answers.slice(2, 2 + SENT.length).map(answer);
      const libsrtpUnprotected = answers.slice(2 + SENT.length).map(answer);

      // Assert: byte for byte the same SRTP packets
      SENT.forEach((s, i) => {
        expect(libsrtpProtected[i], `libsrtp2 protect of seq ${s}`).toBeInstanceOf(Uint8Array);
        expect(hex(libsrtpProtected[i] as Uint8Array), `seq ${s}`).toBe(hex(voixSrtp.get(s)!));
      });
      // Assert: libsrtp2 read back every voix packet
      DELIVERED.forEach((s, i) => {
        expect(libsrtpUnprotected[i], `libsrtp2 unprotect of seq ${s}`).toEqual(rtp(s));
      });
      // Assert: voix reads back every libsrtp2 packet, delivered out of order
      const voixReceiver = newSession(keying);
      for (const s of DELIVERED) {
        const srtp = libsrtpProtected[SENT.indexOf(s)] as Uint8Array;
        expect(voix('unprotectRtp', voixReceiver, srtp), `voix unprotect of seq ${s}`).toEqual(rtp(s));
      }
    });

    it('SRTP: each refuses a packet from the other with one bit changed', () => {
      const voixSrtp = voix('protectRtp', newSession(keying), rtp(100)) as Uint8Array;
      const forged = voixSrtp.slice();
      forged[40] = forged[40]! ^ 0x01;
      const answers = runLibsrtpScript([...sessions, `unprotect_rtp rx ${hex(forged)}`, `protect_rtp tx ${hex(rtp(100))}`]);
      expect(answers[2]).toBe(LIBSRTP_AUTH_FAIL);
      const libsrtpForged = answer(answers[3]) as Uint8Array;
      libsrtpForged[20] = libsrtpForged[20]! ^ 0x01;
      const buf = new Uint8Array(libsrtpForged.length + 16);
      buf.set(libsrtpForged);
      expect(newSession(keying).unprotectRtp(buf, libsrtpForged.length)).toBe(SRTP_ERROR_AUTHENTICATION);
    });

    it('SRTCP (80-bit tag whatever the suite): each unprotects what the other protects', () => {
      // Arrange
      const voixSender = newSession(keying);
      const voixSrtcp = [0, 1, 2].map((n) => voix('protectRtcp', voixSender, rtcp(n)) as Uint8Array);
      // Act
      const answers = runLibsrtpScript([
        ...sessions,
        ...[0, 1, 2].map((n) => `protect_rtcp tx ${hex(rtcp(n))}`),
        // Delivered 0, 2, 1: the last one is late
        ...[0, 2, 1].map((n) => `unprotect_rtcp rx ${hex(voixSrtcp[n]!)}`),
        `unprotect_rtcp rx ${hex(voixSrtcp[2]!)}`,
      ]);
      const libsrtpSrtcp = answers.slice(2, 5).map(answer);
      // Assert: libsrtp2 read voix's packets, and refused the replay
      expect(answers.slice(5, 8).map(answer)).toEqual([rtcp(0), rtcp(2), rtcp(1)]);
      expect(answers[8]).toMatch(/^err /);
      // Assert: the same layout (header in clear, E||index, 10-byte tag), and voix reads libsrtp2's packets
      const voixReceiver = newSession(keying);
      libsrtpSrtcp.forEach((packet, n) => {
        expect(packet).toBeInstanceOf(Uint8Array);
        const srtcp = packet as Uint8Array;
        expect(srtcp.length).toBe(28 + 4 + 10);
        expect(srtcp[28]! & 0x80, 'E flag').toBe(0x80);
        expect(voix('unprotectRtcp', voixReceiver, srtcp), `voix unprotect of SRTCP ${n}`).toEqual(rtcp(n));
      });
      expect(voix('unprotectRtcp', voixReceiver, libsrtpSrtcp[1] as Uint8Array)).toMatch(/replayed/);
    });
  });
});
