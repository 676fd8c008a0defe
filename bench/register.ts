/**
 * Registrations per second with digest authentication over UDP, driven by
 * SIPp against the built server (node dist/server.js), at increasing rates;
 * the figure is the highest rate at which every one of `--repeat` runs had
 * every registration succeed with no retransmission and no SIPp watchdog
 * warning, with the median throughput achieved at that rate.
 *
 *   npm run build && npm run bench:register [-- --seconds 5 --repeat 3]
 *
 * voix runs on core 0 and SIPp on core 1 (taskset) of this 2-core machine:
 * the generator and the server do not share a core, but the machine is the
 * same. No peer server is measured here yet: Asterisk and Kamailio come with
 * the side-by-side harness (bench/ issue), so this prints absolute figures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './relay-machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIO = path.join(ROOT, 'bench/scenarios/uac-register-digest.xml');
const USERS = 1000;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i === -1 ? undefined : Number(process.argv[i + 1]);
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
function pinned(core: number, command: string, args: string[]): [string, string[]] {
  return hasTaskset ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

async function startVoix(dir: string, port: number): Promise<ChildProcess> {
  const users = Array.from({ length: USERS }, (_, i) => ({ extension: String(100000 + i), password: `bench-${randomBytes(6).toString('hex')}`, transports: ['udp'] }));
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
    ...users.map((u) => `  - { extension: "${u.extension}", password: "${u.password}", transports: [udp] }`),
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'voix.yaml'), yaml);
  writeFileSync(path.join(dir, 'users.csv'), ['SEQUENTIAL', ...users.map((u) => `${u.extension};[authentication username=${u.extension} password=${u.password}]`)].join('\n') + '\n');
  const [cmd, args] = pinned(0, process.execPath, [path.join(ROOT, 'dist/server.js'), '--config', path.join(dir, 'voix.yaml')]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const log = createWriteStream(path.join(dir, 'voix.log'));
  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('"msg":"ready"')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`voix exited with ${code} before ready`)));
  });
  child.stdout?.pipe(log);
  return child;
}

interface Step {
  readonly rate: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly seconds: number;
  readonly watchdog: boolean;
}

function runSipp(dir: string, port: number, rate: number, seconds: number, label: string): Step {
  const calls = Math.round(rate * seconds);
  const stat = path.join(dir, `stat-${label}.csv`);
  const errors = path.join(dir, `errors-${label}.log`);
  rmSync(stat, { force: true });
  rmSync(errors, { force: true });
  const [cmd, args] = pinned(1, 'sipp', [
    `127.0.0.1:${port}`,
    '-sf', SCENARIO,
    '-inf', path.join(dir, 'users.csv'),
    '-t', 'u1',
    '-i', '127.0.0.1',
    '-r', String(rate),
    '-m', String(calls),
    '-l', String(Math.max(100, rate)),
    '-nostdin',
    '-trace_stat', '-stf', stat, '-fd', '1',
    '-trace_err', '-error_file', errors,
    '-timeout', String(seconds + 30), '-timeout_error',
  ]);
  const started = process.hrtime.bigint();
  spawnSync(cmd, args, { cwd: dir, stdio: 'ignore' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const lines = existsSync(stat) ? readFileSync(stat, 'utf8').trim().split('\n') : [];
  const header = (lines[0] ?? '').split(';');
  const last = (lines[lines.length - 1] ?? '').split(';');
  const field = (name: string) => Number(last[header.indexOf(name)] ?? NaN);
  const errorText = existsSync(errors) ? readFileSync(errors, 'utf8') : '';
  return {
    rate,
    calls,
    successful: field('SuccessfulCall(C)'),
    failed: field('FailedCall(C)'),
    retransmissions: field('Retransmissions(C)'),
    seconds: elapsed,
    watchdog: /watchdog/i.test(errorText),
  };
}

function clean(step: Step): boolean {
  return step.successful === step.calls && step.failed === 0 && step.retransmissions === 0 && !step.watchdog;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('build first: npm run build');
  const seconds = argument('seconds', 5);
  const repeat = argument('repeat', 3);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-register-'));
  const port = await freePort();
  const voix = await startVoix(dir, port);
  try {
    console.log(`command: npm run bench:register -- --seconds ${seconds} --repeat ${repeat}`);
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}; voix pinned to core 0, SIPp to core 1${hasTaskset ? '' : ' (taskset missing: not pinned)'}`);
    console.log(`workload: REGISTER/401/REGISTER/200, MD5 digest, UDP, ${USERS} users, log level info, SQLite write per registration`);
    console.log('');
    console.log('rate/s   run  ok/calls     failed  retrans  watchdog  achieved/s');
    let best: { rate: number; achieved: number[] } | null = null;
    for (const rate of [250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 8000]) {
      const achieved: number[] = [];
      let allClean = true;
      for (let run = 1; run <= repeat; run++) {
        const step = runSipp(dir, port, rate, seconds, `${rate}-${run}`);
        const rateAchieved = step.calls / step.seconds;
        console.log(
          `${String(rate).padEnd(8)} ${String(run).padEnd(4)} ${`${step.successful}/${step.calls}`.padEnd(12)} ${String(step.failed).padEnd(7)} ${String(step.retransmissions).padEnd(8)} ${(step.watchdog ? 'yes' : 'no').padEnd(9)} ${rateAchieved.toFixed(0)}`,
        );
        achieved.push(rateAchieved);
        if (!clean(step)) {
          allClean = false;
          break;
        }
      }
      if (!allClean) break;
      best = { rate, achieved };
    }
    console.log('');
    if (best === null) console.log('no rate was sustained cleanly');
    else {
      console.log(`highest rate sustained in ${repeat} of ${repeat} runs: ${best.rate} registrations/s (100% success, no retransmission, no SIPp watchdog warning)`);
      console.log(`achieved throughput at that rate, median of ${repeat}: ${median(best.achieved).toFixed(0)} registrations/s`);
    }
  } finally {
    voix.kill('SIGTERM');
    await new Promise((r) => voix.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
