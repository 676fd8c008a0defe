#!/usr/bin/env node
/**
 * `voix`: the operator's command line.
 *
 *   voix check [--config FILE]          validate a configuration file
 *   voix status [--json]                is voix running, since when, with which configuration
 *   voix reload [--json]                check the file, then make the running voix apply it (SIGHUP)
 *   voix registrations [--json]         list registered phones (also while voix is stopped)
 *   voix calls [--recent N] [--json]    calls in progress, or the last N calls
 *   voix user list|add|passwd ...       accounts in the configuration file (user-commands.ts)
 *   voix campaign create|import|list|start|pause|resume|stop|status|export ...
 *                                       outbound campaigns (campaign-commands.ts)
 *   voix dnc add|remove|list|import ... the do-not-call list (campaign-commands.ts)
 *   voix bans [--json]                  sources banned for authentication failures (ban-commands.ts)
 *   voix unban ADDRESS [--json]         lift a ban; the running voix applies it at once (SIGUSR2)
 *
 * Every command takes --config FILE. Exit codes: 0 success, 1 internal error
 * (a bug, or the server did not answer a reload), 2 user error (bad
 * arguments or configuration, a refused edit or reload), 3 nothing to show
 * (no database yet, voix not running).
 */
import type { VoixConfig } from '../config/types.js';
import { readActiveCalls, readRecentCalls, type CdrRow } from '../calls/cdr-store.js';
import { readBindings } from '../store/sqlite-binding-store.js';
import { VERSION, loadConfigAndPromptsReporting, loadConfigReporting, parseCommonArgs } from './args.js';
import { bans, unban } from './ban-commands.js';
import { campaign, dnc } from './campaign-commands.js';
import { jsonOnly, parseOptions } from './options.js';
import { EXIT_INTERNAL, EXIT_USER, UserError, formatTable, openExistingDatabase, out, printJson } from './output.js';
import { reload, status } from './server-commands.js';
import { user } from './user-commands.js';

const USAGE = `Usage: voix <command> [--config FILE]

Commands:
  check            validate the configuration file and report every problem
  status           whether voix runs, its pid, uptime, configuration generation,
                   last reload, registrations and active calls (exit 3: not running)
  reload           check the configuration file, then have the running voix apply it
                   without dropping calls or registrations (exit 2: refused, 3: not running)
  registrations    list the phones registered to voix (read from its database)
  calls            list the calls in progress; --recent N lists the last N calls with their outcome
  user list        list the accounts of the configuration file
  user add EXT     add an account with a generated password, shown once
                   [--name NAME] [--transports tls,udp,tcp] [--password-length N | --password-stdin]
  user passwd EXT  give an account a new password (generated, or --password-stdin)
  campaign create NAME
                   put a campaign of the configuration file in the database (import creates it too)
  campaign import NAME FILE.csv
                   add the contacts of a CSV file to a campaign of the configuration file
                   (rejected rows and duplicates in FILE.csv.import-report.txt)
  campaign list    the campaigns, their state and progress
  campaign start|pause|resume|stop NAME
                   drive the dialer of the running voix (it applies the change within a second)
  campaign status NAME
                   a campaign's progress; --watch redraws it every second with a rate and an ETA
  campaign export NAME
                   each contact's result and attempts [--format csv|json] [--output FILE]
  dnc add NUMBER   put a number on the do-not-call list [--reason TEXT]
  dnc remove NUMBER
                   take a number off the do-not-call list
  dnc list         the do-not-call list
  dnc import FILE  add the numbers of a file (one per line, or a CSV's first column)
  bans             the sources banned for repeated authentication failures, and for how long
  unban ADDRESS    lift a ban at once (the running voix is told); fail2ban's own is lifted with
                   fail2ban-client set voix unbanip ADDRESS
  version          print the version

status, reload, registrations, calls, user list/add/passwd, campaign
import/list/status and dnc list take --json for scripts. The configuration
file (--config FILE) defaults to $VOIX_CONFIG or /etc/voix/voix.yaml.
`;

