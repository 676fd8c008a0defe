/**
 * Call set-up rate through a B2BUA, side by side in one run: SIPp UAC
 * (user 1001, digest) → server → SIPp UAS (user 1002, registered), short
 * calls without RTP (INVITE, challenge, INVITE, 180, 200, ACK, a short
 * hold, BYE). voix (node dist/server.js) and Asterisk 22 (PJSIP, Dial(),
 * media anchored: direct_media no) get the same users and the same ramp of
 * call rates; each one's figure is the highest rate at which `--repeat`
 * runs had every call succeed with no retransmission and no SIPp watchdog
 * warning (each rate run once going up, then the highest confirmed:
 * bench/ramp.ts). Then, at 80 % of that rate, `--repeat` runs each on a
 * freshly started server: the session request delay
 * (RFC 6076 SRD: authenticated INVITE to the 180 back, per call, from a
 * capture of the server's SIP port with kernel timestamps): p50, p95, p99,
 * each the median of the runs'. For voix, each delay run also gives the
 * main thread's garbage-collection pauses during it (from its /metrics:
 * count, total and longest by kind), to tell them from other causes of the
 * tail, and how its slow calls bunch together (bench/bursts.ts).
 *
 *   npm run build && npm run bench:call-setup -- [--seconds 10] [--repeat 3] [--hold-ms 100]
 *        [--servers voix,asterisk] [--rates 25,50,...] [--json out.json]   (KEEP_FILES=1 keeps SIPp's files)
 *
 * The server under test (all its threads) runs on core 0; both SIPp on
 * core 1. A step where a SIPp watchdog warned is invalid (SIPp fell behind,
 * not the server) and ends that server's ramp: its figure is then a lower
 * bound. Kamailio is not here: a proxy without media is not comparable
 * with a B2BUA that anchors media.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asteriskVersion, ensureAsteriskRootfs, startAsterisk } from './peers/asterisk.js';
import { rampToHighestClean, type RampOutcome } from './ramp.js';
import { median } from './windows.js';
import { startCapture } from './relay-capture.js';
import { freePort, hasTaskset, killOnExit, pinnedTo, processCpuMs, stopProcess } from './relay-machine.js';
import { benchServerYaml, startVoixProcess } from './voix-process.js';
import { slowBursts } from './bursts.js';
import { gcPauseDelta, gcPauseTotals, longestPauseBoundMs, type GcKindTotals } from './voix-gc.js';
import { builtVoix } from './voix-build.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIOS = path.join(ROOT, 'bench/scenarios');
const RTP_MIN = 31000;
const RTP_MAX = 39999;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const seconds = Number(option('seconds', '10'));
const repeat = Number(option('repeat', '3'));
const holdMs = Number(option('hold-ms', '100'));
const wanted = option('servers', 'voix,asterisk').split(',');
const jsonFile = option('json', '');
const RATES = option('rates', '25,50,100,150,200,300,400,500,700,1000').split(',').map(Number);
const onServerCore = hasTaskset ? ['taskset', '-c', '0'] : [];
const onSippCore = hasTaskset ? ['taskset', '-c', '1'] : [];

interface Lab {
  readonly port: number;
  readonly uas: ChildProcess;
  /** The server's processes, for their CPU time (/proc). */
  readonly pids: () => number[];
  /** The server's main-thread GC pauses so far (voix's /metrics), or null when it cannot tell. */
  readonly gcPauses: () => Promise<Map<string, GcKindTotals> | null>;
}

interface Server {
  readonly name: string;
  readonly version: string;
  /** Starts the server with users 1001 and 1002 (passwords given) on `port`; resolves with its stop function. */
  start(dir: string, port: number, passwords: Readonly<Record<string, string>>): Promise<{ readonly stop: () => Promise<void>; readonly pids: () => number[]; readonly gcPauses?: Lab['gcPauses'] }>;
}

function sipp(args: string[], dir: string): ReturnType<typeof spawnSync> {
  const argv = [...onSippCore, 'sipp', ...args];
  return spawnSync(argv[0] as string, argv.slice(1), { cwd: dir, stdio: 'ignore' });
}

