#!/usr/bin/env node
/**
 * `voix`: the operator's command line.
 *
 *   voix check [--config FILE]          validate a configuration file
 *   voix registrations [--config FILE]  list registered phones (also while voix is stopped)
 *
 * Exit codes: 0 success, 1 internal error (a bug), 2 user error (bad
 * arguments or configuration), 3 nothing to show (no database yet).
 */
import { existsSync } from 'node:fs';
import type { VoixConfig } from '../config/types.js';
import { databasePath, openDatabase } from '../store/database.js';
import { readBindings } from '../store/sqlite-binding-store.js';
import { VERSION, loadConfigReporting, parseCommonArgs } from './args.js';

const USAGE = `Usage: voix <command> [--config FILE]

Commands:
  check            validate the configuration file and report every problem
  registrations    list the phones registered to voix (read from its database)
  version          print the version

FILE defaults to $VOIX_CONFIG or /etc/voix/voix.yaml.
`;

class UserError extends Error {}

function out(line = ''): void {
  process.stdout.write(line + '\n');
}

async function loadOrFail(configPath: string): Promise<VoixConfig> {
  const loaded = await loadConfigReporting(configPath);
  if ('errors' in loaded) throw new UserError(`${loaded.errors} error(s) in ${configPath}`);
  return loaded.config;
}

function formatTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

async function check(configPath: string): Promise<number> {
  const config = await loadOrFail(configPath);
  out(`${configPath}: OK (${config.users.length} users, domain ${config.server.domain})`);
  return 0;
}

async function registrations(configPath: string): Promise<number> {
  const config = await loadOrFail(configPath);
  if (!existsSync(databasePath(config.server.dataDir))) {
    process.stderr.write(`no database yet at ${databasePath(config.server.dataDir)} (voix has never run with this configuration)\n`);
    return 3;
  }
  const db = openDatabase(config.server.dataDir, { readonly: true });
  try {
    const now = Date.now();
    const bindings = readBindings(db, now);
    const rows = [['EXTENSION', 'TRANSPORT', 'SOURCE', 'EXPIRES IN', 'USER AGENT', 'CONTACT']];
    for (const b of bindings) {
      rows.push([b.aor, b.transport.toUpperCase(), `${b.sourceAddress}:${b.sourcePort}`, `${Math.round((b.expiresAt - now) / 1000)}s`, b.userAgent ?? '-', b.contact]);
    }
    for (const line of formatTable(rows)) out(line);
    out(`${bindings.length} registration(s)`);
    return 0;
  } finally {
    db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseCommonArgs(argv);
  if (args.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.kind === 'version') {
    out(`voix ${VERSION}`);
    return 0;
  }
  if (args.kind === 'error') throw new UserError(args.message);
  const [command, ...extra] = args.rest;
  if (extra.length > 0) throw new UserError(`unexpected argument: ${extra[0]}`);
  switch (command) {
    case 'check':
      return check(args.configPath);
    case 'registrations':
      return registrations(args.configPath);
    case 'version':
      out(`voix ${VERSION}`);
      return 0;
    case undefined:
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UserError(`unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`voix: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`voix: internal error (a bug): ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  },
);
