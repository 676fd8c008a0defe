import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Binding } from '../../../src/registrar/binding.js';
import { BatchingBindingStore } from '../../../src/store/batching-binding-store.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { SqliteBindingStore, readBindings } from '../../../src/store/sqlite-binding-store.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const binding = (aor: string, contact: string, expiresAt = 5_000): Binding => ({
  aor,
  contact,
  instanceId: null,
  regId: null,
  callId: 'c1',
  cseq: 2,
  expiresAt,
  q: null,
  transport: 'udp',
  sourceAddress: '192.0.2.10',
  sourcePort: 5062,
  connectionId: null,
  path: [],
  userAgent: null,
  updatedAt: 1000,
});

/** A store on a real SQLite file whose end-of-turn flushes the test runs by hand, counting transactions. */
function setup(options: { failTransaction?: boolean } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'voix-batching-'));
  dirs.push(dir);
  const db = openDatabase(dir);
  dbs.push(db);
  const inTransaction = db.transaction((work: () => void) => work());
  const scheduled: Array<() => void> = [];
  let transactions = 0;
  const callbackErrors: unknown[] = [];
  const store = new BatchingBindingStore(new SqliteBindingStore(db), {
    transaction: (work) => {
      transactions++;
      if (options.failTransaction === true) throw new Error('disk full');
      inTransaction(work);
    },
    schedule: (flush) => void scheduled.push(flush),
    onCallbackError: (error) => void callbackErrors.push(error),
  });
  const endOfTurn = () => {
    for (const flush of scheduled.splice(0)) flush();
  };
  return { db, store, endOfTurn, scheduled, transactions: () => transactions, callbackErrors };
}

const stored = (db: Db) => readBindings(db, 0).map((b) => `${b.aor} ${b.contact}`);

describe('BatchingBindingStore', () => {
  it('writes the saves and removals of one turn in one transaction at the end of the turn, in order', () => {
    const { db, store, endOfTurn, scheduled, transactions } = setup();
    store.save(binding('1001', 'sip:1001@192.0.2.10'));
    store.save(binding('1002', 'sip:1002@192.0.2.11'));
    store.remove('1001', 'sip:1001@192.0.2.10');
    store.save(binding('1003', 'sip:1003@192.0.2.12'));

    const beforeEnd = stored(db);
    endOfTurn();

    expect(beforeEnd).toEqual([]);
    expect(scheduled).toHaveLength(0);
    expect(transactions()).toBe(1);
    expect(stored(db)).toEqual(['1002 sip:1002@192.0.2.11', '1003 sip:1003@192.0.2.12']);
  });

  it('calls afterWrites back only once the changes made before it are committed', () => {
    const { db, store, endOfTurn } = setup();
    const seen: Array<{ error: unknown; rows: string[] }> = [];
    store.save(binding('1001', 'sip:1001@192.0.2.10'));

    store.afterWrites((error) => seen.push({ error, rows: stored(db) }));
    const beforeEnd = [...seen];
    endOfTurn();

    expect(beforeEnd).toEqual([]);
    expect(seen).toEqual([{ error: null, rows: ['1001 sip:1001@192.0.2.10'] }]);
  });

  it('calls afterWrites back at once when nothing waits to be written', () => {
    const { store, scheduled } = setup();
    const seen: unknown[] = [];

    store.afterWrites((error) => seen.push(error));

    expect(seen).toEqual([null]);
    expect(scheduled).toHaveLength(0);
  });

  it('hands the error of a failed transaction to every waiter of the batch', () => {
    const { db, store, endOfTurn } = setup({ failTransaction: true });
    const seen: unknown[] = [];
    store.save(binding('1001', 'sip:1001@192.0.2.10'));
    store.afterWrites((error) => seen.push(error));
    store.afterWrites((error) => seen.push(error));

    endOfTurn();

    expect(seen).toHaveLength(2);
    expect(seen.every((e) => e instanceof Error && e.message === 'disk full')).toBe(true);
    expect(stored(db)).toEqual([]);
  });

  it('keeps calling the other waiters when one throws, and reports the error', () => {
    const { store, endOfTurn, callbackErrors } = setup();
    const seen: unknown[] = [];
    store.save(binding('1001', 'sip:1001@192.0.2.10'));
    store.afterWrites(() => {
      throw new Error('bug in a waiter');
    });
    store.afterWrites((error) => seen.push(error));

    endOfTurn();

    expect(seen).toEqual([null]);
    expect(callbackErrors).toHaveLength(1);
  });

  it('writes what waits before removing expired rows, loading, or when flushed at stop', () => {
    const { db, store, endOfTurn, transactions } = setup();
    store.save(binding('1001', 'sip:1001@192.0.2.10', 1_000));
    store.save(binding('1002', 'sip:1002@192.0.2.11', 9_000));

    store.removeExpired(2_000);
    const afterSweep = stored(db);
    store.save(binding('1003', 'sip:1003@192.0.2.12'));
    const loaded = store.loadAll().map((b) => b.aor);
    store.save(binding('1004', 'sip:1004@192.0.2.13'));
    store.flush();
    endOfTurn();

    expect(afterSweep).toEqual(['1002 sip:1002@192.0.2.11']);
    expect(loaded).toEqual(['1002', '1003']);
    expect(stored(db)).toEqual(['1002 sip:1002@192.0.2.11', '1003 sip:1003@192.0.2.12', '1004 sip:1004@192.0.2.13']);
    expect(transactions()).toBe(3);
  });
});
