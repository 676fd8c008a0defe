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
];

export const DATABASE_FILE = 'voix.db';

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
