import { describe, expect, it } from 'vitest';
import { estimatePacketIndex, rolloverCounterOf } from '../../../src/srtp/rollover-counter.js';

describe('estimatePacketIndex (RFC 3711 §3.3.1)', () => {
  const index = (roc: number, seq: number): number => roc * 65536 + seq;

  it('takes SEQ with ROC 0 for the first packet of an SSRC', () => {
    expect(estimatePacketIndex(-1, 40000)).toBe(40000);
  });

  it('guesses ROC + 1 when SEQ wrapped ahead of a high s_l', () => {
    expect(estimatePacketIndex(index(3, 65535), 0)).toBe(index(4, 0));
    expect(estimatePacketIndex(index(3, 60000), 100)).toBe(index(4, 100));
    expect(estimatePacketIndex(index(3, 60000), 27233)).toBe(index(3, 27233));
  });

  it('guesses ROC - 1 for a late packet from before the wrap when s_l is low', () => {
    expect(estimatePacketIndex(index(3, 2), 65534)).toBe(index(2, 65534));
    expect(estimatePacketIndex(index(3, 100), 32869)).toBe(index(2, 32869));
    expect(estimatePacketIndex(index(3, 100), 32868)).toBe(index(3, 32868));
  });

  it('keeps ROC otherwise', () => {
    expect(estimatePacketIndex(index(1, 1000), 1001)).toBe(index(1, 1001));
    expect(estimatePacketIndex(index(1, 1000), 999)).toBe(index(1, 999));
    expect(estimatePacketIndex(index(1, 40000), 39000)).toBe(index(1, 39000));
  });

  it('never guesses a ROC below 0: with ROC 0 the packet is a jump forward', () => {
    expect(estimatePacketIndex(index(0, 2), 65534)).toBe(index(0, 65534));
  });

  it('gives -1 when the 32-bit ROC would overflow (key used up)', () => {
    expect(estimatePacketIndex(index(0xffffffff, 65535), 0)).toBe(-1);
  });

  it('reads ROC back from an index', () => {
    expect(rolloverCounterOf(index(0xfffffffe, 12))).toBe(0xfffffffe);
  });
});
