/**
 * Packet index estimation of RFC 3711 §3.3.1 (and Appendix A): the 48-bit
 * index i = 2^16 * ROC + SEQ is not sent, so it is guessed from the 16-bit
 * SEQ and the highest index authenticated so far (which gives ROC and s_l).
 */

const SEQ_MODULUS = 0x10000;
const HALF_SEQ = 0x8000;
const MAX_ROLLOVER_COUNTER = 0xffffffff;

/**
 * The index v * 2^16 + SEQ, where v is ROC - 1, ROC or ROC + 1 by the
 * s_l comparison of §3.3.1. For the first packet of an SSRC
 * (`highestIndex` < 0) ROC is 0 and s_l = SEQ, so the index is SEQ.
 *
 * While ROC is 0, "ROC - 1" has no index to name: no packet precedes
 * index 0 under this key, so the packet can only be a jump forward and v
 * stays 0. libsrtp2 decides the same way (srtp_rdbx_estimate_index), so a
 * stream that starts low and jumps past 32768 is read alike on both ends.
 *
 * Returns -1 when v passes the 32-bit ROC: the key's 2^48 indices are used
 * up and RFC 3711 §9.2 forbids going on.
 */
export function estimatePacketIndex(highestIndex: number, sequenceNumber: number): number {
  if (highestIndex < 0) return sequenceNumber;
  const rolloverCounter = Math.floor(highestIndex / SEQ_MODULUS);
  const highestSequence = highestIndex - rolloverCounter * SEQ_MODULUS; // s_l
  let v = rolloverCounter;
  if (highestSequence < HALF_SEQ) {
    if (sequenceNumber - highestSequence > HALF_SEQ && rolloverCounter > 0) v = rolloverCounter - 1;
  } else if (highestSequence - HALF_SEQ > sequenceNumber) {
    v = rolloverCounter + 1;
  }
  if (v > MAX_ROLLOVER_COUNTER) return -1;
  return v * SEQ_MODULUS + sequenceNumber;
}

/** ROC of a packet index: its upper 32 bits, authenticated with the packet (RFC 3711 §4.2). */
export function rolloverCounterOf(packetIndex: number): number {
  return Math.floor(packetIndex / SEQ_MODULUS);
}
