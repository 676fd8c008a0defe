#!/usr/bin/env node
/**
 * `voix`: the operator's command line.
 *
 *   voix check [--config FILE]          validate a configuration file
 *   voix registrations [--config FILE]  list registered phones (also while voix is stopped)
 *   voix calls [--recent N] [--config FILE]  calls in progress, or the last N calls
 *
 * Exit codes: 0 success, 1 internal error (a bug), 2 user error (bad
 * arguments or configuration), 3 nothing to show (no database yet).
 */
import { existsSync } from 'node:fs';
import type { VoixConfig } from '../config/types.js';
import { databasePath, openDatabase } from '../store/database.js';
import { readActiveCalls, readRecentCalls, type CdrRow } from '../calls/cdr-store.js';
import { readBindings } from '../store/sqlite-binding-store.js';
import { VERSION, loadConfigReporting, parseCommonArgs } from './args.js';

const USAGE = `Usage: voix <command> [--config FILE]

Commands:
  check            validate the configuration file and report every problem
  registrations    list the phones registered to voix (read from its database)
  calls            list the calls in progress; --recent N lists the last N calls with their outcome
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
  const db = openExistingDatabase(config);
  if (db === null) return 3;
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

function openExistingDatabase(config: VoixConfig): ReturnType<typeof openDatabase> | null {
  if (!existsSync(databasePath(config.server.dataDir))) {
    process.stderr.write(`no database yet at ${databasePath(config.server.dataDir)} (voix has never run with this configuration)\n`);
    return null;
  }
  return openDatabase(config.server.dataDir, { readonly: true });
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s`;
}

function media(row: CdrRow): string {
  if (row.media === null) return '-';
  const { a, b } = row.media;
  return `caller rx ${a.packetsReceived} lost ${a.packetsLost} jitter ${a.jitterMs.toFixed(1)}ms / callee rx ${b.packetsReceived} lost ${b.packetsLost} jitter ${b.jitterMs.toFixed(1)}ms`;
}

async function calls(configPath: string, recent: number | null): Promise<number> {
  const config = await loadOrFail(configPath);
  const db = openExistingDatabase(config);
  if (db === null) return 3;
  try {
    const now = Date.now();
    if (recent === null) {
      const rows = readActiveCalls(db);
      const table = [['CALLER', 'CALLEE', 'STATE', 'SINCE', 'TALKING', 'SRTP', 'CALL-ID']];
      for (const r of rows) {
        table.push([
          r.caller,
          r.callee,
          r.answeredAt === null ? 'ringing' : 'answered',
          seconds(now - r.startedAt),
          r.answeredAt === null ? '-' : seconds(now - r.answeredAt),
          `${r.srtpCaller ? 'yes' : 'no'}/${r.srtpCallee ? 'yes' : 'no'}`,
          r.callId,
        ]);
      }
      for (const line of formatTable(table)) out(line);
      out(`${rows.length} active call(s)`);
      return 0;
    }
    const rows = readRecentCalls(db, recent);
    const table = [['STARTED', 'CALLER', 'CALLEE', 'STATUS', 'CAUSE', 'BY', 'DURATION', 'MEDIA']];
    for (const r of rows) {
      table.push([
        new Date(r.startedAt).toISOString(),
        r.caller,
        r.callee,
        r.status === null ? '-' : String(r.status),
        r.endCause ?? 'in progress',
        r.hangupBy ?? '-',
        r.durationSeconds === null ? '-' : `${r.durationSeconds}s`,
        media(r),
      ]);
    }
    for (const line of formatTable(table)) out(line);
    out(`${rows.length} call(s)`);
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
  if (command === 'calls') {
    if (extra.length === 0) return calls(args.configPath, null);
    const n = extra[0] === '--recent' ? Number(extra[1]) : NaN;
    if (extra.length !== 2 || !Number.isInteger(n) || n < 1) throw new UserError('usage: voix calls [--recent N]');
    return calls(args.configPath, n);
  }
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
