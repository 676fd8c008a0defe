import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PAGE_CACHE_KIB, openDatabase } from '../../../src/store/database.js';

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
});
