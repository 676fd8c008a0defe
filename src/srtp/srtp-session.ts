/**
 * One direction of SRTP and SRTCP (RFC 3711) keyed by one SDES master key
 * (RFC 4568): AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32. The relay
 * gives each leg an inbound session (the key the phone sent, for
 * `unprotect*`) and an outbound one (the key voix sent, for `protect*`).
 *
 * Packets are transformed in place: `buf[0, length)` holds the packet and
 * the bytes after it take the SRTCP index and the tag. Each call returns
 * the new length, or a negative SRTP_ERROR_* code for a packet to drop; bad
 * input never throws. Nothing is allocated per packet: with the native
 * crypto nothing at all (srtp-transform-crypto.ts, docs/adr/0007); with the
 * TypeScript one, the only garbage is the Buffer node:crypto returns for a
 * batch of 32 packets' keystream (keystream-batch.ts).
 */
import type { SrtpKeying, SrtpSuite } from '../rtp/media-protocol.js';
import { MASTER_KEY_BYTES, MASTER_SALT_BYTES, deriveSessionKeys } from './key-derivation.js';
import type { KeystreamBatch } from './keystream-batch.js';
import { ReplayWindow } from './replay-window.js';
import { estimatePacketIndex, rolloverCounterOf } from './rollover-counter.js';
import { createTransformCrypto, type SrtpCryptoChoice, type TransformCrypto } from './srtp-transform-crypto.js';
import {
  SRTP_ERROR_AUTHENTICATION,
  SRTP_ERROR_BUFFER_TOO_SMALL,
  SRTP_ERROR_KEY_EXHAUSTED,
  SRTP_ERROR_MALFORMED,
  SRTP_ERROR_TOO_MANY_SSRCS,
  SrtpKeyingError,
} from './srtp-error.js';

/** Authentication tag length in bytes per suite, for SRTP (RFC 4568 §6.2). */
const SRTP_AUTH_TAG_BYTES: Readonly<Record<SrtpSuite, number>> = {
  AES_CM_128_HMAC_SHA1_80: 10,
  AES_CM_128_HMAC_SHA1_32: 4,
};
/** SRTCP always uses the 80-bit tag, whatever the SRTP suite (RFC 4568 §6.2, RFC 3711 §5.2). */
export const SRTCP_AUTH_TAG_BYTES = 10;
/** The E flag and 31-bit SRTCP index (RFC 3711 §3.4). */
export const SRTCP_INDEX_BYTES = 4;
/** The most bytes a protect call adds after the packet. */
export const SRTP_MAX_TRAILER_BYTES = SRTCP_INDEX_BYTES + SRTCP_AUTH_TAG_BYTES;

/** SSRCs tracked by default: a call has one or two per direction; the cap keeps a stranger from growing memory. */
export const DEFAULT_MAX_SSRCS = 16;

const RTP_FIXED_HEADER_BYTES = 12;
/** RTCP header plus the sender SSRC, left in clear by SRTCP (RFC 3711 §3.4). */
const RTCP_CLEAR_HEADER_BYTES = 8;
const SRTCP_E_FLAG = 0x80000000;
const MAX_SRTCP_INDEX = 0x7fffffff;

/** What a session remembers about one SSRC (the per-SSRC part of the cryptographic context, RFC 3711 §3.2.1). */
class SsrcState {
  /** SRTP packet indices seen (receiver) or sent (sender): gives ROC and s_l (§3.3.1) and the replay list (§3.3.2). */
  readonly replayWindow = new ReplayWindow();
  /** SRTCP indices seen by the receiver (§3.4). */
  readonly rtcpReplayWindow = new ReplayWindow();
  /** Next SRTCP index to send: zero for the first packet, then one more each time (§3.4). */
  rtcpSendIndex = 0;

  constructor(
    readonly ssrc: number,
    /** What the SRTP crypto keeps per stream (the TypeScript keystream computed ahead, keystream-batch.ts), or null. */
    readonly keystreamBatch: KeystreamBatch | null,
  ) {}
}

export class SrtpSession {
  readonly suite: SrtpSuite;
  /** Bytes of the SRTP authentication tag: 10 for _80, 4 for _32. */
  readonly rtpAuthTagLength: number;
  /** The SRTP and SRTCP transforms, each with its own session keys (RFC 3711 §4.3.1, §4.3.2). */
  private readonly rtp: TransformCrypto;
  private readonly rtcp: TransformCrypto;
  private readonly maxSsrcs: number;
  private readonly ssrcStates: SsrcState[] = [];
  /** The state found last: a direction almost always carries a single SSRC. */
  private lastState: SsrcState | null = null;

