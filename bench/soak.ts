/**
 * Soak: voix under a steady load of relayed calls for a long time, with its
 * resident memory, open file descriptors and event-loop lag sampled at a
 * regular interval, to see whether the curves stay flat (no leak of memory,
 * sockets or timers, no drift of the lag).
 *
 *   npm run build && npm run bench:soak -- [--minutes 30] [--calls 100] [--call-seconds 60]
 *        [--sample-seconds 60] [--rate 10] [--workers 0] [--json FILE] [--keep]
 *   npm run bench:soak -- --report FILE.json [--until-minute N] [--plots DIR]
 *        an earlier run's report again (up to minute N), and its curves as SVG
 *
 * voix runs as in production (node dist/server.js --config <generated
 * yaml>, UDP on 127.0.0.1, digest MD5, users 1001 and 1002, the
 * administration API on 127.0.0.1 for /metrics). A SIPp registers 1002,
 * then a SIPp UAS (bench/scenarios/relay-uas-answer.xml, -rtp_echo) answers
 * its calls and sends every RTP packet back. A SIPp UAC
 * (relay-uac-call-pcap.xml) keeps --calls calls up (-l), each playing a
 * PCMU stream (play_pcap_audio, needs root) for --call-seconds then hanging
 * up, new calls starting at up to --rate per second as others end: the
 * load is steady and the calls churn (100 calls of 60 s: 1.7 new calls a
 * second, 3 000 in a 30 minute soak), so that what a call leaves behind
 * would pile up.
 *
 * Sampled every --sample-seconds (and once before the calls, and once after
 * they ended): from /proc, voix's resident memory (all threads), its open
 * file descriptors, its CPU use over the interval; from its /metrics, the
 * event-loop lag (the smoothed value the overload protection reads, and
 * the 99th percentile of the interval's samples as the histogram's bucket
 * bound), the V8 heap of the main thread, calls and relays active,
 * transactions, calls ended by outcome, requests refused for overload; from
 * SIPp, calls up and failed. And the time voix's main thread was runnable
 * but waiting for a core (/proc schedstat), and the machine's steal time
 * (/proc/stat): lag the machine caused, not voix.
 * The report gives each curve and its least-squares slope over the steady
 * part (from the second sample with all calls up), per hour.
 *
 * voix, both SIPp and this process share the machine's cores (2 here, with
 * whatever else runs): the lag and CPU figures are those of a shared machine.
 * Takes /tmp/voix-bench.lock like the other benchmarks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rtpPcap } from '../test/e2e/harness/rtp.js';
import { freePort, killOnExit, machineLine, processCpuMs, processRssBytes, stopProcess, takeBenchLock, threadSchedMs } from './relay-machine.js';
import { procStatusBytes } from './relay-under-test.js';
import { soakPlots, soakReport, type Sample, type SoakSettings } from './soak-report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIOS = path.join(ROOT, 'bench/scenarios');
const PORT_MIN = 20000;
const PORT_MAX = 29999;
/** SIPp's media ports (-mp), outside voix's range. */
const UAC_MEDIA_PORT = 40100;
const UAS_MEDIA_PORT = 40110;
const REGISTER_MEDIA_PORT = 40120;
const PCAP_SSRC = 0x50a4cafe;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const minutes = Number(option('minutes') ?? 30);
const calls = Number(option('calls') ?? 100);
const callSeconds = Number(option('call-seconds') ?? 60);
const sampleSeconds = Number(option('sample-seconds') ?? 60);
const rate = Number(option('rate') ?? 10);
const workers = Number(option('workers') ?? 0);
/** The callee's registration outlives the run: the calls and their end, plus margin. */
const calleeRegistrationSeconds = Math.max(3600, (minutes + 30) * 60);
const jsonFile = option('json');
/** Keep the run's directory (voix.log, SIPp's error files) instead of removing it. */
const keep = process.argv.includes('--keep');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line: string): void => void process.stderr.write(`${line}\n`);


type Metrics = Map<string, number>;

