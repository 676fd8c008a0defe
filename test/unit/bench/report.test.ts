import { describe, expect, it } from 'vitest';
import { comparisonTable, figuresOf, fr, relayInFrench, isBehind, ratioOf, writeMarkdownReport, type BenchReport, type WorkloadRun } from '../../../bench/report/report.js';

const run = (name: string, data: unknown): WorkloadRun => ({ name, command: `npx tsx bench/${name}.ts`, exitCode: 0, seconds: 60, data, output: '' });

const ivrStep = (server: string, calls: number, deltaP99Us: number, jitterP99Ms: number) => ({
  server,
  calls,
  streams: calls,
  deltaP50Us: 20,
  deltaP99Us,
  deltaMaxUs: 2 * deltaP99Us,
  jitterMedianMs: jitterP99Ms / 2,
  jitterP99Ms,
  lossPercent: 0,
  cpuPercent: 5,
  sippFailed: 0,
  windows: [],
});

function report(workloads: WorkloadRun[]): BenchReport {
  return {
    command: 'npm run bench',
    date: '2026-11-27T10:00:00.000Z',
    host: 'test',
    machine: { cpu: 'CPU', cores: 2, memoryGiB: 4, kernel: '6.1', os: 'Debian 12', node: 'v20', voix: '0.1.0 (abc)', sipp: 'SIPp v3.6.1' },
    prepareSeconds: 0,
    totalSeconds: 600,
    workloads,
  };
}

