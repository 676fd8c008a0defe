/**
 * RTP fixed header (RFC 3550 §5.1) read into a view the caller owns, so the
 * relay parses every packet into the same object instead of allocating one.
 * The checks are those of RFC 3550 A.1 "RTP Data Header Validity Checks"
 * that a relay can make without knowing the payload format.
 */

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_LENGTH = 12;

/** Why a datagram is not an RTP packet; 0 when it is. Numbers, not exceptions: they arrive at packet rate. */
export const RtpHeaderStatus = {
  Ok: 0,
  /** Shorter than the 12-byte fixed header. */
  TooShort: -1,
  /** Version field is not 2. */
  BadVersion: -2,
  /** CSRC list (CC × 4 bytes) runs past the end. */
  CsrcOverrun: -3,
  /** Header extension (§5.3.1) runs past the end. */
  ExtensionOverrun: -4,
  /** P bit set but the last byte is 0 or counts into the header (A.1). */
  BadPadding: -5,
} as const;
export type RtpHeaderStatus = (typeof RtpHeaderStatus)[keyof typeof RtpHeaderStatus];

/** The fields of one RTP header; overwritten by each parse. */
export class RtpHeaderView {
  marker = false;
  payloadType = 0;
  sequenceNumber = 0;
  /** Unsigned 32-bit RTP timestamp. */
  timestamp = 0;
  /** Unsigned 32-bit synchronization source. */
  ssrc = 0;
  csrcCount = 0;
  hasExtension = false;
  /** Fixed header + CSRC list + extension: where the payload starts. */
  headerLength = 0;
  paddingLength = 0;
  payloadLength = 0;
}

/**
 * Parses `packet[0, length)` into `out`. `length` may be shorter than the
 * buffer (SRTP unprotect shrinks a packet in place). Fields of `out` are
 * meaningful only when the result is RtpHeaderStatus.Ok.
 */
export function parseRtpHeader(packet: Buffer, length: number, out: RtpHeaderView): RtpHeaderStatus {
  if (length < RTP_FIXED_HEADER_LENGTH || length > packet.length) return RtpHeaderStatus.TooShort;
  const first = packet.readUInt8(0);
  if (first >>> 6 !== RTP_VERSION) return RtpHeaderStatus.BadVersion;
  const csrcCount = first & 0x0f;
  let headerLength = RTP_FIXED_HEADER_LENGTH + 4 * csrcCount;
  if (headerLength > length) return RtpHeaderStatus.CsrcOverrun;
  const hasExtension = (first & 0x10) !== 0;
  if (hasExtension) {
    // §5.3.1: 16-bit profile-defined field, 16-bit length in 32-bit words, not counting this 4-byte header.
    if (headerLength + 4 > length) return RtpHeaderStatus.ExtensionOverrun;
    headerLength += 4 + 4 * packet.readUInt16BE(headerLength + 2);
    if (headerLength > length) return RtpHeaderStatus.ExtensionOverrun;
  }
  let paddingLength = 0;
  if ((first & 0x20) !== 0) {
    // §5.1: the last octet counts the padding octets, itself included.
    paddingLength = packet.readUInt8(length - 1);
    if (paddingLength === 0 || paddingLength > length - headerLength) return RtpHeaderStatus.BadPadding;
  }
  const second = packet.readUInt8(1);
  out.marker = (second & 0x80) !== 0;
  out.payloadType = second & 0x7f;
  out.sequenceNumber = packet.readUInt16BE(2);
  // readInt32BE returns a small integer whether or not it is inlined; readUInt32BE would box values above 2^31.
  out.timestamp = packet.readInt32BE(4) >>> 0;
  out.ssrc = packet.readInt32BE(8) >>> 0;
  out.csrcCount = csrcCount;
  out.hasExtension = hasExtension;
  out.headerLength = headerLength;
  out.paddingLength = paddingLength;
  out.payloadLength = length - headerLength - paddingLength;
  return RtpHeaderStatus.Ok;
}
