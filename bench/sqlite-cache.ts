/**
 * What SQLite's page cache size (PRAGMA cache_size) costs and buys on the
 * connection voix's SIP thread writes with: the memory it keeps as the
 * database grows, and how long the writes and reads voix makes on that
 * thread take.
 *
 * Each size runs in its own process, on a fresh database in `--dir`:
 * 1. call records: `--calls` calls of three writes each (CdrStore: start,
 *    answered, end), as fast as they go; the main malloc arena (the
 *    [heap] mapping of /proc/self/smaps, where SQLite's cache lives) and
 *    the database size are sampled every tenth of the way;
 * 2. a campaign: `--contacts` contacts imported (100 per transaction, as
 *    `voix campaign import` commits them), then `--attempts` turns
 *    of what the dialer does on the SIP thread for one call (due contacts,
 *    the per-number limits, begin and finish the attempt, close the
 *    contact), each turn timed.
 * The sizes alternate over `--rounds` rounds.
 *
 *   npx tsx bench/sqlite-cache.ts [--sizes 16000,2000] [--calls 40000] [--contacts 50000] [--attempts 5000] [--rounds 2] [--dir /var/tmp] [--json out.json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CdrStore } from '../src/calls/cdr-store.js';
import { CampaignStore } from '../src/dialer/campaign-store.js';
import type { LegStats, RelayStats } from '../src/rtp/media-protocol.js';
import { databasePath, openDatabase } from '../src/store/database.js';
import { percentile, table } from './relay-machine.js';
import { parseSmaps } from './smaps.js';
import { median } from './windows.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const sizes = option('sizes', '16000,2000').split(',').map(Number);
const calls = Number(option('calls', '40000'));
const contacts = Number(option('contacts', '50000'));
const attempts = Number(option('attempts', '5000'));
const rounds = Number(option('rounds', '2'));
const baseDir = option('dir', '/var/tmp');
const jsonFile = option('json', '');

interface Sample {
  readonly calls: number;
  readonly databaseMB: number;
  readonly mainArenaMiB: number;
}

interface Run {
  readonly cacheKiB: number;
  readonly round: number;
  readonly samples: readonly Sample[];
  readonly cdrWriteP50Ms: number;
  readonly cdrWriteP99Ms: number;
  readonly cdrWriteMaxMs: number;
  readonly dialerTurnP50Ms: number;
  readonly dialerTurnP99Ms: number;
  readonly dialerTurnMaxMs: number;
  readonly importRowsPerSecond: number;
  readonly mainArenaAfterImportMiB: number;
  readonly mainArenaAfterCampaignMiB: number;
  readonly databaseAfterCampaignMB: number;
}

/** A minute of G.711 each way, as the media workers report it (the soaks' rows hold ~460 bytes of these). */
const leg = (port: number): LegStats => ({
  packetsReceived: 3000,
  bytesReceived: 516_000,
  packetsSent: 3000,
  bytesSent: 516_000,
  packetsLost: 0,
  extendedHighestSequence: 3000,
  jitterMs: 0.4,
  packetsDropped: 0,
  rtcpReceived: 12,
  rtcpSent: 12,
  latchedTo: { address: '192.0.2.10', port },
});
const MEDIA: RelayStats = { a: leg(45_000), b: leg(40_000) };

const mainArenaMiB = (): number => (parseSmaps(readFileSync('/proc/self/smaps', 'utf8')).find((m) => m.name === '[heap]')?.anonymousKiB ?? 0) / 1024;

const sortedStats = (durations: number[]): { p50: number; p99: number; max: number } => {
  const sorted = Float64Array.from(durations).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
};

