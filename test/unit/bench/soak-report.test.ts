import { describe, expect, it } from 'vitest';
import { outsideV8MiB, slope, soakPlots, soakReport, steadySamples, windowRows, type Sample } from '../../../bench/soak-report.js';

const SETTINGS = { minutes: 120, calls: 100, callSeconds: 60, sampleSeconds: 60, rate: 10, workers: 0, machine: 'test machine' };

/** One sample a minute for `minutes`, RSS from `rss(minute)`. */
function run(minutes: number, rss: (minute: number) => number): Sample[] {
  return Array.from({ length: minutes }, (_, i) => ({
    atSeconds: (i + 1) * 60,
    label: `minute ${i + 1}.0`,
    rssMiB: rss(i + 1),
    openFds: 635,
    heapMiB: 28,
    lagSmoothedMs: 0.2,
    lagP99Ms: 5,
    lagMaxBucketMs: 5,
    cpuPercent: 19,
    mainThreadWaitMs: 180,
    stealMs: 10,
    overloadRefused: 0,
    callsActive: 100,
    relays: 100,
    serverTransactions: 0,
    callsEnded: 100 * i,
    callsEndedAbnormally: 0,
    sippCallsUp: 100,
    sippFailed: 0,
  }));
}

describe('soak report', () => {
  it('fits a least-squares slope', () => {
    expect(slope([[0, 1], [1, 3], [2, 5]])).toBeCloseTo(2);
    expect(slope([[0, 1]])).toBeNaN();
  });

  it('leaves the ramp out of the steady part', () => {
    expect(steadySamples(SETTINGS, run(5, () => 100)).map((s) => s.atSeconds)).toEqual([120, 180, 240, 300]);
  });

  it('tells a plateau from a leak window by window', () => {
    // Plateau: rises over the first 15 minutes, then flat at 130 MiB. Leak: 30 MiB more every hour, all along.
    const plateau = windowRows(steadySamples(SETTINGS, run(120, (m) => (m < 15 ? 100 + 2 * m : 130))));
    const leak = windowRows(steadySamples(SETTINGS, run(120, (m) => 100 + m / 2)));
    expect(plateau.map((r) => r[0])).toEqual(['2-31 min', '32-61 min', '62-91 min', '92-120 min']);
    expect(plateau.slice(1).map((r) => Number(r[4]))).toEqual([0, 0, 0]);
    expect(plateau.slice(1).map((r) => r[2])).toEqual(['130.0', '130.0', '130.0']);
    expect(leak.map((r) => Number(r[4]))).toEqual([30, 30, 30, 30]);
    // Runs from before RssAnon was sampled have no anonymous slope.
    expect(plateau.map((r) => r[5])).toEqual(['NaN', 'NaN', 'NaN', 'NaN']);
  });

  it('gives the slope of anonymous memory apart from RSS', () => {
    // RSS grows by code paged in (file-backed) while anonymous memory stays flat.
    const samples = run(120, (m) => 100 + m / 2).map((s, i) => ({ ...s, rssAnonMiB: 80, rssFileMiB: 20 + (i + 1) / 2 }));
    const rows = windowRows(steadySamples(SETTINGS, samples));
    expect(rows.map((r) => Number(r[4]))).toEqual([30, 30, 30, 30]);
    expect(rows.map((r) => Number(r[5]))).toEqual([0, 0, 0, 0]);
    expect(soakReport(SETTINGS, samples)).toContain('anon slope MiB/h');
  });

  it('splits anonymous memory into the V8 heaps and what lies outside them', () => {
    // Anonymous memory grows 10 MiB/h, all of it in the media workers' heaps: nothing left outside V8.
    const samples = run(120, (m) => 120 + m / 6).map((s, i) => ({
      ...s,
      rssAnonMiB: 100 + (i + 1) / 6,
      heapTotalMiB: 30,
      workerHeapMiB: 10 + (i + 1) / 6,
      workerHeapTotalMiB: 20 + (i + 1) / 6,
    }));
    expect(outsideV8MiB(samples[0] as Sample)).toBe(50);
    const rows = windowRows(steadySamples(SETTINGS, samples));
    expect(rows.map((r) => Number(r[5]))).toEqual([10, 10, 10, 10]);
    expect(rows.map((r) => Number(r[7]))).toEqual([10, 10, 10, 10]);
    expect(rows.map((r) => Number(r[8]))).toEqual([0, 0, 0, 0]);
    const report = soakReport(SETTINGS, samples);
    expect(report).toContain('anon outside V8 slope MiB/h');
    expect(report).toContain("per hour: main thread's heap reserved 0.0 MiB, media workers' heaps reserved 10.0 MiB (in use 10.0), outside V8 0.0 MiB");
    expect(soakReport(SETTINGS, run(120, () => 130))).not.toContain('anonymous memory by part');
    // A run from before the workers' heaps were sampled shows none.
    expect(outsideV8MiB(run(1, () => 100)[0] as Sample)).toBeNaN();
    expect(windowRows(steadySamples(SETTINGS, run(120, () => 130))).map((r) => r[8])).toEqual(['NaN', 'NaN', 'NaN', 'NaN']);
  });

  it('prints the windows only for a run long enough to have two', () => {
    expect(soakReport(SETTINGS, run(120, () => 130))).toContain('steady part by windows of 30 min:');
    expect(soakReport({ ...SETTINGS, minutes: 30 }, run(30, () => 130))).not.toContain('windows of 30 min');
  });

  it('plots memory, descriptors and lag over the minutes under load, one point per sample', () => {
    const plots = soakPlots(run(90, (m) => 100 + m / 10));
    expect(Object.keys(plots).sort()).toEqual(['endurance-descripteurs.svg', 'endurance-memoire.svg', 'endurance-retard.svg']);
    const memory = plots['endurance-memoire.svg'] ?? '';
    const lines = [...memory.matchAll(/<polyline points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' ').length);
    expect(lines).toEqual([90, 90]);
    expect(memory).toContain('mémoire résidente (RSS)');
  });

  it('draws anonymous memory as a third memory curve when the run sampled it', () => {
    const plots = soakPlots(run(90, () => 130).map((s) => ({ ...s, rssAnonMiB: 100 })));
    const memory = plots['endurance-memoire.svg'] ?? '';
    expect([...memory.matchAll(/<polyline /g)]).toHaveLength(3);
    expect(memory).toContain('dont mémoire anonyme');
  });

  it('draws the media workers’ heaps and the memory outside V8 when the run sampled them', () => {
    const plots = soakPlots(run(90, () => 130).map((s) => ({ ...s, rssAnonMiB: 100, heapTotalMiB: 30, workerHeapMiB: 12, workerHeapTotalMiB: 20 })));
    const memory = plots['endurance-memoire.svg'] ?? '';
    expect([...memory.matchAll(/<polyline /g)]).toHaveLength(5);
    expect(memory).toContain('tas V8 des threads média');
    expect(memory).toContain('hors tas V8');
  });
});
