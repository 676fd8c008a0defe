/**
 * Dialing accuracy: does a campaign set to R calls per second start R calls
 * per second, evenly, for minutes on end, and what does one call cost voix?
 *
 *   npm run bench:dialer -- [--rates 10,50] [--seconds 600] [--no-pin]
 *
 * Per rate: voix (`node dist/server.js`, one media thread, on core 0) runs a
 * campaign through a trunk to SIPp (bench/scenarios/relay-uas-answer.xml:
 * answers every call, on core 1); each call is answered, hears a short
 * message ("Bonjour.", under a second) and is hung up by voix. The contacts
 * are imported with `voix campaign import` (more than the window needs),
 * the campaign started with `voix campaign start`, stopped after --seconds.
 * Figures, from voix's own records (each attempt's start, committed before
 * its INVITE leaves) over the window:
 * - achieved rate = (calls started − 1) / (last start − first start), and
 *   its ratio to the configured rate (aim: within 2 %);
 * - intervals between consecutive starts: p1 / p50 / p99 against 1000/R ms;
 * - the most starts in any one second (the pacer allows one late start to
 *   keep its slot, so R + 1 at most);
 * - outcomes (every call should be answered; anything else means the
 *   network or voix could not keep up, and the figure is marked invalid);
 * - voix's CPU (whole process) per call placed, and the load of core 1.
 * No pass/fail. Needs root (taskset), SIPp, espeak-ng and ffmpeg, `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { freePort, hasTaskset, killOnExit, machineLine, percentile, pinnedTo, processCpuMs, stopProcess, table, takeBenchLock } from './relay-machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const rates = (option('rates') ?? '10,50').split(',').map(Number).filter((n) => n > 0);
const seconds = Number(option('seconds') ?? 600);
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

interface RateResult {
  readonly rate: number;
  readonly calls: number;
  readonly achieved: number;
  readonly intervals: { readonly p1: number; readonly p50: number; readonly p99: number };
  readonly maxPerSecond: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly cpuMsPerCall: number;
  readonly valid: boolean;
}

async function runRate(rate: number): Promise<RateResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-dialer-'));
  try {
    const sipPort = await freePort();
    const trunkPort = await freePort();
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
        `  - { name: bench, host: 127.0.0.1, port: ${trunkPort}, transport: udp, username: voix, password: bench-secret, register: false, calls_per_second: 200, max_calls: 1000 }`,
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
    const contacts = Math.ceil(rate * (seconds + 10));
    const csv = ['telephone', ...Array.from({ length: contacts }, (_, i) => `+3361${String(i).padStart(7, '0')}`)].join('\n');
    writeFileSync(path.join(dir, 'contacts.csv'), `${csv}\n`);

    const [sippCommand, sippArgs] = onToolsCore(['sipp', '-sf', path.join(ROOT, 'bench/scenarios/relay-uas-answer.xml'), '-i', '127.0.0.1', '-p', String(trunkPort), '-nostdin', '-trace_err']);
    const sipp = spawn(sippCommand, sippArgs, { stdio: 'ignore', cwd: dir });
    killOnExit(sipp);
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
    say(`rate ${rate}/s: importing ${contacts} contacts`);
    voixCli(dir, ['campaign', 'import', 'bench', path.join(dir, 'contacts.csv')]);
    const cpuBefore = processCpuMs(voix.pid);
    voixCli(dir, ['campaign', 'start', 'bench']);
    say(`rate ${rate}/s: running ${seconds} s`);
    await sleep(seconds * 1000);
    voixCli(dir, ['campaign', 'stop', 'bench']);
    // The calls in flight end (message under a second).
    await sleep(5000);
    const cpuMs = processCpuMs(voix.pid) - cpuBefore;
    await stopProcess(voix, 10_000);
    await stopProcess(sipp, 5000);

    const db = new Database(path.join(dir, 'voix-data', 'voix.db'), { readonly: true });
    const rows = db.prepare('SELECT started_at AS start, outcome FROM call_attempts ORDER BY started_at, id').all() as Array<{ start: number; outcome: string | null }>;
    db.close();
    const starts = rows.map((r) => r.start);
    const first = starts[0] ?? 0;
    const last = starts.at(-1) ?? 0;
    const intervals = Float64Array.from(starts.slice(1).map((t, i) => t - (starts[i] ?? 0))).sort();
    let maxPerSecond = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while ((starts[j] ?? Infinity) < (starts[i] ?? 0) + 1000) j++;
      maxPerSecond = Math.max(maxPerSecond, j - i);
    }
    const outcomes: Record<string, number> = {};
    for (const r of rows) outcomes[r.outcome ?? 'in flight'] = (outcomes[r.outcome ?? 'in flight'] ?? 0) + 1;
    const achieved = starts.length < 2 ? 0 : ((starts.length - 1) * 1000) / (last - first);
    return {
      rate,
      calls: starts.length,
      achieved,
      intervals: { p1: percentile(intervals, 0.01), p50: percentile(intervals, 0.5), p99: percentile(intervals, 0.99) },
      maxPerSecond,
      outcomes,
      cpuMsPerCall: cpuMs / Math.max(1, starts.length),
      valid: (outcomes['answered'] ?? 0) === starts.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await takeBenchLock('dialer', say);
  const results: RateResult[] = [];
  for (const rate of rates) results.push(await runRate(rate));
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  const commit = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`# Dialing accuracy\n\n${machineLine()}\nvoix ${version} (${commit}), ${seconds} s per rate, pinning ${pinning ? 'on' : 'off'}\n\n`);
  process.stdout.write(
    table(
      ['configured/s', 'calls', 'achieved/s', 'achieved/configured', 'interval p1 / p50 / p99 (ms)', 'most in 1 s', 'outcomes', 'voix CPU per call (ms)', 'valid'],
      results.map((r) => [
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
}

main().catch((err: unknown) => {
  say(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
