/**
 * The soak's report (bench/soak.ts), from its samples: the table of every
 * sample, the least-squares slopes per hour over the steady part (from the
 * second sample with every call up), and for a long run the same curve
 * window by window (30 minutes each), which tells a plateau (windows flat,
 * at the same level) from a leak (every window rising, each one higher).
 * `npm run bench:soak -- --report FILE.json` prints it again from a run's
 * JSON.
 */
import { table } from './relay-machine.js';
import { lineChartSvg } from './report/svg.js';

export interface Sample {
  /** Seconds since the calls started (negative: before). */
  readonly atSeconds: number;
  readonly label: string;
  readonly rssMiB: number;
  /** The anonymous part of RSS (heaps, malloc arenas, thread stacks; /proc/PID/status RssAnon): where a leak would show. Absent from runs before 2026-11-27 evening. */
  readonly rssAnonMiB?: number;
  /** The file-backed part of RSS (node's binary and libraries paged in as code runs: RssFile). */
  readonly rssFileMiB?: number;
  readonly openFds: number;
  readonly heapMiB: number;
  /** V8 heap reserved by the main thread (heapTotal). Absent from runs before 2026-11-27 night, like the next two. */
  readonly heapTotalMiB?: number;
  /** The media workers' heaps in use, all workers (/metrics, read by voix every 15 s). */
  readonly workerHeapMiB?: number;
  /** The media workers' heaps reserved, all workers. */
  readonly workerHeapTotalMiB?: number;
  readonly lagSmoothedMs: number;
  /** The interval's 99th percentile of lag samples, as the bound of its histogram bucket (ms). */
  readonly lagP99Ms: number;
  readonly lagMaxBucketMs: number;
  readonly cpuPercent: number;
  /** Time voix's main thread was runnable but waiting for a core, over the interval (ms): lag that comes from the machine, not from voix. */
  readonly mainThreadWaitMs: number;
  /** CPU time the hypervisor took from this virtual machine over the interval, all cores (ms, /proc/stat steal): a pause no process saw coming. */
  readonly stealMs: number;
  /** New requests voix answered 503 for overload over the interval. */
  readonly overloadRefused: number;
  readonly callsActive: number;
  readonly relays: number;
  readonly serverTransactions: number;
  readonly callsEnded: number;
  readonly callsEndedAbnormally: number;
  readonly sippCallsUp: number;
  readonly sippFailed: number;
}

export interface SoakSettings {
  readonly minutes: number;
  readonly calls: number;
  readonly callSeconds: number;
  readonly sampleSeconds: number;
  readonly rate: number;
  readonly workers: number;
  readonly machine: string;
  /** MALLOC_ARENA_MAX as voix had it (inherited from this process), null when unset (glibc's default: 8 arenas per core). Absent from older runs. */
  readonly mallocArenaMax?: string | null;
}

/** Anonymous memory outside every V8 heap (main thread's and workers' reserved heaps taken out): malloc, thread stacks, Buffers. */
export function outsideV8MiB(s: Sample): number {
  if (s.rssAnonMiB === undefined || s.heapTotalMiB === undefined || s.workerHeapTotalMiB === undefined) return Number.NaN;
  return s.rssAnonMiB - s.heapTotalMiB - s.workerHeapTotalMiB;
}

/** One decimal, without the "-0.0" of a slope that is zero give or take rounding. */
function oneDecimal(value: number): string {
  const text = value.toFixed(1);
  return text === '-0.0' ? '0.0' : text;
}

function rangeOf(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
}

/** Below this steady span, a slope says more about garbage collection than about a leak. */
const MIN_SLOPE_SPAN_S = 600;
/** The windows of a long run's steady part. */
const WINDOW_S = 1800;

function steadySpan(steady: readonly { atSeconds: number }[]): number {
  return (steady[steady.length - 1]?.atSeconds ?? 0) - (steady[0]?.atSeconds ?? 0);
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** The samples taken under full load once the ramp is over. */
export function steadySamples(settings: Pick<SoakSettings, 'sampleSeconds' | 'callSeconds'>, samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.label.startsWith('minute') && s.atSeconds >= Math.max(settings.sampleSeconds * 2, settings.callSeconds));
}