/** 1002 registered from the port the UAS then answers on, and the UAS running. */
async function startCallee(dir: string, port: number, password: string): Promise<Omit<Lab, 'pids' | 'gcPauses'>> {
  const calleePort = await freePort();
  const registration = sipp(
    [`127.0.0.1:${port}`, '-sf', path.join(SCENARIOS, 'relay-uac-register.xml'), '-t', 'u1', '-i', '127.0.0.1', '-nostdin', '-s', '1002', '-au', '1002', '-ap', password, '-p', String(calleePort), '-m', '1', '-timeout', '10s', '-timeout_error'],
    dir,
  );
  if (registration.status !== 0) throw new Error(`SIPp could not register 1002 (exit ${String(registration.status)})`);
  const argv = [...onSippCore, 'sipp', '-sf', path.join(SCENARIOS, 'relay-uas-answer.xml'), '-t', 'u1', '-i', '127.0.0.1', '-nostdin', '-p', String(calleePort), '-mp', '40000', '-trace_err', '-error_file', path.join(dir, 'uas-errors.log')];
  const uas = spawn(argv[0] as string, argv.slice(1), { cwd: dir, stdio: 'ignore' });
  killOnExit(uas);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { port, uas };
}

interface Run {
  readonly rate: number;
  readonly run: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly watchdog: boolean;
  readonly achieved: number;
  /** The server's CPU time (all its threads) over the run, per call placed. */
  readonly cpuMsPerCall: number;
  readonly verdict: 'clean' | 'failed' | 'invalid';
  /** Session request delays in ms (srd), when asked for. */
  readonly srdMs: number[];
  /** The server's main-thread GC pauses during the run, when delays were asked for and the server tells (voix). */
  readonly gcPauses: Record<string, { readonly count: number; readonly sumMs: number; readonly longestBoundMs: number }> | null;
}

