import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PAGE_CACHE_KIB, PreparedStatements, openDatabase } from '../../../src/store/database.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('openDatabase', () => {
  it("gives the writer connection SQLite's 2 000 KiB page cache, not the 16 000 KiB better-sqlite3 is built with", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voix-db-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    expect(PAGE_CACHE_KIB).toBe(2000);
    expect(db.pragma('cache_size', { simple: true })).toBe(-2000);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('prepares each SQL text once per connection, and the statement it keeps still runs', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voix-db-'));
    dirs.push(dir);
    const db = openDatabase(dir);
    const statements = new PreparedStatements(db);
    const insert = statements.get('INSERT INTO do_not_call (phone, added_at, source) VALUES (?, ?, ?)');
    expect(statements.get('INSERT INTO do_not_call (phone, added_at, source) VALUES (?, ?, ?)')).toBe(insert);
    expect(statements.get('SELECT COUNT(*) AS n FROM do_not_call')).not.toBe(insert);
    insert.run('+33612345678', 1, 'test');
    statements.get('INSERT INTO do_not_call (phone, added_at, source) VALUES (?, ?, ?)').run('+33612345679', 2, 'test');
    expect(statements.get('SELECT COUNT(*) AS n FROM do_not_call').get()).toEqual({ n: 2 });
    db.close();
  });
});
