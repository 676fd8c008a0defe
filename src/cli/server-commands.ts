/**
 * `voix status` and `voix reload`: the commands that talk about (and to) the
 * running server, through the runtime state it keeps in its database, the
 * live figures of its administration API when admin.listen enables it
 * (GET /api/status: load, connections, bans, memory), and, for reload, a
 * SIGHUP.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import { readActiveCalls } from '../calls/cdr-store.js';
import { formatConfigIssue, loadConfigFile } from '../config/load.js';
import type { ReloadRecord } from '../config/reload-controller.js';
import type { ListenEndpoint, VoixConfig } from '../config/types.js';
import { databasePath, openDatabase, type Db } from '../store/database.js';
import { readRuntimeState, type RuntimeState } from '../store/runtime-state-store.js';
import { readBindings } from '../store/sqlite-binding-store.js';
import { loadConfigReporting } from './args.js';
import { jsonOnly } from './options.js';
import { EXIT_INTERNAL, EXIT_NOTHING, EXIT_OK, EXIT_USER, UserError, err, openExistingDatabase, out, printJson } from './output.js';
import { formatDuration, sameFile, serverLiveness, waitForReload } from './server-process.js';

/** How long `voix reload` waits for the server's outcome. */
const RELOAD_TIMEOUT_MS = 10_000;
/** How long `voix status` waits for the administration API: a loaded server still answers within this. */
const LIVE_STATUS_TIMEOUT_MS = 3000;

