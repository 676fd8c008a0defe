import { describe, expect, it } from 'vitest';
import { InterarrivalJitter } from '../../../src/rtp/interarrival-jitter.js';
import { RtpReceptionStatistics } from '../../../src/rtp/reception-statistics.js';

/** J after n samples of the same |D|, from J(0) = 0: |D| (1 − (15/16)^n). */
function converged(d: number, n: number): number {
  return d * (1 - (15 / 16) ** n);
}

describe('InterarrivalJitter (RFC 3550 §6.4.1, A.8)', () => {
  it('is zero when packets arrive exactly as they were sent', () => {
    const jitter = new InterarrivalJitter();
    for (let i = 0; i < 100; i++) jitter.update(1000 + i * 160, 5000 + i * 20, 8000);
    expect(jitter.interarrivalJitter).toBe(0);
  });

  it('moves 1/16 of the way to |D| per packet, in timestamp units', () => {
    const jitter = new InterarrivalJitter();
    // Sent every 20 ms (160 units at 8 kHz); arrivals alternate 10 ms and 30 ms apart: |D| = 80 units each time.
    let arrival = 0;
    jitter.update(0, arrival, 8000);
    for (let i = 1; i <= 40; i++) {
      arrival += i % 2 === 1 ? 10 : 30;
      jitter.update(i * 160, arrival, 8000);
    }
    expect(jitter.interarrivalJitter).toBeCloseTo(converged(80, 40), 9);
    expect(jitter.jitterMs).toBeCloseTo(converged(10, 40), 9);
  });

  it('does not care where the arrival clock starts', () => {
    const a = new InterarrivalJitter();
    const b = new InterarrivalJitter();
    const arrivals = [0, 21, 39, 62, 80, 99];
    arrivals.forEach((t, i) => {
      a.update(i * 160, t, 8000);
      b.update(i * 160, t + 1e9, 8000);
    });
    expect(b.interarrivalJitter).toBeCloseTo(a.interarrivalJitter, 6);
  });

  it('survives the 32-bit timestamp wrap', () => {
    const jitter = new InterarrivalJitter();
    const start = 2 ** 32 - 320;
    for (let i = 0; i < 6; i++) jitter.update((start + i * 160) % 2 ** 32, i * 20, 8000);
    expect(jitter.interarrivalJitter).toBe(0);
  });

  it('uses the clock of the payload: 16 kHz counts twice the units of 8 kHz for the same delay', () => {
    const narrow = new InterarrivalJitter();
    const wide = new InterarrivalJitter();
    narrow.update(0, 0, 8000);
    narrow.update(160, 25, 8000);
    wide.update(0, 0, 16000);
    wide.update(320, 25, 16000);
    expect(narrow.interarrivalJitter).toBeCloseTo(40 / 16, 9);
    expect(wide.interarrivalJitter).toBeCloseTo(80 / 16, 9);
    expect(narrow.jitterMs).toBeCloseTo(wide.jitterMs, 9);
  });

  it('keeps its value in milliseconds when the clock rate changes, and restarts the reference', () => {
    const jitter = new InterarrivalJitter();
    jitter.update(0, 0, 8000);
    jitter.update(160, 36, 8000); // |D| = 128 units = 16 ms: J = 8 units = 1 ms
    expect(jitter.jitterMs).toBeCloseTo(1, 9);
    // A 48 kHz stream with unrelated timestamps: no D computed across the change.
    jitter.update(999_999, 40, 48000);
    expect(jitter.jitterMs).toBeCloseTo(1, 9);
    expect(jitter.interarrivalJitter).toBeCloseTo(48, 9);
  });
});

describe('RtpReceptionStatistics', () => {
  it('computes loss and jitter for a stream with a loss and a late packet', () => {
    const stats = new RtpReceptionStatistics();
    // seq 0..9 every 20 ms, seq 4 lost, seq 7 arrives 8 ms late.
    for (let seq = 0; seq < 10; seq++) {
      if (seq === 4) continue;
      stats.receive(0x1111, seq, seq * 160, 0, seq * 20 + (seq === 7 ? 8 : 0), 8000);
    }
    expect(stats.packetsLost).toBe(1);
    expect(stats.extendedHighestSequence).toBe(9);
    // Valid from seq 1 (probation): D = 0 until seq 7 (+64 units), then seq 8 (−64 units), seq 9 (0).
    let j = 0;
    for (const d of [64, 64, 0]) j += (d - j) / 16;
    expect(stats.interarrivalJitter).toBeCloseTo(j, 9);
  });

  it('treats a new SSRC as a new source and keeps the earlier losses', () => {
    const stats = new RtpReceptionStatistics(1);
    [0, 1, 3].forEach((seq) => stats.receive(0xaaaa, seq, seq * 160, 0, seq * 20, 8000));
    expect(stats.packetsLost).toBe(1);
    [500, 501, 502, 504].forEach((seq, i) => stats.receive(0xbbbb, seq, 90_000 + i * 160, 0, 1000 + i * 20, 8000));
    expect(stats.extendedHighestSequence).toBe(504);
    expect(stats.packetsLost).toBe(2);
  });

  it('does not count RFC 4733 event packets, which repeat the event start timestamp, as jitter', () => {
    const stats = new RtpReceptionStatistics(1);
    let seq = 0;
    for (let i = 0; i < 5; i++) stats.receive(1, seq++, i * 160, 0, i * 20, 8000);
    // A digit: telephone-event (PT 101) every 50 ms, all with the event's start timestamp.
    for (let i = 0; i < 6; i++) stats.receive(1, seq++, 800, 101, 100 + i * 50, 8000);
    for (let i = 0; i < 3; i++) stats.receive(1, seq++, 800 + 2400 + i * 160, 0, 400 + i * 20, 8000);
    expect(stats.interarrivalJitter).toBe(0);
    expect(stats.packetsLost).toBe(0);
  });

  it('counts packets of an unknown payload type for loss but not for jitter', () => {
    const stats = new RtpReceptionStatistics(1);
    stats.receive(1, 0, 0, 96, 0, 0);
    stats.receive(1, 2, 320, 96, 57, 0);
    expect(stats.packetsLost).toBe(1);
    expect(stats.jitterMs).toBe(0);
  });
});
