import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../../../src/srtp/replay-window.js';
import { SRTP_ERROR_REPLAY, SRTP_ERROR_REPLAY_OLD } from '../../../src/srtp/srtp-error.js';

describe('ReplayWindow (RFC 3711 §3.3.2)', () => {
  it('accepts anything before the first packet, then remembers exactly the last 64 indices', () => {
    const window = new ReplayWindow();
    expect(window.check(1000)).toBe(0);
    window.accept(1000);
    expect(window.check(1000)).toBe(SRTP_ERROR_REPLAY);
    expect(window.check(999)).toBe(0);
    expect(window.check(937)).toBe(0);
    expect(window.check(936)).toBe(SRTP_ERROR_REPLAY_OLD);
    expect(window.check(1001)).toBe(0);
  });

  it('keeps the bits right when sliding by 1, 31, 32, 33, 63, 64 and more', () => {
    for (const shift of [1, 31, 32, 33, 63, 64, 65, 1000]) {
      const window = new ReplayWindow();
      const accepted = new Set<number>();
      for (let i = 0; i < 64; i += 3) {
        window.accept(10_000 + i);
        accepted.add(10_000 + i);
      }
      const top = 10_063 + shift;
      window.accept(top);
      accepted.add(top);
      for (let index = top - 70; index <= top + 1; index++) {
        const expected = index > top ? 0 : top - index >= 64 ? SRTP_ERROR_REPLAY_OLD : accepted.has(index) ? SRTP_ERROR_REPLAY : 0;
        expect(window.check(index), `shift ${shift} index ${index}`).toBe(expected);
      }
    }
  });

  it('works with 48-bit indices beyond 2^32', () => {
    const window = new ReplayWindow();
    const base = 2 ** 47 + 5;
    window.accept(base);
    window.accept(base - 40);
    expect(window.check(base - 40)).toBe(SRTP_ERROR_REPLAY);
    expect(window.check(base - 41)).toBe(0);
    expect(window.check(base - 64)).toBe(SRTP_ERROR_REPLAY_OLD);
  });
});