/** The URL of the running server's /api/status (a wildcard listen address is reached on loopback). */
export function liveStatusUrl(listen: ListenEndpoint): string {
  const host = listen.address === '0.0.0.0' ? '127.0.0.1' : listen.address === '::' ? '::1' : listen.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}/api/status`;
}

type LiveStatus = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly error: string };

async function fetchLiveStatus(listen: ListenEndpoint): Promise<LiveStatus> {
  const url = liveStatusUrl(listen);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(LIVE_STATUS_TIMEOUT_MS) });
    if (!response.ok) return { ok: false, error: `${url} answered ${response.status}` };
    return { ok: true, value: (await response.json()) as Record<string, unknown> };
  } catch (error) {
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return { ok: false, error: `${url} did not answer: ${cause}` };
  }
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number.NaN;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** The live figures as `voix status` lines. */
export function describeLiveStatus(live: Record<string, unknown>): string[] {
  const tx = live['transactions'];
  const connections = live['connections'];
  const overload = live['overload'];
  const refusing = field(overload, 'refusing') === true;
  const lines = [
    `  state          ${String(live['status'])}`,
    `  overload       ${refusing ? `refusing new requests with 503 (${String(field(overload, 'reason'))})` : 'admitting new requests'}, ${num(field(overload, 'refused'))} refused since start`,
    `  load           event-loop lag ${num(live['eventLoopLagMs']).toFixed(1)} ms, ${num(field(tx, 'serverInProgress'))} request(s) in progress, ${num(field(tx, 'server'))} server / ${num(field(tx, 'client'))} client transaction(s)`,
    `  connections    tcp ${num(field(connections, 'tcp'))}, tls ${num(field(connections, 'tls'))}`,
    `  bans           ${num(live['bans'])} source(s) banned`,
    `  memory         ${(num(field(live['memory'], 'rssBytes')) / (1024 * 1024)).toFixed(1)} MiB resident`,
  ];
  return lines;
}

function describeReload(record: ReloadRecord): string {
  const when = new Date(record.at).toISOString();
  if (record.status === 'refused') return `${when} refused (${record.errors.length} error(s))`;
  const what = record.applied.length === 0 ? 'no change' : record.applied.join('; ');
  return `${when} applied: ${what}${record.warnings.length > 0 ? ` (${record.warnings.length} warning(s))` : ''}`;
}

function counts(db: Db): { registrations: number; activeCalls: number } {
  return { registrations: readBindings(db, Date.now()).length, activeCalls: readActiveCalls(db).length };
}

/** schema.ts: server.data_dir's default. */
const DEFAULT_DATA_DIR = '/var/lib/voix';

/**
 * The data directory named by the file, even when the file has errors: the
 * operator who just broke it wants to see what voix is running with. The
 * errors are said as warnings (a reload would refuse the file).
 */
async function dataDirOf(configPath: string, json: boolean): Promise<{ dataDir: string; admin: ListenEndpoint | null }> {
  const loaded = await loadConfigFile(configPath);
  if (loaded.ok) return { dataDir: loaded.config.server.dataDir, admin: loaded.config.admin.listen };
  const unreadable = loaded.errors.find((e) => e.line === 0);
  if (unreadable !== undefined) throw new UserError(formatConfigIssue(unreadable));
  if (!json) {
    for (const issue of loaded.errors) err(`warning: ${formatConfigIssue(issue)}`);
    err(`warning: ${configPath} has ${loaded.errors.length} error(s): voix reload would refuse it`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(configPath, 'utf8'));
  } catch {
    raw = null;
  }
  const server = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['server'] : undefined;
  const dataDir = typeof server === 'object' && server !== null ? (server as Record<string, unknown>)['data_dir'] : undefined;
  // The administration API's address is only trusted from a valid file.
  return { dataDir: path.resolve(path.dirname(path.resolve(configPath)), typeof dataDir === 'string' ? dataDir : DEFAULT_DATA_DIR), admin: null };
}

export async function status(configPath: string, words: readonly string[]): Promise<number> {
  const json = jsonOnly(words, 'usage: voix status [--json]');
  const { dataDir, admin } = await dataDirOf(configPath, json);
  if (!existsSync(databasePath(dataDir))) {
    if (json) printJson({ running: false, reason: 'voix has never run with this configuration', dataDir });
    else err(`voix is not running: no database at ${databasePath(dataDir)} (it has never run with this configuration)`);
    return EXIT_NOTHING;
  }
  const db = openDatabase(dataDir, { readonly: true });
  try {
    const liveness = serverLiveness(readRuntimeState(db));
    const { registrations, activeCalls } = counts(db);
    const state = liveness.state;
    const now = Date.now();
    const live: LiveStatus | null = liveness.running && admin !== null ? await fetchLiveStatus(admin) : null;
    if (json) {
      printJson({
        running: liveness.running,
        ...(liveness.running ? {} : { reason: liveness.reason }),
        pid: state?.pid ?? null,
        version: state?.version ?? null,
        startedAt: state === null ? null : new Date(state.startedAt).toISOString(),
        uptimeSeconds: liveness.running ? Math.floor((now - liveness.state.startedAt) / 1000) : null,
        configFile: state?.configFile ?? null,
        generation: state?.generation ?? null,
        reloads: state?.reloads ?? 0,
        lastReload: state?.lastReload ? { ...state.lastReload, at: new Date(state.lastReload.at).toISOString() } : null,
        registrations,
        activeCalls: liveness.running ? activeCalls : 0,
        trunks: (state?.trunks ?? []).map((t) => ({
          ...t,
          expiresAt: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
          nextAttemptAt: t.nextAttemptAt === null ? null : new Date(t.nextAttemptAt).toISOString(),
        })),
        live: live?.ok === true ? live.value : null,
        ...(live?.ok === false ? { liveError: live.error } : {}),
        ...(liveness.running && admin === null ? { liveError: 'admin.listen is off: no live figures' } : {}),
      });
      return liveness.running ? EXIT_OK : EXIT_NOTHING;
    }
    if (liveness.running) {
      out(`voix is running (pid ${liveness.state.pid}, version ${liveness.state.version})`);
      out(`  up since       ${new Date(liveness.state.startedAt).toISOString()} (${formatDuration(now - liveness.state.startedAt)})`);
    } else {
      out(liveness.reason);
    }
    if (state !== null) {
      out(`  config         ${state.configFile}, generation ${state.generation}`);
      out(`  last reload    ${state.lastReload === null ? 'none since start' : describeReload(state.lastReload)}`);
      const details = state.lastReload === null ? [] : state.lastReload.status === 'refused' ? state.lastReload.errors : state.lastReload.warnings;
      for (const line of details) out(`                 ${line}`);
    }
    out(`  registrations  ${registrations}`);
    // Calls left open by a run that did not stop cleanly are closed at the next start: not "active".
    if (liveness.running) out(`  active calls   ${activeCalls}`);
    for (const t of state?.trunks ?? []) {
      const detail =
        t.state === 'registered' && t.expiresAt !== null
          ? `until ${new Date(t.expiresAt).toISOString()}`
          : t.lastError !== null
            ? `${t.lastStatus ?? ''} ${t.lastError}${t.nextAttemptAt !== null ? `, retry at ${new Date(t.nextAttemptAt).toISOString()}` : ''}`.trim()
            : '';
      out(`  trunk ${t.trunk.padEnd(8)} ${t.state}${detail === '' ? '' : ` (${detail})`}`);
    }
    if (live?.ok === true) for (const line of describeLiveStatus(live.value)) out(line);
    else if (live?.ok === false) out(`  live figures   ${live.error}`);
    else if (liveness.running) out('  live figures   none: admin.listen is off (enable it for load, connections, bans and /metrics)');
    return liveness.running ? EXIT_OK : EXIT_NOTHING;
  } finally {
    db.close();
  }
}

function printReloadRecord(record: ReloadRecord): void {
  if (record.status === 'refused') {
    for (const error of record.errors) err(`error: ${error}`);
    err(`voix refused the configuration: it keeps running with generation ${record.generation}`);
    return;
  }
  for (const warning of record.warnings) err(`warning: ${warning}`);
  out(`voix reloaded its configuration: generation ${record.generation}`);
  if (record.applied.length === 0) out('  no change applied');
  for (const line of record.applied) out(`  applied: ${line}`);
}

export async function reload(configPath: string, words: readonly string[]): Promise<number> {
  const json = jsonOnly(words, 'usage: voix reload [--json]');
  // The file is checked here first: a broken one is never sent, and the errors land in the operator's terminal.
  const loaded = await loadConfigReporting(configPath);
  if ('errors' in loaded) {
    err(`voix reload: ${loaded.errors} error(s) in ${configPath}: nothing sent, voix keeps its running configuration`);
    if (json) printJson({ status: 'invalid', file: configPath });
    return EXIT_USER;
  }
  const config: VoixConfig = loaded.config;
  const db = openExistingDatabase(config, { quiet: true });
  if (db === null) {
    err(`voix reload: voix is not running (it has never run with data_dir ${config.server.dataDir})`);
    return EXIT_NOTHING;
  }
  try {
    const liveness = serverLiveness(readRuntimeState(db));
    if (!liveness.running) {
      err(`voix reload: ${liveness.reason}`);
      return EXIT_NOTHING;
    }
    const state: RuntimeState = liveness.state;
    if (!sameFile(configPath, state.configFile)) {
      throw new UserError(`voix (pid ${state.pid}) runs with ${state.configFile}, not ${configPath}: it would reload its own file. Use --config ${state.configFile}`);
    }
    try {
      process.kill(state.pid, 'SIGHUP');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPERM') throw new UserError(`not allowed to signal voix (pid ${state.pid}): run this as the user voix runs as, or as root`);
      throw error;
    }
    const record = await waitForReload(() => readRuntimeState(db), state.reloads, {
      timeoutMs: RELOAD_TIMEOUT_MS,
      pollMs: 100,
      now: Date.now,
      sleep: (ms) => sleep(ms),
    });
    if (record === null) {
      err(`voix reload: voix (pid ${state.pid}) did not report the reload within ${RELOAD_TIMEOUT_MS / 1000} s: see its log`);
      return EXIT_INTERNAL;
    }
    if (json) printJson({ ...record, at: new Date(record.at).toISOString() });
    else printReloadRecord(record);
    return record.status === 'applied' ? EXIT_OK : EXIT_USER;
  } finally {
    db.close();
  }
}
