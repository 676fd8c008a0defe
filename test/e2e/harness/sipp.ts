/**
 * SIPp 3.6 (Debian's `sipp`, built without TLS) driven by a scenario file.
 *
 * SIPp runs in its own temp dir with every trace we may want to look at
 * afterwards (messages, unexpected messages, <log> actions, final screen,
 * statistics CSV); the result is read from those files, not from the
 * terminal screen. SIPp's exit code: 0 every call succeeded, 1 at least one
 * failed, 97 stopped by an internal command, 99 ended without processing a
 * call, 255 fatal error, 254 could not bind its socket.
 *
 * Server mode (no `remote`): SIPp waits for calls (a UAS or a fake
 * registrar); `startSipp` resolves once its socket is bound, since SIPp
 * prints nothing until it ends when its output is not a terminal.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { makeTempDir } from './cleanup.js';
import { getFreePort, getFreePortRange, waitForListening } from './ports.js';
import { startProcess, type ExitInfo, type ManagedProcess } from './process.js';

export type SippTransport = 'udp' | 'tcp';

/** An injection file written for the run: `rows` become `field0;field1;…` lines. */
export interface SippInjection {
  readonly order: 'SEQUENTIAL' | 'RANDOM' | 'USER';
  readonly rows: readonly (readonly string[])[];
}

/** One of the scenarios built into SIPp (-sn); `sipp -sd <name>` prints it. */
export interface SippBuiltinScenario {
  readonly builtin: 'uac' | 'uas' | 'regexp' | 'branchc' | 'branchs';
}

export interface SippOptions {
  /** Path of the XML scenario (-sf; relative to the current directory), or a built-in one (-sn). */
  readonly scenario: string | SippBuiltinScenario;
  /** host:port to send to; omit for server mode. */
  readonly remote?: string;
  /** -t u1 (default) or -t t1. */
  readonly transport?: SippTransport;
  /** -s: user part of the Request-URI ([service]). */
  readonly service?: string;
  /** -inf: a CSV path, or rows written to a file for this run. */
  readonly injection?: string | SippInjection;
  /** -m: stop after this many calls. */
  readonly calls?: number;
  /** -r: calls per second (per ratePeriodMs if given). */
  readonly rate?: number;
  /** -rp: the rate period in ms. */
  readonly ratePeriodMs?: number;
  /** -l: at most this many simultaneous calls. */
  readonly limit?: number;
  /** Global bound: SIPp gets -timeout (failing when reached) and is killed a little after. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /** -i: local address for Via/Contact/From, and the source address (SIPp 3.6 binds it, UDP and TCP); default 127.0.0.1. */
  readonly localAddress?: string;
  /** -p: local port; default a free one. */
  readonly localPort?: number;
  /** -bind_local: in server mode, listen on localAddress only (not every address). */
  readonly bindLocal?: boolean;
  /** -mp: base of the media ports; default a free block of 4. */
  readonly mediaPort?: number;
  /** -key name value: [name] in the scenario. */
  readonly keys?: Readonly<Record<string, string>>;
  /** -set name value: global variable [$name]. */
  readonly variables?: Readonly<Record<string, string>>;
  /** -au / -ap: credentials for [authentication] without parameters. */
  readonly authUser?: string;
  readonly authPassword?: string;
  /** Anything else, appended as is. */
  readonly extraArgs?: readonly string[];
  readonly label?: string;
}

export interface SippResult {
  /** null when SIPp was killed by a signal. */
  readonly exitCode: number | null;
  /** SuccessfulCall(C) of the final statistics; 0 when SIPp wrote none. */
  readonly successful: number;
  /** FailedCall(C) of the final statistics. */
  readonly failed: number;
  /** Every SIP message sent and received (-trace_msg). */
  readonly messages: string;
  /** Unexpected messages and errors (-trace_err). */
  readonly errors: string;
  /** Lines written by <log> actions (-trace_logs). */
  readonly logs: string;
  /** The final statistics screen (-trace_screen). */
  readonly screen: string;
  /** The last row of the statistics CSV, by column name; null when there is none. */
  readonly stats: Readonly<Record<string, string>> | null;
  /** What SIPp printed on stdout/stderr. */
  readonly output: string;
  /** The command line, for error messages. */
  readonly commandLine: string;
}

export interface SippRun {
  readonly process: ManagedProcess;
  readonly localAddress: string;
  readonly localPort: number;
  readonly transport: SippTransport;
  /** Waits (bounded) for SIPp to end by itself and reads its result. */
  result(timeoutMs?: number): Promise<SippResult>;
  /** Stops SIPp (SIGTERM, then SIGKILL) and reads whatever it wrote. */
  stop(): Promise<SippResult>;
}

const TRACE_FILES = {
  messages: 'messages.log',
  errors: 'errors.log',
  logs: 'logs.log',
  screen: 'screen.log',
  stats: 'stats.csv',
} as const;

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** The last data row of SIPp's statistics CSV (`;`-separated, header first). */
export function parseSippStats(csv: string): Record<string, string> | null {
  const rows = csv.split(/\r?\n/).filter((row) => row.trim().length > 0);
  const header = rows[0]?.split(';');
  const last = rows.length > 1 ? rows[rows.length - 1]?.split(';') : undefined;
  if (header === undefined || last === undefined) return null;
  const stats: Record<string, string> = {};
  header.forEach((name, index) => {
    if (name.length > 0) stats[name] = last[index] ?? '';
  });
  return stats;
}

