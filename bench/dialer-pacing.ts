/**
 * Dialing accuracy side by side: does a campaign set to R calls per second
 * start R calls per second, evenly, for minutes on end, and what does one
 * call cost the server? voix's dialer against Asterisk 22 fed call files
 * made from the same CSV.
 *
 *   npm run bench:dialer -- [--rates 10,50] [--seconds 600] [--windows 1] [--servers voix,asterisk] [--no-pin] [--json out.json]
 *
 * Per rate and server, the server (on core 0) calls the CSV's numbers
 * through a trunk to SIPp (bench/scenarios/relay-uas-answer.xml: answers
 * every call, on core 1); each answered call hears a short message
 * ("Bonjour.", under a second) and the server hangs up.
 * - voix: the contacts are imported with `voix campaign import` (more than
 *   the window needs), the campaign started with `voix campaign start` at R
 *   calls/s (its own pacer), stopped after --seconds.
 * - Asterisk: the usual way to run a campaign with it: one call file per
 *   CSV row (Channel PJSIP/<number>@trunk, then Playback() and Hangup()),
 *   moved into its spool directory at R per second by this process (an
 *   absolute-deadline loop, on core 1), which Asterisk's pbx_spool picks up
 *   at once (inotify). Asterisk has no pacer of its own: this is what a
 *   script dropping call files gets.
 * Figures, the same for both, from a capture of the trunk's SIP port
 * (dumpcap, kernel timestamps): each call's first INVITE leaving the server
 * is its start.
 * - achieved rate = (calls started − 1) / (last start − first start), and
 *   its ratio to the configured rate (aim: within 2 %);
 * - intervals between consecutive starts: p1 / p50 / p99 against 1000/R ms;
 * - the most starts in any one second;
 * - answered: INVITEs that got a 200 (every call should be; anything else
 *   means the network or the server could not keep up, and the figure is
 *   marked invalid); for voix also the outcomes it recorded;
 * - the server's CPU (whole process) per call placed.
 * --windows N cuts each run into N windows of equal length (the server's
 * CPU read at each boundary, each call in the window of its first
 * INVITE): each figure is then the median of the N windows' (npm run
 * bench: 3 windows of 20 s), and every window's figures are in the JSON.
 * No pass/fail. Needs root (taskset, chroot), SIPp, dumpcap, tshark,
 * espeak-ng and ffmpeg, mmdebstrap (Asterisk's root file system, built on
 * first use: bench/peers/asterisk.ts), `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ASTERISK_SOUNDS_DIR, asteriskVersion, ensureAsteriskRootfs, startAsterisk } from './peers/asterisk.js';
import { startCapture } from './relay-capture.js';
import { median, splitByBoundaries } from './windows.js';
import { freePort, hasTaskset, killOnExit, machineLine, percentile, pinnedTo, processCpuMs, stopProcess, table, takeBenchLock } from './relay-machine.js';
import { builtVoix } from './voix-build.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const rates = (option('rates') ?? '10,50').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(option('seconds') ?? 600);
const windowCount = Math.max(1, Math.round(Number(option('windows') ?? 1)));
const servers = (option('servers') ?? 'voix,asterisk').split(',');
const pinning = hasTaskset && !process.argv.includes('--no-pin');
const onServerCore = pinnedTo(0, pinning);
const onToolsCore = pinnedTo(1, pinning);
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function voixCli(dir: string, args: string[]): string {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/voix.js'), ...args, '--config', path.join(dir, 'voix.yaml')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`voix ${args.join(' ')} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** One window's figures (--windows). */
type WindowFigures = Pick<RateResult, 'calls' | 'achieved' | 'intervals' | 'maxPerSecond' | 'cpuMsPerCall'>;

/** Figures are the medians of the windows' (the only window's without --windows); `windows` has each. */
interface RateResult {
  readonly server: 'voix' | 'asterisk';
  readonly rate: number;
  readonly windows: readonly WindowFigures[];
  /** Calls whose INVITE got a 200. */
  readonly answered: number;
  readonly calls: number;
  readonly achieved: number;
  readonly intervals: { readonly p1: number; readonly p50: number; readonly p99: number };
  readonly maxPerSecond: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly cpuMsPerCall: number;
  readonly valid: boolean;
}