async function loadOrFail(configPath: string): Promise<VoixConfig> {
  const loaded = await loadConfigReporting(configPath);
  if ('errors' in loaded) throw new UserError(`${loaded.errors} error(s) in ${configPath}`);
  return loaded.config;
}

async function check(configPath: string): Promise<number> {
  // The prompts too: a missing or unplayable audio file is found here, not during a call.
  const loaded = await loadConfigAndPromptsReporting(configPath);
  if ('errors' in loaded) throw new UserError(`${loaded.errors} error(s) in ${configPath}`);
  const { config, prompts } = loaded;
  out(`${configPath}: OK (${config.users.length} users, ${config.groups.length} groups, ${config.menus.length} menus, ${config.messages.length} messages, ${prompts.size} prompts, ${config.trunks.length} trunks, domain ${config.server.domain})`);
  return 0;
}

async function registrations(configPath: string, json: boolean): Promise<number> {
  const config = await loadOrFail(configPath);
  const db = openExistingDatabase(config);
  if (db === null) return 3;
  try {
    const now = Date.now();
    const bindings = readBindings(db, now);
    if (json) {
      printJson(
        bindings.map((b) => ({
          extension: b.aor,
          contact: b.contact,
          transport: b.transport,
          sourceAddress: b.sourceAddress,
          sourcePort: b.sourcePort,
          expiresAt: new Date(b.expiresAt).toISOString(),
          expiresInSeconds: Math.round((b.expiresAt - now) / 1000),
          userAgent: b.userAgent,
        })),
      );
      return 0;
    }
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

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))}s`;
}

function media(row: CdrRow): string {
  if (row.media === null) return '-';
  const { a, b } = row.media;
  return `caller rx ${a.packetsReceived} lost ${a.packetsLost} jitter ${a.jitterMs.toFixed(1)}ms / callee rx ${b.packetsReceived} lost ${b.packetsLost} jitter ${b.jitterMs.toFixed(1)}ms`;
}

/** A CDR row for scripts: times as ISO 8601. */
function cdrJson(row: CdrRow): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { ...row, startedAt: iso(row.startedAt), answeredAt: iso(row.answeredAt), endedAt: iso(row.endedAt) };
}

async function calls(configPath: string, recent: number | null, json: boolean): Promise<number> {
  const config = await loadOrFail(configPath);
  const db = openExistingDatabase(config);
  if (db === null) return 3;
  try {
    const now = Date.now();
    if (json) {
      printJson((recent === null ? readActiveCalls(db) : readRecentCalls(db, recent)).map(cdrJson));
      return 0;
    }
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
  switch (command) {
    case 'calls': {
      const usage = 'usage: voix calls [--recent N] [--json]';
      const parsed = parseOptions(extra, { recent: 'value', json: 'flag' }, usage);
      if (parsed.positionals.length > 0) throw new UserError(`unexpected argument: ${parsed.positionals[0]}\n${usage}`);
      const recentText = parsed.values.get('recent');
      const n = recentText === undefined ? null : Number(recentText);
      if (n !== null && (!Number.isInteger(n) || n < 1)) throw new UserError(usage);
      return calls(args.configPath, n, parsed.flags.has('json'));
    }
    case 'registrations':
      return registrations(args.configPath, jsonOnly(extra, 'usage: voix registrations [--json]'));
    case 'status':
      return status(args.configPath, extra);
    case 'reload':
      return reload(args.configPath, extra);
    case 'user':
      return user(args.configPath, extra);
    case 'campaign':
      return campaign(args.configPath, extra);
    case 'dnc':
      return dnc(args.configPath, extra);
    case 'bans':
      return bans(args.configPath, extra);
    case 'unban':
      return unban(args.configPath, extra);
  }
  if (extra.length > 0) throw new UserError(`unexpected argument: ${extra[0]}`);
  switch (command) {
    case 'check':
      return check(args.configPath);
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
      process.exitCode = EXIT_USER;
      return;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`voix: internal error (a bug): ${e.stack ?? e.message}\n`);
    process.exitCode = EXIT_INTERNAL;
  },
);