function count(stats: Record<string, string> | null, column: string): number {
  const value = stats === null ? undefined : stats[column];
  const parsed = value === undefined ? Number.NaN : Number.parseInt(value, 10);
  return Number.isFinite(parsed) ? parsed : 0;
}

async function writeInjection(dir: string, injection: SippInjection): Promise<string> {
  const path = join(dir, 'injection.csv');
  const lines = [injection.order, ...injection.rows.map((row) => row.join(';'))];
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function buildArgs(options: SippOptions, dir: string, localAddress: string, localPort: number, timeoutMs: number): Promise<string[]> {
  const transport = options.transport ?? 'udp';
  const args: string[] = [];
  if (options.remote !== undefined) args.push(options.remote);
  if (typeof options.scenario === 'string') {
    args.push('-sf', isAbsolute(options.scenario) ? options.scenario : resolve(options.scenario));
  } else {
    args.push('-sn', options.scenario.builtin);
  }
  args.push('-t', transport === 'udp' ? 'u1' : 't1');
  args.push('-i', localAddress, '-p', String(localPort));
  args.push('-mp', String(options.mediaPort ?? (await getFreePortRange(4, localAddress))));
  if (options.bindLocal === true) args.push('-bind_local');
  if (options.service !== undefined) args.push('-s', options.service);
  if (options.injection !== undefined) {
    const path = typeof options.injection === 'string' ? options.injection : await writeInjection(dir, options.injection);
    args.push('-inf', path);
  }
  if (options.calls !== undefined) args.push('-m', String(options.calls));
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.ratePeriodMs !== undefined) args.push('-rp', String(options.ratePeriodMs));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.authUser !== undefined) args.push('-au', options.authUser);
  if (options.authPassword !== undefined) args.push('-ap', options.authPassword);
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, value);
  for (const [name, value] of Object.entries(options.variables ?? {})) args.push('-set', name, value);
  args.push('-timeout', `${Math.max(1, Math.ceil(timeoutMs / 1000))}s`, '-timeout_error');
  args.push('-nostdin');
  args.push('-trace_msg', '-message_file', join(dir, TRACE_FILES.messages));
  args.push('-trace_err', '-error_file', join(dir, TRACE_FILES.errors));
  args.push('-trace_logs', '-log_file', join(dir, TRACE_FILES.logs));
  args.push('-trace_screen', '-screen_file', join(dir, TRACE_FILES.screen));
  args.push('-trace_stat', '-stf', join(dir, TRACE_FILES.stats));
  args.push(...(options.extraArgs ?? []));
  return args;
}

async function collect(dir: string, exit: ExitInfo, child: ManagedProcess, commandLine: string): Promise<SippResult> {
  const stats = parseSippStats(await readIfExists(join(dir, TRACE_FILES.stats)));
  return {
    exitCode: exit.code,
    successful: count(stats, 'SuccessfulCall(C)'),
    failed: count(stats, 'FailedCall(C)'),
    messages: await readIfExists(join(dir, TRACE_FILES.messages)),
    errors: await readIfExists(join(dir, TRACE_FILES.errors)),
    logs: await readIfExists(join(dir, TRACE_FILES.logs)),
    screen: await readIfExists(join(dir, TRACE_FILES.screen)),
    stats,
    output: child.output(),
    commandLine,
  };
}

function scenarioName(scenario: string | SippBuiltinScenario): string {
  return typeof scenario === 'string' ? (scenario.split('/').pop() ?? scenario) : scenario.builtin;
}

/** Starts SIPp and returns once it is running (and, in server mode, listening). */
export async function startSipp(options: SippOptions): Promise<SippRun> {
  const dir = await makeTempDir('sipp');
  const localAddress = options.localAddress ?? '127.0.0.1';
  const localPort = options.localPort ?? (await getFreePort(localAddress));
  const transport = options.transport ?? 'udp';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = await buildArgs(options, dir, localAddress, localPort, timeoutMs);
  const commandLine = `sipp ${args.join(' ')}`;
  const child = startProcess({ command: 'sipp', args, cwd: dir, label: options.label ?? `sipp ${scenarioName(options.scenario)}` });
  if (options.remote === undefined) {
    await waitForListening(transport, localAddress, localPort, 5000, () => child.running).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${commandLine}\n${child.output(50)}`);
    });
  }
  let finished: Promise<SippResult> | null = null;
  const finish = (exit: Promise<ExitInfo>): Promise<SippResult> => {
    finished ??= exit.then((info) => collect(dir, info, child, commandLine));
    return finished;
  };
  return {
    process: child,
    localAddress,
    localPort,
    transport,
    // SIPp enforces its own -timeout; the extra 5 s only catch a SIPp that hangs.
    result: (waitMs = timeoutMs + 5000) =>
      finish(
        child.waitForExit(waitMs).catch(async (error: unknown) => {
          await child.kill();
          throw error;
        }),
      ),
    stop: () => finish(child.stop({ graceMs: 2000 })),
  };
}

/** Runs SIPp to completion (bounded by timeoutMs) and returns what it reported. */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const run = await startSipp(options);
  return run.result();
}
