/**
 * How long the SIP thread waits on SQLite for call records, with the
 * write-ahead log checkpointed by SQLite inside the commits (its default:
 * the commit that takes the log past 1000 pages copies it back and
 * fsyncs) or by voix's checkpoint worker (src/store/wal-checkpointer.ts).
 *
 * Each call is the three writes voix makes on the SIP thread (CdrStore:
 * start, answered, end), at `--rate` calls per second for `--seconds`, on
 * a fresh database in `--dir` (the disk matters: put it where
 * /var/lib/voix would be). Every write is timed; the rounds alternate the
 * two ways, so the disk's moods fall on both.
 *
 *   npx tsx bench/cdr-writes.ts [--rate 160] [--seconds 15] [--rounds 3] [--dir /tmp] [--json out.json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CdrStore } from '../src/calls/cdr-store.js';
import { createMemoryLogger } from '../src/log/logger.js';
import { databasePath, openDatabase } from '../src/store/database.js';
import { WalCheckpointer } from '../src/store/wal-checkpointer.js';
import { percentile, table } from './relay-machine.js';
import { median } from './windows.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const rate = Number(option('rate', '160'));
const seconds = Number(option('seconds', '15'));
const rounds = Number(option('rounds', '3'));
const baseDir = option('dir', os.tmpdir());
const jsonFile = option('json', '');

type Mode = 'sip-thread' | 'worker';
const MODES: readonly Mode[] = ['sip-thread', 'worker'];

interface Round {
  readonly mode: Mode;
  readonly round: number;
  readonly writes: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly over10Ms: number;
  readonly walBytes: number;
}

async function runRound(mode: Mode, round: number): Promise<Round> {
  const dir = mkdtempSync(path.join(baseDir, 'voix-cdr-writes-'));
  const db = openDatabase(dir);
  const { logger } = createMemoryLogger('error');
  const checkpointer = mode === 'worker' ? WalCheckpointer.start({ file: databasePath(dir), intervalMs: 500, connections: [db], logger }) : null;
  const cdrs = new CdrStore(db);
  const durations: number[] = [];
  const timed = (write: () => void): void => {
    const started = performance.now();
    write();
    durations.push(performance.now() - started);
  };
  const calls = Math.round(rate * seconds);
  const started = performance.now();
  for (let n = 0; n < calls; n++) {
    // Paced on the clock, not on the previous write: a slow write does not lower the rate.
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const now = Date.now();
    let id = 0;
    timed(() => (id = cdrs.start({ callId: `bench-${n}@cdr-writes`, caller: '1001', callee: '1002', callerTransport: 'udp', startedAt: now, srtpCaller: false })));
    timed(() => cdrs.answered(id, now, 'udp', { caller: false, callee: false }));
    timed(() => cdrs.end(id, now, { endedAt: now + 100, status: 200, cause: 'normal', hangupBy: 'caller', media: null }));
  }
  const walBytes = statSync(`${databasePath(dir)}-wal`).size;
  await checkpointer?.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const sorted = Float64Array.from(durations).sort();
  return {
    mode,
    round,
    writes: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    p999Ms: percentile(sorted, 0.999),
    maxMs: sorted.at(-1) ?? Number.NaN,
    over10Ms: durations.filter((d) => d > 10).length,
    walBytes,
  };
}

/** The file system the database is on (findmnt), for the report. */
const fsType = (): string => {
  const found = spawnSync('findmnt', ['-no', 'FSTYPE,SOURCE', '-T', baseDir], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim().replace(/\s+/, ' on ') : 'file system unknown';
};

async function main(): Promise<void> {
  const results: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const mode of round % 2 === 1 ? MODES : [...MODES].reverse()) {
      const result = await runRound(mode, round);
      results.push(result);
      process.stdout.write(`${mode} round ${round}: max ${result.maxMs.toFixed(1)} ms, ${result.over10Ms} writes over 10 ms\n`);
    }
  }
  const medianOf = (mode: Mode, pick: (r: Round) => number): number => median(results.filter((r) => r.mode === mode).map(pick));
  process.stdout.write(
    [
      '',
      `workload: ${rate} calls/s for ${seconds} s, 3 CDR writes per call on the main thread (CdrStore: start, answered, end), WAL, synchronous NORMAL; data in ${baseDir} (${fsType()}); ${rounds} rounds, the two ways alternating`,
      '',
      table(
        ['checkpoints', 'round', 'writes', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'writes > 10 ms', 'log at the end MB'],
        results.map((r) => [r.mode, String(r.round), String(r.writes), r.p50Ms.toFixed(3), r.p99Ms.toFixed(3), r.p999Ms.toFixed(2), r.maxMs.toFixed(1), String(r.over10Ms), (r.walBytes / 1e6).toFixed(1)]),
      ),
      '',
      `worker / sip-thread, medians of the rounds: p99.9 ${(medianOf('worker', (r) => r.p999Ms) / medianOf('sip-thread', (r) => r.p999Ms)).toFixed(2)}, max ${(medianOf('worker', (r) => r.maxMs) / medianOf('sip-thread', (r) => r.maxMs)).toFixed(2)}`,
      '',
    ].join('\n'),
  );
  if (jsonFile !== '') writeFileSync(jsonFile, `${JSON.stringify({ bench: 'cdr-writes', command: `npx tsx bench/cdr-writes.ts ${process.argv.slice(2).join(' ')}`, rate, seconds, rounds, dir: baseDir, results }, null, 2)}\n`);
}

await main();
