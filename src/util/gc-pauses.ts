/**
 * The main thread's garbage-collection pauses, as V8 reports them through
 * perf_hooks ('gc' entries): each one stops the SIP thread, so a SIP
 * message that arrives during it waits. The event-loop lag (event-loop-lag.ts)
 * samples ten times a second and smooths, so a 30 ms pause shows in it as a
 * blip at most; this counts every pause, by kind, for /metrics
 * (voix_gc_pause_seconds). A handful of entries a second at most, none on
 * the per-packet path (RTP is in the media workers, which count their own).
 */
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** V8's collection kinds: scavenges of the young generation, full mark-sweeps, incremental marking steps, weak callbacks. */
export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb';

/** The kind of a 'gc' entry's detail.kind flag (perf_hooks constants); undefined for a flag Node does not document. */
export function gcKindOf(flag: number): GcKind | undefined {
  switch (flag) {
    case constants.NODE_PERFORMANCE_GC_MINOR:
      return 'minor';
    case constants.NODE_PERFORMANCE_GC_MAJOR:
      return 'major';
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
      return 'incremental';
    case constants.NODE_PERFORMANCE_GC_WEAKCB:
      return 'weakcb';
    default:
      return undefined;
  }
}

export type GcPauseListener = (kind: GcKind, durationMs: number) => void;

/** Hands each 'gc' entry to the listener; entries of an unknown kind are dropped. */
export function reportGcEntries(entries: readonly PerformanceEntry[], onPause: GcPauseListener): void {
  for (const entry of entries) {
    // Node 16+ puts the kind in detail (entry.kind is deprecated); the typings this project uses do not declare it.
    const detail = (entry as PerformanceEntry & { readonly detail?: { readonly kind?: unknown } | null }).detail;
    const kind = typeof detail?.kind === 'number' ? gcKindOf(detail.kind) : undefined;
    if (kind !== undefined) onPause(kind, entry.duration);
  }
}

export class GcPauseObserver {
  private readonly observer: PerformanceObserver;
  private running = false;

  constructor(onPause: GcPauseListener) {
    this.observer = new PerformanceObserver((list) => reportGcEntries(list.getEntries(), onPause));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.observer.disconnect();
  }
}
