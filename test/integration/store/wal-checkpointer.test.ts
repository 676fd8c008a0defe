import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { databasePath, openDatabase, type Db } from '../../../src/store/database.js';
import { BACKSTOP_FRAMES, DEFAULT_AUTOCHECKPOINT_FRAMES, WalCheckpointer, type CheckpointResult } from '../../../src/store/wal-checkpointer.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDatabase(): { dir: string; db: Db } {
  const dir = mkdtempSync(path.join(tmpdir(), 'voix-wal-'));
  const db = openDatabase(dir);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => void (db.open && db.close()));
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  return { dir, db };
}

/** One commit per row, each row a page or more: about `pages` frames in the log. */
function writePages(db: Db, pages: number): void {
  const insert = db.prepare('INSERT INTO filler (payload) VALUES (?)');
  for (let i = 0; i < pages; i++) insert.run(Buffer.alloc(3000, i & 0xff));
}

const autocheckpoint = (db: Db): number => db.pragma('wal_autocheckpoint', { simple: true }) as number;

describe('WalCheckpointer', () => {
  it('checkpoints the log in its worker, up to the last frame once the writes pause', async () => {
    const { dir, db } = tempDatabase();
    const { logger } = createMemoryLogger();
    let caughtUp: (result: CheckpointResult) => void = () => {};
    const complete = new Promise<CheckpointResult>((resolve) => (caughtUp = resolve));
    const checkpointer = WalCheckpointer.start({
      file: databasePath(dir),
      intervalMs: 20,
      connections: [db],
      logger,
      onCheckpoint: (result) => {
        if (result.log >= 200 && result.checkpointed === result.log) caughtUp(result);
      },
    });
    cleanups.push(() => checkpointer.stop());
    expect(autocheckpoint(db)).toBe(BACKSTOP_FRAMES);
    writePages(db, 200);
    const done = await complete;
    expect(done.checkpointed).toBe(done.log);
    // The rows are in the database file itself: a copy of it without the log has them all.
    const copy = path.join(dir, 'copy.db');
    copyFileSync(databasePath(dir), copy);
    const reader = new Database(copy, { readonly: true });
    expect(reader.prepare('SELECT count(*) AS n FROM filler').get()).toEqual({ n: 200 });
    reader.close();
    await checkpointer.stop();
    expect(checkpointer.hasFailed).toBe(false);
  });

  it('keeps the commits from checkpointing while the worker runs', async () => {
    const { dir, db } = tempDatabase();
    const { logger } = createMemoryLogger();
    // An interval longer than the test: the worker never checkpoints here.
    const checkpointer = WalCheckpointer.start({ file: databasePath(dir), intervalMs: 3_600_000, connections: [db], logger });
    cleanups.push(() => checkpointer.stop());
    writePages(db, 3 * DEFAULT_AUTOCHECKPOINT_FRAMES);
    // With SQLite's default the commit past 1000 frames would have checkpointed and the log restarted.
    const other = new Database(databasePath(dir));
    cleanups.push(() => void other.close());
    const [row] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    expect(row?.log).toBeGreaterThan(3 * DEFAULT_AUTOCHECKPOINT_FRAMES);
  });

  it('gives the checkpoints back to the connections, and says so, when its worker fails', async () => {
    const { dir, db } = tempDatabase();
    const { logger, lines } = createMemoryLogger();
    const checkpointer = WalCheckpointer.start({ file: path.join(dir, 'missing', 'voix.db'), intervalMs: 20, connections: [db], logger });
    cleanups.push(() => checkpointer.stop());
    expect((await checkpointer.failure).message).toContain('directory does not exist');
    expect(checkpointer.hasFailed).toBe(true);
    expect(autocheckpoint(db)).toBe(DEFAULT_AUTOCHECKPOINT_FRAMES);
    expect(lines.find((l) => l['level'] === 'error')?.['msg']).toBe('database checkpoints are back on the SIP thread: the checkpoint worker failed');
    // A connection adopted afterwards checkpoints for itself too.
    const other = openDatabase(dir);
    cleanups.push(() => void other.close());
    checkpointer.adopt(other);
    expect(autocheckpoint(other)).toBe(DEFAULT_AUTOCHECKPOINT_FRAMES);
  });
});
