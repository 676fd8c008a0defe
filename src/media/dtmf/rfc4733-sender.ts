/**
 * Sending one RFC 4733 telephone event: the sequence of payloads the player
 * puts in the stream, one per packet interval (20 ms by default), in place
 * of the audio frames.
 *
 * RFC 4733 §2.5.1: every packet of the event carries the RTP timestamp of
 * its start; the first has the M bit (§2.5.1.1); each later one reports the
 * duration so far (§2.5.1.2); the last one has the E bit and is sent three
 * times in all, with the same duration (§2.5.1.4). A packet sent in the
 * slot of audio samples [start + k·p, start + (k+1)·p) reports (k+1)·p.
 *
 *   const sender = new TelephoneEventSender();
 *   sender.begin(5, rtpTimestamp, 800);           // digit 5, 100 ms at 8 kHz
 *   while (sender.active) {                       // once per 20 ms tick
 *     const length = sender.writeNext(packet, 12);  // payload after the RTP header
 *     // header: marker = sender.marker, timestamp = sender.timestamp
 *   }
 *
 * The sender is created once per stream and reused; `writeNext` allocates
 * nothing.
 */

import {
  TELEPHONE_EVENT_MAX_DURATION,
  TELEPHONE_EVENT_MAX_VOLUME,
  TELEPHONE_EVENT_PAYLOAD_LENGTH,
  writeTelephoneEvent,
} from './telephone-event.js';

export interface TelephoneEventSenderOptions {
  /** Timestamp units between packets: 160 (20 ms at 8 kHz) by default. */
  readonly unitsPerPacket?: number;
  /** How many times the end packet is sent; §2.5.1.4 says three. */
  readonly endPacketCount?: number;
}

/** -10 dBm0, the level phones commonly report for DTMF. */
export const DEFAULT_TELEPHONE_EVENT_VOLUME = 10;

export class TelephoneEventSender {
  readonly unitsPerPacket: number;
  readonly endPacketCount: number;

  /** Of the packet written last: set the RTP marker bit (first packet of the event). */
  marker = false;
  /** Of the packet written last: the event's RTP timestamp (unsigned 32 bits). */
  timestamp = 0;
  /** Of the packet written last: the E bit. */
  end = false;
  /** Of the packet written last: the duration field. */
  duration = 0;

  private eventCode = 0;
  private volume = DEFAULT_TELEPHONE_EVENT_VOLUME;
  /** Planned duration; 0xFFFF for an event of open length until `stop()`. */
  private targetDuration = 0;
  private packetsWritten = 0;
  private endPacketsWritten = 0;
  private running = false;

  constructor(options: TelephoneEventSenderOptions = {}) {
    this.unitsPerPacket = options.unitsPerPacket ?? 160;
    this.endPacketCount = options.endPacketCount ?? 3;
    if (!Number.isInteger(this.unitsPerPacket) || this.unitsPerPacket <= 0 || this.unitsPerPacket > TELEPHONE_EVENT_MAX_DURATION) {
      throw new RangeError(`unitsPerPacket must be an integer in 1..${TELEPHONE_EVENT_MAX_DURATION}`);
    }
    if (!Number.isInteger(this.endPacketCount) || this.endPacketCount < 1) {
      throw new RangeError('endPacketCount must be an integer ≥ 1');
    }
  }

  /** True from `begin` until the last end packet has been written. */
  get active(): boolean {
    return this.running;
  }

  /**
   * Packets still to write, end packets included. For an event of open
   * length (no duration given), counted as if it ran to the 0xFFFF maximum.
   */
  get packetsRemaining(): number {
    if (!this.running) return 0;
    if (this.endPacketsWritten > 0) return this.endPacketCount - this.endPacketsWritten;
    const updatesLeft = Math.max(1, Math.ceil(this.targetDuration / this.unitsPerPacket) - this.packetsWritten);
    return updatesLeft + this.endPacketCount - 1;
  }

  /**
   * Starts an event. `eventCode` is the RFC 4733 §3.2 code (0–9, 10 = *,
   * 11 = #, 12–15 = A–D; see `dtmfEventOfDigit`). `durationUnits` is the
   * tone length in timestamp units; leave it out for a digit relayed live,
   * whose length is known only when `stop()` is called. Events longer than
   * 0xFFFF units (8.2 s at 8 kHz) would need §2.5.1.3 segments and are not
   * sent: an open event ends by itself at that length. `volume` is the
   * power level in -dBm0 (0–63). A running event is replaced.
   */
  begin(eventCode: number, rtpTimestamp: number, durationUnits?: number, volume = DEFAULT_TELEPHONE_EVENT_VOLUME): void {
    if (!Number.isInteger(eventCode) || eventCode < 0 || eventCode > 255) {
      throw new RangeError(`event code ${eventCode} is not in 0..255`);
    }
    if (!Number.isInteger(volume) || volume < 0 || volume > TELEPHONE_EVENT_MAX_VOLUME) {
      throw new RangeError(`volume ${volume} is not in 0..${TELEPHONE_EVENT_MAX_VOLUME} (-dBm0)`);
    }
    if (
      durationUnits !== undefined &&
      (!Number.isInteger(durationUnits) || durationUnits <= 0 || durationUnits > TELEPHONE_EVENT_MAX_DURATION)
    ) {
      throw new RangeError(`duration ${durationUnits} is not in 1..${TELEPHONE_EVENT_MAX_DURATION} timestamp units`);
    }
    this.eventCode = eventCode;
    this.volume = volume;
    this.timestamp = rtpTimestamp >>> 0;
    this.targetDuration = durationUnits ?? TELEPHONE_EVENT_MAX_DURATION;
    this.packetsWritten = 0;
    this.endPacketsWritten = 0;
    this.marker = false;
    this.end = false;
    this.duration = 0;
    this.running = true;
  }

  /**
   * Ends the event at the duration already sent (at least one packet's
   * worth): the next packets are the end packets. For a digit relayed live
   * when its source reports the key released.
   */
  stop(): void {
    if (!this.running || this.endPacketsWritten > 0) return;
    this.targetDuration = Math.max(this.unitsPerPacket, Math.min(this.duration, this.targetDuration));
  }

  /** Abandons the event without end packets (the stream is closing). */
  cancel(): void {
    this.running = false;
  }

  /**
   * Writes the next payload at `buffer[offset, offset + 4)` and returns its
   * length (4), then `marker`, `timestamp`, `end` and `duration` describe it.
   * Returns 0 and writes nothing once the event is over.
   */
  writeNext(buffer: Uint8Array, offset: number): number {
    if (!this.running) return 0;
    if (offset < 0 || offset + TELEPHONE_EVENT_PAYLOAD_LENGTH > buffer.length) {
      throw new RangeError('no room for a 4-byte telephone-event payload');
    }
    if (this.endPacketsWritten === 0) {
      const duration = Math.min((this.packetsWritten + 1) * this.unitsPerPacket, this.targetDuration);
      this.marker = this.packetsWritten === 0;
      this.duration = duration;
      this.end = duration >= this.targetDuration;
      this.packetsWritten += 1;
    } else {
      this.marker = false;
    }
    if (this.end) this.endPacketsWritten += 1;
    writeTelephoneEvent(buffer, offset, this.eventCode, this.end, this.volume, this.duration);
    if (this.endPacketsWritten >= this.endPacketCount) this.running = false;
    return TELEPHONE_EVENT_PAYLOAD_LENGTH;
  }
}
