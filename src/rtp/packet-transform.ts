/**
 * The per-leg step between the wire and the relay: what arrives from a
 * phone goes through its leg's `inbound` before anything else reads it,
 * and what leaves towards a phone goes through its leg's `outbound` last.
 * Plain RTP passes through; SRTP (RFC 3711) unprotects with the key the
 * phone gave and protects with the key voix gave it (LegConfig.srtp).
 * Transforms work in place and return the new length, or a negative code
 * for a packet to drop, so nothing is allocated per packet.
 */
import type { LegConfig } from './media-protocol.js';
import { MediaConfigurationError } from './media-protocol.js';
import { SRTP_MAX_TRAILER_BYTES, SrtpSession } from '../srtp/srtp-session.js';
import type { SrtpCryptoChoice } from '../srtp/srtp-transform-crypto.js';

export interface PacketTransform {
  /** Most bytes `outbound` appends: the relay gives it a buffer with that much room after the packet. */
  readonly outboundOverhead: number;
  /** A packet from the phone, `packet[0, length)`: new length, or negative to drop it. */
  inbound(packet: Buffer, length: number): number;
  /** A packet for the phone: new length, or negative to drop it. */
  outbound(packet: Buffer, length: number): number;
}

export interface LegTransforms {
  readonly rtp: PacketTransform;
  readonly rtcp: PacketTransform;
}

class PassThroughTransform implements PacketTransform {
  readonly outboundOverhead = 0;
  inbound(_packet: Buffer, length: number): number {
    return length;
  }
  outbound(_packet: Buffer, length: number): number {
    return length;
  }
}

export const PASS_THROUGH: PacketTransform = new PassThroughTransform();
export const PLAIN_LEG: LegTransforms = { rtp: PASS_THROUGH, rtcp: PASS_THROUGH };

/** SRTP (RFC 3711 §3.3): the authentication tag is the only growth. */
class SrtpTransform implements PacketTransform {
  readonly outboundOverhead: number;
  constructor(
    private readonly fromPhone: SrtpSession,
    private readonly toPhone: SrtpSession,
  ) {
    this.outboundOverhead = toPhone.rtpAuthTagLength;
  }
  inbound(packet: Buffer, length: number): number {
    return this.fromPhone.unprotectRtp(packet, length);
  }
  outbound(packet: Buffer, length: number): number {
    return this.toPhone.protectRtp(packet, length);
  }
}

/** SRTCP (RFC 3711 §3.4): E flag and index, then the 80-bit tag. */
class SrtcpTransform implements PacketTransform {
  readonly outboundOverhead = SRTP_MAX_TRAILER_BYTES;
  constructor(
    private readonly fromPhone: SrtpSession,
    private readonly toPhone: SrtpSession,
  ) {}
  inbound(packet: Buffer, length: number): number {
    return this.fromPhone.unprotectRtcp(packet, length);
  }
  outbound(packet: Buffer, length: number): number {
    return this.toPhone.protectRtcp(packet, length);
  }
}

/**
 * The transforms of a leg for its configuration. A new SRTP configuration
 * means new sessions (new keys start new cryptographic contexts, RFC 3711
 * §3.2); a key the session cannot use is a MediaConfigurationError.
 */
export function createLegTransforms(srtp: LegConfig['srtp'], crypto?: SrtpCryptoChoice): LegTransforms {
  if (srtp === null) return PLAIN_LEG;
  let fromPhone: SrtpSession;
  let toPhone: SrtpSession;
  try {
    fromPhone = new SrtpSession(srtp.inbound, crypto === undefined ? {} : { crypto });
    toPhone = new SrtpSession(srtp.outbound, crypto === undefined ? {} : { crypto });
  } catch (err) {
    throw new MediaConfigurationError(`SRTP keying refused: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { rtp: new SrtpTransform(fromPhone, toPhone), rtcp: new SrtcpTransform(fromPhone, toPhone) };
}
