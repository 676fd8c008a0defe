/**
 * One RTP stream that voix itself sends to a phone (RFC 3550): the IVR's
 * prompts, tones and silence, as 20 ms G.711 packets paced by the
 * worker's PlayoutScheduler.
 *
 * Identity (RFC 3550 §5.1): SSRC, first sequence number and first
 * timestamp are random, drawn once when the player is made. One player
 * serves one relay leg for the life of the relay, so successive plays on
 * that leg continue one stream: the phone sees a single source whose
 * sequence numbers follow each other and whose timestamps follow the
 * clock, even across a pause between plays.
 *
 * Marker bit (RFC 3551 §4.1: the first packet of a talkspurt, after a
 * silence in which nothing was sent): on the first packet of a play that
 * starts while nothing is being sent (the stream's first packet, or after
 * stopPlay / the end of a previous play), and on the first packet after
 * the scheduler dropped deadlines (a stall), where the timestamp jumps.
 * Not between playlist items nor when a play replaces a running one: the
 * player sends silence as packets (no silence suppression), so those are
 * one continuous talkspurt with consecutive timestamps.
 *
 * Timestamps follow the scheduler's deadlines: +160 per packet, +8 per ms
 * between the last packet of a play and the first of the next, and +160
 * per deadline dropped. Audio is not skipped when deadlines are dropped:
 * the listener hears a gap rather than losing words.
 *
 * Per packet: the header's changing fields and 160 payload bytes are
 * written into one preallocated Buffer and handed to the sink (the relay
 * leg copies it into its outbound ring, protects it and sends it); items
 * are walked with indices; no object is created. Events (item ended, play
 * ended) are once per item or play.
 */
import { randomBytes } from 'node:crypto';
import { RTP_FIXED_HEADER_LENGTH, RTP_VERSION } from '../../rtp/rtp-header.js';
import { G711_SAMPLE_RATE, G711_SILENCE, type G711Codec } from './g711.js';
import type { PacedStream, PlayoutScheduler, ScheduledStream } from './playout-scheduler.js';
import type { PlayEndReason } from './playout-protocol.js';
import type { PlaylistSegment } from './playlist.js';

/** 20 ms of 8 kHz G.711: one byte per sample. */
export const SAMPLES_PER_PACKET = 160;
export const PLAYED_PACKET_BYTES = RTP_FIXED_HEADER_LENGTH + SAMPLES_PER_PACKET;

/** Where packets go: the relay leg (RelayLeg.sendPlayedRtp). `packet` is reused for the next packet once this returns. */
export interface PlayoutSink {
  sendPlayedRtp(packet: Buffer, length: number): void;
}

export interface PlaybackListener {
  /** Item `item` of the playlist has been sent to its last sample. */
  itemEnded(item: number): void;
  /** The play is over; `packetsSent` counts its packets. */
  ended(reason: PlayEndReason, packetsSent: number): void;
}

export interface RtpStreamIdentity {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
}

/** RFC 3550 §5.1: random SSRC, initial sequence number and initial timestamp. */
export function randomStreamIdentity(): RtpStreamIdentity {
  const random = randomBytes(10);
  return { ssrc: random.readUInt32BE(0), sequenceNumber: random.readUInt16BE(4), timestamp: random.readUInt32BE(6) };
}

const NO_SEGMENTS: readonly PlaylistSegment[] = [];

export class RtpPlayer implements PacedStream {
  readonly ssrc: number;
  private readonly packet = Buffer.alloc(PLAYED_PACKET_BYTES);
  private payloadType = 0;
  /** Of the next packet. Timestamps are kept as signed 32-bit (same bits): small integers, which fields store without boxing. */
  private sequenceNumber: number;
  private timestamp: number;
  private lastTimestamp = 0;
  /** Deadline of the last packet sent, NaN before the first: in a typed array, where a double is stored without boxing. */
  private readonly lastDeadlineUs = new Float64Array(1).fill(Number.NaN);
  /** Nothing was being sent before the next packet: it starts a talkspurt. */
  private resuming = true;

  private entry: ScheduledStream | null = null;
  private listener: PlaybackListener | null = null;
  private segments: readonly PlaylistSegment[] = NO_SEGMENTS;
  private segmentIndex = 0;
  private segmentPosition = 0;
  private silenceCode = G711_SILENCE.PCMU;
  private playPackets = 0;
  /** Items that ended in the packet being filled: firstEnded..lastEnded, none when lastEnded < firstEnded. */
  private firstEnded = 0;
  private lastEnded = -1;

  /** Packets sent over the player's life, and deadlines it lost to stalls. */
  packetsSent = 0;
  deadlinesMissed = 0;

  constructor(
    private readonly scheduler: PlayoutScheduler,
    private readonly sink: PlayoutSink,
    identity: RtpStreamIdentity = randomStreamIdentity(),
  ) {
    this.ssrc = identity.ssrc >>> 0;
    this.sequenceNumber = identity.sequenceNumber & 0xffff;
    this.timestamp = identity.timestamp | 0;
    this.packet[0] = RTP_VERSION << 6;
    this.packet.writeUInt32BE(this.ssrc, 8);
  }

  get playing(): boolean {
    return this.listener !== null;
  }