/** The samples of a Prometheus text (name with its labels → value). */
function parseMetrics(text: string): Metrics {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

function sum(metrics: Metrics, prefix: string, filter: (key: string) => boolean = () => true): number {
  let total = 0;
  for (const [key, value] of metrics) if (key.startsWith(prefix) && filter(key)) total += value;
  return total;
}

/** Like sum, but NaN when voix serves no such metric (a build from before it existed), not a misleading 0. */
function sumIfServed(metrics: Metrics, prefix: string): number {
  for (const key of metrics.keys()) if (key.startsWith(prefix)) return sum(metrics, prefix);
  return Number.NaN;
}

/** The lag histogram's cumulative bucket counts, by bound (seconds). */
function lagBuckets(metrics: Metrics): Array<{ le: number; count: number }> {
  const buckets: Array<{ le: number; count: number }> = [];
  for (const [key, value] of metrics) {
    const match = /^voix_event_loop_lag_seconds_bucket\{le="([^"]+)"\}$/.exec(key);
    if (match !== null) buckets.push({ le: match[1] === '+Inf' ? Infinity : Number(match[1]), count: value });
  }
  return buckets.sort((a, b) => a.le - b.le);
}

/** The bucket bound under which a fraction q of the interval's samples fall (ms), from two cumulative snapshots. */
function lagQuantileMs(before: Metrics, after: Metrics, q: number): number {
  const a = lagBuckets(after);
  const b = new Map(lagBuckets(before).map((x) => [x.le, x.count]));
  const delta = a.map((x) => ({ le: x.le, count: x.count - (b.get(x.le) ?? 0) }));
  const total = delta[delta.length - 1]?.count ?? 0;
  if (total === 0) return Number.NaN;
  for (const bucket of delta) if (bucket.count >= q * total) return bucket.le * 1000;
  return Infinity;
}

/** The machine's steal time so far, all cores (ms). */
function stealMs(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  return Number(fields[8] ?? 0) * 10;
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** The last row of SIPp's statistics CSV, by column. */
function sippStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  return Object.fromEntries(header.map((h, i) => [h, last[i] ?? '']));
}

function sippArgs(remote: string | null, scenario: string, extra: string[]): string[] {
  return [...(remote === null ? [] : [remote]), '-sf', scenario, '-t', 'u1', '-i', '127.0.0.1', '-nostdin', ...extra];
}

