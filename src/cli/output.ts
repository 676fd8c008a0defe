/**
 * What every `voix` command shares: the user-error type the entry point turns
 * into exit code 2, the exit codes themselves, lines and tables on standard
 * output, JSON for scripts, and opening the server's database read-only.
 */
import { existsSync } from 'node:fs';
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
