/**
 * `voix campaign import|list|start|pause|resume|stop|status|export` and
 * `voix dnc add|remove|list|import`: the operator's side of the dialer.
 *
 * The CLI writes the server's SQLite database directly (WAL: the server keeps
 * running); the running dialer rereads campaign states at every turn, at
 * least once a second, and checks the do-not-call list before every call.
 * Campaigns are defined in the configuration file; the database holds their
 * contacts, attempts and state (dialer/campaign-store.ts).
 *
 * Every command writes through a CommandIo, so tests drive the clock and
 * read what was printed.
 */
import { constants as fsConstants, createReadStream, existsSync, statSync } from 'node:fs';
import { access, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatConfigIssue, loadConfigFile } from '../config/load.js';
import type { CampaignConfig, VoixConfig } from '../config/types.js';
import { CampaignStore, CampaignStoreError, type Campaign, type CampaignState, type ContactReport } from '../dialer/campaign-store.js';
import { ContactFileError, detectEncoding, importContacts, type ContactSink, type ImportSummary, type ImportedContact } from '../dialer/contact-import.js';
import { campaignStatusJson, type CampaignStatusView } from '../dialer/campaign-status.js';
import { ImportReportError, createImportReport } from '../dialer/import-report.js';
import { normalisePhoneNumber } from '../dialer/phone-number.js';
import { databasePath, type Db } from '../store/database.js';
import { readRuntimeState } from '../store/runtime-state-store.js';
import { parseOptions } from './options.js';
import { EXIT_NOTHING, EXIT_OK, UserError, formatTable, openExistingDatabase, openDatabaseForWriting } from './output.js';
import { SYSTEM_PROBE, formatDuration, sameFile, serverLiveness, type ProcessProbe, type ServerLiveness } from './server-process.js';

export const CAMPAIGN_USAGE = `usage: voix campaign create NAME
       voix campaign import NAME FILE.csv [--json]
       voix campaign list [--json]
       voix campaign start|pause|resume|stop NAME
       voix campaign status NAME [--json | --watch]
       voix campaign export NAME [--format csv|json] [--output FILE]`;

export const DNC_USAGE = `usage: voix dnc add NUMBER [--reason TEXT]
       voix dnc remove NUMBER
       voix dnc list [--json]
       voix dnc import FILE`;

/** Where a command prints, its clock, and how it sees the server process: the real ones in the CLI, fakes in tests. */
export interface CommandIo {
  /** A line on standard output. */
  out(line?: string): void;
  /** A line on standard error. */
  err(line: string): void;
  /** Raw text on standard output (exports, redraws); resolves when more may be written. */
  write(text: string): Promise<void>;
  /** Standard output is a terminal: --watch redraws in place. */
  readonly interactive: boolean;
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Calls `handler` on Ctrl-C until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
  readonly probe: ProcessProbe;
}

function ignoreStdoutError(): void {}

export const PROCESS_IO: CommandIo = {
  out: (line = '') => void process.stdout.write(line + '\n'),
  err: (line) => void process.stderr.write(line + '\n'),
  write: (text) =>
    new Promise((resolve, reject) => {
      // A reader that went away (export | head) fails the write, through its callback, instead of crashing the process.
      if (!process.stdout.listeners('error').includes(ignoreStdoutError)) process.stdout.on('error', ignoreStdoutError);
      process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
    }),
  interactive: process.stdout.isTTY === true,
  now: Date.now,
  sleep: (ms, signal) => sleep(ms, undefined, { signal }).catch(() => undefined),
  onInterrupt: (handler) => {
    process.once('SIGINT', handler);
    return () => void process.off('SIGINT', handler);
  },
  probe: SYSTEM_PROBE,
};

// ---- shared ----

async function loadConfig(configPath: string, io: CommandIo): Promise<VoixConfig> {
  const loaded = await loadConfigFile(configPath);
  for (const w of loaded.warnings) io.err(`warning: ${formatConfigIssue(w)}`);
  if (loaded.ok) return loaded.config;
  for (const e of loaded.errors) io.err(`error: ${formatConfigIssue(e)}`);
  throw new UserError(`${loaded.errors.length} error(s) in ${configPath}`);
}

function knownCampaigns(config: VoixConfig): string {
  return config.campaigns.length === 0 ? 'it defines no campaign (section campaigns:)' : `its campaigns: ${config.campaigns.map((c) => c.name).join(', ')}`;
}

function configuredCampaign(config: VoixConfig, name: string, configPath: string): CampaignConfig {
  const found = config.campaigns.find((c) => c.name === name);
  if (found === undefined) throw new UserError(`no campaign named "${name}" in ${configPath} (${knownCampaigns(config)})`);
  return found;
}

/** The server's database, read-only; null when voix never ran with this data_dir and nothing was imported (each command says what that means for it). */
function openForReading(config: VoixConfig): Db | null {
  return openExistingDatabase(config, { quiet: true });
}