  /** `crypto`: which implementation of AES-CM and HMAC-SHA1 (srtp-transform-crypto.ts); the native one when built. */
  constructor(keying: SrtpKeying, options: { readonly maxSsrcs?: number; readonly crypto?: SrtpCryptoChoice } = {}) {
    const tagLength = SRTP_AUTH_TAG_BYTES[keying.suite] as number | undefined;
    if (tagLength === undefined) throw new SrtpKeyingError(`unsupported SRTP crypto suite ${String(keying.suite)}`);
    if (keying.key.length !== MASTER_KEY_BYTES) {
      throw new SrtpKeyingError(`${keying.suite} needs a ${MASTER_KEY_BYTES}-byte master key, got ${keying.key.length} bytes`);
    }
    if (keying.salt.length !== MASTER_SALT_BYTES) {
      throw new SrtpKeyingError(`${keying.suite} needs a ${MASTER_SALT_BYTES}-byte master salt, got ${keying.salt.length} bytes`);
    }
    this.suite = keying.suite;
    this.rtpAuthTagLength = tagLength;
    this.rtp = createTransformCrypto(deriveSessionKeys(keying.key, keying.salt, false), options.crypto);
    this.rtcp = createTransformCrypto(deriveSessionKeys(keying.key, keying.salt, true), options.crypto);
    this.maxSsrcs = options.maxSsrcs ?? DEFAULT_MAX_SSRCS;
  }

  /** Number of SSRCs this session keeps state for. */
  get ssrcCount(): number {
    return this.ssrcStates.length;
  }

  /**
   * RTP to SRTP (RFC 3711 §3.3): encrypts the payload, appends the tag.
   * The sender guesses its own index the way a receiver would (§3.3.1), so
   * a relayed stream that arrives out of order keeps the right ROC, and
   * refuses to encrypt an index twice, which would reuse keystream (the
   * two-time pad of §9.1).
   */
  protectRtp(buf: Uint8Array, length: number): number {
    const headerLength = rtpHeaderLength(buf, length, length);
    if (headerLength < 0) return headerLength;
    const tagLength = this.rtpAuthTagLength;
    if (buf.length < length + tagLength) return SRTP_ERROR_BUFFER_TOO_SMALL;
    const ssrc = readSsrc(buf, 8);
    const state = this.stateFor(ssrc, true);
    if (state === null) return SRTP_ERROR_TOO_MANY_SSRCS;
    const window = state.replayWindow;
    const index = estimatePacketIndex(window.highestIndex, (buf[2]! << 8) | buf[3]!);
    if (index < 0) return SRTP_ERROR_KEY_EXHAUSTED;
    const replay = window.check(index);
    if (replay !== 0) return replay;

    const rtp = this.rtp;
    rtp.crypt(state.keystreamBatch, ssrc, index, buf, headerLength, length);
    // §4.2: M = Authenticated Portion || ROC, the tag its leftmost n_tag bytes.
    rtp.sign(buf, length, rolloverCounterOf(index), true, tagLength);
    window.accept(index);
    return length + tagLength;
  }

  /**
   * SRTP to RTP (RFC 3711 §3.3): estimates the index, checks replay,
   * authenticates, then decrypts. State for a new SSRC is created only
   * once its first packet has authenticated, so forged packets cannot fill
   * the table.
   */
  unprotectRtp(buf: Uint8Array, length: number): number {
    const tagLength = this.rtpAuthTagLength;
    if (!fitsIn(buf, length)) return SRTP_ERROR_MALFORMED;
    const payloadEnd = length - tagLength;
    const headerLength = rtpHeaderLength(buf, length, payloadEnd);
    if (headerLength < 0) return headerLength;
    const ssrc = readSsrc(buf, 8);
    const state = this.stateFor(ssrc, false);
    const sequenceNumber = (buf[2]! << 8) | buf[3]!;
    let index: number;
    if (state === null) {
      // §3.3.1: for the first packet of an SSRC, ROC = 0 and s_l = SEQ.
      index = sequenceNumber;
    } else {
      index = estimatePacketIndex(state.replayWindow.highestIndex, sequenceNumber);
      if (index < 0) return SRTP_ERROR_KEY_EXHAUSTED;
      const replay = state.replayWindow.check(index);
      if (replay !== 0) return replay;
    }

    const rtp = this.rtp;
    if (!rtp.verify(buf, payloadEnd, rolloverCounterOf(index), true, tagLength)) return SRTP_ERROR_AUTHENTICATION;

    const accepted = state ?? this.stateFor(ssrc, true);
    if (accepted === null) return SRTP_ERROR_TOO_MANY_SSRCS;
    rtp.crypt(accepted.keystreamBatch, ssrc, index, buf, headerLength, payloadEnd);
    accepted.replayWindow.accept(index);
    return payloadEnd;
  }

  /**
   * RTCP to SRTCP (RFC 3711 §3.4): everything after the sender SSRC is
   * encrypted (E = 1), then E || SRTCP index and the 80-bit tag are
   * appended; the tag covers the packet and the index.
   */
  protectRtcp(buf: Uint8Array, length: number): number {
    if (!fitsIn(buf, length) || length < RTCP_CLEAR_HEADER_BYTES || buf[0]! >>> 6 !== 2) return SRTP_ERROR_MALFORMED;
    if (buf.length < length + SRTP_MAX_TRAILER_BYTES) return SRTP_ERROR_BUFFER_TOO_SMALL;
    const ssrc = readSsrc(buf, 4);
    const state = this.stateFor(ssrc, true);
    if (state === null) return SRTP_ERROR_TOO_MANY_SSRCS;
    const index = state.rtcpSendIndex;
    if (index > MAX_SRTCP_INDEX) return SRTP_ERROR_KEY_EXHAUSTED;

    const rtcp = this.rtcp;
    rtcp.crypt(null, ssrc, index, buf, RTCP_CLEAR_HEADER_BYTES, length);
    writeUint32(buf, length, SRTCP_E_FLAG | index);
    const authenticatedEnd = length + SRTCP_INDEX_BYTES;
    rtcp.sign(buf, authenticatedEnd, 0, false, SRTCP_AUTH_TAG_BYTES);
    state.rtcpSendIndex = index + 1;
    return authenticatedEnd + SRTCP_AUTH_TAG_BYTES;
  }

