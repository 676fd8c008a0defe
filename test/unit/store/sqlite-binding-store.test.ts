import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Binding } from '../../../src/registrar/binding.js';
import { openDatabase } from '../../../src/store/database.js';
import { SqliteBindingStore, readBindings } from '../../../src/store/sqlite-binding-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voix-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const binding = (contact: string, expiresAt: number): Binding => ({
  aor: '1001',
  contact,
  instanceId: null,
  regId: null,
  callId: 'c1',
  cseq: 3,
  expiresAt,
  q: 0.5,
  transport: 'tls',
  sourceAddress: '192.0.2.10',
  sourcePort: 40001,
  connectionId: 7,
  path: ['<sip:proxy.example.com;lr>'],
  userAgent: 'baresip',
  updatedAt: 1000,
});

describe('SqliteBindingStore', () => {
  it('keeps bindings across a reopen of the database, without the connection id', () => {
    const dir = tempDir();
    const first = openDatabase(dir);
    const store = new SqliteBindingStore(first);
    store.save(binding('sip:1001@192.0.2.10:40001;transport=tls', 5000));
    store.save(binding('sip:1001@192.0.2.11', 9000));
    store.remove('1001', 'sip:1001@192.0.2.11');
    first.close();

    const second = openDatabase(dir);
    expect(new SqliteBindingStore(second).loadAll()).toEqual([{ ...binding('sip:1001@192.0.2.10:40001;transport=tls', 5000), connectionId: null }]);
    second.close();
  });

  it('updates a binding in place and removes expired ones', () => {
    const db = openDatabase(tempDir());
    const store = new SqliteBindingStore(db);
    store.save(binding('sip:a@h', 5000));
    store.save({ ...binding('sip:a@h', 8000), cseq: 4 });
    store.save(binding('sip:b@h', 2000));
    store.removeExpired(3000);
    expect(store.loadAll().map((b) => [b.contact, b.cseq, b.expiresAt])).toEqual([['sip:a@h', 4, 8000]]);
    expect(readBindings(db, 9000)).toEqual([]);
    db.close();
  });
});
