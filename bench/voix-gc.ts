/**
 * voix's main-thread garbage-collection pauses between two scrapes of its
 * /metrics (voix_gc_pause_seconds{kind}): how many of each kind, their total
 * time, and the bucket bound the longest one fell under. What a benchmark
 * prints next to a latency tail, to tell a pause of the SIP thread from
 * other causes.
 */

export interface GcKindTotals {
  readonly count: number;
  readonly sumMs: number;
  /** Cumulative bucket counts by upper bound, ms (Infinity for +Inf). */
  readonly buckets: ReadonlyMap<number, number>;
}

/** voix_gc_pause_seconds by kind, from a Prometheus text; empty when voix does not serve it (an older build). */
export function gcPauseTotals(text: string): Map<string, GcKindTotals> {
  const kinds = new Map<string, { count: number; sumMs: number; buckets: Map<number, number> }>();
  const of = (kind: string) => {
    let totals = kinds.get(kind);
    if (totals === undefined) {
      totals = { count: 0, sumMs: 0, buckets: new Map() };
      kinds.set(kind, totals);
    }
    return totals;
  };
  for (const line of text.split('\n')) {
    const match = /^voix_gc_pause_seconds_(bucket|sum|count)\{kind="([^"]+)"(?:,le="([^"]+)")?\} (\S+)$/.exec(line);
    if (match === null) continue;
    const [, part, kind, le, value] = match as unknown as [string, string, string, string | undefined, string];
    const totals = of(kind);
    if (part === 'count') totals.count = Number(value);
    else if (part === 'sum') totals.sumMs = Number(value) * 1000;
    else if (le !== undefined) totals.buckets.set(le === '+Inf' ? Infinity : Number(le) * 1000, Number(value));
  }
  return kinds;
}

/** What happened between two readings, kind by kind (kinds with no pause left out). */
export function gcPauseDelta(before: ReadonlyMap<string, GcKindTotals>, after: ReadonlyMap<string, GcKindTotals>): Map<string, GcKindTotals> {
  const out = new Map<string, GcKindTotals>();
  for (const [kind, a] of after) {
    const b = before.get(kind);
    const count = a.count - (b?.count ?? 0);
    if (count <= 0) continue;
    const buckets = new Map<number, number>();
    for (const [le, n] of a.buckets) buckets.set(le, n - (b?.buckets.get(le) ?? 0));
    out.set(kind, { count, sumMs: a.sumMs - (b?.sumMs ?? 0), buckets });
  }
  return out;
}

/** The smallest bucket bound holding every pause (ms): the longest pause was at most this. */
export function longestPauseBoundMs(totals: GcKindTotals): number {
  const bounds = [...totals.buckets.entries()].sort((x, y) => x[0] - y[0]);
  for (const [le, n] of bounds) if (n >= totals.count) return le;
  return Infinity;
}