  /**
   * SRTCP to RTCP (RFC 3711 §3.4): the index is explicit, so there is no
   * estimation; replay is checked on it, and a packet sent with E = 0 is
   * authenticated but left as it is.
   */
  unprotectRtcp(buf: Uint8Array, length: number): number {
    if (!fitsIn(buf, length) || length < RTCP_CLEAR_HEADER_BYTES + SRTP_MAX_TRAILER_BYTES || buf[0]! >>> 6 !== 2) {
      return SRTP_ERROR_MALFORMED;
    }
    const authenticatedEnd = length - SRTCP_AUTH_TAG_BYTES;
    const rtcpEnd = authenticatedEnd - SRTCP_INDEX_BYTES;
    const eAndIndex = readSsrc(buf, rtcpEnd);
    const index = eAndIndex & MAX_SRTCP_INDEX;
    const ssrc = readSsrc(buf, 4);
    const state = this.stateFor(ssrc, false);
    if (state !== null) {
      const replay = state.rtcpReplayWindow.check(index);
      if (replay !== 0) return replay;
    }

    const rtcp = this.rtcp;
    if (!rtcp.verify(buf, authenticatedEnd, 0, false, SRTCP_AUTH_TAG_BYTES)) return SRTP_ERROR_AUTHENTICATION;

    const accepted = state ?? this.stateFor(ssrc, true);
    if (accepted === null) return SRTP_ERROR_TOO_MANY_SSRCS;
    if (eAndIndex >>> 31 === 1) rtcp.crypt(null, ssrc, index, buf, RTCP_CLEAR_HEADER_BYTES, rtcpEnd);
    accepted.rtcpReplayWindow.accept(index);
    return rtcpEnd;
  }

  /**
   * The state of `ssrc`, created when `create` is set and the cap allows:
   * §3.3.1 starts a new SSRC at ROC 0, which is the only time a ROC is
   * reset besides a new key (a new SrtpSession).
   */
  private stateFor(ssrc: number, create: boolean): SsrcState | null {
    const last = this.lastState;
    if (last !== null && last.ssrc === ssrc) return last;
    const states = this.ssrcStates;
    for (let i = 0; i < states.length; i++) {
      const state = states[i]!;
      if (state.ssrc === ssrc) {
        this.lastState = state;
        return state;
      }
    }
    if (!create || states.length >= this.maxSsrcs) return null;
    const state = new SsrcState(ssrc, this.rtp.newStreamState());
    states.push(state);
    this.lastState = state;
    return state;
  }
}

/**
 * Length of the RTP header (RFC 3550 §5.1, §5.3.1: fixed part, CSRCs,
 * extension), which SRTP leaves in clear, or SRTP_ERROR_MALFORMED when it
 * is not version 2 or does not fit before `payloadEnd`.
 */
function rtpHeaderLength(buf: Uint8Array, length: number, payloadEnd: number): number {
  if (!fitsIn(buf, length) || payloadEnd < RTP_FIXED_HEADER_BYTES) return SRTP_ERROR_MALFORMED;
  const first = buf[0]!;
  if (first >>> 6 !== 2) return SRTP_ERROR_MALFORMED;
  let headerLength = RTP_FIXED_HEADER_BYTES + 4 * (first & 0x0f);
  if ((first & 0x10) !== 0) {
    if (headerLength + 4 > payloadEnd) return SRTP_ERROR_MALFORMED;
    headerLength += 4 + 4 * ((buf[headerLength + 2]! << 8) | buf[headerLength + 3]!);
  }
  return headerLength > payloadEnd ? SRTP_ERROR_MALFORMED : headerLength;
}

/** `length` is a whole number of bytes that `buf` holds (not negative, fractional or NaN). */
function fitsIn(buf: Uint8Array, length: number): boolean {
  return length >>> 0 === length && length <= buf.length;
}

/**
 * Four bytes as a signed 32-bit integer (an SSRC, or SRTCP's E || index).
 * Signed on purpose: it is a small integer in every tier of V8 (Smis are
 * 32 bits in Node's x64 builds), where the unsigned value of an SSRC above
 * 2^31 is a heap number, allocated per packet while the caller runs
 * unoptimized (seen: one run in twelve of relay-allocation-probe.ts, when
 * protectRtp was not optimized). Only compared and XORed, so the sign does
 * not matter.
 */
function readSsrc(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

function writeUint32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = value >>> 16;
  buf[offset + 2] = value >>> 8;
  buf[offset + 3] = value;
}
