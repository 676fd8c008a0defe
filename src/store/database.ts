/**
 * The SQLite database in the data directory (better-sqlite3, major 12: 13
 * crashes on Node 20). WAL mode so that `voix` CLI reads while the server
 * writes; migrations numbered and applied in order at open.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE bindings (
     aor TEXT NOT NULL,
     contact TEXT NOT NULL,
     instance_id TEXT,
     reg_id INTEGER,
     call_id TEXT NOT NULL,
     cseq INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     q REAL,
     transport TEXT NOT NULL,
     source_address TEXT NOT NULL,
     source_port INTEGER NOT NULL,
     path TEXT NOT NULL DEFAULT '[]',
     user_agent TEXT,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (aor, contact)
   )`,
  `CREATE TABLE calls (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     call_id TEXT NOT NULL,
     caller TEXT NOT NULL,
     callee TEXT NOT NULL,
     caller_transport TEXT NOT NULL,
     callee_transport TEXT,
     started_at INTEGER NOT NULL,
     answered_at INTEGER,
     ended_at INTEGER,
     duration_seconds INTEGER,
     status INTEGER,
     end_cause TEXT,
     hangup_by TEXT,
     srtp_caller INTEGER NOT NULL DEFAULT 0,
     srtp_callee INTEGER NOT NULL DEFAULT 0,
     media_stats TEXT
   );
   CREATE INDEX calls_active ON calls (ended_at);
   CREATE INDEX calls_started ON calls (started_at)`,
  // One row: the running server, for `voix status` and `voix reload` (runtime-state-store.ts).
  `CREATE TABLE runtime_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     pid INTEGER NOT NULL,
     process_start TEXT,
     version TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     stopped_at INTEGER,
     config_file TEXT NOT NULL,
     generation INTEGER NOT NULL,
     reloads INTEGER NOT NULL DEFAULT 0,
     last_reload TEXT
   )`,
  // The trunks' registration states, refreshed by the server every few seconds (JSON).
  `ALTER TABLE runtime_state ADD COLUMN trunks TEXT`,
  // Outbound campaigns (src/dialer/campaign-store.ts): contacts imported from CSV, one row per call
  // attempt written before its INVITE leaves, and the do-not-call list.
  `CREATE TABLE campaigns (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     purpose TEXT NOT NULL CHECK (purpose IN ('prospecting', 'customer')),
     created_at INTEGER NOT NULL
   );
   CREATE TABLE campaign_contacts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
     phone TEXT NOT NULL,
     source_line INTEGER NOT NULL,
     first_name TEXT,
     last_name TEXT,
     consent_given INTEGER,
     consent_date TEXT,
     consent_source TEXT,
     customer INTEGER,
     variables TEXT NOT NULL DEFAULT '{}',
     UNIQUE (campaign_id, phone)
   );
   CREATE TABLE call_attempts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     contact_id INTEGER NOT NULL REFERENCES campaign_contacts (id),
     phone TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     outcome TEXT
   );
   CREATE INDEX call_attempts_in_flight ON call_attempts (contact_id) WHERE outcome IS NULL;
   CREATE INDEX call_attempts_by_phone ON call_attempts (phone, started_at);
   CREATE TABLE do_not_call (
     phone TEXT PRIMARY KEY,
     added_at INTEGER NOT NULL,
     source TEXT NOT NULL
   )`,
  // The dialer's schedule (src/dialer/dialer.ts): a campaign's state as the operator set it, each
  // contact's next attempt time or final result, and what each attempt's call was.
  `ALTER TABLE campaigns ADD COLUMN state TEXT NOT NULL DEFAULT 'created';
   ALTER TABLE campaigns ADD COLUMN state_changed_at INTEGER;
   ALTER TABLE campaign_contacts ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE campaign_contacts ADD COLUMN waiting_reason TEXT;
   ALTER TABLE campaign_contacts ADD COLUMN result TEXT;
   ALTER TABLE campaign_contacts ADD COLUMN result_detail TEXT;
   ALTER TABLE campaign_contacts ADD COLUMN result_at INTEGER;
   ALTER TABLE call_attempts ADD COLUMN call_id TEXT;
   ALTER TABLE call_attempts ADD COLUMN sip_status INTEGER;
   ALTER TABLE call_attempts ADD COLUMN detail TEXT;
   CREATE INDEX campaign_contacts_due ON campaign_contacts (campaign_id, next_attempt_at) WHERE result IS NULL`,
  // Sources banned for authentication failures (src/store/ban-store.ts): kept across restarts, listed
  // and lifted by the CLI (`voix bans`, `voix unban`); ban_syncs counts the server's re-reads (SIGUSR2).
  `CREATE TABLE bans (
     source TEXT PRIMARY KEY,
     banned_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   ALTER TABLE runtime_state ADD COLUMN ban_syncs INTEGER NOT NULL DEFAULT 0`,
];

export const DATABASE_FILE = 'voix.db';

/**
 * Page cache of the writer connection, in KiB (PRAGMA cache_size = -N):
 * SQLite's own default. better-sqlite3 builds SQLite with 16 000 KiB, which
 * the SIP thread's malloc arena filled as the call records grew, one page
 * at a time, for hours; the call-record writes take as long with 2 000
 * (docs/adr/0010-cache-de-pages-sqlite.md).
 */
export const PAGE_CACHE_KIB = 2000;

/**
 * A connection's statements, each prepared once per SQL text: preparing
 * costs tens of microseconds, and a statement prepared per query leaves
 * its native memory in the SIP thread's malloc arena until V8 collects it
 * (bench/sqlite-cache.ts: +44 MiB after 5 000 dialer turns).
 */
export class PreparedStatements {
  private readonly prepared = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  get(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }
}

export function databasePath(dataDir: string): string {
  return path.join(dataDir, DATABASE_FILE);
}

export interface OpenOptions {
  readonly readonly?: boolean;
}

/** Opens (and for writers, creates and migrates) the database in `dataDir`. */
export function openDatabase(dataDir: string, options: OpenOptions = {}): Db {
  if (options.readonly) {
    const db = new Database(databasePath(dataDir), { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    return db;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  const db = new Database(databasePath(dataDir));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 2000');
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