/** Per 30-minute window of the steady part (a last window shorter than 10 minutes is left out): RSS, heap and fds. */
export function windowRows(steady: readonly Sample[]): string[][] {
  const first = steady[0]?.atSeconds ?? 0;
  const rows: string[][] = [];
  for (let from = first; from <= (steady.at(-1)?.atSeconds ?? first); from += WINDOW_S) {
    const inWindow = steady.filter((s) => s.atSeconds >= from && s.atSeconds < from + WINDOW_S);
    if (inWindow.length < 2 || steadySpan(inWindow) < MIN_SLOPE_SPAN_S) continue;
    const rss = inWindow.map((s) => s.rssMiB);
    const perHour = (pick: (s: Sample) => number): number => slope(inWindow.map((s) => [s.atSeconds / 3600, pick(s)] as const));
    rows.push([
      `${(inWindow[0]?.atSeconds ?? 0) / 60}-${(inWindow.at(-1)?.atSeconds ?? 0) / 60} min`,
      String(inWindow.length),
      (rss.reduce((a, b) => a + b, 0) / rss.length).toFixed(1),
      `${Math.min(...rss).toFixed(1)}-${Math.max(...rss).toFixed(1)}`,
      perHour((s) => s.rssMiB).toFixed(1),
      perHour((s) => s.rssAnonMiB ?? Number.NaN).toFixed(1),
      perHour((s) => s.heapMiB).toFixed(1),
      perHour((s) => s.workerHeapMiB ?? Number.NaN).toFixed(1),
      perHour(outsideV8MiB).toFixed(1),
      `${Math.min(...inWindow.map((s) => s.openFds))}-${Math.max(...inWindow.map((s) => s.openFds))}`,
    ]);
  }
  return rows;
}

export function soakReport(settings: SoakSettings, samples: readonly Sample[]): string {
  const { minutes, calls, callSeconds, sampleSeconds, rate, workers } = settings;
  const steady = steadySamples(settings, samples);
  const perHour = (pick: (s: Sample) => number): number => slope(steady.map((s) => [s.atSeconds / 3600, pick(s)] as const));
  const rows = samples.map((s) => [
    s.label,
    String(s.atSeconds),
    s.rssMiB.toFixed(1),
    s.rssAnonMiB === undefined ? '-' : s.rssAnonMiB.toFixed(1),
    String(s.openFds),
    s.heapMiB.toFixed(1),
    s.workerHeapMiB === undefined || Number.isNaN(s.workerHeapMiB) ? '-' : s.workerHeapMiB.toFixed(1),
    Number.isNaN(outsideV8MiB(s)) ? '-' : outsideV8MiB(s).toFixed(1),
    s.lagSmoothedMs.toFixed(1),
    s.lagP99Ms === null || Number.isNaN(s.lagP99Ms) ? '-' : String(s.lagP99Ms),
    s.lagMaxBucketMs === null || Number.isNaN(s.lagMaxBucketMs) ? '-' : String(s.lagMaxBucketMs),
    s.cpuPercent.toFixed(0),
    s.mainThreadWaitMs.toFixed(0),
    s.stealMs.toFixed(0),
    String(s.overloadRefused),
    String(s.callsActive),
    String(s.relays),
    String(s.serverTransactions),
    String(s.callsEnded),
    String(s.callsEndedAbnormally),
    s.sippFailed === null || Number.isNaN(s.sippFailed) ? '-' : String(s.sippFailed),
  ]);
  const windows = windowRows(steady);
  return [
    `soak: ${calls} concurrent calls of ${callSeconds} s (new ones at up to ${rate}/s as others end), ${minutes} min, sampled every ${sampleSeconds} s`,
    `workload: SIPp UAC → voix → SIPp UAS (-rtp_echo), UDP, digest MD5, one PCMU stream each way per call; ${workers === 0 ? 'one media thread per core' : `${workers} media thread(s)`}; voix, SIPp and this process share the machine`,
    settings.machine,
    ...(settings.mallocArenaMax === undefined ? [] : [`voix's environment: MALLOC_ARENA_MAX=${settings.mallocArenaMax ?? "unset (glibc's default)"}`]),
    '',
    table(
      ['sample', 't (s)', 'RSS MiB', 'anon MiB', 'fds', 'heap MiB', 'workers heap MiB', 'anon outside V8 MiB', 'lag ms', 'lag p99 ≤ ms', 'lag max ≤ ms', 'CPU %', 'main wait ms', 'steal ms', '503', 'calls', 'relays', 'server tx', 'calls ended', 'not normal', 'SIPp failed'],
      rows,
    ),
    '',
    steady.length >= 2
      ? `slopes over the ${steady.length} steady samples (from t=${steady[0]?.atSeconds ?? 0}s), per hour: RSS ${perHour((s) => s.rssMiB).toFixed(1)} MiB, fds ${perHour((s) => s.openFds).toFixed(1)}, heap ${perHour((s) => s.heapMiB).toFixed(1)} MiB, lag ${perHour((s) => s.lagSmoothedMs).toFixed(2)} ms${steadySpan(steady) < MIN_SLOPE_SPAN_S ? ` (over ${steadySpan(steady)} s only: garbage collection moves RSS and heap by megabytes, a slope needs ${MIN_SLOPE_SPAN_S / 60} min or more)` : ''}`
      : `slopes: fewer than 2 steady samples (the first ${Math.max(sampleSeconds * 2, callSeconds)} s are the ramp): run longer for curves`,
    ...(steady.length >= 2 && steady.every((s) => !Number.isNaN(outsideV8MiB(s)))
      ? [
          `anonymous memory by part over the steady samples, per hour: main thread's heap reserved ${oneDecimal(perHour((s) => s.heapTotalMiB ?? Number.NaN))} MiB, media workers' heaps reserved ${oneDecimal(perHour((s) => s.workerHeapTotalMiB ?? Number.NaN))} MiB (in use ${oneDecimal(perHour((s) => s.workerHeapMiB ?? Number.NaN))}), outside V8 ${oneDecimal(perHour(outsideV8MiB))} MiB; media workers' heaps reserved ${rangeOf(steady.map((s) => s.workerHeapTotalMiB ?? Number.NaN))} MiB, outside V8 ${rangeOf(steady.map(outsideV8MiB))} MiB`,
        ]
      : []),
    ...(windows.length >= 2 ? ['', 'steady part by windows of 30 min:', table(['window', 'samples', 'RSS mean MiB', 'RSS min-max MiB', 'RSS slope MiB/h', 'anon slope MiB/h', 'heap slope MiB/h', 'workers heap slope MiB/h', 'anon outside V8 slope MiB/h', 'fds min-max'], windows)] : []),
  ].join('\n');
}