  /** Sequence number and timestamp of the last packet sent; null before the first (tests, diagnostics). */
  get last(): { readonly sequenceNumber: number; readonly timestamp: number } | null {
    if (Number.isNaN(this.lastDeadlineUs[0])) return null;
    return { sequenceNumber: (this.sequenceNumber + 0xffff) & 0xffff, timestamp: this.lastTimestamp >>> 0 };
  }

  /**
   * Plays `segments` (resolvePlaylist). A play in progress ends as
   * 'replaced' and the new one takes the next deadline of the same
   * stream; otherwise the stream is scheduled from now.
   */
  play(segments: readonly PlaylistSegment[], codec: G711Codec, payloadType: number, listener: PlaybackListener): void {
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) throw new RangeError(`payload type ${payloadType} is not 0-127`);
    const previous = this.listener;
    const previousPackets = this.playPackets;
    this.listener = listener;
    this.segments = segments;
    this.segmentIndex = 0;
    this.segmentPosition = 0;
    this.silenceCode = G711_SILENCE[codec];
    this.payloadType = payloadType;
    this.playPackets = 0;
    if (this.entry === null) this.entry = this.scheduler.add(this, this.scheduler.nowUs());
    if (previous !== null) previous.ended('replaced', previousPackets);
  }

  /** Ends the play in progress with `reason`; false when there was none. */
  stop(reason: PlayEndReason = 'stopped'): boolean {
    const listener = this.listener;
    if (listener === null) return false;
    this.finish();
    listener.ended(reason, this.playPackets);
    return true;
  }

  // ---- per packet ----

  onDeadline(missed: number): void {
    const listener = this.listener;
    if (listener === null) return;
    const deadlineUs = this.scheduler.deadline[0] ?? 0;
    // The timestamp is the sampling instant: it follows the deadlines, so a pause or dropped deadlines (a stall) move it
    // by the time that passed, while the audio itself is not skipped.
    const lastDeadlineUs = this.lastDeadlineUs[0] ?? Number.NaN;
    if (lastDeadlineUs === lastDeadlineUs) {
      this.timestamp = (this.lastTimestamp + Math.round(((deadlineUs - lastDeadlineUs) * G711_SAMPLE_RATE) / 1e6)) | 0;
    }
    if (missed > 0) this.deadlinesMissed += missed;
    const marker = this.resuming || missed > 0;

    const packet = this.packet;
    const sequenceNumber = this.sequenceNumber;
    const timestamp = this.timestamp;
    packet[1] = marker ? 0x80 | this.payloadType : this.payloadType;
    packet[2] = sequenceNumber >>> 8;
    packet[3] = sequenceNumber & 0xff;
    packet[4] = timestamp >>> 24;
    packet[5] = (timestamp >>> 16) & 0xff;
    packet[6] = (timestamp >>> 8) & 0xff;
    packet[7] = timestamp & 0xff;
    this.fillPayload();
    this.sink.sendPlayedRtp(packet, PLAYED_PACKET_BYTES);

    this.packetsSent++;
    this.playPackets++;
    this.lastDeadlineUs[0] = deadlineUs;
    this.lastTimestamp = timestamp;
    this.sequenceNumber = (sequenceNumber + 1) & 0xffff;
    this.timestamp = (timestamp + SAMPLES_PER_PACKET) | 0;
    this.resuming = false;

    // A listener may stop or replace the play: then the rest of this packet's news is the old play's and is not told.
    for (let item = this.firstEnded; item <= this.lastEnded && this.listener === listener; item++) listener.itemEnded(item);
    if (this.listener === listener && this.segmentIndex >= this.segments.length) {
      this.finish();
      listener.ended('completed', this.playPackets);
    }
  }

  /** Copies the next 160 samples of the playlist after the header, silence once it is over, noting the items that end. */
  private fillPayload(): void {
    const packet = this.packet;
    const segments = this.segments;
    const end = PLAYED_PACKET_BYTES;
    let offset = RTP_FIXED_HEADER_LENGTH;
    this.firstEnded = 0;
    this.lastEnded = -1;
    while (offset < end && this.segmentIndex < segments.length) {
      const segment = segments[this.segmentIndex];
      if (segment === undefined) break;
      const left = segment.samples - this.segmentPosition;
      if (left > 0) {
        const bytes = segment.bytes;
        const length = bytes.length;
        const count = left < end - offset ? left : end - offset;
        let source = this.segmentPosition % length;
        for (let k = 0; k < count; k++) {
          packet[offset++] = bytes[source++] ?? 0;
          if (source === length) source = 0;
        }
        this.segmentPosition += count;
      }
      if (this.segmentPosition >= segment.samples) {
        if (segment.endsItem) {
          if (this.lastEnded < this.firstEnded) this.firstEnded = segment.item;
          this.lastEnded = segment.item;
        }
        this.segmentIndex++;
        this.segmentPosition = 0;
      }
    }
    while (offset < end) packet[offset++] = this.silenceCode;
  }

  /** Leaves the scheduler and forgets the playlist; the stream's numbering stays for the next play. */
  private finish(): void {
    this.listener = null;
    this.segments = NO_SEGMENTS;
    this.segmentIndex = 0;
    this.segmentPosition = 0;
    if (this.entry !== null) this.scheduler.remove(this.entry);
    this.entry = null;
    this.resuming = true;
  }
}
