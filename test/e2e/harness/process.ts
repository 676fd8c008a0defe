/**
 * Child processes for end-to-end tests: output kept in memory line by line
 * (for waiting on a line and for diagnostics), bounded waits that fail with
 * what the process said, and a stop that always ends with the process gone:
 * SIGTERM, then SIGKILL after a grace period.
 *
 * Each child leads its own process group, so a stop also reaches what it
 * started itself. Every process is registered with the cleanup of
 * cleanup.ts (stopped after the test) and, as a last resort, killed when
 * the test worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { registerCleanup, registerDiagnosable, type Diagnosable } from './cleanup.js';
import { EventLog } from './event-log.js';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputLine {
  readonly stream: OutputStream;
  /** The line without its end of line (LF or CRLF). */
  readonly text: string;
  /** Date.now() when the line was read. */
  readonly at: number;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  readonly command: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Added to (and overriding) the environment of the test process. */
  readonly env?: Readonly<Record<string, string>>;
  /** Name used in errors and diagnostics; default: the command. */
  readonly label?: string;
  /** Lines kept in memory; the oldest go first. Default 200 000. */
  readonly maxLines?: number;
  /** Grace between SIGTERM and SIGKILL when the cleanup after a test stops the process; default 5000 ms. */
  readonly cleanupGraceMs?: number;
}

export interface WaitForLineOptions {
  /** Only lines from this index on (see mark()); default 0, every line since the start. */
  readonly since?: number;
  /** Only lines of this stream; default both. */
  readonly stream?: OutputStream;
}

export interface StopOptions {
  /** Time allowed after SIGTERM before SIGKILL; default 5000 ms. */
  readonly graceMs?: number;
}

const DIAGNOSTIC_LINES = 80;
/** Characters of raw output kept per process, both streams together (lines are kept apart, see maxLines). */
const RAW_OUTPUT_LIMIT = 16 * 1024 * 1024;
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.killNow();
  });
}

