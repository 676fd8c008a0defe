/**
 * Checkpoints the SQLite write-ahead log from a worker thread.
 *
 * A checkpoint copies the log's pages into the database file and fsyncs
 * both. By default SQLite runs one inside the commit that takes the log
 * past 1000 pages, on the thread that commits: the SIP thread, which then
 * stops for as long as the fsync lasts. On this project's virtual machine
 * that is 4 to 8 ms as a rule and about 100 ms now and then (measured: a
 * CDR's three writes at 160 calls/s, ADR 0009), long enough to delay
 * every call set up meanwhile and to trip the overload guard.
 *
 * So the server's connections leave checkpoints to this worker, which runs
 * a PASSIVE one every `intervalMs` on its own connection: it copies what
 * the log holds without blocking the writers and does the fsyncs off the
 * SIP thread. Under steady writes a passive checkpoint rarely catches the
 * log's very end, and only a checkpoint that does lets the next commit
 * start the log afresh; the connections therefore keep an automatic
 * checkpoint far out (BACKSTOP_FRAMES), which then finds almost every
 * page already copied. Should the worker fail, they go back to SQLite's
 * default and the server logs why: checkpoints never stop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.js';
import type { Db } from './database.js';

/** SQLite's own automatic checkpoint threshold (pages), used again if the worker fails. */
export const DEFAULT_AUTOCHECKPOINT_FRAMES = 1000;
/** The connections' automatic checkpoint while the worker runs: about 40 MB of log with 4 KB pages. */
export const BACKSTOP_FRAMES = 10_000;
/** A log restarted from a bigger file is cut back to this many bytes. */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** One checkpoint's outcome, as SQLite gives it (frames) and how long it took. */
export interface CheckpointResult {
  /** Frames in the log. */
  readonly log: number;
  /** Of them, frames already copied into the database file. */
  readonly checkpointed: number;
  readonly durationMs: number;
}

export interface WalCheckpointerOptions {
  /** The database file the connections write. */
  readonly file: string;
  readonly intervalMs: number;
  /** The server's connections to that file: their automatic checkpoint moves out of the way while the worker runs (more: adopt()). */
  readonly connections: readonly Db[];
  readonly logger: Logger;
  /** Each checkpoint's outcome (tests, metrics). */
  readonly onCheckpoint?: (result: CheckpointResult) => void;
}

/** The worker, as CommonJS source (eval): it runs the same under tsx and from dist/. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const timer = setInterval(() => {
  const started = performance.now();
  const [row] = db.pragma('wal_checkpoint(PASSIVE)');
  parentPort.postMessage({ log: row.log, checkpointed: row.checkpointed, durationMs: performance.now() - started });
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class WalCheckpointer {
  private stopping = false;
  private failed = false;
  private readonly exited: Promise<void>;
  private readonly connections: Db[];
  private announceFailure: (err: Error) => void = () => {};
  /** Settles with the reason if the worker fails (never, if it does not). */
  readonly failure = new Promise<Error>((resolve) => (this.announceFailure = resolve));

  private constructor(
    private readonly worker: Worker,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.connections = [];
    for (const db of options.connections) this.adopt(db);
    worker.on('message', (result: CheckpointResult) => options.onCheckpoint?.(result));
    worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        if (!this.stopping) this.fail(new Error(`the checkpoint worker exited with code ${code}`));
        resolve();
      });
    });
  }

  /** Starts the worker and moves the connections' automatic checkpoint out of its way. */
  static start(options: WalCheckpointerOptions): WalCheckpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: options.file, intervalMs: options.intervalMs } });
    // The worker alone must not keep the process alive.
    worker.unref();
    return new WalCheckpointer(worker, options);
  }

  /** Another connection to the same file: its automatic checkpoint follows the others'. */
  adopt(db: Db): void {
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`wal_autocheckpoint = ${this.failed ? DEFAULT_AUTOCHECKPOINT_FRAMES : BACKSTOP_FRAMES}`);
    this.connections.push(db);
  }

  /** Whether the worker failed and the connections checkpoint for themselves again. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** Stops the worker (before the connections close: the last one to close checkpoints what is left). */
  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    // Held by its exit now, or a process with nothing else to do would end before the worker closed its connection.
    this.worker.ref();
    this.worker.postMessage('stop');
    return this.exited;
  }

  private fail(err: Error): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    for (const db of this.connections) if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_FRAMES}`);
    this.options.logger.error('database checkpoints are back on the SIP thread: the checkpoint worker failed', { file: this.options.file, err });
    void this.worker.terminate();
    this.announceFailure(err);
  }
}
