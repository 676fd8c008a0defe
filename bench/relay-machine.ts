/**
 * The machine around a relay benchmark step: which cores things run on,
 * and how much CPU processes other than the benchmark's took meanwhile
 * (this machine is shared: a step measured while something else ran is
 * noise, not a figure, and is run again).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** Cores of the machine (not of this process's affinity, which pinning narrows). */
export const machineCores = os.cpus().length;

export const hasTaskset = spawnSync('taskset', ['--version']).status === 0 && machineCores >= 2;

/** Wraps a command line so that it runs on `core` (when taskset is there and `enabled`). */
export function pinnedTo(core: number, enabled = true): (args: string[]) => [string, string[]] {
  return (args) => {
    const [command = '', ...rest] = args;
    return hasTaskset && enabled ? ['taskset', ['-c', String(core), command, ...rest]] : [command, rest];
  };
}

/** Moves a process (all its threads: `all`) or one thread to `cores`. */
export function pin(id: number, cores: string, all: boolean): void {
  if (!hasTaskset) return;
  spawnSync('taskset', [...(all ? ['-a'] : []), '-p', '-c', cores, String(id)], { stdio: 'ignore' });
}

const TICK_MS = 1000 / 100; // USER_HZ

/** CPU time (ms) a process has used: utime + stime of /proc/<pid>/stat, all its threads. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/**
 * One thread's scheduler times (ms): on the CPU, and runnable but waiting
 * for it (/proc/<pid>/task/<tid>/schedstat, in ns). A thread alone on its
 * core waits only when something else took that core: the precise measure
 * of noise where it hurts.
 */
export function threadSchedMs(pid: number, tid: number): { readonly cpuMs: number; readonly waitMs: number } {
  try {
    const [cpu = 0, wait = 0] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
    return { cpuMs: cpu / 1e6, waitMs: wait / 1e6 };
  } catch {
    return { cpuMs: Number.NaN, waitMs: Number.NaN };
  }
}

/** Resident memory of a process (bytes). */
export function processRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (ms) of every process: its own (utime + stime) and that of the
 * children it reaped (cutime + cstime), so that short test processes that
 * start and end within a measure still count, in their parent. Per
 * process, the kernel keeps utime + stime equal to the exact run time
 * (sum_exec_runtime); the machine's /proc/stat counters are sampled at
 * each timer tick instead, and the benchmark's traffic, paced on a 1 ms
 * grid like the tick, aliases with it: tens of % off either way.
 */
function processTimes(): Map<number, { comm: string; ms: number }> {
  const times = new Map<number, { comm: string; ms: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ').map(Number);
      const ms = ((fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0)) * TICK_MS;
      times.set(Number(name), { comm: stat.slice(stat.indexOf('(') + 1, close), ms });
    } catch {
      // gone meanwhile
    }
  }
  return times;
}

/** What processes other than the benchmark's used while a measure ran. */
export class MachineLoad {
  private readonly wall = performance.now();
  private readonly before = processTimes();

  /**
   * CPU used by every process but `ours` since construction, % of one core,
   * and the busiest of them for the report. A process that appeared
   * meanwhile counts whole; one that ended counts in its parent once reaped.
   */
  others(ours: ReadonlySet<number>): { readonly percent: number; readonly busiest: string } {
    const wallMs = performance.now() - this.wall;
    let totalMs = 0;
    let busiest = { comm: '', ms: 0 };
    for (const [pid, now] of processTimes()) {
      if (ours.has(pid)) continue;
      const ms = Math.max(0, now.ms - (this.before.get(pid)?.ms ?? 0));
      totalMs += ms;
      if (ms > busiest.ms) busiest = { comm: now.comm, ms };
    }
    const busiestPercent = (100 * busiest.ms) / wallMs;
    return { percent: (100 * totalMs) / wallMs, busiest: busiestPercent < 1 ? '' : `${busiest.comm} ${busiestPercent.toFixed(0)}%` };
  }
}

/**
 * Waits until the machine has been quiet (every process but this one
 * together under `maxPercent` of one core over three seconds: whoever
 * shares the machine works in bursts), for at most `timeoutMs`; resolves
 * with the last reading.
 */
export async function waitForQuiet(maxPercent: number, timeoutMs: number, say: (line: string) => void): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const load = new MachineLoad();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const { percent } = load.others(new Set([process.pid]));
    if (percent <= maxPercent || performance.now() > deadline) return percent;
    say(`machine busy (${percent.toFixed(0)}% of a core used by other processes), waiting`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** A text table, columns padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((l) => (l[i] ?? '').length)));
  return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function machineLine(): string {
  return `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${machineCores} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

const children = new Set<ChildProcess>();
let handlersInstalled = false;

/**
 * Kills `child` if this process ends first (normally, by an exception, or
 * by SIGINT/SIGTERM), so that no generator, dumpcap, SIPp or voix is left
 * running after the benchmark.
 */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const c of children) c.kill('SIGTERM');
      process.exit(130);
    });
  }
}

const LOCK = '/tmp/voix-bench.lock';

/** The parent of a process (/proc/<pid>/stat), 0 when unknown. */
function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The process holding the lock, from its "<name> pid <pid>" line; null when unreadable. */
function lockHolder(): number | null {
  try {
    const pid = Number(/pid (\d+)/.exec(readFileSync(LOCK, 'utf8'))?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Waits until no other benchmark holds /tmp/voix-bench.lock, then holds it
 * until this process ends (normally or by SIGINT/SIGTERM): two benchmarks
 * at once on two cores measure each other. A lock held by an ancestor of
 * this process (an orchestrator that runs the benchmarks as its children)
 * is this run's own: no wait. A lock whose holder is gone is taken over.
 */
export async function takeBenchLock(name: string, say: (line: string) => void): Promise<void> {
  const holder = lockHolder();
  if (holder !== null && existsSync(LOCK)) {
    for (let pid = process.pid; pid > 1; pid = parentOf(pid)) if (pid === holder) return;
  }
  for (let waited = 0; existsSync(LOCK); waited++) {
    const current = lockHolder();
    if (current !== null && !existsSync(`/proc/${current}`)) {
      unlinkSync(LOCK);
      break;
    }
    if (waited % 12 === 0) say(`${LOCK} exists (${readFileSync(LOCK, 'utf8').trim() || 'another benchmark'}): waiting`);
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  writeFileSync(LOCK, `${name} pid ${process.pid}\n`);
  const release = (): void => {
    try {
      if (readFileSync(LOCK, 'utf8').includes(`pid ${process.pid}`)) unlinkSync(LOCK);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      release();
      process.exit(130);
    });
  }
}

/** A TCP/UDP port free on 127.0.0.1 now (picked by the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
