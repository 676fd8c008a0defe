/**
 * The real voix server, started as a user would: `node dist/server.js
 * --config <file>` from the repository root, with a YAML config written for
 * the test (free ports on 127.0.0.1, a temp data dir).
 *
 * The contract the server follows (and this file relies on): one JSON object
 * per line on stdout (`{"time","level","msg",…}`); one
 * `{"msg":"listening","transport","address","port"}` per transport, then
 * `{"msg":"ready"}`; with TLS and no certificate configured, it creates
 * `<data_dir>/tls/ca.crt` and logs `{"msg":"tls ca","caPath","fingerprint"}`.
 *
 * dist/ is rebuilt (tsc -p tsconfig.build.json) when it is older than src/,
 * so a test never runs yesterday's server; VOIX_E2E_BUILD=never turns that off.
 */
import { existsSync } from 'node:fs';
import { readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { BaresipAccount, SipTransport } from './baresip.js';
import { makeTempDir } from './cleanup.js';
import { EventLog } from './event-log.js';
import { getFreePort } from './ports.js';
import { runProcess, startProcess, type ManagedProcess, type RunResult } from './process.js';

/** The repository root (this file is test/e2e/harness/voix.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface VoixUser {
  readonly extension: string;
  readonly name?: string;
  readonly password: string;
  readonly transports?: readonly SipTransport[];
  readonly max_contacts?: number;
  /** SRTP policy towards this user (config users[].srtp); default: required for a TLS-only account, optional otherwise. */
  readonly srtp?: 'required' | 'optional' | 'off';
  /** Permission class (config users[].permission); default internal. */
  readonly permission?: string;
  readonly forward?: { readonly always?: string; readonly busy?: string; readonly no_answer?: string; readonly no_answer_after?: number };
  readonly dnd?: boolean;
  readonly caller_id?: { readonly name?: string; readonly number?: string };
}

/** Users of the default config: every transport, passwords long enough for the schema. */
export const DEFAULT_USERS: readonly VoixUser[] = [
  { extension: '1001', name: 'Alice Martin', password: 'alice-e2e-secret-1001', transports: ['udp', 'tcp', 'tls'], max_contacts: 3 },
  { extension: '1002', name: 'Bruno Petit', password: 'bruno-e2e-secret-1002', transports: ['udp', 'tcp', 'tls'], max_contacts: 3 },
  { extension: '1003', name: 'Chloé Durand', password: 'chloe-e2e-secret-1003', transports: ['udp', 'tcp', 'tls'], max_contacts: 3 },
];

/** Any part of the YAML config (snake_case, as in the file); objects are merged, other values replace. */
export type ConfigOverrides = { readonly [key: string]: unknown };

