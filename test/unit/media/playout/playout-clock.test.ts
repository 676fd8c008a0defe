import { describe, expect, it } from 'vitest';
import { MonotonicPlayoutClock } from '../../../../src/media/playout/playout-clock.js';

describe('MonotonicPlayoutClock', () => {
  it.each([0, 100])('never returns from waitUntil before the deadline (spin %i µs)', (spinUs) => {
    const clock = new MonotonicPlayoutClock({ spinUs });
    for (const aheadUs of [-50, 0, 30, 400, 1500]) {
      const deadline = clock.nowUs() + aheadUs;
      clock.waitUntil(deadline);
      expect(clock.nowUs()).toBeGreaterThanOrEqual(deadline);
    }
  });

  it('fires the armed timer once, and not a disarmed or replaced one', async () => {
    const clock = new MonotonicPlayoutClock();
    const fired: string[] = [];
    clock.armTimer(2000, () => fired.push('replaced'));
    clock.armTimer(-1, () => fired.push('immediate'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    clock.armTimer(1000, () => fired.push('disarmed'));
    clock.disarmTimer();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toEqual(['immediate']);
  });
});
