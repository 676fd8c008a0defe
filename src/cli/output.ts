/**
 * What every `voix` command shares: the user-error type the entry point turns
 * into exit code 2, the exit codes themselves, lines and tables on standard
 * output, JSON for scripts, and opening the server's database read-only.
 */
import { chownSync, existsSync, statSync } from 'node:fs';
import type { VoixConfig } from '../config/types.js';
import { databasePath, openDatabase, type Db } from '../store/database.js';

export const EXIT_OK = 0;
/** A bug: reported with its stack. */
export const EXIT_INTERNAL = 1;
/** Bad arguments or configuration, a refused edit or reload. */
export const EXIT_USER = 2;
/** Nothing to show: no database yet, voix not running. */
export const EXIT_NOTHING = 3;

/** A mistake of the person at the keyboard: said in one line, exit 2, no stack. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

export function err(line: string): void {
  process.stderr.write(line + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Columns padded to their widest cell; the last column is left ragged. */
export function formatTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

/** The server's database, read-only; null (after saying so on stderr) when voix never ran with this data_dir. */
export function openExistingDatabase(config: VoixConfig, options: { quiet?: boolean } = {}): Db | null {
  const file = databasePath(config.server.dataDir);
  if (!existsSync(file)) {
    if (options.quiet !== true) err(`no database yet at ${file} (voix has never run with this configuration)`);
    return null;
  }
  return openDatabase(config.server.dataDir, { readonly: true });
}

/**
 * The server's database for writing, created and migrated if need be. When
 * root writes the database of a voix that runs under its own account, the
 * files SQLite creates (the database itself on a first import, -wal and -shm
 * when voix is stopped) are given to that account: a root-owned -wal would
 * stop voix from opening its own database.
 */
export function openDatabaseForWriting(config: VoixConfig): Db {
  const dataDir = config.server.dataDir;
  const file = databasePath(dataDir);
  const created = !existsSync(file);
  let db: Db;
  try {
    db = openDatabase(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (['EACCES', 'EPERM', 'EROFS', 'SQLITE_CANTOPEN', 'SQLITE_READONLY'].includes(code)) {
      throw new UserError(`cannot write the database ${file}: ${(error as Error).message} (run this as the account voix runs as, or as root)`);
    }
    throw error;
  }
  if (process.getuid?.() === 0) {
    const owner = statSync(created ? dataDir : file);
    if (owner.uid !== 0) {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        if (existsSync(f) && statSync(f).uid === 0) chownSync(f, owner.uid, owner.gid);
      }
    }
  }
  return db;
}