export interface StartVoixOptions {
  readonly config?: ConfigOverrides;
  /** The users: section; default DEFAULT_USERS. */
  readonly users?: readonly VoixUser[];
  /** Bound on start-up until {"msg":"ready"}; default 20 000 ms. */
  readonly readyTimeoutMs?: number;
  /** Another server entry point (the harness self-test uses a fake); default <repo>/dist/server.js. */
  readonly serverScript?: string;
  /** Another CLI entry point; default <repo>/dist/cli/voix.js. */
  readonly cliScript?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface VoixLog {
  readonly time?: string;
  readonly level?: string | number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface VoixPorts {
  readonly udp: number;
  readonly tcp: number;
  readonly tls: number;
}

export interface VoixServer {
  readonly address: '127.0.0.1';
  readonly ports: VoixPorts;
  readonly domain: string;
  readonly dataDir: string;
  readonly configPath: string;
  /** The CA to trust for TLS: the one voix generated, or null when a certificate was configured or TLS is off. */
  readonly caPath: string | null;
  /** The config as written (snake_case). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly users: readonly VoixUser[];
  /** The running server process (replaced by restart()). */
  readonly process: ManagedProcess;
  /** JSON log lines of the current run (since the last start or restart); lines that are not JSON come as {msg, raw: true}. */
  logs(): readonly VoixLog[];
  /** Index of the next log line: pass as `since`. */
  mark(): number;
  /** First log line from `since` (default: the start of this run) matching predicate; rejects after timeoutMs with the output. */
  waitForLog(predicate: (log: VoixLog) => boolean, timeoutMs: number, since?: number): Promise<VoixLog>;
  /**
   * A baresip account for a configured user over a transport, pointed at
   * this server. Default AOR sip:<ext>@127.0.0.1:<port>; with
   * `{ aor: 'domain' }`, sip:<ext>@<domain> sent through the outbound proxy
   * 127.0.0.1:<port> (what a phone does when the domain is not in DNS).
   */
  account(extension: string, transport: SipTransport, options?: { aor?: 'address' | 'domain' }): BaresipAccount;
  /** SIGTERM, SIGKILL after the grace period; resolves once the process is gone. */
  stop(): Promise<void>;
  /** Stop, then start again with the same config file and data dir (same ports). */
  restart(): Promise<void>;
  /** Runs `node dist/cli/voix.js ...args --config <configPath>` (bounded). */
  cli(args: readonly string[], timeoutMs?: number): Promise<RunResult>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges overrides into base: objects recursively, everything else (arrays included) replaced; undefined removes. */
export function mergeConfig(base: Readonly<Record<string, unknown>>, overrides: ConfigOverrides): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    if (value === undefined) delete merged[key];
    else if (isPlainObject(value) && isPlainObject(current)) merged[key] = mergeConfig(current, value);
    else merged[key] = value;
  }
  return merged;
}

/** The default test config (see TESTING.md); ports and data_dir filled in by startVoix. */
export function defaultConfig(ports: VoixPorts, dataDir: string, users: readonly VoixUser[]): Record<string, unknown> {
  return {
    server: {
      domain: 'voix.test',
      aliases: ['127.0.0.1'],
      data_dir: dataDir,
      log_level: 'debug',
      listen: {
        udp: { address: '127.0.0.1', port: ports.udp },
        tcp: { address: '127.0.0.1', port: ports.tcp },
        tls: { address: '127.0.0.1', port: ports.tls },
      },
    },
    registrar: { min_expires: 60, max_expires: 3600, default_expires: 3600 },
    // voix's default digest algorithms (SHA-256, then MD5). baresip 1.0 gets
    // MD5 alone through auth.md5_only_user_agents; SIPp 3.6 answers only the
    // first challenge and only MD5, so SIPp cases set auth.algorithms: [MD5].
    users: users.map((user) => ({ ...user })),
    security: { ban: { max_failures: 5, window: 60, duration: 900 } },
  };
}

function parseLog(text: string): VoixLog {
  if (text.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(text);
      if (isPlainObject(value)) return value as VoixLog;
    } catch {
      // Not JSON after all: kept raw below.
    }
  }
  return { msg: text, raw: true };
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else if (entry.isFile()) newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

let build: Promise<void> | null = null;

/** Builds dist/ once per test worker when it is missing or older than src/. */
export function ensureBuilt(): Promise<void> {
  build ??= (async () => {
    if (process.env['VOIX_E2E_BUILD'] === 'never') return;
    const server = join(REPO_ROOT, 'dist', 'server.js');
    const built = existsSync(server) ? (await stat(server)).mtimeMs : 0;
    if (built > 0 && built >= (await newestMtime(join(REPO_ROOT, 'src')))) return;
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await runProcess(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, timeoutMs: 180_000, label: 'tsc build' });
    if (result.code !== 0) throw new Error(`building voix (tsc -p tsconfig.build.json) failed:\n${result.stdout}${result.stderr}`);
  })();
  return build;
}

class RunningVoix implements VoixServer {
  readonly address = '127.0.0.1' as const;
  private current: ManagedProcess;
  private logLines = new EventLog<VoixLog>();
  private ca: string | null = null;

  constructor(
    readonly ports: VoixPorts,
    readonly domain: string,
    readonly dataDir: string,
    readonly configPath: string,
    readonly config: Readonly<Record<string, unknown>>,
    readonly users: readonly VoixUser[],
    private readonly serverScript: string,
    private readonly cliScript: string,
    private readonly readyTimeoutMs: number,
    private readonly env: Readonly<Record<string, string>>,
    private readonly tlsWithoutCertificate: boolean,
  ) {
    this.current = this.spawn();
  }

  get process(): ManagedProcess {
    return this.current;
  }

  get caPath(): string | null {
    return this.ca;
  }

  private spawn(): ManagedProcess {
    this.logLines = new EventLog();
    const child = startProcess({
      command: process.execPath,
      args: [this.serverScript, '--config', this.configPath],
      cwd: REPO_ROOT,
      env: this.env,
      label: 'voix',
    });
    child.onLine((line) => {
      if (line.stream === 'stdout') this.logLines.push(parseLog(line.text));
    });
    return child;
  }

  async waitUntilReady(): Promise<void> {
    await this.waitForLog((log) => log.msg === 'ready', this.readyTimeoutMs);
    const listening = this.logs().filter((log) => log.msg === 'listening');
    for (const transport of ['udp', 'tcp', 'tls'] as const) {
      const endpoint = (this.config['server'] as Record<string, Record<string, unknown>> | undefined)?.['listen']?.[transport];
      if (!isPlainObject(endpoint)) continue;
      const line = listening.find((log) => log['transport'] === transport);
      if (line === undefined) throw new Error(`voix is ready but logged no "listening" line for ${transport}:\n${this.current.output(60)}`);
      if (line['port'] !== endpoint['port']) {
        throw new Error(`voix listens on ${transport} port ${String(line['port'])}, the config says ${String(endpoint['port'])}`);
      }
    }
    const caLine = this.logs().find((log) => log.msg === 'tls ca' && typeof log['caPath'] === 'string');
    if (caLine !== undefined) this.ca = caLine['caPath'] as string;
    else if (this.tlsWithoutCertificate) this.ca = join(this.dataDir, 'tls', 'ca.crt');
  }