function describeExit(exit: ExitInfo): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code ?? 'unknown'}`;
}

export class ManagedProcess implements Diagnosable {
  readonly label: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly lineLog: EventLog<OutputLine>;
  private readonly partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly raw: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  private rawSize = 0;
  private exitInfo: ExitInfo | null = null;
  private readonly exitPromise: Promise<ExitInfo>;
  private readonly unregisterCleanup: () => void;
  private readonly unregisterDiagnosable: () => void;

  constructor(options: StartProcessOptions) {
    this.label = options.label ?? options.command;
    this.lineLog = new EventLog(options.maxLines ?? 200_000);
    this.child = spawn(options.command, [...(options.args ?? [])], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      this.child.once('error', (error) => {
        this.push('stderr', `[harness] could not start ${options.command}: ${error.message}`);
        this.exitInfo ??= { code: null, signal: null };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.child.once('close', (code, signal) => {
        this.flush('stdout');
        this.flush('stderr');
        this.exitInfo ??= { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
    this.pid = this.child.pid ?? -1;
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.read('stdout', chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.read('stderr', chunk));
    live.add(this);
    installExitHook();
    const cleanupGraceMs = options.cleanupGraceMs ?? 5000;
    this.unregisterCleanup = registerCleanup(`stop ${this.label}`, async () => {
      await this.stop({ graceMs: cleanupGraceMs });
    });
    this.unregisterDiagnosable = registerDiagnosable(this);
  }

  private read(stream: OutputStream, chunk: string): void {
    if (this.rawSize + chunk.length <= RAW_OUTPUT_LIMIT) {
      this.raw[stream].push(chunk);
      this.rawSize += chunk.length;
    }
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const part of parts) this.push(stream, part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  private flush(stream: OutputStream): void {
    if (this.partial[stream].length > 0) {
      this.push(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  private push(stream: OutputStream, text: string): void {
    this.lineLog.push({ stream, text, at: Date.now() });
  }

  /** Index of the next line to come: pass it as `since` to wait only for lines after this point. */
  mark(): number {
    return this.lineLog.mark();
  }

  /** Every line kept, in order, both streams interleaved as read. */
  lines(): readonly OutputLine[] {
    return this.lineLog.items();
  }

  /** What the process wrote on one stream, byte for byte (as UTF-8), up to 16 MiB in all. */
  rawOutput(stream: OutputStream): string {
    return this.raw[stream].join('');
  }

  /** Output as text, lines prefixed with the stream when stderr. */
  output(lastLines?: number): string {
    const lines = lastLines === undefined ? this.lines() : this.lines().slice(-lastLines);
    return lines.map((line) => (line.stream === 'stderr' ? `[stderr] ${line.text}` : line.text)).join('\n');
  }

  diagnostics(): string {
    const state = this.exitInfo === null ? `running, pid ${this.pid}` : describeExit(this.exitInfo);
    return `${this.label} (${state}), last ${DIAGNOSTIC_LINES} lines:\n${this.output(DIAGNOSTIC_LINES)}`;
  }

  /** Called for every line read from now on; returns a function that unsubscribes. */
  onLine(listener: (line: OutputLine, index: number) => void): () => void {
    return this.lineLog.onItem(listener);
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  get exited(): Promise<ExitInfo> {
    return this.exitPromise;
  }

  /**
   * The first line (from `since` on) for which `predicate` holds. Rejects,
   * with the collected output, after timeoutMs or when the process exits first.
   */
  waitForLine(
    predicate: (text: string, line: OutputLine) => boolean,
    timeoutMs: number,
    options: WaitForLineOptions = {},
  ): Promise<OutputLine> {
    return this.lineLog.waitFor(
      (line) => (options.stream === undefined || line.stream === options.stream) && predicate(line.text, line),
      timeoutMs,
      {
        since: options.since,
        describe: () => `${this.label}: no matching line within ${timeoutMs} ms. Output so far:\n${this.output(200)}`,
        end: this.exitPromise.then((exit) => new Error(`${this.label} ${describeExit(exit)} before a matching line. Output:\n${this.output(200)}`)),
      },
    );
  }

  /** Resolves when the process has exited; rejects (with its output) after timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<ExitInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${this.label} still running after ${timeoutMs} ms. Output:\n${this.output(200)}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exitPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0 || this.exitInfo !== null) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }

  /** Sends a signal to the process group without waiting (e.g. SIGUSR1 to SIPp). */
  signal(signal: NodeJS.Signals): void {
    this.signalGroup(signal);
  }

  /** SIGKILL to the whole group, synchronously (used on worker exit). */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  /** SIGTERM, SIGKILL after the grace period, and wait until the process is gone. Safe to call twice. */
  async stop(options: StopOptions = {}): Promise<ExitInfo> {
    if (this.exitInfo === null) {
      this.signalGroup('SIGTERM');
      const graceMs = options.graceMs ?? 5000;
      let timer: NodeJS.Timeout | undefined;
      const escalate = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.signalGroup('SIGKILL');
          resolve();
        }, graceMs);
      });
      await Promise.race([this.exitPromise, escalate]);
      clearTimeout(timer);
    }
    const exit = await this.exitPromise;
    this.unregisterCleanup();
    this.unregisterDiagnosable();
    return exit;
  }

  /** SIGKILL right away and wait until the process is gone. */
  async kill(): Promise<ExitInfo> {
    this.signalGroup('SIGKILL');
    return this.stop();
  }
}

/** Starts a process whose output is kept and which is stopped after the test. */
export function startProcess(options: StartProcessOptions): ManagedProcess {
  return new ManagedProcess(options);
}

export interface RunProcessOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly label?: string;
  /** The process is killed and the run rejected after this long. */
  readonly timeoutMs: number;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded), returning its exit code and whole output. */
export async function runProcess(command: string, args: readonly string[], options: RunProcessOptions): Promise<RunResult> {
  const child = startProcess({
    command,
    args,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
    label: options.label ?? command,
  });
  let exit: ExitInfo;
  try {
    exit = await child.waitForExit(options.timeoutMs);
  } catch (error) {
    await child.kill();
    throw error;
  }
  await child.stop();
  return { code: exit.code, signal: exit.signal, stdout: child.rawOutput('stdout'), stderr: child.rawOutput('stderr') };
}
