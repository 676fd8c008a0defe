/**
 * What `SrtpSession` returns instead of a length when it drops a packet.
 * Negative numbers rather than exceptions: they come from the network, at
 * packet rate, and the relay only counts them (LegStats.packetsDropped).
 */

/** Too short for its header and tag, not RTP version 2, or the header runs past the end. */
export const SRTP_ERROR_MALFORMED = -1;
/** The authentication tag does not match (RFC 3711 §3.3 step 5). */
export const SRTP_ERROR_AUTHENTICATION = -2;
/** This packet index was already received (RFC 3711 §3.3.2). */
export const SRTP_ERROR_REPLAY = -3;
/** Older than the 64-packet replay window: cannot tell whether it was seen (RFC 3711 §3.3.2). */
export const SRTP_ERROR_REPLAY_OLD = -4;
/** A new SSRC while the session already tracks its maximum number of SSRCs. */
export const SRTP_ERROR_TOO_MANY_SSRCS = -5;
/** `buf` has no room after the packet for the SRTCP index and the tag. */
export const SRTP_ERROR_BUFFER_TOO_SMALL = -6;
/**
 * The packet index space of the key is used up (2^48 SRTP or 2^31 SRTCP
 * packets): RFC 3711 §9.2 forbids going on without a new master key.
 */
export const SRTP_ERROR_KEY_EXHAUSTED = -7;

export type SrtpErrorCode =
  | typeof SRTP_ERROR_MALFORMED
  | typeof SRTP_ERROR_AUTHENTICATION
  | typeof SRTP_ERROR_REPLAY
  | typeof SRTP_ERROR_REPLAY_OLD
  | typeof SRTP_ERROR_TOO_MANY_SSRCS
  | typeof SRTP_ERROR_BUFFER_TOO_SMALL
  | typeof SRTP_ERROR_KEY_EXHAUSTED;

const NAMES: Readonly<Record<SrtpErrorCode, string>> = {
  [SRTP_ERROR_MALFORMED]: 'malformed',
  [SRTP_ERROR_AUTHENTICATION]: 'authentication failure',
  [SRTP_ERROR_REPLAY]: 'replayed packet',
  [SRTP_ERROR_REPLAY_OLD]: 'packet older than the replay window',
  [SRTP_ERROR_TOO_MANY_SSRCS]: 'too many SSRCs in one session',
  [SRTP_ERROR_BUFFER_TOO_SMALL]: 'no room for the tag after the packet',
  [SRTP_ERROR_KEY_EXHAUSTED]: 'packet index space of the master key exhausted',
};

/** A short reason for logs and statistics; 'unknown' for anything that is not one of the codes above. */
export function describeSrtpError(code: number): string {
  return NAMES[code as SrtpErrorCode] ?? 'unknown';
}

/** Raised by the `SrtpSession` constructor for a key, salt or suite it cannot use: a configuration bug, not traffic. */
export class SrtpKeyingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrtpKeyingError';
  }
}