  logs(): readonly VoixLog[] {
    return this.logLines.items();
  }

  mark(): number {
    return this.logLines.mark();
  }

  waitForLog(predicate: (log: VoixLog) => boolean, timeoutMs: number, since = 0): Promise<VoixLog> {
    const child = this.current;
    return this.logLines.waitFor(predicate, timeoutMs, {
      since,
      describe: () => `voix: no matching log line within ${timeoutMs} ms. Output:\n${child.output(120)}`,
      end: child.exited.then((exit) => {
        const how = exit.signal === null ? `exited with code ${String(exit.code)}` : `was killed by ${exit.signal}`;
        return new Error(`voix ${how} before a matching log line. Output:\n${child.output(120)}`);
      }),
    });
  }

  account(extension: string, transport: SipTransport, options: { aor?: 'address' | 'domain' } = {}): BaresipAccount {
    const user = this.users.find((candidate) => candidate.extension === extension);
    if (user === undefined) throw new Error(`no user ${extension} in this voix config`);
    const server = `${this.address}:${this.ports[transport]}`;
    return options.aor === 'domain'
      ? { user: user.extension, password: user.password, domain: this.domain, outbound: server, transport }
      : { user: user.extension, password: user.password, domain: server, transport };
  }

  async stop(): Promise<void> {
    await this.current.stop({ graceMs: 5000 });
  }

  async restart(): Promise<void> {
    await this.stop();
    this.current = this.spawn();
    await this.waitUntilReady();
  }

  cli(args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
    return runProcess(process.execPath, [this.cliScript, ...args, '--config', this.configPath], {
      cwd: REPO_ROOT,
      env: this.env,
      timeoutMs,
      label: `voix ${args.join(' ')}`,
    });
  }
}

/** Attempts at starting voix when the ports picked for it were taken meanwhile. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * Writes a config, starts voix and resolves once it logged {"msg":"ready"}
 * with the expected listeners. Test files run in parallel processes, each
 * picking "free" ports on its own: when another one binds a port between
 * the pick and voix's bind (EADDRINUSE), voix is started again on new
 * ports, up to PORT_RACE_ATTEMPTS times. Any other failure is reported at once.
 */
export async function startVoix(options: StartVoixOptions = {}): Promise<VoixServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startVoixOnce(options);
    } catch (error) {
      const portTaken = error instanceof Error && /EADDRINUSE/.test(error.message);
      if (!portTaken || attempt >= PORT_RACE_ATTEMPTS) throw error;
    }
  }
}

async function startVoixOnce(options: StartVoixOptions): Promise<VoixServer> {
  const serverScript = options.serverScript ?? join(REPO_ROOT, 'dist', 'server.js');
  const cliScript = options.cliScript ?? join(REPO_ROOT, 'dist', 'cli', 'voix.js');
  if (options.serverScript === undefined) await ensureBuilt();
  if (!existsSync(serverScript)) throw new Error(`${serverScript} does not exist: build voix first (npm run build)`);

  const dir = await makeTempDir('voix');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const sipPort = await getFreePort('127.0.0.1');
  const ports: VoixPorts = { udp: sipPort, tcp: sipPort, tls: await getFreePort('127.0.0.1') };
  const users = options.users ?? DEFAULT_USERS;
  const config = mergeConfig(defaultConfig(ports, dataDir, users), options.config ?? {});
  const configPath = join(dir, 'voix.yaml');
  await writeFile(configPath, `# Written by test/e2e/harness/voix.ts\n${stringify(config)}`);

  const configuredUsers = Array.isArray(config['users']) ? (config['users'] as VoixUser[]) : users;
  const server = config['server'];
  const listen = isPlainObject(server) && isPlainObject(server['listen']) ? server['listen'] : {};
  const tls = listen['tls'];
  const domain = isPlainObject(server) && typeof server['domain'] === 'string' ? server['domain'] : 'voix.test';
  const effectiveDataDir = isPlainObject(server) && typeof server['data_dir'] === 'string' ? server['data_dir'] : dataDir;
  const effectivePorts: VoixPorts = {
    udp: isPlainObject(listen['udp']) && typeof listen['udp']['port'] === 'number' ? listen['udp']['port'] : ports.udp,
    tcp: isPlainObject(listen['tcp']) && typeof listen['tcp']['port'] === 'number' ? listen['tcp']['port'] : ports.tcp,
    tls: isPlainObject(tls) && typeof tls['port'] === 'number' ? tls['port'] : ports.tls,
  };
  const voix = new RunningVoix(
    effectivePorts,
    domain,
    effectiveDataDir,
    configPath,
    config,
    configuredUsers,
    serverScript,
    cliScript,
    options.readyTimeoutMs ?? 20_000,
    options.env ?? {},
    isPlainObject(tls) && tls['certificate'] === undefined,
  );
  await voix.waitUntilReady();
  return voix;
}
