/**
 * The running server as the CLI sees it: its pid (for `voix reload`'s
 * SIGHUP), when it started, its configuration file and generation, and the
 * outcome of the last reload. One row in the `runtime_state` table, written
 * by the server, read by `voix status` and `voix reload`.
 */
import type { ReloadRecord } from '../config/reload-controller.js';
import type { TrunkRegistrationStatus } from '../trunks/trunk-registration.js';
import type { Db } from './database.js';

export interface RuntimeState {
  readonly pid: number;
  /** The kernel's start time of that pid (util/process-identity.ts), or null off Linux. */
  readonly processStart: string | null;
  readonly version: string;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
  /** Set by a clean stop; null while running, or after a crash. */
  readonly stoppedAt: number | null;
  /** Absolute path of the configuration file the server reads on SIGHUP. */
  readonly configFile: string;
  readonly generation: number;
  /** Reload attempts since start, applied or refused: the CLI waits for this to grow. */
  readonly reloads: number;
  readonly lastReload: ReloadRecord | null;
  /** Registration of each trunk with register: true, as last written by the server. */
  readonly trunks: readonly TrunkRegistrationStatus[];
  /** Times the server re-read the bans table (SIGUSR2, after `voix unban`): the CLI waits for this to grow. */
  readonly banSyncs: number;
}

interface RuntimeStateRow {
  pid: number;
  process_start: string | null;
  version: string;
  started_at: number;
  stopped_at: number | null;
  config_file: string;
  generation: number;
  reloads: number;
  last_reload: string | null;
  trunks: string | null;
  ban_syncs: number | null;
}

export interface ServerStart {
  readonly pid: number;
  readonly processStart: string | null;
  readonly version: string;
  readonly startedAt: number;
  readonly configFile: string;
  readonly generation: number;
}

export class RuntimeStateStore {
  constructor(private readonly db: Db) {}

  /** A new run: the previous run's row, clean or not, is replaced. */
  recordStart(start: ServerStart): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO runtime_state (id, pid, process_start, version, started_at, stopped_at, config_file, generation, reloads, last_reload)
         VALUES (1, @pid, @process_start, @version, @started_at, NULL, @config_file, @generation, 0, NULL)`,
      )
      .run({ pid: start.pid, process_start: start.processStart, version: start.version, started_at: start.startedAt, config_file: start.configFile, generation: start.generation });
  }

  recordReload(reload: ReloadRecord): void {
    this.db
      .prepare('UPDATE runtime_state SET generation = @generation, reloads = reloads + 1, last_reload = @last_reload WHERE id = 1')
      .run({ generation: reload.generation, last_reload: JSON.stringify(reload) });
  }

  recordTrunks(trunks: readonly TrunkRegistrationStatus[]): void {
    this.db.prepare('UPDATE runtime_state SET trunks = ? WHERE id = 1').run(JSON.stringify(trunks));
  }

  recordBanSync(): void {
    this.db.prepare('UPDATE runtime_state SET ban_syncs = ban_syncs + 1 WHERE id = 1').run();
  }

  recordStop(at: number): void {
    this.db.prepare('UPDATE runtime_state SET stopped_at = ? WHERE id = 1').run(at);
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The stored JSON back into a record; null when it is not one (written by another version). */
export function parseReloadRecord(text: string | null): ReloadRecord | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  if (typeof r['at'] !== 'number' || typeof r['generation'] !== 'number' || !isStringArray(r['configWarnings'])) return null;
  const base = { at: r['at'], generation: r['generation'], configWarnings: r['configWarnings'] };
  if (r['status'] === 'applied' && isStringArray(r['applied']) && isStringArray(r['warnings'])) {
    return { ...base, status: 'applied', applied: r['applied'], warnings: r['warnings'] };
  }
  if (r['status'] === 'refused' && isStringArray(r['errors'])) return { ...base, status: 'refused', errors: r['errors'] };
  return null;
}

/** Written by this server version: anything else reads as no trunk rather than as an error. */
function parseTrunks(text: string | null): TrunkRegistrationStatus[] {
  if (text === null) return [];
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return [];
    return value.filter((t): t is TrunkRegistrationStatus => typeof t === 'object' && t !== null && typeof (t as { trunk?: unknown }).trunk === 'string');
  } catch {
    return [];
  }
}

/** The stored state, or null when no server of this version ever ran on this database. */
export function readRuntimeState(db: Db): RuntimeState | null {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runtime_state'").get();
  if (table === undefined) return null;
  const row = db.prepare('SELECT * FROM runtime_state WHERE id = 1').get() as RuntimeStateRow | undefined;
  if (row === undefined) return null;
  return {
    pid: row.pid,
    processStart: row.process_start,
    version: row.version,
    startedAt: row.started_at,
    stoppedAt: row.stopped_at,
    configFile: row.config_file,
    generation: row.generation,
    reloads: row.reloads,
    lastReload: parseReloadRecord(row.last_reload),
    trunks: parseTrunks(row.trunks),
    banSyncs: row.ban_syncs ?? 0,
  };
}