function udpBound(port: number): boolean {
  const out = spawnSync('ss', ['-Hnuln', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  return out.trim().length > 0;
}

async function startVoix(dir: string, adminPort: number): Promise<{ child: ChildProcess; port: number; passwords: Record<string, string> }> {
  const port = await freePort();
  const passwords = { '1001': `soak-${randomBytes(6).toString('hex')}`, '1002': `soak-${randomBytes(6).toString('hex')}` };
  const yaml = [
    'server:',
    '  domain: voix.bench',
    '  aliases: [127.0.0.1]',
    `  data_dir: ${dir}/data`,
    '  log_level: info',
    '  listen:',
    `    udp: { address: 127.0.0.1, port: ${port} }`,
    '    tcp: false',
    '    tls: false',
    'auth:',
    '  algorithms: [MD5]',
    'users:',
    ...Object.entries(passwords).map(([extension, password]) => `  - { extension: "${extension}", password: "${password}", transports: [udp], srtp: off }`),
    'media:',
    '  address: 127.0.0.1',
    `  port_min: ${PORT_MIN}`,
    `  port_max: ${PORT_MAX}`,
    `  workers: ${workers}`,
    'admin:',
    `  listen: { address: 127.0.0.1, port: ${adminPort} }`,
    // The callee registers once, for the whole run (a first 120-minute run lost it after the default 3600 s).
    'registrar:',
    `  max_expires: ${calleeRegistrationSeconds}`,
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'voix.yaml'), yaml);
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/server.js'), '--config', path.join(dir, 'voix.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const log = createWriteStream(path.join(dir, 'voix.log'));
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString();
      if (buffer.includes('"msg":"ready"')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`voix exited with ${code} before ready:\n${buffer.slice(-2000)}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout?.pipe(log);
  return { child, port, passwords };
}

async function main(): Promise<void> {
  const saved = option('report');
  if (saved !== undefined) {
    // The report of an earlier run, from its JSON: nothing runs.
    const run = JSON.parse(readFileSync(saved, 'utf8')) as SoakSettings & { samples: Sample[] };
    // --until-minute N: the samples up to minute N only (the rest of a run whose load failed, say).
    const until = option('until-minute');
    if (until !== undefined) run.samples = run.samples.filter((sample) => sample.atSeconds <= Number(until) * 60);
    process.stdout.write(`${until === undefined ? '' : `(samples up to minute ${until} only)\n`}${soakReport(run, run.samples)}\n`);
    const plotsDir = option('plots');
    if (plotsDir !== undefined) {
      for (const [name, svg] of Object.entries(soakPlots(run.samples))) writeFileSync(path.join(plotsDir, name), svg);
      say(`plots written to ${plotsDir}`);
    }
    return;
  }
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('dist/server.js is missing: run npm run build first');
  if (process.getuid?.() !== 0) throw new Error('SIPp plays RTP from a pcap through a raw socket: run as root');
  await takeBenchLock('soak', say);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-soak-'));
  const adminPort = await freePort();
  const voix = await startVoix(dir, adminPort);
  const pid = voix.child.pid ?? -1;
  const remote = `127.0.0.1:${voix.port}`;
  const metricsUrl = `http://127.0.0.1:${adminPort}/metrics`;
  const readMetrics = async (): Promise<Metrics> => parseMetrics(await (await fetch(metricsUrl)).text());

  const calleePort = await freePort();
  const registerScenario = path.join(dir, 'uac-register.xml');
  writeFileSync(registerScenario, readFileSync(path.join(SCENARIOS, 'relay-uac-register.xml'), 'utf8').replaceAll('Expires: 3600', `Expires: ${calleeRegistrationSeconds}`));
  const registration = spawnSync('sipp', sippArgs(remote, registerScenario, ['-s', '1002', '-au', '1002', '-ap', voix.passwords['1002'] ?? '', '-p', String(calleePort), '-mp', String(REGISTER_MEDIA_PORT), '-m', '1', '-timeout', '10s', '-timeout_error']), { cwd: dir, stdio: 'ignore' });
  if (registration.status !== 0) throw new Error(`SIPp could not register 1002 (exit ${registration.status})`);
  const uas = spawn('sipp', sippArgs(null, path.join(SCENARIOS, 'relay-uas-answer.xml'), ['-p', String(calleePort), '-mp', String(UAS_MEDIA_PORT), '-rtp_echo', '-trace_err', '-error_file', path.join(dir, 'uas-errors.log')]), { cwd: dir, stdio: 'ignore' });
  killOnExit(uas);
  for (let i = 0; i < 50 && !udpBound(calleePort); i++) await sleep(100);
  if (!udpBound(calleePort)) throw new Error('the SIPp UAS did not bind its port');

  const pcap = path.join(dir, `pcmu-${callSeconds}s.pcap`);
  writeFileSync(pcap, rtpPcap({ payloads: Array.from({ length: callSeconds * 50 }, () => Buffer.alloc(160, 0xff)), payloadType: 0, ssrc: PCAP_SSRC }));
  const scenario = path.join(dir, 'uac-soak.xml');
  writeFileSync(scenario, readFileSync(path.join(SCENARIOS, 'relay-uac-call-pcap.xml'), 'utf8').replaceAll('{{pcap}}', pcap).replaceAll('{{pause_ms}}', String(callSeconds * 1000 + 500)));
  const stats = path.join(dir, 'uac-stats.csv');

  const samples: Sample[] = [];
  const mainWaitMs = (): number => threadSchedMs(pid, pid).waitMs;
  let previous = { metrics: await readMetrics(), cpuMs: processCpuMs(pid), waitMs: mainWaitMs(), stealMs: stealMs(), at: performance.now() };
  const startedAt = performance.now();
  const take = async (label: string): Promise<Sample> => {
    const metrics = await readMetrics();
    const cpuMs = processCpuMs(pid);
    const waitMs = mainWaitMs();
    const steal = stealMs();
    const at = performance.now();
    const sipp = sippStats(stats);
    const refused = (m: Metrics) => sum(m, 'voix_sip_requests_overload_refused_total{');
    const sample: Sample = {
      atSeconds: Math.round((at - startedAt) / 1000),
      label,
      rssMiB: processRssBytes(pid) / 2 ** 20,
      rssAnonMiB: procStatusBytes(pid, 'RssAnon') / 2 ** 20,
      rssFileMiB: procStatusBytes(pid, 'RssFile') / 2 ** 20,
      openFds: openFds(pid),
      heapMiB: (metrics.get('voix_process_heap_used_bytes') ?? Number.NaN) / 2 ** 20,
      heapTotalMiB: (metrics.get('voix_process_heap_total_bytes') ?? Number.NaN) / 2 ** 20,
      workerHeapMiB: sumIfServed(metrics, 'voix_media_worker_heap_used_bytes{') / 2 ** 20,
      workerHeapTotalMiB: sumIfServed(metrics, 'voix_media_worker_heap_total_bytes{') / 2 ** 20,
      lagSmoothedMs: (metrics.get('voix_event_loop_lag_smoothed_seconds') ?? Number.NaN) * 1000,
      lagP99Ms: lagQuantileMs(previous.metrics, metrics, 0.99),
      lagMaxBucketMs: lagQuantileMs(previous.metrics, metrics, 1),
      cpuPercent: ((cpuMs - previous.cpuMs) / (at - previous.at)) * 100,
      mainThreadWaitMs: waitMs - previous.waitMs,
      stealMs: steal - previous.stealMs,
      overloadRefused: refused(metrics) - refused(previous.metrics),
      callsActive: metrics.get('voix_calls_active') ?? Number.NaN,
      relays: metrics.get('voix_media_relays') ?? Number.NaN,
      serverTransactions: metrics.get('voix_sip_transactions{side="server"}') ?? Number.NaN,
      callsEnded: sum(metrics, 'voix_calls_total{'),
      callsEndedAbnormally: sum(metrics, 'voix_calls_total{', (key) => !key.includes('outcome="normal"')),
      sippCallsUp: Number(sipp['CurrentCall'] ?? Number.NaN),
      sippFailed: Number(sipp['FailedCall(C)'] ?? Number.NaN),
    };
    previous = { metrics, cpuMs, waitMs, stealMs: steal, at };
    samples.push(sample);
    say(`${label.padEnd(12)} t=${sample.atSeconds}s rss ${sample.rssMiB.toFixed(1)} MiB, fds ${sample.openFds}, lag ${sample.lagSmoothedMs.toFixed(1)} ms (p99 ≤ ${sample.lagP99Ms} ms), calls ${sample.callsActive}, cpu ${sample.cpuPercent.toFixed(0)}%`);
    return sample;
  };

  await take('before');
  const totalCalls = Math.ceil((minutes * 60 * calls) / callSeconds) + calls;
  const uac = spawn(
    'sipp',
    sippArgs(remote, scenario, [
      '-s', '1002',
      '-au', '1001',
      '-ap', voix.passwords['1001'] ?? '',
      '-p', String(await freePort()),
      '-mp', String(UAC_MEDIA_PORT),
      '-r', String(rate),
      '-rp', '1000',
      '-l', String(calls),
      '-m', String(totalCalls),
      '-trace_stat', '-stf', stats, '-fd', '5',
      '-trace_err', '-error_file', path.join(dir, 'uac-errors.log'),
    ]),
    { cwd: dir, stdio: 'ignore' },
  );
  killOnExit(uac);
  const uacExited = new Promise<void>((resolve) => uac.once('exit', () => resolve()));
  const end = startedAt + minutes * 60_000;
  for (let n = 1; performance.now() < end - 1000; n++) {
    await sleep(Math.max(0, Math.min(startedAt + n * sampleSeconds * 1000, end) - performance.now()));
    await take(`minute ${((performance.now() - startedAt) / 60_000).toFixed(1)}`);
  }
  // The end: SIPp stops placing calls (SIGUSR1) and lets those up finish; then a last sample with no call.
  uac.kill('SIGUSR1');
  await Promise.race([uacExited, sleep((callSeconds + 30) * 1000)]);
  await stopProcess(uac);
  for (let i = 0; i < 100; i++) {
    const active = (await readMetrics()).get('voix_calls_active') ?? 0;
    if (active === 0) break;
    await sleep(100);
  }
  await take('after calls');
  await stopProcess(uas);
  await stopProcess(voix.child, 35_000);

  const settings: SoakSettings = { minutes, calls, callSeconds, sampleSeconds, rate, workers, machine: machineLine(), mallocArenaMax: process.env['MALLOC_ARENA_MAX'] ?? null };
  const report = soakReport(settings, samples);
  process.stdout.write(`${report}\n`);
  if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify({ ...settings, samples }, null, 2)}\n`);
  if (keep) say(`run directory kept: ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