const openForWriting = openDatabaseForWriting;

function liveness(db: Db, io: CommandIo): ServerLiveness {
  return serverLiveness(readRuntimeState(db), io.probe);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `2026-03-02 10:15:00`, local time: what a person (and Excel) reads as a date and time. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function onePositional(positionals: readonly string[], what: string, usage: string): string {
  const [value, extra] = positionals;
  if (value === undefined) throw new UserError(`missing ${what}\n${usage}`);
  if (extra !== undefined) throw new UserError(`unexpected argument: ${extra}\n${usage}`);
  return value;
}

/** A readable, regular file, or a UserError saying why not. */
async function checkReadableFile(file: string): Promise<void> {
  try {
    await access(file, fsConstants.R_OK);
    if (!(await stat(file)).isFile()) throw new UserError(`cannot read ${file}: not a file`);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

// ---- voix campaign import ----

/** The import report cannot be written: a UserError saying so, and what to do when it is a matter of permissions. */
function reportUserError(error: unknown, after = ''): unknown {
  if (!(error instanceof ImportReportError)) return error;
  const hint = ['EACCES', 'EPERM', 'EROFS'].includes(error.code ?? '') ? ' (copy the file to a folder you can write to)' : '';
  return new UserError(`${error.message}${hint}${after}`);
}

/**
 * Contacts committed per write transaction during an import: one commit per
 * row is five times slower (200,000 rows: 20 s against 3.6 s), and the
 * server's writers (dialer, registrar, call records) wait for one batch, a
 * few milliseconds, at most.
 */
const IMPORT_BATCH = 100;

/** Rejected rows shown on stderr during an import; all of them are in the report. */
const PROBLEMS_SHOWN = 10;

function nextStep(name: string, state: CampaignState | null): string {
  switch (state) {
    case 'running':
      return 'the running campaign calls the new contacts';
    case 'paused':
      return `voix campaign resume ${name} calls them`;
    default:
      return `voix campaign start ${name} calls them`;
  }
}

async function importCommand(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, { json: 'flag' }, CAMPAIGN_USAGE);
  const [name, file, extra] = parsed.positionals;
  if (name === undefined || file === undefined) throw new UserError(`voix campaign import needs a campaign name and a CSV file\n${CAMPAIGN_USAGE}`);
  if (extra !== undefined) throw new UserError(`unexpected argument: ${extra}\n${CAMPAIGN_USAGE}`);
  const json = parsed.flags.has('json');
  const config = await loadConfig(configPath, io);
  const campaignConfig = configuredCampaign(config, name, configPath);
  await checkReadableFile(file);
  const report = createImportReport(file);
  await report.ready.catch((error: unknown) => {
    throw reportUserError(error);
  });
  const reportPath = report.path;
  let problems = 0;
  let reportClosed = false;
  /** Why a broken file stopped the import, as the report says it. */
  let fileProblem: string | null = null;
  const abandonReport = async (error: unknown): Promise<void> => {
    if (reportClosed) return;
    // The reason is on stderr too; the report says it to whoever reads the report later.
    const reason = fileProblem ?? (error instanceof UserError ? error.message : `internal error: ${error instanceof Error ? error.message : String(error)}`);
    await report.abort(reason).catch(() => undefined);
    // A report that would say nothing but its title and why the import stopped is not left next to the file.
    if (problems === 0) await unlink(reportPath).catch(() => undefined);
  };

  let db: Db;
  try {
    db = openForWriting(config);
  } catch (error) {
    await abandonReport(error);
    throw error;
  }
  try {
    const store = new CampaignStore(db);
    // The campaign row is created with its first contact: an import that adds nobody (a wrong file) leaves no empty campaign behind.
    const existing = store.campaign(name);
    let sink: ContactSink | null = existing === null ? null : store.contactSink(existing.id);
    let added = 0;
    let inBatch = 0;
    const counting: ContactSink = {
      add: async (contact: ImportedContact) => {
        if (inBatch === 0) db.exec('BEGIN IMMEDIATE');
        if (sink === null) {
          let created: Campaign | null;
          try {
            created = store.createCampaign(name, campaignConfig.purpose, io.now());
          } catch (error) {
            // Another import created it meanwhile.
            if (!(error instanceof CampaignStoreError)) throw error;
            created = store.campaign(name);
            if (created === null) throw error;
          }
          sink = store.contactSink(created.id);
        }
        const outcome = await sink.add(contact);
        if (outcome === 'added') added++;
        if (++inBatch >= IMPORT_BATCH) {
          db.exec('COMMIT');
          inBatch = 0;
        }
        return outcome;
      },
    };
    let shown = 0;
    let summary: ImportSummary;
    try {
      summary = await importContacts(file, counting, {
        onProblem: (problem) => {
          problems++;
          report.onProblem(problem);
          if (!json && problem.kind === 'rejected' && shown < PROBLEMS_SHOWN) {
            shown++;
            io.err(`${file}:${problem.line}: ${problem.reason}`);
          }
        },
      });
    } catch (error) {
      const fileError = error instanceof ContactFileError;
      try {
        // A broken file: what was added before the error stays (importing the fixed file again reports it as duplicates).
        // A failure of the database, or a bug: the batch it interrupted is undone, with the campaign row if the batch created it.
        if (db.inTransaction) db.exec(fileError ? 'COMMIT' : 'ROLLBACK');
      } catch {
        // The import's own error says more than a COMMIT or ROLLBACK that failed in its wake.
      }
      // Not the file's fault: it goes up as it is, and voix reports an internal error.
      if (!fileError) throw error;
      const before = added > 0 ? `\n${added} contact(s) from the lines before the error were added to campaign ${name}; importing the fixed file again adds the others (those already added are reported as duplicates)` : '';
      fileProblem = `${error.message}${before}`;
      throw new UserError(problems > 0 ? `${fileProblem}\nthe rows rejected before the error are in ${reportPath}` : fileProblem);
    }
    if (db.inTransaction) db.exec('COMMIT');
    reportClosed = true;
    await report.finish(summary).catch((error: unknown) => {
      throw reportUserError(error, `; the contacts were imported all the same (${summary.imported} added to campaign ${name})`);
    });
    const current = store.campaign(name);
    const contacts = current === null ? 0 : store.contactCount(current.id);
    const state = current === null ? null : current.state;
    if (json) {
      io.out(
        JSON.stringify(
          {
            campaign: name,
            file,
            encoding: summary.encoding,
            delimiter: summary.delimiter,
            rows: summary.rows,
            added: summary.imported,
            duplicates: summary.duplicates,
            rejected: summary.rejected,
            report: reportPath,
            contacts,
            state,
          },
          null,
          2,
        ),
      );
      return EXIT_OK;
    }
    if (summary.rejected > shown) io.err(`${summary.rejected - shown} more rejected row(s): see ${reportPath}`);
    const delimiter = summary.delimiter === '\t' ? 'tab' : `"${summary.delimiter}"`;
    io.out(`campaign ${name}: imported ${file} (${summary.encoding}, delimiter ${delimiter})`);
    for (const line of formatTable([
      ['  rows read', String(summary.rows)],
      ['  added', String(summary.imported)],
      ['  duplicates', String(summary.duplicates)],
      ['  rejected', String(summary.rejected)],
      ['  report', reportPath],
    ])) {
      io.out(line);
    }
    if (current === null) io.out(`campaign ${name} has no contacts yet: nothing was added`);
    else io.out(`campaign ${name} has ${contacts} contact(s), state ${state}: ${nextStep(name, state)}`);
    return EXIT_OK;
  } catch (error) {
    await abandonReport(error);
    throw error;
  } finally {
    db.close();
  }
}

// ---- voix campaign list ----

interface CampaignRow {
  readonly name: string;
  readonly purpose: string;
  readonly trunk: string | null;
  readonly configured: boolean;
  readonly state: CampaignState | null;
  readonly contacts: number;
  readonly done: number;
  readonly inFlight: number;
}

/** `voix campaign create NAME`: the campaign of the configuration, in the database without contacts yet (import adds them; a first import creates it too). */
async function createCommand(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, {}, CAMPAIGN_USAGE);
  const [name, extra] = parsed.positionals;
  if (name === undefined) throw new UserError(`voix campaign create needs a campaign name\n${CAMPAIGN_USAGE}`);
  if (extra !== undefined) throw new UserError(`unexpected argument: ${extra}\n${CAMPAIGN_USAGE}`);
  const config = await loadConfig(configPath, io);
  const campaignConfig = configuredCampaign(config, name, configPath);
  const db = openForWriting(config);
  try {
    const store = new CampaignStore(db);
    const existing = store.campaign(name);
    if (existing !== null) throw new UserError(`campaign ${name} already exists (state ${existing.state}, ${store.contactCount(existing.id)} contact(s))`);
    store.createCampaign(name, campaignConfig.purpose, io.now());
    io.out(`campaign ${name} created (${campaignConfig.purpose}, trunk ${campaignConfig.trunk}): voix campaign import ${name} FILE.csv adds its contacts`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

async function listCommand(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, { json: 'flag' }, CAMPAIGN_USAGE);
  if (parsed.positionals.length > 0) throw new UserError(`unexpected argument: ${parsed.positionals[0]}\n${CAMPAIGN_USAGE}`);
  const config = await loadConfig(configPath, io);
  // The list stands without a database: the configured campaigns are "not imported".
  const db = openForReading(config);
  const rows: CampaignRow[] = [];
  try {
    const store = db === null ? null : new CampaignStore(db);
    const stored = new Map((store?.campaigns() ?? []).map((c) => [c.name, c]));
    const row = (name: string, purpose: string, trunk: string | null, campaign: Campaign | undefined): CampaignRow => {
      const progress = campaign === undefined || store === null ? null : store.progress(campaign.id);
      return { name, purpose, trunk, configured: trunk !== null, state: campaign?.state ?? null, contacts: progress?.contacts ?? 0, done: progress?.done ?? 0, inFlight: progress?.inFlight ?? 0 };
    };
    for (const c of config.campaigns) rows.push(row(c.name, c.purpose, c.trunk, stored.get(c.name)));
    for (const c of stored.values()) if (!config.campaigns.some((k) => k.name === c.name)) rows.push(row(c.name, c.purpose, null, c));
  } finally {
    db?.close();
  }
  if (parsed.flags.has('json')) {
    io.out(JSON.stringify(rows, null, 2));
    return EXIT_OK;
  }
  const table = [['NAME', 'PURPOSE', 'STATE', 'CONTACTS', 'DONE', 'IN FLIGHT']];
  for (const r of rows) {
    const state = (r.state ?? 'not imported') + (r.configured ? '' : ' (not in the configuration)');
    table.push([r.name, r.purpose, state, String(r.contacts), String(r.done), String(r.inFlight)]);
  }
  for (const line of formatTable(table)) io.out(line);
  io.out(`${rows.length} campaign(s)`);
  return EXIT_OK;
}

// ---- voix campaign start|pause|resume|stop ----

export type StateAction = 'start' | 'pause' | 'resume' | 'stop';

/** Which states each command leaves from; a completed campaign starts again when new contacts were imported. */
export const TRANSITIONS: Readonly<Record<StateAction, { readonly to: CampaignState; readonly from: readonly CampaignState[] }>> = {
  start: { to: 'running', from: ['created', 'stopped', 'paused', 'completed'] },
  pause: { to: 'paused', from: ['running'] },
  resume: { to: 'running', from: ['paused'] },
  stop: { to: 'stopped', from: ['running', 'paused'] },
};

function refusal(action: StateAction, name: string, state: CampaignState): string {
  const base = `cannot ${action} campaign ${name}: it is ${state}`;
  if (state === TRANSITIONS[action].to) return `${base} already`;
  if (action === 'resume' && TRANSITIONS.start.from.includes(state)) return `${base} (voix campaign start ${name} starts it)`;
  return base;
}

function whatVoixDoes(action: StateAction, name: string): string {
  switch (action) {
    case 'start':
      return `campaign ${name}: running (the dialer picks it up within a second)`;
    case 'resume':
      return `campaign ${name}: running again (the dialer picks it up within a second)`;
    case 'pause':
      return `campaign ${name}: paused (no new call within a second; calls in progress end normally; voix campaign resume ${name} goes on)`;
    case 'stop':
      return `campaign ${name}: stopped (no new call within a second; calls in progress end normally; voix campaign start ${name} calls the contacts left)`;
  }
}

async function changeState(action: StateAction, configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, {}, CAMPAIGN_USAGE);
  const name = onePositional(parsed.positionals, 'campaign name', CAMPAIGN_USAGE);
  const config = await loadConfig(configPath, io);
  const configured = config.campaigns.find((c) => c.name === name);
  const dials = action === 'start' || action === 'resume';
  if (dials && configured === undefined) throw new UserError(`cannot ${action} campaign ${name}: it is not in ${configPath}, so voix would not dial it (${knownCampaigns(config)})`);
  const notImported = () =>
    configured === undefined
      ? new UserError(`no campaign named "${name}" in ${configPath} or in the database (${knownCampaigns(config)})`)
      : new UserError(`campaign ${name} has no contacts yet: voix campaign import ${name} FILE.csv`);
  if (!existsSync(databasePath(config.server.dataDir))) throw notImported();
  const db = openForWriting(config);
  try {
    const store = new CampaignStore(db);
    const now = io.now();
    // Read and write in one write transaction: the dialer (marking it completed) cannot slip in between.
    const campaign = db.transaction((): Campaign => {
      const found = store.campaign(name);
      if (found === null) throw notImported();
      const transition = TRANSITIONS[action];
      if (!transition.from.includes(found.state)) throw new UserError(refusal(action, name, found.state));
      store.setCampaignState(found.id, transition.to, now);
      return found;
    }).immediate();
    io.out(whatVoixDoes(action, name));
    const server = liveness(db, io);
    if (!server.running) {
      io.err(`warning: ${server.reason}: the new state is recorded and applies when voix starts`);
    } else if (dials) {
      warnIfNotWhatVoixRuns(configPath, name, server.state, io);
    }
    if (dials) {
      const progress = store.progress(campaign.id);
      if (progress.inFlight === 0 && progress.nextAttemptAt === null) {
        io.err(`warning: campaign ${name} has no contact left to call: the dialer marks it completed again (import new contacts first)`);
      }
    }
    return EXIT_OK;
  } finally {
    db.close();
  }
}

/** The dialer dials the campaigns of the file voix loaded: say when that may not be this file as it is now. */
function warnIfNotWhatVoixRuns(configPath: string, name: string, state: Extract<ServerLiveness, { running: true }>['state'], io: CommandIo): void {
  if (!sameFile(configPath, state.configFile)) {
    io.err(`warning: voix (pid ${state.pid}) runs with ${state.configFile}, not ${configPath}: it dials campaign ${name} only if that file defines it`);
    return;
  }
  const loadedAt = state.lastReload?.status === 'applied' ? state.lastReload.at : state.startedAt;
  let modified: number;
  try {
    modified = statSync(configPath).mtimeMs;
  } catch {
    return;
  }
  if (modified > loadedAt) io.err(`warning: ${configPath} changed after voix loaded it (${localTime(loadedAt)}): if campaign ${name} is new or changed there, run voix reload`);
}

// ---- voix campaign status ----

/** Final results in the order people read them: reached, then not reached, then never called. */
const RESULT_ORDER = ['answered', 'opted-out', 'rejected', 'busy', 'no-answer', 'failed', 'congestion', 'unknown', 'do-not-call', 'no-consent', 'outside-hours'];

function breakdown(counts: Readonly<Record<string, number | undefined>>): string {
  const keys = Object.keys(counts).sort((a, b) => {
    const ia = RESULT_ORDER.indexOf(a);
    const ib = RESULT_ORDER.indexOf(b);
    return (ia === -1 ? RESULT_ORDER.length : ia) - (ib === -1 ? RESULT_ORDER.length : ib) || a.localeCompare(b);
  });
  return keys.map((k) => `${k} ${counts[k] ?? 0}`).join(', ');
}

/** `[########............] 42% (21/50)`: never 100% before the last contact is done. */
export function progressBar(done: number, total: number, width = 20): string {
  const fraction = total === 0 ? 0 : Math.min(1, done / total);
  const filled = Math.floor(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(fraction * 100)}% (${done}/${total})`;
}

/** What status shows: the campaign's state and progress (the JSON form is the administration API's, campaign-status.ts). */
export type StatusView = CampaignStatusView;

/** Contacts finished per minute over a watch, and when the rest should be done. */
export interface WatchRate {
  readonly since: number;
  readonly doneAtStart: number;
}

const STATUS_LABEL_WIDTH = 16;

export function renderStatus(view: StatusView, now: number, watch: WatchRate | null = null): string[] {
  const p = view.progress;
  const lines = [`campaign ${view.campaign} (${view.purpose}): ${view.state}${view.configured ? '' : ' (not in the configuration: voix does not dial it)'}`, progressBar(p.done, p.contacts)];
  const waiting = Object.values(p.waiting).reduce((a, b) => a + b, 0);
  const next = p.nextAttemptAt === null ? ['-', ''] : p.nextAttemptAt <= now ? ['now', ''] : [localTime(p.nextAttemptAt), `in ${formatDuration(p.nextAttemptAt - now)}`];
  const rows: string[][] = [
    ['  done', String(p.done), breakdown(p.results)],
    ['  waiting', String(waiting), breakdown(p.waiting)],
    ['  in flight', String(p.inFlight), ''],
    ['  attempts', String(p.attempts), ''],
    ['  next attempt', ...next],
  ];
  if (watch !== null) {
    const elapsed = now - watch.since;
    const finished = p.done - watch.doneAtStart;
    const perMinute = elapsed <= 0 ? 0 : (finished * 60_000) / elapsed;
    const left = p.contacts - p.done;
    rows.push(['  rate', `${perMinute.toFixed(1)}/min`, `contacts finished over ${formatDuration(elapsed)} of watching`]);
    const etaMs = perMinute > 0 ? (left / perMinute) * 60_000 : null;
    if (left === 0) rows.push(['  ETA', 'done', '']);
    else if (etaMs === null) rows.push(['  ETA', 'unknown', 'no contact finished yet']);
    else rows.push(['  ETA', formatDuration(etaMs), `about ${localTime(now + etaMs)}`]);
  }
  for (const [label, value, detail] of rows) lines.push(`${(label ?? '').padEnd(STATUS_LABEL_WIDTH)}${value ?? ''}${detail ? `  ${detail}` : ''}`);
  return lines;
}

const WATCH_INTERVAL_MS = 1000;

async function statusCommand(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, { json: 'flag', watch: 'flag' }, CAMPAIGN_USAGE);
  const name = onePositional(parsed.positionals, 'campaign name', CAMPAIGN_USAGE);
  const json = parsed.flags.has('json');
  const watch = parsed.flags.has('watch');
  if (json && watch) throw new UserError('--watch redraws for people; scripts run voix campaign status --json when they need it');
  const config = await loadConfig(configPath, io);
  const configured = config.campaigns.find((c) => c.name === name);
  const db = openForReading(config);
  try {
    const store = db === null ? null : new CampaignStore(db);
    const campaign = store?.campaign(name) ?? null;
    if (store === null || db === null || campaign === null) {
      if (configured === undefined) throw new UserError(`no campaign named "${name}" in ${configPath} or in the database (${knownCampaigns(config)})`);
      io.err(`campaign ${name} is not imported yet: voix campaign import ${name} FILE.csv`);
      return EXIT_NOTHING;
    }
    const view = (): StatusView => {
      const current = store.campaign(name) ?? campaign;
      return { campaign: name, purpose: configured?.purpose ?? current.purpose, state: current.state, configured: configured !== undefined, progress: store.progress(current.id) };
    };
    if (json) {
      io.out(JSON.stringify(campaignStatusJson(view(), io.now()), null, 2));
      return EXIT_OK;
    }
    const server = liveness(db, io);
    if (!server.running && campaign.state === 'running') io.err(`warning: ${server.reason}: nothing is dialled until it starts`);
    if (!watch) {
      for (const line of renderStatus(view(), io.now())) io.out(line);
      return EXIT_OK;
    }
    return await watchStatus(view, io);
  } finally {
    db?.close();
  }
}

/** Redraws the status every second until the campaign is completed or stopped, or Ctrl-C. */
async function watchStatus(view: () => StatusView, io: CommandIo): Promise<number> {
  const interrupted = new AbortController();
  const forget = io.onInterrupt(() => interrupted.abort());
  try {
    const first = view();
    const rate: WatchRate = { since: io.now(), doneAtStart: first.progress.done };
    let drawn = 0;
    for (let current = first; ; current = view()) {
      const lines = renderStatus(current, io.now(), rate);
      // On a terminal, move up over the previous drawing and clear it; in a pipe, each drawing follows the last.
      if (drawn > 0) await io.write(io.interactive ? `\x1b[${drawn}A\r\x1b[J` : '\n');
      await io.write(lines.map((l) => l + '\n').join(''));
      drawn = lines.length;
      if (current.state === 'completed' || current.state === 'stopped') return EXIT_OK;
      await io.sleep(WATCH_INTERVAL_MS, interrupted.signal);
      if (interrupted.signal.aborted) return EXIT_OK;
    }
  } finally {
    forget();
  }
}

// ---- voix campaign export ----

/** The CSV columns, in order (header as written). */
export const EXPORT_COLUMNS = [
  'phone',
  'source_line',
  'first_name',
  'last_name',
  'result',
  'result_detail',
  'result_at',
  'waiting_reason',
  'next_attempt_at',
  'attempts',
  'last_outcome',
  'last_sip_status',
] as const;

/**
 * One CSV field: quoted when it holds the separator, a quote, a line break
 * or edge spaces. Text that came from outside (names from the imported
 * file, SIP reason phrases) and starts like a formula gets a leading
 * apostrophe, so a spreadsheet shows it instead of running it (OWASP "CSV
 * injection").
 */
export function csvField(value: string, fromOutside = false): string {
  const safe = fromOutside && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[;"\r\n]|^\s|\s$/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A time in the export: local, for a spreadsheet; empty when there is none (never scheduled: due as soon as the campaign runs). */
const exportTime = (ms: number | null): string => (ms === null || ms <= 0 ? '' : localTime(ms));

export function csvRow(contact: ContactReport): string {
  const last = contact.attempts[contact.attempts.length - 1];
  const cells = [
    csvField(contact.phone),
    String(contact.sourceLine),
    csvField(contact.firstName ?? '', true),
    csvField(contact.lastName ?? '', true),
    contact.result ?? '',
    csvField(contact.resultDetail ?? '', true),
    exportTime(contact.resultAt),
    contact.waitingReason ?? '',
    exportTime(contact.nextAttemptAt),
    String(contact.attempts.length),
    last === undefined ? '' : (last.outcome ?? 'in-flight'),
    last?.sipStatus === null || last?.sipStatus === undefined ? '' : String(last.sipStatus),
  ];
  return cells.join(';');
}

function contactJson(contact: ContactReport): Record<string, unknown> {
  return {
    phone: contact.phone,
    sourceLine: contact.sourceLine,
    firstName: contact.firstName,
    lastName: contact.lastName,
    result: contact.result,
    resultDetail: contact.resultDetail,
    resultAt: iso(contact.resultAt),
    waitingReason: contact.waitingReason,
    nextAttemptAt: contact.nextAttemptAt === null || contact.nextAttemptAt <= 0 ? null : iso(contact.nextAttemptAt),
    attempts: contact.attempts.map((a) => ({
      startedAt: iso(a.startedAt),
      endedAt: iso(a.endedAt),
      outcome: a.outcome,
      sipStatus: a.sipStatus,
      detail: a.detail,
      callId: a.callId,
    })),
  };
}

/** Text written in chunks, to a file or standard output. */
interface TextSink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

async function openOutput(file: string | undefined, io: CommandIo): Promise<TextSink> {
  if (file === undefined) return { write: (text) => io.write(text), close: () => Promise.resolve() };
  let handle: FileHandle;
  try {
    handle = await open(file, 'w');
  } catch (error) {
    throw new UserError(`cannot write ${file}: ${(error as Error).message}`);
  }
  return { write: async (text) => void (await handle.write(text)), close: () => handle.close() };
}

async function exportCommand(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, { format: 'value', output: 'value' }, CAMPAIGN_USAGE);
  const name = onePositional(parsed.positionals, 'campaign name', CAMPAIGN_USAGE);
  const format = parsed.values.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UserError(`--format is csv or json (got "${format}")`);
  const outputFile = parsed.values.get('output');
  const config = await loadConfig(configPath, io);
  const db = openForReading(config);
  try {
    const store = db === null ? null : new CampaignStore(db);
    const campaign = store?.campaign(name) ?? null;
    if (store === null || campaign === null) {
      if (!config.campaigns.some((c) => c.name === name)) throw new UserError(`no campaign named "${name}" in ${configPath} or in the database (${knownCampaigns(config)})`);
      io.err(`campaign ${name} is not imported yet: nothing to export`);
      return EXIT_NOTHING;
    }
    const contacts = store.report(campaign.id);
    const sink = await openOutput(outputFile, io);
    try {
      let buffer = '';
      const put = async (text: string) => {
        buffer += text;
        if (buffer.length >= CHUNK) {
          await sink.write(buffer);
          buffer = '';
        }
      };
      if (format === 'csv') {
        // A byte order mark and CRLF: Excel in France opens it as UTF-8 with its accents.
        await put(`\uFEFF${EXPORT_COLUMNS.join(';')}\r\n`);
        for (const contact of contacts) await put(`${csvRow(contact)}\r\n`);
      } else {
        const head = { campaign: name, purpose: campaign.purpose, state: campaign.state, exportedAt: iso(io.now()) };
        await put(`${JSON.stringify(head, null, 2).slice(0, -2)},\n  "contacts": [`);
        let first = true;
        for (const contact of contacts) {
          await put(`${first ? '' : ','}\n    ${JSON.stringify(contactJson(contact))}`);
          first = false;
        }
        await put(`${first ? '' : '\n  '}]\n}\n`);
      }
      if (buffer !== '') await sink.write(buffer);
    } catch (error) {
      // The reader had enough (export | head): not an error.
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    } finally {
      await sink.close();
    }
    if (outputFile !== undefined) io.out(`campaign ${name}: ${contacts.length} contact(s) exported to ${outputFile} (${format})`);
    return EXIT_OK;
  } finally {
    db?.close();
  }
}

export async function campaign(configPath: string, words: readonly string[], io: CommandIo = PROCESS_IO): Promise<number> {
  const [action, ...rest] = words;
  switch (action) {
    case 'create':
      return createCommand(configPath, rest, io);
    case 'import':
      return importCommand(configPath, rest, io);
    case 'list':
      return listCommand(configPath, rest, io);
    case 'start':
    case 'pause':
    case 'resume':
    case 'stop':
      return changeState(action, configPath, rest, io);
    case 'status':
      return statusCommand(configPath, rest, io);
    case 'export':
      return exportCommand(configPath, rest, io);
    default:
      throw new UserError(action === undefined ? CAMPAIGN_USAGE : `unknown campaign command: ${action}\n${CAMPAIGN_USAGE}`);
  }
}

// ---- voix dnc ----

/** `voix dnc add 06 12 34 56 78` works unquoted: the words are one number. */
function numberArgument(positionals: readonly string[]): string {
  if (positionals.length === 0) throw new UserError(`missing phone number\n${DNC_USAGE}`);
  const raw = positionals.join(' ');
  const phone = normalisePhoneNumber(raw);
  if (!phone.ok) throw new UserError(`${phone.message}: write it like 06 12 34 56 78 or +33 6 12 34 56 78`);
  return phone.e164;
}

async function dncAdd(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, { reason: 'value' }, DNC_USAGE);
  const phone = numberArgument(parsed.positionals);
  const config = await loadConfig(configPath, io);
  const db = openForWriting(config);
  try {
    const added = new CampaignStore(db).addDoNotCall(phone, parsed.values.get('reason') ?? 'voix dnc add', io.now());
    io.out(added ? `${phone} added to the do-not-call list: no campaign calls it from now on` : `${phone} is already on the do-not-call list`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

async function dncRemove(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, {}, DNC_USAGE);
  const phone = numberArgument(parsed.positionals);
  const config = await loadConfig(configPath, io);
  if (!existsSync(databasePath(config.server.dataDir))) throw new UserError(`${phone} is not on the do-not-call list (the list is empty)`);
  const db = openForWriting(config);
  try {
    if (!new CampaignStore(db).removeDoNotCall(phone)) throw new UserError(`${phone} is not on the do-not-call list`);
    io.out(`${phone} removed from the do-not-call list: campaigns may call it again`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

async function dncList(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, { json: 'flag' }, DNC_USAGE);
  if (parsed.positionals.length > 0) throw new UserError(`unexpected argument: ${parsed.positionals[0]}\n${DNC_USAGE}`);
  const config = await loadConfig(configPath, io);
  const db = openForReading(config);
  let entries: { phone: string; addedAt: number; source: string }[] = [];
  if (db !== null) {
    try {
      entries = new CampaignStore(db).doNotCallList();
    } finally {
      db.close();
    }
  }
  if (parsed.flags.has('json')) {
    io.out(JSON.stringify(entries.map((e) => ({ ...e, addedAt: iso(e.addedAt) })), null, 2));
    return EXIT_OK;
  }
  const table = [['PHONE', 'ADDED', 'SOURCE']];
  for (const e of entries) table.push([e.phone, localTime(e.addedAt), e.source]);
  for (const line of formatTable(table)) io.out(line);
  io.out(`${entries.length} number(s) on the do-not-call list`);
  return EXIT_OK;
}

/** Numbers added per write transaction: the server's writers wait for one batch at most. */
const DNC_BATCH = 500;

/** Lines of a text file, decoded as contact-import does (UTF-8, else Windows-1252), byte order mark dropped. */
async function* decodedText(file: string): AsyncGenerator<string> {
  const handle = await open(file, 'r');
  let encoding: 'utf-8' | 'windows-1252';
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    encoding = detectEncoding(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
  const decoder = new TextDecoder(encoding);
  for await (const chunk of createReadStream(file)) yield decoder.decode(chunk as Buffer, { stream: true });
  yield decoder.decode();
}

/** The number in a line: the whole line, or its first column (`;`, `,` or tab separated), quotes removed. */
function firstColumn(line: string): string {
  const cell = line.split(/[;,\t]/, 1)[0] ?? '';
  return cell.trim().replace(/^"(.*)"$/, '$1').trim();
}

async function dncImport(configPath: string, words: readonly string[], io: CommandIo): Promise<number> {
  const parsed = parseOptions(words, {}, DNC_USAGE);
  const file = onePositional(parsed.positionals, 'file', DNC_USAGE);
  const config = await loadConfig(configPath, io);
  await checkReadableFile(file);
  const db = openForWriting(config);
  try {
    const store = new CampaignStore(db);
    const source = `voix dnc import ${path.resolve(file)}`;
    let added = 0;
    let already = 0;
    let rejected = 0;
    let seenData = false;
    let header: number | null = null;
    let batch: { phone: string; line: number }[] = [];
    const flush = db.transaction((entries: readonly { phone: string; line: number }[]) => {
      const at = io.now();
      for (const e of entries) {
        if (store.addDoNotCall(e.phone, `${source}:${e.line}`, at)) added++;
        else already++;
      }
    });
    let lineNumber = 0;
    for await (const line of createInterface({ input: Readable.from(decodedText(file)), crlfDelay: Infinity })) {
      lineNumber++;
      const raw = firstColumn(line);
      if (raw === '') continue;
      const phone = normalisePhoneNumber(raw);
      const isHeader = !seenData;
      seenData = true;
      if (!phone.ok) {
        // A first line of words ("numero;date") is a header, not a mistake.
        if (isHeader && /\p{L}/u.test(raw)) {
          header = lineNumber;
          continue;
        }
        rejected++;
        io.err(`${file}:${lineNumber}: ${phone.message}`);
        continue;
      }
      batch.push({ phone: phone.e164, line: lineNumber });
      if (batch.length >= DNC_BATCH) {
        flush.immediate(batch);
        batch = [];
      }
    }
    if (batch.length > 0) flush.immediate(batch);
    io.out(`${file}: ${added} number(s) added to the do-not-call list, ${already} already there, ${rejected} rejected${header === null ? '' : ` (header line ${header} skipped)`}`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

export async function dnc(configPath: string, words: readonly string[], io: CommandIo = PROCESS_IO): Promise<number> {
  const [action, ...rest] = words;
  switch (action) {
    case 'add':
      return dncAdd(configPath, rest, io);
    case 'remove':
      return dncRemove(configPath, rest, io);
    case 'list':
      return dncList(configPath, rest, io);
    case 'import':
      return dncImport(configPath, rest, io);
    default:
      throw new UserError(action === undefined ? DNC_USAGE : `unknown dnc command: ${action}\n${DNC_USAGE}`);
  }
}
