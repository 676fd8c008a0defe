/**
 * Registrations per second with digest authentication over UDP, driven by
 * SIPp, side by side in one run: voix (node dist/server.js), Asterisk 22
 * (PJSIP, bench/peers/asterisk.ts) and Kamailio 5.6 (registrar, usrloc
 * written back to SQLite every second, bench/peers/kamailio.ts). Each server gets the
 * same 1000 users and passwords and the same ramp of rates; its figure is
 * the highest rate at which `--repeat` runs had every registration
 * succeed with no retransmission and no SIPp watchdog warning (the ramp
 * runs each rate once going up, then confirms the highest: bench/ramp.ts), with the median throughput achieved at that rate, and voix's
 * figure is also given as a ratio to each peer's.
 *
 *   npm run build && npm run bench:register [-- --seconds 5 --repeat 3 --servers voix,asterisk,kamailio --rates 250,500,... --json out.json]
 *
 * The server under test (all its threads or processes) runs on core 0 and
 * SIPp on core 1 (taskset) of this 2-core machine. A step where SIPp's
 * watchdog warned is marked invalid (the generator fell behind) and ends
 * that server's ramp: its figure is then a lower bound.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asteriskVersion, ensureAsteriskRootfs, startAsterisk } from './peers/asterisk.js';
import { ensureKamailioRootfs, kamailioVersion, startKamailio } from './peers/kamailio.js';
import { rampToHighestClean } from './ramp.js';
import { freePort, processCpuMs } from './relay-machine.js';
import { benchServerYaml, startVoixProcess } from './voix-process.js';
import { builtVoix } from './voix-build.js';

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

interface BenchUser {
  readonly extension: string;
  readonly password: string;
}

/** The users every server gets, and SIPp's injection file for them. */
function makeUsers(dir: string): BenchUser[] {
  const users = Array.from({ length: USERS }, (_, i) => ({ extension: String(100000 + i), password: `bench-${randomBytes(6).toString('hex')}` }));
  writeFileSync(path.join(dir, 'users.csv'), ['SEQUENTIAL', ...users.map((u) => `${u.extension};[authentication username=${u.extension} password=${u.password}]`)].join('\n') + '\n');
  return users;
}