async function child(cacheKiB: number, round: number): Promise<Run> {
  const dir = mkdtempSync(path.join(baseDir, 'voix-sqlite-cache-'));
  const db = openDatabase(dir);
  db.pragma(`cache_size = -${cacheKiB}`);
  const file = databasePath(dir);
  const databaseMB = (): number => (statSync(file).size + statSync(`${file}-wal`).size) / 1e6;

  const cdrs = new CdrStore(db);
  const writes: number[] = [];
  const timed = (write: () => void, into: number[]): void => {
    const started = performance.now();
    write();
    into.push(performance.now() - started);
  };
  const samples: Sample[] = [{ calls: 0, databaseMB: databaseMB(), mainArenaMiB: mainArenaMiB() }];
  const every = Math.max(1, Math.round(calls / 10));
  for (let n = 1; n <= calls; n++) {
    const now = Date.now();
    let id = 0;
    timed(() => (id = cdrs.start({ callId: `bench-${n}@sqlite-cache`, caller: '1001', callee: '1002', callerTransport: 'tls', startedAt: now, srtpCaller: true })), writes);
    timed(() => cdrs.answered(id, now, 'tls', { caller: true, callee: true }), writes);
    timed(() => cdrs.end(id, now, { endedAt: now + 60_000, status: 200, cause: 'normal', hangupBy: 'caller', media: MEDIA }), writes);
    if (n % every === 0) samples.push({ calls: n, databaseMB: databaseMB(), mainArenaMiB: mainArenaMiB() });
  }

  const campaigns = new CampaignStore(db);
  const campaign = campaigns.createCampaign('bench', 'prospecting', Date.now());
  const sink = campaigns.contactSink(campaign.id);
  // As `voix campaign import` commits them: 100 per transaction (IMPORT_BATCH), numbers not in order.
  const importStarted = performance.now();
  const batch = db.transaction((from: number) => {
    for (let i = from; i < Math.min(from + 100, contacts); i++) {
      const number = (i * 7919) % 10_000_000;
      void sink.add({ line: i + 2, phone: `+3361${String(number).padStart(7, '0')}`, firstName: 'Prénom', lastName: 'Nom', consent: null, customer: null, variables: { ville: 'Lyon' } });
    }
  });
  for (let from = 0; from < contacts; from += 100) batch(from);
  const importMs = performance.now() - importStarted;
  const arenaAfterImport = mainArenaMiB();
  const turns: number[] = [];
  for (let i = 0; i < attempts; i++) {
    timed(() => {
      const now = Date.now();
      const [due] = campaigns.dueContacts(campaign.id, now, 1);
      if (due === undefined) throw new Error('no contact due');
      campaigns.attemptStartsToNumberSince(due.phone, now - 86_400_000);
      campaigns.lastRefusalAt(due.phone);
      const attempt = campaigns.beginAttempt(due.id, now, `bench-attempt-${i}`);
      campaigns.finishAttempt(attempt.id, { outcome: 'answered', at: now, sipStatus: 200 });
      campaigns.close(due.id, 'answered', null, now);
    }, turns);
  }
  const cdrWrite = sortedStats(writes);
  const dialerTurn = sortedStats(turns);
  const run: Run = {
    cacheKiB,
    round,
    samples,
    cdrWriteP50Ms: cdrWrite.p50,
    cdrWriteP99Ms: cdrWrite.p99,
    cdrWriteMaxMs: cdrWrite.max,
    dialerTurnP50Ms: dialerTurn.p50,
    dialerTurnP99Ms: dialerTurn.p99,
    dialerTurnMaxMs: dialerTurn.max,
    importRowsPerSecond: contacts / (importMs / 1000),
    mainArenaAfterImportMiB: arenaAfterImport,
    mainArenaAfterCampaignMiB: mainArenaMiB(),
    databaseAfterCampaignMB: databaseMB(),
  };
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return run;
}

function main(): void {
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const size of round % 2 === 1 ? sizes : [...sizes].reverse()) {
      const result = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', String(size), '--round', String(round), ...process.argv.slice(2)], {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      if (result.status !== 0) throw new Error(`cache ${size} KiB, round ${round}: ${result.stderr}`);
      const run = JSON.parse(result.stdout) as Run;
      runs.push(run);
      process.stdout.write(`cache ${size} KiB, round ${round}: main arena ${run.samples.at(-1)?.mainArenaMiB.toFixed(1)} MiB after ${calls} calls\n`);
    }
  }
  const first = runs.filter((r) => r.round === 1);
  const growthHeader = ['calls', 'database MB', ...first.map((r) => `arena MiB, cache ${r.cacheKiB} KiB`)];
  const growthRows = (first[0]?.samples ?? []).map((s, i) => [String(s.calls), s.databaseMB.toFixed(1), ...first.map((r) => (r.samples[i]?.mainArenaMiB ?? Number.NaN).toFixed(1))]);
  const med = (size: number, pick: (r: Run) => number): number => median(runs.filter((r) => r.cacheKiB === size).map(pick));
  process.stdout.write(
    [
      '',
      `${calls} calls of 3 CDR writes, then a campaign of ${contacts} contacts and ${attempts} dialer turns, on one connection (WAL, synchronous NORMAL) in ${baseDir}; each size in its own process; ${rounds} rounds`,
      '',
      'main malloc arena (brk) as the call records grow, round 1:',
      table(growthHeader, growthRows),
      '',
      'medians of the rounds:',
      table(
        ['cache KiB', 'arena MiB after import', 'after turns', 'CDR write p50 ms', 'p99 ms', 'max ms', 'import rows/s', 'dialer turn p50 ms', 'p99 ms', 'max ms'],
        sizes.map((s) => [
          String(s),
          med(s, (r) => r.mainArenaAfterImportMiB).toFixed(1),
          med(s, (r) => r.mainArenaAfterCampaignMiB).toFixed(1),
          med(s, (r) => r.cdrWriteP50Ms).toFixed(3),
          med(s, (r) => r.cdrWriteP99Ms).toFixed(3),
          med(s, (r) => r.cdrWriteMaxMs).toFixed(1),
          med(s, (r) => r.importRowsPerSecond).toFixed(0),
          med(s, (r) => r.dialerTurnP50Ms).toFixed(3),
          med(s, (r) => r.dialerTurnP99Ms).toFixed(3),
          med(s, (r) => r.dialerTurnMaxMs).toFixed(1),
        ]),
      ),
      '',
    ].join('\n'),
  );
  if (jsonFile !== '') writeFileSync(jsonFile, `${JSON.stringify({ bench: 'sqlite-cache', command: `npx tsx bench/sqlite-cache.ts ${process.argv.slice(2).join(' ')}`, dir: baseDir, runs }, null, 2)}\n`);
}

const childAt = process.argv.indexOf('--child');
if (childAt === -1) main();
else process.stdout.write(JSON.stringify(await child(Number(process.argv[childAt + 1]), Number(option('round', '1')))));
