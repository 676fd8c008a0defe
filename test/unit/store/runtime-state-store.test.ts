import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/database.js';
import { RuntimeStateStore, parseReloadRecord, readRuntimeState } from '../../../src/store/runtime-state-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voix-state-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('RuntimeStateStore', () => {
  it('records a start, reloads and a stop, and a read-only reader sees each', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    const store = new RuntimeStateStore(db);
    const reader = openDatabase(dir, { readonly: true });

    store.recordStart({ pid: 4242, processStart: '123456', version: '0.1.0', startedAt: 1000, configFile: '/etc/voix/voix.yaml', generation: 1 });
    const started = readRuntimeState(reader);
    store.recordReload({ status: 'refused', at: 2000, generation: 1, configWarnings: [], errors: ['voix.yaml:3:5 users[0].pasword: unknown key'] });
    store.recordReload({ status: 'applied', at: 3000, generation: 2, configWarnings: [], applied: ['users: added 1003'], warnings: [] });
    const reloaded = readRuntimeState(reader);
    store.recordStop(4000);

    expect(started).toEqual({
      pid: 4242,
      processStart: '123456',
      version: '0.1.0',
      startedAt: 1000,
      stoppedAt: null,
      configFile: '/etc/voix/voix.yaml',
      generation: 1,
      reloads: 0,
      lastReload: null,
      trunks: [],
      banSyncs: 0,
    });
    expect(reloaded).toMatchObject({ generation: 2, reloads: 2, lastReload: { status: 'applied', applied: ['users: added 1003'] } });
    expect(readRuntimeState(reader)?.stoppedAt).toBe(4000);
    reader.close();
    db.close();
  });

  it('a new start replaces the previous run', () => {
    const db = openDatabase(tempDir());
    const store = new RuntimeStateStore(db);
    store.recordStart({ pid: 1, processStart: null, version: '0.1.0', startedAt: 1000, configFile: '/a.yaml', generation: 1 });
    store.recordReload({ status: 'applied', at: 2000, generation: 2, configWarnings: [], applied: [], warnings: [] });

    store.recordStart({ pid: 2, processStart: null, version: '0.1.0', startedAt: 5000, configFile: '/a.yaml', generation: 1 });

    expect(readRuntimeState(db)).toMatchObject({ pid: 2, generation: 1, reloads: 0, lastReload: null, stoppedAt: null });
    db.close();
  });

  it('keeps the trunks’ registration states the server last wrote', () => {
    const db = openDatabase(tempDir());
    const store = new RuntimeStateStore(db);
    store.recordStart({ pid: 1, processStart: null, version: '0.1.0', startedAt: 1000, configFile: '/a.yaml', generation: 1 });
    const trunk = { trunk: 'operateur', state: 'failed' as const, lastStatus: 403, lastError: 'credentials refused', expiresAt: null, nextAttemptAt: 61_000, failures: 1 };

    store.recordTrunks([trunk]);

    expect(readRuntimeState(db)?.trunks).toEqual([trunk]);
    db.close();
  });

  it('nothing stored reads as null; a record of another shape too', () => {
    const db = openDatabase(tempDir());

    expect(readRuntimeState(db)).toBeNull();
    expect(parseReloadRecord('{"status":"applied","at":1}')).toBeNull();
    expect(parseReloadRecord('not json')).toBeNull();
    db.close();
  });
});
