/**
 * The replay list of RFC 3711 §3.3.2 as a sliding bitmap of 64 packet
 * indices (the RFC's minimum window size, and libsrtp's default), kept in
 * two 32-bit words so checking and sliding allocate nothing. The same
 * structure serves the 48-bit SRTP index and the 31-bit SRTCP index (§3.4).
 *
 * It also holds the highest index authenticated so far, from which the
 * receiver's ROC and s_l (§3.3.1) are read: they move only when a packet
 * with a higher index has passed authentication.
 */
import { SRTP_ERROR_REPLAY, SRTP_ERROR_REPLAY_OLD } from './srtp-error.js';

export const REPLAY_WINDOW_SIZE = 64;

export class ReplayWindow {
  /** Highest index accepted; -1 before the first packet. */
  highestIndex = -1;
  /** Bit k set: index highestIndex - k was accepted, for k in 0..31. */
  private recentBits = 0;
  /** Bit k set: index highestIndex - 32 - k was accepted, for k in 0..31. */
  private olderBits = 0;

  /** 0 when `index` may be accepted, or why not. Changes nothing: call `accept` once the packet is authenticated. */
  check(index: number): number {
    if (index > this.highestIndex) return 0;
    const delta = this.highestIndex - index;
    if (delta >= REPLAY_WINDOW_SIZE) return SRTP_ERROR_REPLAY_OLD;
    const seen = delta < 32 ? (this.recentBits >>> delta) & 1 : (this.olderBits >>> (delta - 32)) & 1;
    return seen === 1 ? SRTP_ERROR_REPLAY : 0;
  }

  /** Records an authenticated index that `check` allowed. */
  accept(index: number): void {
    if (index > this.highestIndex) {
      const shift = this.highestIndex < 0 ? REPLAY_WINDOW_SIZE : index - this.highestIndex;
      if (shift >= REPLAY_WINDOW_SIZE) {
        this.olderBits = 0;
        this.recentBits = 0;
      } else if (shift >= 32) {
        this.olderBits = this.recentBits << (shift - 32);
        this.recentBits = 0;
      } else {
        this.olderBits = (this.olderBits << shift) | (this.recentBits >>> (32 - shift));
        this.recentBits = this.recentBits << shift;
      }
      this.recentBits |= 1;
      this.highestIndex = index;
      return;
    }
    const delta = this.highestIndex - index;
    if (delta < 32) this.recentBits |= 1 << delta;
    else this.olderBits |= 1 << (delta - 32);
  }

  reset(): void {
    this.highestIndex = -1;
    this.recentBits = 0;
    this.olderBits = 0;
  }
}