async function runCalls(dir: string, lab: Lab, password: string, rate: number, run: number, label: string, withDelays: boolean): Promise<Run> {
  const calls = Math.max(1, Math.round(rate * seconds));
  const scenario = path.join(dir, 'call-setup-uac.xml');
  writeFileSync(scenario, readFileSync(path.join(SCENARIOS, 'call-setup-uac.xml'), 'utf8').replaceAll('{{hold_ms}}', String(holdMs)));
  const stat = path.join(dir, `stat-${label}.csv`);
  const errors = path.join(dir, `errors-${label}.log`);
  const pcap = path.join(dir, `sip-${label}.pcap`);
  const capture = withDelays ? await startCapture(pcap, `udp port ${lab.port}`, pinnedTo(1, hasTaskset), 0) : null;
  const cpuMs = (): number => lab.pids().reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const gcBefore = withDelays ? await lab.gcPauses() : null;
  const cpuBefore = cpuMs();
  const started = process.hrtime.bigint();
  sipp(
    [
      `127.0.0.1:${lab.port}`, '-sf', scenario, '-t', 'u1', '-i', '127.0.0.1', '-nostdin',
      '-s', '1002', '-au', '1001', '-ap', password, '-mp', '45000',
      '-r', String(rate), '-m', String(calls), '-l', String(Math.max(50, Math.ceil((rate * (holdMs + 1000)) / 1000) * 2)),
      '-trace_stat', '-stf', stat, '-fd', '1', '-trace_err', '-error_file', errors,
      '-timeout', String(seconds + 30), '-timeout_error',
    ],
    dir,
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuMsPerCall = (cpuMs() - cpuBefore) / Math.max(1, calls);
  const gcAfter = gcBefore === null ? null : await lab.gcPauses();
  const gcPauses = gcBefore === null || gcAfter === null ? null : gcPausesOf(gcPauseDelta(gcBefore, gcAfter));
  const dropped = capture === null ? 0 : await capture.stop();
  if (dropped > 0) throw new Error(`the SIP capture dropped ${dropped} packets`);
  const lines = existsSync(stat) ? readFileSync(stat, 'utf8').trim().split('\n') : [];
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const field = (name: string): number => Number(last[header.indexOf(name)] ?? NaN);
  const watchdog = existsSync(errors) && /watchdog/i.test(readFileSync(errors, 'utf8'));
  const successful = field('SuccessfulCall(C)');
  const failed = field('FailedCall(C)');
  const retransmissions = field('Retransmissions(C)');
  const verdict = watchdog ? 'invalid' : successful === calls && failed === 0 && retransmissions === 0 ? 'clean' : 'failed';
  return { rate, run, calls, successful, failed, retransmissions, watchdog, achieved: calls / elapsed, cpuMsPerCall, verdict, srdMs: withDelays ? delaysFromCapture(pcap, lab.port) : [], gcPauses };
}

function gcPausesOf(delta: Map<string, GcKindTotals>): NonNullable<Run['gcPauses']> {
  return Object.fromEntries([...delta.entries()].map(([kind, t]) => [kind, { count: t.count, sumMs: Math.round(t.sumMs * 10) / 10, longestBoundMs: longestPauseBoundMs(t) }]));
}

function describeBursts(srdMs: readonly number[]): string {
  const { slow, bursts, longest } = slowBursts(srdMs);
  return slow === 0 ? 'no call over 20 ms' : `${slow} calls over 20 ms in ${bursts} burst(s), the largest with ${longest}`;
}

function describeRunGc(run: Run): string {
  if (run.gcPauses === null) return '';
  const kinds = Object.entries(run.gcPauses);
  return `; main-thread GC: ${kinds.length === 0 ? 'none' : kinds.map(([kind, t]) => `${kind} ${t.count} (${t.sumMs.toFixed(1)} ms, longest ≤ ${t.longestBoundMs} ms)`).join(', ')}`;
}

/**
 * Session request delays from a capture of the server's SIP port (kernel
 * timestamps): per call of the caller's leg, the authenticated INVITE
 * (CSeq 2, to the server) to the 180 the server sends back for it, in ms.
 * Only the caller sends INVITEs to the server, and only the caller gets
 * responses from the server's port, so the callee's leg does not mix in.
 */
function delaysFromCapture(file: string, serverPort: number): number[] {
  const fields = spawnSync(
    'tshark',
    ['-r', file, '-o', `sip.tcp.port:0`, '-d', `udp.port==${serverPort},sip`, '-Y', 'sip', '-T', 'fields', '-E', 'separator=;', '-e', 'frame.time_epoch', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'sip.Call-ID', '-e', 'sip.CSeq', '-e', 'sip.Method', '-e', 'sip.Status-Code'],
    { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
  );
  if (fields.status !== 0) throw new Error(`tshark failed: ${fields.stderr}`);
  const invites = new Map<string, number>();
  const delays: number[] = [];
  for (const line of fields.stdout.trim().split('\n')) {
    const [time, source, destination, callId, cseq, method, status] = line.split(';');
    if (callId === undefined || cseq === undefined) continue;
    const at = Number(time) * 1000;
    if (method === 'INVITE' && Number(destination) === serverPort && cseq.trim() === '2 INVITE') invites.set(callId, at);
    else if (status === '180' && Number(source) === serverPort && cseq.trim() === '2 INVITE') {
      const sent = invites.get(callId);
      if (sent !== undefined) {
        delays.push(at - sent);
        invites.delete(callId);
      }
    }
  }
  return delays;
}

function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Result {
  readonly name: string;
  readonly version: string;
  readonly runs: Run[];
  readonly best: number | null;
  /** The server's CPU per call at `best`, median of its runs. */
  readonly bestCpuMsPerCall: number | null;
  readonly lowerBound: boolean;
  /** At 80 % of `best`: each percentile the median of `repeat` runs, each on a freshly started server (their delays in `runs`). */
  readonly delays: { readonly rate: number; readonly runs: Run[]; readonly p50: number; readonly p95: number; readonly p99: number } | null;
}

/** The server started and the callee registered and answering; `close` stops both. */
async function startLab(server: Server, dir: string, passwords: Readonly<Record<'1001' | '1002', string>>): Promise<{ lab: Lab; close: () => Promise<void> }> {
  const port = await freePort();
  const { stop, pids, gcPauses } = await server.start(dir, port, passwords);
  try {
    const lab = { ...(await startCallee(dir, port, passwords['1002'])), pids, gcPauses: gcPauses ?? (async () => null) };
    return {
      lab,
      close: async () => {
        await stopProcess(lab.uas);
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The ramp, then the delays at 80 % of the highest clean rate on a freshly
 * started server: the step that failed may have left it with a backlog.
 */
async function measure(server: Server, root: string): Promise<Result> {
  const dir = mkdtempSync(path.join(root, `${server.name}-`));
  const passwords = { '1001': `bench-${randomBytes(6).toString('hex')}`, '1002': `bench-${randomBytes(6).toString('hex')}` };
  let lab = await startLab(server, mkdtempSync(path.join(dir, 'ramp-')), passwords);
  let ramp: RampOutcome<Run>;
  try {
    ramp = await rampToHighestClean(RATES, repeat, async (rate, run) => {
      const result = await runCalls(dir, lab.lab, passwords['1001'], rate, run, `${rate}-${run}`, false);
      // An overloaded server may not recover (Asterisk was seen failing at every rate after one overload):
      // the next run gets a freshly started one, so each run is judged on its own (bench/ramp.ts confirms downwards).
      if (result.verdict !== 'clean') {
        await lab.close();
        lab = await startLab(server, mkdtempSync(path.join(dir, 'ramp-')), passwords);
      }
      console.log(
        `${server.name.padEnd(9)} ${String(rate).padEnd(7)} ${String(run).padEnd(4)} ${`${result.successful}/${result.calls}`.padEnd(12)} ${String(result.failed).padEnd(7)} ${String(result.retransmissions).padEnd(8)} ${(result.watchdog ? 'yes' : 'no').padEnd(9)} ${result.achieved.toFixed(1).padEnd(11)} ${result.cpuMsPerCall.toFixed(2).padEnd(12)} ${result.verdict}`,
      );
      return result;
    });
  } finally {
    await lab.close();
  }
  const { runs, best, lowerBound } = ramp;
  let delays: Result['delays'] = null;
  if (best !== null) {
    const rate = Math.max(1, Math.round(best * 0.8));
    const delayRuns: Run[] = [];
    for (let attempt = 1; attempt <= repeat; attempt++) {
      // A new directory too: the ramp's registration of 1002 (from a callee now gone) must not be forked to.
      const fresh = await startLab(server, mkdtempSync(path.join(dir, 'fresh-')), passwords);
      try {
        const run = await runCalls(dir, fresh.lab, passwords['1001'], rate, attempt, `delays-${rate}-${attempt}`, true);
        delayRuns.push(run);
        console.log(`${server.name.padEnd(9)} SRD at ${rate} calls/s, run ${attempt} (${run.srdMs.length} calls, ${run.verdict}): p50 ${percentileOf(run.srdMs, 50).toFixed(2)} ms, p95 ${percentileOf(run.srdMs, 95).toFixed(2)} ms, p99 ${percentileOf(run.srdMs, 99).toFixed(2)} ms; ${describeBursts(run.srdMs)}${describeRunGc(run)}`);
      } finally {
        await fresh.close();
      }
    }
    const medianOf = (p: number): number => median(delayRuns.map((run) => percentileOf(run.srdMs, p)));
    delays = { rate, runs: delayRuns, p50: medianOf(50), p95: medianOf(95), p99: medianOf(99) };
  }
  const cpu = ramp.bestRuns.map((r) => r.cpuMsPerCall).sort((a, b) => a - b);
  const bestCpuMsPerCall = cpu.length === 0 ? null : (cpu[Math.floor(cpu.length / 2)] ?? null);
  return { name: server.name, version: server.version, runs, best, bestCpuMsPerCall, lowerBound, delays };
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('build first: npm run build');
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const servers: Server[] = [];
  if (wanted.includes('voix')) {
    servers.push({
      name: 'voix',
      version: `voix ${builtVoix()}, Node ${process.version}`,
      start: async (dir, port, passwords) => {
        const adminPort = await freePort();
        const yaml = [
          ...benchServerYaml(dir, port),
          'users:',
          ...Object.entries(passwords).map(([extension, password]) => `  - { extension: "${extension}", password: "${password}", transports: [udp], srtp: off }`),
          'media:',
          '  address: 127.0.0.1',
          `  port_min: ${RTP_MIN}`,
          `  port_max: ${RTP_MAX}`,
          // /metrics, read before and after each delay run for the main thread's GC pauses (bench/voix-gc.ts).
          'admin:',
          `  listen: { address: 127.0.0.1, port: ${adminPort} }`,
        ];
        const voix = await startVoixProcess(dir, yaml, onServerCore);
        const gcPauses = async (): Promise<Map<string, GcKindTotals> | null> => {
          const response = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
          const text = await response.text();
          // An older build does not serve the histogram: no figure rather than "no pause".
          return text.includes('# TYPE voix_gc_pause_seconds ') ? gcPauseTotals(text) : null;
        };
        return { stop: () => stopProcess(voix), pids: () => (voix.pid === undefined ? [] : [voix.pid]), gcPauses };
      },
    });
  }
  if (wanted.includes('asterisk')) {
    const rootfs = ensureAsteriskRootfs(say);
    servers.push({
      name: 'asterisk',
      version: asteriskVersion(rootfs),
      start: async (_dir, port, passwords) => {
        const asterisk = await startAsterisk({ rootfs, sipPort: port, rtpStart: RTP_MIN, rtpEnd: RTP_MAX, users: passwords, dialplan: ['exten => 1002,1,Dial(PJSIP/1002,30)', ' same => n,Hangup()'], pin: onServerCore });
        return { stop: () => asterisk.stop(), pids: () => [asterisk.asteriskPid()].filter((pid): pid is number => pid !== null) };
      },
    });
  }

  const command = `npm run bench:call-setup -- ${process.argv.slice(2).join(' ')}`.trimEnd();
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${os.release()}`;
  console.log(`command: ${command}`);
  console.log(`machine: ${machine}; the server under test on core 0, both SIPp on core 1${hasTaskset ? '' : ' (taskset missing: not pinned)'}`);
  console.log(`workload: SIPp UAC 1001 → server → SIPp UAS 1002 (registered), UDP, MD5 digest on the INVITE, PCMU offer, media anchored, no RTP; 180 then 200, ACK, ${holdMs} ms, BYE; ${seconds} s per run; each rate run once going up, then the highest clean one until it has ${repeat} clean runs (bench/ramp.ts)`);
  console.log('');
  console.log('server    rate/s  run  ok/calls     failed  retrans  watchdog  achieved/s  CPU ms/call  verdict');
  const root = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-call-setup-'));
  const results: Result[] = [];
  try {
    for (const server of servers) results.push(await measure(server, root));
  } finally {
    if (process.env.KEEP_FILES === undefined) rmSync(root, { recursive: true, force: true });
    else console.log(`files kept in ${root}`);
  }
  console.log('');
  console.log('server    highest clean calls/s  SRD p50 / p95 / p99 ms (at 80 %)              version');
  for (const r of results) {
    const best = r.best === null ? 'none' : `${r.lowerBound ? '≥ ' : ''}${r.best}`;
    const delays = r.delays === null ? '-' : `${r.delays.p50.toFixed(2)} / ${r.delays.p95.toFixed(2)} / ${r.delays.p99.toFixed(2)} (${r.delays.rate}/s, median of ${r.delays.runs.length})`;
    console.log(`${r.name.padEnd(9)} ${best.padEnd(22)} ${delays.padEnd(44)} ${r.version}`);
  }
  const voix = results.find((r) => r.name === 'voix');
  const ratios: Record<string, { rate: number | null; srdP99: number | null }> = {};
  for (const peer of results.filter((r) => r.name !== 'voix')) {
    const rate = voix?.best != null && peer.best !== null ? voix.best / peer.best : null;
    const srdP99 = voix?.delays != null && peer.delays !== null ? voix.delays.p99 / peer.delays.p99 : null;
    ratios[peer.name] = { rate, srdP99 };
    console.log(`voix / ${peer.name}: highest clean rate ${rate === null ? 'n/a' : rate.toFixed(2)}, SRD p99 ${srdP99 === null ? 'n/a' : srdP99.toFixed(2)}${peer.lowerBound || voix?.lowerBound === true ? ' (a lower bound is involved: SIPp fell behind)' : ''}`);
  }
  if (jsonFile !== '') {
    writeFileSync(jsonFile, `${JSON.stringify({ bench: 'call-setup', command, machine, seconds, repeat, holdMs, results, ratios }, null, 2)}\n`);
    console.log(`raw data: ${jsonFile}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