/** The trunk's SIP traffic, as captured: each call's first INVITE time (ms since the epoch) and the calls answered. */
function callsFromCapture(file: string, sipPort: number): { starts: number[]; answered: number } {
  const run = spawnSync(
    'tshark',
    ['-r', file, '-d', `udp.port==${sipPort},sip`, '-Y', 'sip', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.time_epoch', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.CSeq.method', '-e', 'sip.Call-ID'],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (run.status !== 0) throw new Error(`tshark failed: ${run.stderr}`);
  const started = new Map<string, number>();
  const answered = new Set<string>();
  for (const line of run.stdout.split('\n')) {
    const [time, method, status, cseqMethod, callId] = line.split('|');
    if (callId === undefined || callId === '') continue;
    if (method === 'INVITE' && !started.has(callId)) started.set(callId, Number(time) * 1000);
    if (status === '200' && cseqMethod === 'INVITE') answered.add(callId);
  }
  const starts = [...started.values()].sort((a, b) => a - b);
  return { starts, answered: [...started.keys()].filter((id) => answered.has(id)).length };
}

function pacing(starts: readonly number[]): Pick<RateResult, 'calls' | 'achieved' | 'intervals' | 'maxPerSecond'> {
  const first = starts[0] ?? 0;
  const last = starts.at(-1) ?? 0;
  const intervals = Float64Array.from(starts.slice(1).map((t, i) => t - (starts[i] ?? 0))).sort();
  let maxPerSecond = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while ((starts[j] ?? Infinity) < (starts[i] ?? 0) + 1000) j++;
    maxPerSecond = Math.max(maxPerSecond, j - i);
  }
  return {
    calls: starts.length,
    achieved: starts.length < 2 ? 0 : ((starts.length - 1) * 1000) / (last - first),
    intervals: { p1: percentile(intervals, 0.01), p50: percentile(intervals, 0.5), p99: percentile(intervals, 0.99) },
    maxPerSecond,
  };
}

/** The window boundaries, wall clock (ms since the epoch, as the capture's), and the server's CPU time at each. */
class WindowMarks {
  readonly atMs: number[] = [];
  readonly cpuMs: number[] = [];
  constructor(private readonly pid: number | undefined) {}
  mark(atMs = Date.now()): void {
    this.atMs.push(atMs);
    this.cpuMs.push(processCpuMs(this.pid));
  }
}

/**
 * Each window's figures, and their medians: a call counts in the window of
 * its first INVITE (those after the last mark in the last window), the CPU
 * between two marks in that window.
 */
function windowed(starts: readonly number[], marks: WindowMarks): Pick<RateResult, 'windows' | 'calls' | 'achieved' | 'intervals' | 'maxPerSecond' | 'cpuMsPerCall'> {
  const windows: WindowFigures[] = splitByBoundaries(starts, marks.atMs).map((inWindow, w) => {
    const cpuMs = (marks.cpuMs[w + 1] as number) - (marks.cpuMs[w] as number);
    return { ...pacing(inWindow), cpuMsPerCall: cpuMs / Math.max(1, inWindow.length) };
  });
  const of = (f: (w: WindowFigures) => number): number => median(windows.map(f));
  return {
    windows,
    calls: starts.length,
    achieved: of((w) => w.achieved),
    intervals: { p1: of((w) => w.intervals.p1), p50: of((w) => w.intervals.p50), p99: of((w) => w.intervals.p99) },
    maxPerSecond: of((w) => w.maxPerSecond),
    cpuMsPerCall: of((w) => w.cpuMsPerCall),
  };
}

/** The numbers of the campaign's CSV: more than the window needs. */
function campaignNumbers(rate: number): string[] {
  return Array.from({ length: Math.ceil(rate * (seconds + 10)) }, (_, i) => `+3361${String(i).padStart(7, '0')}`);
}