function startVoix(dir: string, port: number, users: readonly BenchUser[]): Promise<ChildProcess> {
  const yaml = [...benchServerYaml(dir, port), 'users:', ...users.map((u) => `  - { extension: "${u.extension}", password: "${u.password}", transports: [udp] }`)];
  return startVoixProcess(dir, yaml, hasTaskset ? ['taskset', '-c', '0'] : []);
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

/** A server under test: started, measured, stopped, one after the other on the same port and core. */
interface Server {
  readonly name: string;
  readonly version: string;
  /** Starts the server; `pids` are its processes (CPU time is read from /proc). */
  start(): Promise<{ readonly stop: () => Promise<void>; readonly pids: () => number[] }>;
}

interface ServerResult {
  readonly name: string;
  readonly version: string;
  readonly steps: Array<Step & { readonly run: number; readonly achieved: number; readonly cpuUsPerRegistration: number; readonly verdict: 'clean' | 'failed' | 'invalid' }>;
  /** Highest rate clean in every run, and the median achieved throughput there; null when none was. */
  readonly best: { readonly rate: number; readonly achieved: number; readonly cpuUsPerRegistration: number } | null;
  readonly lowerBound: boolean;
}

const RATES = argumentText('rates', '250,500,1000,1500,2000,2500,3000,4000,5000,6000,8000').split(',').map(Number);

async function measure(server: Server, pids: () => number[], dir: string, port: number, seconds: number, repeat: number): Promise<ServerResult> {
  const cpuMs = (): number => pids().reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const ramp = await rampToHighestClean(RATES, repeat, (rate, run) => {
    const cpuBefore = cpuMs();
    const step = runSipp(dir, port, rate, seconds, `${server.name}-${rate}-${run}`);
    const cpuUsPerRegistration = ((cpuMs() - cpuBefore) * 1000) / Math.max(1, step.successful);
    const rateAchieved = step.calls / step.seconds;
    const verdict = step.watchdog ? 'invalid' : clean(step) ? 'clean' : 'failed';
    console.log(
      `${server.name.padEnd(9)} ${String(rate).padEnd(8)} ${String(run).padEnd(4)} ${`${step.successful}/${step.calls}`.padEnd(12)} ${String(step.failed).padEnd(7)} ${String(step.retransmissions).padEnd(8)} ${(step.watchdog ? 'yes' : 'no').padEnd(9)} ${rateAchieved.toFixed(0).padEnd(11)} ${cpuUsPerRegistration.toFixed(0).padEnd(15)} ${verdict}`,
    );
    return { ...step, run, achieved: rateAchieved, cpuUsPerRegistration, verdict } as const;
  });
  const best = ramp.best === null ? null : { rate: ramp.best, achieved: median(ramp.bestRuns.map((r) => r.achieved)), cpuUsPerRegistration: median(ramp.bestRuns.map((r) => r.cpuUsPerRegistration)) };
  return { name: server.name, version: server.version, steps: ramp.runs, best, lowerBound: ramp.lowerBound };
}

function argumentText(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist/server.js'))) throw new Error('build first: npm run build');
  const seconds = argument('seconds', 5);
  const repeat = argument('repeat', 3);
  const wanted = argumentText('servers', 'voix,asterisk,kamailio').split(',');
  const jsonFile = argumentText('json', '');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-bench-register-'));
  const port = await freePort();
  const users = makeUsers(dir);
  const pin = hasTaskset ? ['taskset', '-c', '0'] : [];
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const servers: Server[] = [];
  if (wanted.includes('voix')) {
    servers.push({
      name: 'voix',
      version: `voix ${JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string} (${builtVoix()}), Node ${process.version}`,
      start: async () => {
        const voix = await startVoix(dir, port, users);
        return {
          pids: () => (voix.pid === undefined ? [] : [voix.pid]),
          stop: async () => {
            voix.kill('SIGTERM');
            await new Promise((r) => voix.once('exit', r));
          },
        };
      },
    });
  }
  if (wanted.includes('asterisk')) {
    const rootfs = ensureAsteriskRootfs(say);
    servers.push({
      name: 'asterisk',
      version: asteriskVersion(rootfs),
      start: async () => {
        const asterisk = await startAsterisk({
          rootfs,
          sipPort: port,
          rtpStart: 30000,
          rtpEnd: 30100,
          users: Object.fromEntries(users.map((u) => [u.extension, u.password])),
          dialplan: [],
          pin,
        });
        return { pids: () => [asterisk.asteriskPid()].filter((pid): pid is number => pid !== null), stop: () => asterisk.stop() };
      },
    });
  }
  if (wanted.includes('kamailio')) {
    const rootfs = ensureKamailioRootfs(say);
    servers.push({
      name: 'kamailio',
      version: kamailioVersion(rootfs),
      start: async () => {
        const kamailio = await startKamailio({ rootfs, sipPort: port, users: Object.fromEntries(users.map((u) => [u.extension, u.password])), children: 4, pin });
        return {
          pids: () => kamailio.pids(),
          stop: async () => {
            say(`kamailio: ${kamailio.registeredContacts()} contacts written to SQLite`);
            await kamailio.stop();
          },
        };
      },
    });
  }

  const command = `npm run bench:register -- ${process.argv.slice(2).join(' ')}`.trimEnd();
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${os.release()}`;
  console.log(`command: ${command}`);
  console.log(`machine: ${machine}; the server under test on core 0, SIPp on core 1${hasTaskset ? '' : ' (taskset missing: not pinned)'}`);
  console.log(`workload: REGISTER/401/REGISTER/200, MD5 digest, UDP, ${USERS} users with the same passwords on every server, ${seconds} s per run; each rate run once going up, then the highest clean one until it has ${repeat} clean runs (bench/ramp.ts)`);
  console.log('servers: voix (log level info, SQLite write per registration); Asterisk PJSIP (contacts in astdb); Kamailio registrar (usrloc db_mode 2: written back to SQLite every second, 4 UDP children)');
  console.log('');
  console.log('server    rate/s   run  ok/calls     failed  retrans  watchdog  achieved/s  CPU µs per reg  verdict');
  const results: ServerResult[] = [];
  try {
    for (const server of servers) {
      const running = await server.start();
      try {
        results.push(await measure(server, running.pids, dir, port, seconds, repeat));
      } finally {
        await running.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log('');
  console.log('server    version                                              highest clean rate/s  achieved/s (median)  CPU µs per registration (median, whole server)');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(9)} ${r.version.slice(0, 52).padEnd(52)} ${(r.best === null ? 'none' : `${r.lowerBound ? '≥ ' : ''}${r.best.rate}`).padEnd(21)} ${(r.best === null ? '-' : r.best.achieved.toFixed(0)).padEnd(20)} ${r.best === null ? '-' : r.best.cpuUsPerRegistration.toFixed(0)}`,
    );
  }
  const voix = results.find((r) => r.name === 'voix');
  const ratios: Record<string, number | null> = {};
  for (const peer of results.filter((r) => r.name !== 'voix')) {
    const ratio = voix?.best != null && peer.best !== null ? voix.best.rate / peer.best.rate : null;
    ratios[peer.name] = ratio;
    console.log(`voix / ${peer.name}, highest clean rate: ${ratio === null ? 'n/a' : ratio.toFixed(2)}${peer.lowerBound || voix?.lowerBound === true ? ' (a lower bound is involved: SIPp fell behind)' : ''}`);
  }
  if (jsonFile !== '') {
    writeFileSync(jsonFile, `${JSON.stringify({ bench: 'register', command, machine, seconds, repeat, users: USERS, results, ratios }, null, 2)}\n`);
    console.log(`raw data: ${jsonFile}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
