/**
 * Interarrival jitter of one RTP source (RFC 3550 §6.4.1, A.8): the mean
 * deviation of the difference D in packet spacing at the receiver compared
 * with the sender, J(i) = J(i-1) + (|D(i-1,i)| - J(i-1)) / 16, in RTP
 * timestamp units of the payload's clock.
 */
export class InterarrivalJitter {
  /** J, in timestamp units of `clockRate`. */
  private jitter = 0;
  private clockRate = 0;
  private hasReference = false;
  private referenceArrivalMs = 0;
  private referenceTimestamp = 0;

  /** J in RTP timestamp units (what an RTCP report block carries, §6.4.1). */
  get interarrivalJitter(): number {
    return this.jitter;
  }

  get jitterMs(): number {
    return this.clockRate > 0 ? (this.jitter * 1000) / this.clockRate : 0;
  }

  /**
   * One packet: its RTP timestamp (32 bits, signed or unsigned), its arrival time in
   * milliseconds on any monotonic clock, and the clock rate of its payload
   * type. D is computed from differences, so the arrival clock's origin does
   * not matter, and `(ts − previousTs) | 0` keeps it right across the 2^32
   * timestamp wrap.
   */
  update(rtpTimestamp: number, arrivalMs: number, clockRate: number): void {
    if (clockRate !== this.clockRate) {
      // Another clock: keep the estimate's value in time, restart the spacing reference.
      if (this.clockRate > 0 && clockRate > 0) this.jitter = (this.jitter * clockRate) / this.clockRate;
      this.clockRate = clockRate;
      this.hasReference = false;
    }
    if (this.hasReference) {
      const arrivalSpacing = ((arrivalMs - this.referenceArrivalMs) * clockRate) / 1000;
      const timestampSpacing = (rtpTimestamp - this.referenceTimestamp) | 0;
      const d = arrivalSpacing - timestampSpacing;
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.hasReference = true;
    this.referenceArrivalMs = arrivalMs;
    this.referenceTimestamp = rtpTimestamp;
  }

  /** The next packet only sets the reference (new source, new payload format); J keeps its value. */
  restart(): void {
    this.hasReference = false;
  }
}
