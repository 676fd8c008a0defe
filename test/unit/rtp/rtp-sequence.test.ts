import { describe, expect, it } from 'vitest';
import { MAX_DROPOUT, RtpSequenceState } from '../../../src/rtp/rtp-sequence.js';

function feed(state: RtpSequenceState, sequence: number[]): boolean[] {
  return sequence.map((seq) => state.update(seq));
}

describe('RtpSequenceState (RFC 3550 A.1, A.3)', () => {
  it('keeps a new source on probation until two packets arrive in sequence', () => {
    const state = new RtpSequenceState();
    expect(state.update(1000)).toBe(false);
    expect(state.valid).toBe(false);
    expect(state.packetsLost).toBe(0);
    expect(state.update(1001)).toBe(true);
    expect(state.valid).toBe(true);
    expect(state.extendedHighestSequence).toBe(1001);
    expect(state.expected).toBe(1);
  });

  it('restarts probation when the first packets are not in sequence', () => {
    const state = new RtpSequenceState();
    expect(feed(state, [10, 50, 51, 52])).toEqual([false, false, true, true]);
    expect(state.extendedHighestSequence).toBe(52);
    expect(state.packetsLost).toBe(0);
  });

  it('counts a gap as lost: expected − received', () => {
    const state = new RtpSequenceState(1);
    feed(state, [0, 1, 2, 5, 6, 9]);
    expect(state.expected).toBe(10);
    expect(state.packetsReceived).toBe(6);
    expect(state.packetsLost).toBe(4);
  });

  it('extends the highest sequence number across the 16-bit wrap', () => {
    const state = new RtpSequenceState(1);
    feed(state, [65533, 65534, 65535, 0, 1]);
    expect(state.extendedHighestSequence).toBe(65536 + 1);
    expect(state.packetsLost).toBe(0);
    // Loss across the wrap is still counted.
    feed(state, [4]);
    expect(state.extendedHighestSequence).toBe(65536 + 4);
    expect(state.packetsLost).toBe(2);
  });

  it('takes a late packet from before the wrap as reordered, not as a wrap', () => {
    const state = new RtpSequenceState(1);
    feed(state, [65534, 0, 65535, 1]);
    expect(state.extendedHighestSequence).toBe(65536 + 1);
    expect(state.packetsLost).toBe(0);
  });

  it('counts duplicates as received (lost may go negative, RFC 3550 §6.4.1)', () => {
    const state = new RtpSequenceState(1);
    feed(state, [7, 8, 8, 8, 9]);
    expect(state.packetsLost).toBe(-2);
  });

  it('ignores a single large jump, and resynchronises when the next packet follows it (restarted sender)', () => {
    const state = new RtpSequenceState(1);
    feed(state, [100, 101, 102]);
    const jump = 102 + MAX_DROPOUT + 10;
    expect(state.update(jump)).toBe(false);
    expect(state.extendedHighestSequence).toBe(102);
    expect(state.update(jump + 1)).toBe(true);
    expect(state.extendedHighestSequence).toBe(jump + 1);
    expect(state.packetsLost).toBe(0);
  });

  it('keeps losses counted before a resynchronisation', () => {
    const state = new RtpSequenceState(1);
    feed(state, [100, 103]);
    expect(state.packetsLost).toBe(2);
    feed(state, [20000, 20001, 20003]);
    expect(state.packetsLost).toBe(2 + 1);
  });

  it('forgets everything on reset()', () => {
    const state = new RtpSequenceState(1);
    feed(state, [1, 5]);
    state.reset();
    expect(state.packetsLost).toBe(0);
    feed(state, [40000, 40001]);
    expect(state.extendedHighestSequence).toBe(40001);
    expect(state.packetsLost).toBe(0);
  });
});
