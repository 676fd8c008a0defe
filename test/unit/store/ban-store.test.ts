import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BanStore } from '../../../src/store/ban-store.js';
import { openDatabase } from '../../../src/store/database.js';
import { RuntimeStateStore, readRuntimeState } from '../../../src/store/runtime-state-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voix-bans-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('BanStore', () => {
  it('keeps the bans in force, soonest expiry first, and forgets the expired ones', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    const store = new BanStore(db);
    store.record({ source: '203.0.113.7', bannedAt: 1000, expiresAt: 901_000 });
    store.record({ source: '198.51.100.1', bannedAt: 2000, expiresAt: 62_000 });
    store.record({ source: '192.0.2.5', bannedAt: 0, expiresAt: 500 });
    const reader = new BanStore(openDatabase(dir, { readonly: true }));

    expect(reader.active(1000)).toEqual([
      { source: '198.51.100.1', bannedAt: 2000, expiresAt: 62_000 },
      { source: '203.0.113.7', bannedAt: 1000, expiresAt: 901_000 },
    ]);
    store.purgeExpired(62_000);
    expect(store.active(0).map((b) => b.source)).toEqual(['203.0.113.7']);
    expect(store.remove('203.0.113.7')).toBe(true);
    expect(store.remove('203.0.113.7')).toBe(false);
    expect(store.active(0)).toEqual([]);
  });

  it('banned again: one row, the new expiry', () => {
    const store = new BanStore(openDatabase(tempDir()));
    store.record({ source: '203.0.113.7', bannedAt: 1000, expiresAt: 901_000 });
    store.record({ source: '203.0.113.7', bannedAt: 5000, expiresAt: 905_000 });
    expect(store.active(0)).toEqual([{ source: '203.0.113.7', bannedAt: 5000, expiresAt: 905_000 }]);
  });

  it('counts the server’s re-reads of the table for the CLI to wait on', () => {
    const db = openDatabase(tempDir());
    const state = new RuntimeStateStore(db);
    state.recordStart({ pid: 4242, processStart: null, version: '0.1.0', startedAt: 1000, configFile: '/etc/voix/voix.yaml', generation: 1 });
    const before = readRuntimeState(db)?.banSyncs;
    state.recordBanSync();
    state.recordBanSync();
    expect(before).toBe(0);
    expect(readRuntimeState(db)?.banSyncs).toBe(2);
  });
});
