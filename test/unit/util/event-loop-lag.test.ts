/**
 * The event-loop lag monitor: how late its timer fires, smoothed. Time is
 * driven by hand: the timer callback runs when the test says, at the time
 * the test says, which is exactly what a busy event loop does to a timer.
 */
import { describe, expect, it } from 'vitest';
import { EventLoopLagMonitor } from '../../../src/util/event-loop-lag.js';
import type { Clock, TimerHandle } from '../../../src/util/clock.js';

class LateTimerClock implements Clock {
  time = 0;
  private pending: { id: number; callback: () => void } | null = null;
  private nextId = 1;

  now(): number {
    return this.time;
  }
  setTimer(_delayMs: number, callback: () => void): TimerHandle {
    this.pending = { id: this.nextId++, callback };
    return { id: this.pending.id };
  }
  clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined && this.pending?.id === handle.id) this.pending = null;
  }
  /** The loop gets to the timer `afterMs` after it was set. */
  fire(afterMs: number): void {
    const timer = this.pending;
    if (timer === null) throw new Error('no timer pending');
    this.pending = null;
    this.time += afterMs;
    timer.callback();
  }
  get hasTimer(): boolean {
    return this.pending !== null;
  }
}

describe('EventLoopLagMonitor', () => {
  it('reports each sample as the delay beyond the interval, and smooths them', () => {
    const clock = new LateTimerClock();
    const samples: number[] = [];
    const monitor = new EventLoopLagMonitor({ clock, intervalMs: 100, smoothing: 0.5, onSample: (lag) => samples.push(lag) });
    monitor.start();

    clock.fire(100);
    clock.fire(180);
    clock.fire(140);

    expect(samples).toEqual([0, 80, 40]);
    expect(monitor.latestLagMs).toBe(40);
    // 0 → 40 → 40: (0 + 0.5·80) then (40 + 0.5·(40 − 40)).
    expect(monitor.lagMs).toBe(40);
  });

  it('moves little on one pause and converges on a lag that holds', () => {
    const clock = new LateTimerClock();
    const monitor = new EventLoopLagMonitor({ clock, intervalMs: 100 });
    monitor.start();

    clock.fire(400);
    const afterOnePause = monitor.lagMs;
    for (let i = 0; i < 5; i++) clock.fire(100);
    const afterQuiet = monitor.lagMs;
    for (let i = 0; i < 12; i++) clock.fire(350);

    expect(afterOnePause).toBe(75);
    expect(afterQuiet).toBeLessThan(20);
    expect(monitor.lagMs).toBeGreaterThan(240);
    expect(monitor.lagMs).toBeLessThanOrEqual(250);
  });

  it('stops sampling when stopped', () => {
    const clock = new LateTimerClock();
    const monitor = new EventLoopLagMonitor({ clock });
    monitor.start();

    monitor.stop();

    expect(clock.hasTimer).toBe(false);
  });
});
