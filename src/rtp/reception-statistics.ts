/**
 * RFC 3550 reception statistics for what one leg receives from its phone:
 * sequence validity and loss (A.1, A.3) and interarrival jitter (A.8). A
 * phone normally sends one SSRC per call; when it changes (a re-INVITE, a
 * restarted stack), the new SSRC is a new source (A.1) and the leg keeps
 * the sum of the losses.
 */
import { InterarrivalJitter } from './interarrival-jitter.js';
import { RtpSequenceState } from './rtp-sequence.js';

export class RtpReceptionStatistics {
  private readonly sequence: RtpSequenceState;
  private readonly jitter = new InterarrivalJitter();
  private hasSource = false;
  private ssrc = 0;
  private lostByEarlierSources = 0;
  private lastPayloadType = -1;
  private lastTimestamp = 0;

  constructor(minSequential?: number) {
    this.sequence = new RtpSequenceState(minSequential);
  }

  get packetsLost(): number {
    return this.lostByEarlierSources + this.sequence.packetsLost;
  }

  get extendedHighestSequence(): number {
    return this.sequence.extendedHighestSequence;
  }

  get interarrivalJitter(): number {
    return this.jitter.interarrivalJitter;
  }

  get jitterMs(): number {
    return this.jitter.jitterMs;
  }

  /**
   * One RTP packet from the phone. SSRC and timestamp may be given signed or
   * unsigned (the same 32 bits); `arrivalMs` is its arrival time on a
   * monotonic clock, `clockRate` that of its payload type (0 when unknown:
   * the packet counts for loss, not for jitter).
   */
  receive(ssrc: number, sequenceNumber: number, timestamp: number, payloadType: number, arrivalMs: number, clockRate: number): void {
    ssrc |= 0;
    timestamp |= 0;
    if (!this.hasSource || ssrc !== this.ssrc) this.startSource(ssrc);
    if (!this.sequence.update(sequenceNumber)) return;
    // The transit reference is only meaningful between packets of one payload format: a switch to
    // RFC 4733 telephone-event (its own timestamps) must not read as jitter of the audio.
    if (payloadType !== this.lastPayloadType || clockRate <= 0) {
      this.jitter.restart();
      this.lastPayloadType = payloadType;
    } else if (timestamp === this.lastTimestamp) {
      // RFC 4733 §2.5.1.2: every packet of one event, and its repeated end packets, carry the event's
      // start timestamp; the spacing they show is the event's duration, not network jitter.
      return;
    }
    this.lastTimestamp = timestamp;
    if (clockRate > 0) this.jitter.update(timestamp, arrivalMs, clockRate);
  }

  /** A.1: a new SSRC gets fresh sequence state; the jitter estimate carries on from a new reference. */
  private startSource(ssrc: number): void {
    if (this.hasSource) {
      this.lostByEarlierSources += this.sequence.packetsLost;
      this.sequence.reset();
    }
    this.hasSource = true;
    this.ssrc = ssrc;
    this.lastPayloadType = -1;
    this.jitter.restart();
  }
}
