/**
 * The main thread's garbage-collection pauses: V8's 'gc' entries by kind,
 * and a real observer seeing the scavenges that allocation causes.
 */
import { constants, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { gcKindOf, GcPauseObserver, reportGcEntries, type GcKind } from '../../../src/util/gc-pauses.js';

function entry(kind: unknown, duration: number): PerformanceEntry {
  return { name: 'gc', entryType: 'gc', startTime: 0, duration, detail: kind === undefined ? undefined : { kind, flags: 0 } } as unknown as PerformanceEntry;
}

describe('gc pauses', () => {
  it('names the four kinds Node reports, and nothing else', () => {
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_MINOR)).toBe('minor');
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_MAJOR)).toBe('major');
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_INCREMENTAL)).toBe('incremental');
    expect(gcKindOf(constants.NODE_PERFORMANCE_GC_WEAKCB)).toBe('weakcb');
    expect(gcKindOf(0)).toBeUndefined();
    expect(gcKindOf(3)).toBeUndefined();
  });

  it('hands over each entry of a known kind with its duration, and drops the others', () => {
    const seen: Array<[GcKind, number]> = [];

    reportGcEntries(
      [entry(constants.NODE_PERFORMANCE_GC_MINOR, 1.5), entry(64, 9), entry(undefined, 7), entry('major', 8), entry(constants.NODE_PERFORMANCE_GC_MAJOR, 31)],
      (kind, ms) => seen.push([kind, ms]),
    );

    expect(seen).toEqual([
      ['minor', 1.5],
      ['major', 31],
    ]);
  });

  it('sees the scavenges of real allocation while started, and nothing once stopped', async () => {
    const seen: GcKind[] = [];
    const observer = new GcPauseObserver((kind) => seen.push(kind));
    // Short-lived objects by the million fill the young generation (16 MiB at most) many times over; the ring
    // keeps each alive a moment, so that the compiler cannot prove they never escape and skip allocating them.
    const ring: unknown[] = new Array(1024);
    const churn = (): void => {
      for (let i = 0; i < 1_000_000; i++) ring[i & 1023] = { i, pair: [i, i + 1] };
    };

    observer.start();
    // Entries are delivered after the task that caused them; a few turns of the loop, no timer.
    for (let turn = 0; turn < 50 && !seen.includes('minor'); turn++) {
      churn();
      await new Promise((resolve) => setImmediate(resolve));
    }
    observer.stop();
    const seenWhileStarted = seen.length;
    churn();
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));

    expect(seen).toContain('minor');
    expect(seen.length).toBe(seenWhileStarted);
  });
});
