/**
 * Receiving DTMF as RFC 4733 telephone events: one state machine per RTP
 * stream, fed with the payload of each packet whose payload type is the
 * telephone-event type negotiated in SDP (the caller matches the payload
 * type; this module never sees audio).
 *
 * An event is identified by its RTP timestamp (§2.5.2.1: every packet of one
 * event carries the timestamp of its start). A sender repeats the start
 * packet, sends updates with a growing duration and repeats the end packet
 * three times (§2.5.1.2, §2.5.1.4); the receiver reports the digit exactly
 * once, with its duration. A packet with a newer timestamp is a new event,
 * even when it carries the same digit.
 *
 * Losses are tolerated: a lost start packet is replaced by the first update
 * or end that arrives; when every end packet is lost the event is ended by
 * the next event or by `expire(nowMs)` after `endTimeoutMs` without a packet
 * (§2.5.2.2). Time is passed in by the caller (the worker's scheduler clock);
 * there are no timers here.
 *
 * Per packet the receiver allocates nothing: it reads four bytes and calls
 * the sink with primitive arguments.
 */

import { DTMF_DIGITS, DTMF_EVENT_CODE_MAX, type DtmfDigit } from './dtmf-digit.js';
import { TELEPHONE_EVENT_END_BIT, TELEPHONE_EVENT_MAX_DURATION, TELEPHONE_EVENT_PAYLOAD_LENGTH } from './telephone-event.js';

/** What `receive` made of a packet. Numbers, not exceptions: they arrive at packet rate. */
export const TelephoneEventStatus = {
  /** The packet started, updated or ended the current event. */
  Accepted: 0,
  /** A retransmission for an event already reported (repeated end, late update). */
  Repeated: 1,
  /** Older than the current event (reordered from an earlier event). */
  Stale: 2,
  /** Shorter than the 4-byte event report. */
  TooShort: -1,
  /** RFC 4733 §3.2 codes above 15 (flash, tones, line events): not DTMF, ignored. */
  NotDtmf: -2,
} as const;
export type TelephoneEventStatus = (typeof TelephoneEventStatus)[keyof typeof TelephoneEventStatus];

/** How an event's report came to an end. */
export const TelephoneEventEnding = {
  /** An end packet (E bit) arrived. */
  End: 0,
  /** No packet for `endTimeoutMs`: every end packet was lost (§2.5.2.2). */
  Timeout: 1,
  /** A newer event began before any end packet of this one arrived. */
  Superseded: 2,
} as const;
export type TelephoneEventEnding = (typeof TelephoneEventEnding)[keyof typeof TelephoneEventEnding];

export interface TelephoneEventSink {
  /**
   * The first packet of a new event arrived (the key is down): for barge-in,
   * stopping a prompt as soon as the caller presses a key. Optional.
   */
  dtmfBegan?(digit: DtmfDigit, rtpTimestamp: number): void;
  /**
   * Called exactly once per event: the digit, the RTP timestamp that
   * identifies it and its duration in RTP timestamp units (samples at 8 kHz).
   */
  dtmfEnded(digit: DtmfDigit, rtpTimestamp: number, durationUnits: number, ending: TelephoneEventEnding): void;
}

export interface TelephoneEventReceiverOptions {
  /**
   * Without a packet for this long, an event whose end packets were all lost
   * is ended. Senders update every 50 ms or faster (§2.5.1.2); the default
   * allows for several lost updates and jitter.
   */
  readonly endTimeoutMs?: number;
  /**
   * After this long without any telephone-event packet, the last event is
   * forgotten and any timestamp starts a new one (a sender that restarted
   * its timestamps). Retransmissions of a finished event arrive within tens
   * of milliseconds, long before.
   */
  readonly forgetAfterMs?: number;
}

export const DEFAULT_END_TIMEOUT_MS = 250;
export const DEFAULT_FORGET_AFTER_MS = 2000;

const STATE_IDLE = 0;
const STATE_ACTIVE = 1;
const STATE_ENDED = 2;

export class TelephoneEventReceiver {
  private readonly endTimeoutMs: number;
  private readonly forgetAfterMs: number;
  private state = STATE_IDLE;
  private eventCode = 0;
  /** Timestamp of the event's first segment: what identifies it to the sink. */
  private eventTimestamp = 0;
  /** Timestamp of the current segment (§2.5.1.3): what its packets carry. */
  private segmentTimestamp = 0;
  /** Duration of the segments before the current one, in timestamp units. */
  private previousSegmentsDuration = 0;
  /** Longest duration seen in the current segment. */
  private segmentDuration = 0;
  private lastPacketMs = 0;