interface Lab {
  readonly dir: string;
  readonly trunkPort: number;
  readonly pcap: string;
  stop(): Promise<void>;
}

/** SIPp answering on the trunk port, and the capture of that port. */
async function startLab(rate: number, server: string): Promise<Lab> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `voix-bench-dialer-${server}-`));
  const trunkPort = await freePort();
  const [sippCommand, sippArgs] = onToolsCore(['sipp', '-sf', path.join(ROOT, 'bench/scenarios/relay-uas-answer.xml'), '-i', '127.0.0.1', '-p', String(trunkPort), '-nostdin', '-trace_err']);
  const sipp = spawn(sippCommand, sippArgs, { stdio: 'ignore', cwd: dir });
  killOnExit(sipp);
  const pcap = path.join(dir, 'trunk.pcap');
  const capture = await startCapture(pcap, `udp port ${trunkPort}`, onToolsCore, 65535);
  say(`${server}, rate ${rate}/s: SIPp answering on ${trunkPort}`);
  let stopped = false;
  return {
    dir,
    trunkPort,
    pcap,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await capture.stop();
      await stopProcess(sipp, 5000);
    },
  };
}

async function runVoix(rate: number): Promise<RateResult> {
  const lab = await startLab(rate, 'voix');
  const dir = lab.dir;
  try {
    const sipPort = await freePort();
    writeFileSync(
      path.join(dir, 'voix.yaml'),
      [
        'server:',
        '  domain: voix.bench',
        `  data_dir: ${dir}/voix-data`,
        '  log_level: info',
        '  listen:',
        `    udp: { address: 127.0.0.1, port: ${sipPort} }`,
        '    tcp: false',
        '    tls: false',
        'media: { address: 127.0.0.1, port_min: 30000, port_max: 39999, workers: 1 }',
        'trunks:',
        `  - { name: bench, host: 127.0.0.1, port: ${lab.trunkPort}, transport: udp, username: voix, password: bench-secret, register: false, calls_per_second: 200, max_calls: 1000 }`,
        'campaigns:',
        `  - name: bench`,
        '    purpose: customer',
        '    trunk: bench',
        `    calls_per_second: ${rate}`,
        '    max_calls: 1000',
        '    ring_time: 10',
        '    message: { text: "Bonjour." }',
        '    hours: { weekly: { "mon-sun": ["00:00-24:00"] }, holidays: none }',
        '    retry: { busy: { max_retries: 0 }, no_answer: { max_retries: 0 }, failed: { max_retries: 0 }, congestion: { max_retries: 0 }, unknown: { max_retries: 0 } }',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'contacts.csv'), `${['telephone', ...campaignNumbers(rate)].join('\n')}\n`);
    const [command, args] = onServerCore([process.execPath, path.join(ROOT, 'dist/server.js'), '--config', path.join(dir, 'voix.yaml')]);
    const voix = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(voix);
    const log = createWriteStream(path.join(dir, 'voix.log'));
    voix.stdout?.pipe(log);
    await new Promise<void>((resolve, reject) => {
      let output = '';
      voix.stdout?.on('data', (chunk: Buffer) => {
        if (output.includes('"msg":"ready"')) return;
        output += chunk.toString();
        if (output.includes('"msg":"ready"')) resolve();
      });
      voix.once('exit', (code) => reject(new Error(`voix exited with ${code} before ready:\n${output.slice(-3000)}`)));
    });
    say(`voix, rate ${rate}/s: importing the contacts`);
    voixCli(dir, ['campaign', 'import', 'bench', path.join(dir, 'contacts.csv')]);
    const marks = new WindowMarks(voix.pid);
    marks.mark();
    voixCli(dir, ['campaign', 'start', 'bench']);
    say(`voix, rate ${rate}/s: running ${seconds} s${windowCount > 1 ? ` (${windowCount} windows)` : ''}`);
    const started = marks.atMs[0] as number;
    for (let w = 1; w < windowCount; w++) {
      await sleep(Math.max(0, started + (w * seconds * 1000) / windowCount - Date.now()));
      marks.mark();
    }
    await sleep(Math.max(0, started + seconds * 1000 - Date.now()));
    voixCli(dir, ['campaign', 'stop', 'bench']);
    // The calls in flight end (message under a second): their CPU is the last window's.
    await sleep(5000);
    marks.mark();
    await stopProcess(voix, 10_000);
    await lab.stop();

    const db = new Database(path.join(dir, 'voix-data', 'voix.db'), { readonly: true });
    const rows = db.prepare('SELECT outcome FROM call_attempts').all() as Array<{ outcome: string | null }>;
    db.close();
    const outcomes: Record<string, number> = {};
    for (const r of rows) outcomes[r.outcome ?? 'in flight'] = (outcomes[r.outcome ?? 'in flight'] ?? 0) + 1;
    const { starts, answered } = callsFromCapture(lab.pcap, lab.trunkPort);
    return { server: 'voix', rate, ...windowed(starts, marks), answered, outcomes, valid: answered === starts.length && (outcomes['answered'] ?? 0) === rows.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "Bonjour." as µ-law 8 kHz, spoken by espeak-ng like voix's text prompts. */
function bonjourUlaw(dir: string): Buffer {
  const wav = path.join(dir, 'bonjour.wav');
  const ulaw = path.join(dir, 'bonjour.ulaw');
  if (spawnSync('espeak-ng', ['-v', 'fr', '-w', wav, 'Bonjour.']).status !== 0) throw new Error('espeak-ng failed');
  if (spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', wav, '-ar', '8000', '-ac', '1', '-f', 'mulaw', ulaw]).status !== 0) throw new Error('ffmpeg failed');
  return readFileSync(ulaw);
}

async function runAsterisk(rate: number, rootfs: string): Promise<RateResult> {
  const lab = await startLab(rate, 'asterisk');
  const dir = lab.dir;
  try {
    const asterisk = await startAsterisk({
      rootfs,
      sipPort: await freePort(),
      rtpStart: 30000,
      rtpEnd: 39999,
      users: {},
      pjsip: [
        '[trunk]',
        'type = endpoint',
        'context = bench',
        'disallow = all',
        'allow = ulaw',
        'aors = trunk',
        'media_address = 127.0.0.1',
        'bind_rtp_to_media_address = yes',
        'rtp_symmetric = yes',
        'direct_media = no',
        '[trunk]',
        'type = aor',
        `contact = sip:127.0.0.1:${lab.trunkPort}`,
      ],
      dialplan: ['exten => campaign,1,Playback(' + ASTERISK_SOUNDS_DIR + '/bonjour)', ' same => n,Hangup()'],
      sounds: { 'bonjour.ulaw': bonjourUlaw(dir) },
      pin: pinning ? ['taskset', '-c', '0'] : [],
    });
    try {
      const spool = path.join(rootfs, 'var/spool/asterisk');
      const numbers = campaignNumbers(rate);
      const pid = asterisk.asteriskPid() ?? undefined;
      const marks = new WindowMarks(pid);
      say(`asterisk, rate ${rate}/s: dropping call files for ${seconds} s${windowCount > 1 ? ` (${windowCount} windows)` : ''}`);
      // The pacer: call file k moves into the spool at start + k / rate (absolute deadlines: no drift).
      const start = performance.now();
      const startEpoch = Date.now();
      marks.mark(startEpoch);
      const windowMs = (seconds * 1000) / windowCount;
      for (let k = 0; k < numbers.length; k++) {
        const due = start + (k * 1000) / rate;
        if (due > start + seconds * 1000) break;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        // A window boundary passed: its CPU mark, before the first call file of the next window.
        while (marks.atMs.length < windowCount && due - start >= marks.atMs.length * windowMs) marks.mark(startEpoch + marks.atMs.length * windowMs);
        const name = `bench-${k}.call`;
        const text = [`Channel: PJSIP/${numbers[k]}@trunk`, 'CallerID: "Bench" <0100000000>', 'MaxRetries: 0', 'WaitTime: 10', 'Context: bench', 'Extension: campaign', 'Priority: 1', ''].join('\n');
        writeFileSync(path.join(spool, 'tmp', name), text);
        renameSync(path.join(spool, 'tmp', name), path.join(spool, 'outgoing', name));
      }
      await sleep(5000);
      marks.mark();
      await asterisk.stop();
      await lab.stop();
      const { starts, answered } = callsFromCapture(lab.pcap, lab.trunkPort);
      return { server: 'asterisk', rate, ...windowed(starts, marks), answered, outcomes: { answered, 'not answered': starts.length - answered }, valid: answered === starts.length };
    } finally {
      await asterisk.stop();
      for (const sub of ['outgoing', 'tmp']) for (const f of readdirSync(path.join(rootfs, 'var/spool/asterisk', sub))) if (f.startsWith('bench-')) rmSync(path.join(rootfs, 'var/spool/asterisk', sub, f), { force: true });
    }
  } finally {
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await takeBenchLock('dialer', say);
  const rootfs = servers.includes('asterisk') ? ensureAsteriskRootfs(say) : '';
  const results: RateResult[] = [];
  for (const rate of rates) {
    if (servers.includes('voix')) results.push(await runVoix(rate));
    if (servers.includes('asterisk')) results.push(await runAsterisk(rate, rootfs));
  }
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  const commit = builtVoix();
  const versions = [`voix ${version} (${commit})`, ...(rootfs === '' ? [] : [asteriskVersion(rootfs)])];
  process.stdout.write(`# Dialing accuracy\n\n${machineLine()}\n${versions.join('; ')}; ${seconds} s per rate${windowCount > 1 ? `, figures the medians of ${windowCount} windows of ${(seconds / windowCount).toFixed(0)} s` : ''}, pinning ${pinning ? 'on' : 'off'}; starts = first INVITE of each call on the trunk (capture)\n\n`);
  process.stdout.write(
    table(
      ['server', 'configured/s', 'calls', 'achieved/s', 'achieved/configured', 'interval p1 / p50 / p99 (ms)', 'most in 1 s', 'outcomes', 'CPU per call (ms)', 'valid'],
      results.map((r) => [
        r.server,
        String(r.rate),
        String(r.calls),
        r.achieved.toFixed(3),
        (r.achieved / r.rate).toFixed(4),
        `${r.intervals.p1.toFixed(0)} / ${r.intervals.p50.toFixed(0)} / ${r.intervals.p99.toFixed(0)}`,
        String(r.maxPerSecond),
        Object.entries(r.outcomes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        r.cpuMsPerCall.toFixed(2),
        r.valid ? 'yes' : 'no: not every call was answered',
      ]),
    ) + '\n',
  );
  const ratios = Object.fromEntries(
    rates.flatMap((rate) => {
      const voix = results.find((r) => r.server === 'voix' && r.rate === rate);
      const asterisk = results.find((r) => r.server === 'asterisk' && r.rate === rate);
      if (voix === undefined || asterisk === undefined) return [];
      return [[String(rate), { pacingError: Math.abs(voix.achieved / rate - 1) / Math.max(1e-9, Math.abs(asterisk.achieved / rate - 1)), intervalP99: voix.intervals.p99 / asterisk.intervals.p99, cpuPerCall: voix.cpuMsPerCall / asterisk.cpuMsPerCall }]];
    }),
  );
  for (const [rate, r] of Object.entries(ratios)) process.stdout.write(`voix / asterisk at ${rate}/s: pacing error ${r.pacingError.toFixed(2)}, interval p99 ${r.intervalP99.toFixed(2)}, CPU per call ${r.cpuPerCall.toFixed(2)}\n`);
  const jsonFile = option('json');
  if (jsonFile !== undefined) {
    const command = `npm run bench:dialer -- ${process.argv.slice(2).join(' ')}`.trimEnd();
    writeFileSync(jsonFile, `${JSON.stringify({ bench: 'dialer', command, machine: machineLine(), versions, seconds, windows: windowCount, pinning, results, ratios }, null, 2)}\n`);
    process.stdout.write(`raw data: ${jsonFile}\n`);
  }
}

main().catch((err: unknown) => {
  say(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