describe('bench report', () => {
  it('compares every figure with its peer and judges the aims from the raw data', () => {
    const figures = figuresOf(
      report([
        run('register', { results: [{ name: 'voix', version: 'v', best: { rate: 1000, achieved: 990 }, lowerBound: false }, { name: 'asterisk', version: 'a', best: { rate: 1500, achieved: 1480 }, lowerBound: false }] }),
        run('call-setup', { results: [{ name: 'voix', version: 'v', best: 200, lowerBound: false, delays: { rate: 160, p50: 2, p95: 4, p99: 9 } }, { name: 'asterisk', version: 'a', best: 100, lowerBound: false, delays: { rate: 80, p50: 5, p95: 9, p99: 13 } }] }),
        run('ivr', { repeat: 3, windowSeconds: 10, versions: [], results: [ivrStep('voix', 1, 1300, 0.12), ivrStep('asterisk', 1, 600, 0.08), ivrStep('voix', 100, 800, 0.1), ivrStep('asterisk', 100, 3000, 1)] }),
        run('srtp', { versions: { libsrtp: '2.5' }, paths: [{ name: 'voix-srtp-session', protect: 2e6, unprotect: 2e6, costVsLibsrtp: { protect: 0.2, unprotect: 0.25 } }, { name: 'libsrtp2', protect: 4e5, unprotect: 5e5, costVsLibsrtp: { protect: 1, unprotect: 1 } }] }),
      ]),
    );
    const aims = Object.fromEntries(figures.aims.map((a) => [a.aim, a.met]));
    expect(aims['enregistrements/s ≥ Asterisk']).toBe(false);
    expect(aims['appels/s ≥ 2 × Asterisk']).toBe(true);
    expect(aims['gigue p99 du SVI ≤ Asterisk à chaque N']).toBe(false);
    expect(aims['coût SRTP par paquet ≤ 1,5 × celui de libsrtp2']).toBe(true);
    const register = figures.comparisons.find((c) => c.workload === 'register');
    expect(register).toMatchObject({ voix: 1000, peer: 'Asterisk', peerValue: 1500, better: 'higher' });
  });

  it('says an aim was not measured when its workload did not run', () => {
    const figures = figuresOf(report([run('register', null)]));
    expect(figures.aims.map((a) => [a.aim, a.met])).toEqual([['appels SRTP simultanés ≥ Asterisk', null]]);
    const partial = figuresOf(report([run('register', { results: [{ name: 'voix', version: 'v', best: { rate: 1000, achieved: 990 }, lowerBound: false }] })]));
    expect(partial.aims[0]).toEqual({ aim: 'enregistrements/s ≥ Asterisk', measured: 'non mesuré', met: null });
  });

  it('compares relayed calls with each peer and judges the SRTP aim against Asterisk', () => {
    const ratio = (peer: string, voix: number, peerValue: number) => ({
      peer,
      highestGoodStep: { voix, peer: peerValue, ratio: voix / peerValue, voixLowerBound: false, peerLowerBound: true },
      atCommonStep: { calls: 300, cpuUsPerPacket: { voix: 15, peer: 30, ratio: 0.5 }, stateKbPerCall: { voix: 10, peer: 40, ratio: 0.25 } },
    });
    const outcomes = [{ relay: 'voix', version: 'v', lastGood: 500, stoppedBecause: 'bad at 600' }];
    const figures = figuresOf(
      report([
        run('relay', { bench: 'relay', mode: 'plain', outcomes, ratios: [ratio('rtpengine', 600, 400)] }),
        run('relay-srtp', { bench: 'relay', mode: 'srtp', outcomes, ratios: [ratio('asterisk', 500, 200)] }),
      ]),
    );
    const relay = figures.comparisons.filter((c) => c.workload === 'relay');
    expect(relay.map((c) => [c.peer, c.voix, c.peerValue])).toEqual([['rtpengine', 600, 400], ['rtpengine', 15, 30], ['rtpengine', 10, 40]]);
    expect(relay[0]?.note).toContain('rtpengine : borne basse');
    expect(figures.aims.find((a) => a.aim === 'appels SRTP simultanés ≥ Asterisk')?.met).toBe(true);
  });

  it('gives no ratio for a memory difference below zero, and says which memory each side is', () => {
    const figures = figuresOf(
      report([
        run('relay-srtp', {
          bench: 'relay',
          mode: 'srtp',
          outcomes: [],
          ratios: [{ peer: 'asterisk', voix: 'voix-server', highestGoodStep: { voix: 600, peer: 100, ratio: 6, voixLowerBound: false, peerLowerBound: false }, atCommonStep: { calls: 100, runs: { voix: 3, peer: 3 }, cpuUsPerPacket: { voix: 20, peer: 66, ratio: 0.3 }, stateKbPerCall: { voix: -33, peer: 1377, ratio: -0.02 } } }],
        }),
      ]),
    );
    const memory = figures.comparisons.find((c) => c.figure.includes('mémoire par appel'));
    expect(memory).toBeDefined();
    expect(ratioOf(memory!)).toBeNull();
    expect(memory?.note).toContain('RssAnon');
    expect(memory?.note).toContain('sous le bruit');
    expect(comparisonTable([memory!])).toContain('| n/d |');
  });

  it('shows percentages under 1 with three decimals, so two small pacing errors do not both read 0,0', () => {
    const table = comparisonTable([{ workload: 'dialer', figure: 'écart', unit: '%', voix: 0.0163, peer: 'Asterisk', peerValue: 0.001, better: 'lower' }]);
    expect(table).toContain('| 0,016 % | Asterisk | 0,001 % |');
  });

  it('counts the dialer level with Asterisk when their pacing errors differ by less than one call per window', () => {
    const result = (server: 'voix' | 'asterisk', achieved: number) => ({ server, rate: 10, calls: 600, achieved, intervals: { p1: 97, p50: 100, p99: 104 }, maxPerSecond: 11, cpuMsPerCall: 5, valid: true });
    const errorOf = (voixAchieved: number) =>
      figuresOf(report([run('dialer', { seconds: 60, windows: 3, results: [result('voix', voixAchieved), result('asterisk', 10)] })])).comparisons.find((c) => c.figure.includes('écart du débit'));
    // 3 windows of 20 s at 10/s: one call in 200 is 0.5 %.
    const level = errorOf(10.001);
    expect(level?.resolution).toBeCloseTo(0.5);
    expect(isBehind(level!)).toBe(false);
    expect(level?.note).toContain('à égalité');
    const behind = errorOf(10.1);
    expect(isBehind(behind!)).toBe(true);
    expect(behind?.note).toBeUndefined();
  });

  it('writes French numbers and keeps table cells whole', () => {
    expect(fr(1234567.891, 2)).toBe('1\u202f234\u202f567,89');
    expect(fr(-0.5, 1)).toBe('−0,5');
    expect(fr(null)).toBe('n/d');
    const markdown = writeMarkdownReport(report([run('ivr', { repeat: 3, windowSeconds: 10, versions: [], results: [ivrStep('voix', 1, 1300, 0.12), ivrStep('asterisk', 1, 600, 0.08)] })]), 'x.json');
    const row = markdown.split('\n').find((line) => line.startsWith('| SVI, 1 appel : \\|Δ−20 ms\\| p99'));
    expect(row?.split(/(?<!\\)\|/).length).toBe(9);
  });
});

describe('relayInFrench', () => {
  it('puts the relay bench’s verdicts and version notes in French, numbers kept, and leaves an unknown phrase as written', () => {
    expect(relayInFrench('600 calls: bad (mean jitter 18.33 ms > 5 ms; relay thread saturated (99% of its core))')).toBe(
      '600 appels : mauvais (gigue moyenne 18.33 ms > 5 ms ; thread de relais saturé (99 % de son cœur))',
    );
    expect(relayInFrench('400 calls: invalid (loss 0.40% > 0.1%), after 3 tries: inconclusive beyond')).toBe('400 appels : non concluant (pertes 0.40 % > 0.1 %), après 3 essais : rien de concluant au-delà');
    expect(relayInFrench('voix 8985048, Node v20.20.2, native UDP addon, native SRTP crypto')).toBe('voix 8985048, Node v20.20.2, module UDP natif, chiffrement SRTP natif');
    expect(relayInFrench('something new')).toBe('something new');
  });
});