/** Plots of the run's curves under load (samples with calls up), minutes on x, each from 0: memory (RSS and main heap, MiB), open descriptors, event-loop lag (ms). */
export function soakPlots(samples: readonly Sample[]): Record<string, string> {
  const loaded = samples.filter((s) => s.label.startsWith('minute'));
  const at = (pick: (s: Sample) => number): Array<[number, number]> => loaded.map((s) => [s.atSeconds / 60, pick(s)]);
  const fr = (digits: number) => (v: number): string => v.toLocaleString('fr-FR', { maximumFractionDigits: digits });
  return {
    'endurance-memoire.svg': lineChartSvg({
      title: 'Endurance : mémoire de voix sous 100 appels relayés',
      xLabel: 'minutes',
      unit: 'Mio',
      format: fr(0),
      series: [
        { name: 'mémoire résidente (RSS)', color: '#1f77b4', points: at((s) => s.rssMiB) },
        ...(loaded.some((s) => s.rssAnonMiB !== undefined) ? [{ name: 'dont mémoire anonyme (tas, malloc, piles)', color: '#9467bd', points: at((s) => s.rssAnonMiB ?? Number.NaN) }] : []),
        { name: 'tas V8 du thread principal', color: '#ff7f0e', points: at((s) => s.heapMiB) },
        ...(loaded.some((s) => s.workerHeapMiB !== undefined) ? [{ name: 'tas V8 des threads média', color: '#8c564b', points: at((s) => s.workerHeapMiB ?? Number.NaN) }] : []),
        ...(loaded.some((s) => !Number.isNaN(outsideV8MiB(s))) ? [{ name: 'mémoire anonyme hors tas V8 (malloc, piles, Buffers)', color: '#7f7f7f', points: at(outsideV8MiB) }] : []),
      ],
    }),
    'endurance-descripteurs.svg': lineChartSvg({
      title: 'Endurance : descripteurs de fichiers ouverts',
      xLabel: 'minutes',
      unit: 'descripteurs',
      format: fr(0),
      series: [{ name: 'descripteurs ouverts', color: '#2ca02c', points: at((s) => s.openFds) }],
    }),
    'endurance-retard.svg': lineChartSvg({
      title: 'Endurance : retard de la boucle d’événements',
      xLabel: 'minutes',
      unit: 'ms',
      format: fr(1),
      yMinTop: 1,
      series: [{ name: 'retard lissé (/metrics)', color: '#d62728', points: at((s) => s.lagSmoothedMs) }],
    }),
  };
}
