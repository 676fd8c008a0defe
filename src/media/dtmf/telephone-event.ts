/**
 * The RFC 4733 §2.3 telephone-event payload: one 4-byte event report.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

export const TELEPHONE_EVENT_PAYLOAD_LENGTH = 4;
/** §2.3.5: the duration field is 16 bits, in RTP timestamp units. */
export const TELEPHONE_EVENT_MAX_DURATION = 0xffff;
/** §2.3.4: power level in -dBm0, 0–63. */
export const TELEPHONE_EVENT_MAX_VOLUME = 63;
/** §2.3.3: the E bit. */
export const TELEPHONE_EVENT_END_BIT = 0x80;

/**
 * Writes one event report at `buffer[offset, offset + 4)` and returns 4. The
 * R bit is always 0 (§2.3.3: senders must clear it). Out-of-range fields are
 * masked to their width; callers validate before.
 */
export function writeTelephoneEvent(
  buffer: Uint8Array,
  offset: number,
  eventCode: number,
  end: boolean,
  volume: number,
  duration: number,
): number {
  buffer[offset] = eventCode & 0xff;
  buffer[offset + 1] = (end ? TELEPHONE_EVENT_END_BIT : 0) | (volume & 0x3f);
  buffer[offset + 2] = (duration >>> 8) & 0xff;
  buffer[offset + 3] = duration & 0xff;
  return TELEPHONE_EVENT_PAYLOAD_LENGTH;
}
