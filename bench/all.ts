/**
 * Every side-by-side workload of bench/ in one run, one report:
 *
 *   npm run build && npm run bench [-- --only register,call-setup,relay,relay-srtp,ivr,srtp,dialer] [--out bench/results] [--quick]
 *
 * --quick runs each workload for a few seconds, to check the harness end to
 * end (write it elsewhere with --out: its figures are not worth a report).
 *
 * Prepares what it needs (Asterisk 22 from Debian unstable, Kamailio and
 * rtpengine from Debian 12, each in a root file system built by mmdebstrap
 * on first use and cached in /var/cache/voix-bench), then runs the
 * workloads one after the other, each one its own bench script with its
 * own peers measured in the same run (see that script's header for what
 * it measures and how), and writes bench/results/<date>-<host>.json (every
 * workload's raw data and console output, the command, the machine, the
 * versions) and bench/results/<date>-<host>.md (in French: every figure
 * with its voix/peer ratio, and the aims). `npm run bench:page`
 * then makes docs/performances.md and its plots from the JSON.
 *
 * Every figure is a median or a rate held in 3 of 3 runs (see each
 * workload); the server under test is on core 0, the load generators and
 * captures on core 1 (taskset). Nothing else should run on the machine
 * meanwhile: the workloads check for noise where they can and mark the
 * runs it spoilt invalid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASTERISK_ROOTFS } from './peers/asterisk.js';
import { KAMAILIO_ROOTFS } from './peers/kamailio.js';
import { RTPENGINE_ROOTFS } from './peers/rtpengine.js';
import { buildRootfs } from './peers/rootfs.js';
import { takeBenchLock } from './relay-machine.js';
import { WORKLOADS, type WorkloadName } from './report/workloads.js';
import { writeMarkdownReport, type BenchReport, type WorkloadRun } from './report/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function commandOutput(command: string, args: string[]): string {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : '';
}

/** What is missing to run the workloads, as Debian packages. */
function missingTools(): string[] {
  const tools: Array<[string, string]> = [
    ['sipp', 'sip-tester'],
    ['dumpcap', 'tshark'],
    ['tshark', 'tshark'],
    ['taskset', 'util-linux'],
    ['mmdebstrap', 'mmdebstrap'],
    ['gcc', 'gcc'],
    ['espeak-ng', 'espeak-ng'],
    ['ffmpeg', 'ffmpeg'],
  ];
  const missing = tools.filter(([tool]) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0).map(([, pkg]) => pkg);
  if (!existsSync('/usr/include/srtp2/srtp.h')) missing.push('libsrtp2-dev');
  return [...new Set(missing)];
}

function runWorkload(name: WorkloadName, dir: string): Promise<WorkloadRun> {
  const workload = WORKLOADS[name];
  const json = path.join(dir, `${name}.json`);
  const args = [...(process.argv.includes('--quick') ? workload.quickArgs : workload.args), '--json', json];
  const display = `npx tsx ${workload.script} ${args.filter((a) => a !== json).join(' ')}`.replace(' --json', '');
  say(`\n== ${name}: ${display}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, workload.script), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      process.stderr.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code, signal) => {
      let data: unknown = null;
      if (existsSync(json)) data = JSON.parse(readFileSync(json, 'utf8')) as unknown;
      resolve({ name, command: display, exitCode: code ?? (signal === null ? -1 : 128), seconds: (Date.now() - started) / 1000, data, output });
    });
  });
}

function host(): string {
  return os.hostname().split('.')[0]?.replace(/[^A-Za-z0-9-]/g, '-') || 'machine';
}

async function main(): Promise<void> {
  const wanted = (option('only') ?? Object.keys(WORKLOADS).join(',')).split(',') as WorkloadName[];
  for (const name of wanted) if (!(name in WORKLOADS)) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`);
  const missing = missingTools();
  if (missing.length > 0) throw new Error(`missing: apt-get install ${missing.join(' ')}`);
  if (process.getuid?.() !== 0) throw new Error('the workloads need root (captures, chroots, taskset)');
  // The workloads run as children: they see this process holds the lock, and nothing else runs meanwhile.
  await takeBenchLock('bench/all.ts', say);
  const started = Date.now();
  if (!existsSync(path.join(ROOT, 'dist/server.js')) || !existsSync(path.join(ROOT, 'dist/rtp/native/udp-io.node'))) {
    say('building voix (npm run build)');
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('npm run build failed');
  }
  // The peers' root file systems, built once, side by side (downloads and unpacking overlap).
  const peers = new Set<string>(wanted.flatMap((name) => WORKLOADS[name].peers));
  const specs = [ASTERISK_ROOTFS, KAMAILIO_ROOTFS, RTPENGINE_ROOTFS].filter((spec) => peers.has(spec.peer.toLowerCase()));
  await Promise.all(specs.map((spec) => buildRootfs(spec, say)));
  const prepareSeconds = (Date.now() - started) / 1000;

  const outDir = path.resolve(option('out') ?? path.join(ROOT, 'bench/results'));
  mkdirSync(outDir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const base = path.join(outDir, `${date}-${host()}`);
  const work = path.join(os.tmpdir(), `voix-bench-all-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const runs: WorkloadRun[] = [];
  try {
    for (const name of wanted) runs.push(await runWorkload(name, work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const report: BenchReport = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, '').trimEnd(),
    date: new Date(started).toISOString(),
    host: host(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown CPU',
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      kernel: os.release(),
      os: commandOutput('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']),
      node: process.version,
      voix: `${JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string} (${commandOutput('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) || 'no git'}${commandOutput('git', ['-C', ROOT, 'status', '--porcelain']) === '' ? '' : ', modified working tree'})`,
      sipp: commandOutput('sh', ['-c', 'sipp -v 2>&1 | grep -o "SIPp v[^ ,]*" | head -1']).replace(/\.+$/, ''),
    },
    prepareSeconds,
    totalSeconds: (Date.now() - started) / 1000,
    workloads: runs,
  };
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, writeMarkdownReport(report, path.basename(`${base}.json`)));
  say(`\nreport: ${base}.md\nraw data: ${base}.json\ntotal: ${(report.totalSeconds / 60).toFixed(1)} min`);
  const failed = runs.filter((r) => r.exitCode !== 0 || r.data === null);
  if (failed.length > 0) {
    say(`failed workloads: ${failed.map((r) => r.name).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  say(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
