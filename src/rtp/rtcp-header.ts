/**
 * RTCP compound packet checks (RFC 3550 §6.1, A.2) for a relay that
 * forwards RTCP untouched: each packet's version is 2, only the last one
 * may be padded, and the length fields add up to the datagram. The A.2 rule
 * that the first packet is SR or RR is left out: reduced-size RTCP
 * (RFC 5506) sends a lone feedback packet.
 */

export const RTCP_HEADER_LENGTH = 4;
/** Header plus the sender's SSRC: the smallest meaningful RTCP packet (and what SRTCP leaves in clear). */
export const RTCP_MINIMUM_LENGTH = 8;

export const RtcpStatus = {
  Ok: 0,
  TooShort: -1,
  BadVersion: -2,
  /** A length field points past the end of the datagram, or the packets do not fill it exactly. */
  BadLength: -3,
  /** P bit set on a packet that is not the last of the compound (A.2). */
  BadPadding: -4,
} as const;
export type RtcpStatus = (typeof RtcpStatus)[keyof typeof RtcpStatus];

/** Validates `packet[0, length)` as an RTCP compound packet. */
export function checkRtcpCompound(packet: Buffer, length: number): RtcpStatus {
  if (length < RTCP_MINIMUM_LENGTH || length > packet.length) return RtcpStatus.TooShort;
  let offset = 0;
  while (offset < length) {
    if (offset + RTCP_HEADER_LENGTH > length) return RtcpStatus.BadLength;
    const first = packet.readUInt8(offset);
    if (first >>> 6 !== 2) return RtcpStatus.BadVersion;
    // §6.4.1: length in 32-bit words minus one, header included.
    const packetLength = (packet.readUInt16BE(offset + 2) + 1) * 4;
    const end = offset + packetLength;
    if (end > length) return RtcpStatus.BadLength;
    if ((first & 0x20) !== 0 && end !== length) return RtcpStatus.BadPadding;
    offset = end;
  }
  return RtcpStatus.Ok;
}