  constructor(
    private readonly sink: TelephoneEventSink,
    options: TelephoneEventReceiverOptions = {},
  ) {
    this.endTimeoutMs = options.endTimeoutMs ?? DEFAULT_END_TIMEOUT_MS;
    this.forgetAfterMs = options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS;
  }

  /** True between an event's first packet and its report. */
  get eventActive(): boolean {
    return this.state === STATE_ACTIVE;
  }

  /**
   * One telephone-event packet: its payload at `payload[offset, offset + length)`,
   * its RTP timestamp (32 bits, signed or unsigned), its marker bit and the
   * receive time in milliseconds on any monotonic clock. Only the first
   * event report of the payload is read (several reports in one packet
   * come with RFC 2198 redundancy, a different payload type).
   */
  receive(
    payload: Uint8Array,
    offset: number,
    length: number,
    rtpTimestamp: number,
    marker: boolean,
    nowMs: number,
  ): TelephoneEventStatus {
    if (length < TELEPHONE_EVENT_PAYLOAD_LENGTH || offset + TELEPHONE_EVENT_PAYLOAD_LENGTH > payload.length) {
      return TelephoneEventStatus.TooShort;
    }
    const code = payload[offset] ?? 0;
    if (code > DTMF_EVENT_CODE_MAX) return TelephoneEventStatus.NotDtmf;
    const end = ((payload[offset + 1] ?? 0) & TELEPHONE_EVENT_END_BIT) !== 0;
    const duration = ((payload[offset + 2] ?? 0) << 8) | (payload[offset + 3] ?? 0);
    const timestamp = rtpTimestamp >>> 0;

    if (this.state === STATE_ENDED && nowMs - this.lastPacketMs >= this.forgetAfterMs) this.state = STATE_IDLE;
    if (this.state === STATE_IDLE) {
      this.begin(code, timestamp, duration, end, nowMs);
      return TelephoneEventStatus.Accepted;
    }

    // Signed 32-bit difference: right across the 2^32 timestamp wrap.
    const delta = (timestamp - this.segmentTimestamp) | 0;
    if (delta === 0) {
      this.lastPacketMs = nowMs;
      if (this.state === STATE_ENDED) return TelephoneEventStatus.Repeated;
      if (duration > this.segmentDuration) this.segmentDuration = duration;
      if (end) this.finish(TelephoneEventEnding.End);
      return TelephoneEventStatus.Accepted;
    }
    if (delta < 0) return TelephoneEventStatus.Stale;

    if (
      this.state === STATE_ACTIVE &&
      code === this.eventCode &&
      !marker &&
      delta === TELEPHONE_EVENT_MAX_DURATION
    ) {
      // §2.5.1.3: a key held past 0xFFFF units goes on in a new segment that
      // starts where the previous one reached the maximum, without the M bit.
      this.previousSegmentsDuration += TELEPHONE_EVENT_MAX_DURATION;
      this.segmentTimestamp = timestamp;
      this.segmentDuration = duration;
      this.lastPacketMs = nowMs;
      if (end) this.finish(TelephoneEventEnding.End);
      return TelephoneEventStatus.Accepted;
    }

    if (this.state === STATE_ACTIVE) this.finish(TelephoneEventEnding.Superseded);
    this.begin(code, timestamp, duration, end, nowMs);
    return TelephoneEventStatus.Accepted;
  }

  /**
   * Ends an event whose packets stopped without an end packet. Call it from
   * the worker's tick (every 20 ms is plenty); it does nothing otherwise.
   */
  expire(nowMs: number): void {
    if (this.state === STATE_ACTIVE && nowMs - this.lastPacketMs >= this.endTimeoutMs) {
      this.finish(TelephoneEventEnding.Timeout);
    }
  }

  /** A new SSRC or a renegotiated stream: forget the current event without reporting it. */
  reset(): void {
    this.state = STATE_IDLE;
    this.previousSegmentsDuration = 0;
    this.segmentDuration = 0;
  }

  private begin(code: number, timestamp: number, duration: number, end: boolean, nowMs: number): void {
    this.state = STATE_ACTIVE;
    this.eventCode = code;
    this.eventTimestamp = timestamp;
    this.segmentTimestamp = timestamp;
    this.previousSegmentsDuration = 0;
    this.segmentDuration = duration;
    this.lastPacketMs = nowMs;
    this.sink.dtmfBegan?.(DTMF_DIGITS[code] as DtmfDigit, timestamp);
    if (end) this.finish(TelephoneEventEnding.End);
  }

  private finish(ending: TelephoneEventEnding): void {
    this.state = STATE_ENDED;
    this.sink.dtmfEnded(
      DTMF_DIGITS[this.eventCode] as DtmfDigit,
      this.eventTimestamp,
      this.previousSegmentsDuration + this.segmentDuration,
      ending,
    );
  }
}
