import { describe, expect, it } from 'vitest';
import { formatDuration, serverLiveness, waitForReload, type ProcessProbe } from '../../../src/cli/server-process.js';
import type { RuntimeState } from '../../../src/store/runtime-state-store.js';

const STATE: RuntimeState = {
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
};

const probe = (exists: boolean, startTime: string | null): ProcessProbe => ({ exists: () => exists, startTime: () => startTime });

describe('serverLiveness', () => {
  it('running: the pid exists and is the process that wrote the state', () => {
    expect(serverLiveness(STATE, probe(true, '123456'))).toEqual({ running: true, state: STATE });
  });

  it('not running: never started, stopped cleanly, pid gone, or pid reused by another process', () => {
    expect(serverLiveness(null, probe(true, '123456'))).toMatchObject({ running: false, reason: expect.stringMatching(/^voix is not running: it has not run/) });
    expect(serverLiveness({ ...STATE, stoppedAt: 5000 }, probe(true, '123456'))).toMatchObject({ running: false, reason: expect.stringMatching(/^voix is not running: it stopped at 1970/) });
    expect(serverLiveness(STATE, probe(false, null))).toMatchObject({ running: false, reason: expect.stringMatching(/pid 4242 is gone/) });
    expect(serverLiveness(STATE, probe(true, '999999'))).toMatchObject({ running: false, reason: expect.stringMatching(/pid 4242 is gone/) });
  });
});

describe('waitForReload', () => {
  it('returns the record once the server counted one more reload', async () => {
    let now = 0;
    const states: RuntimeState[] = [STATE, STATE, { ...STATE, reloads: 1, generation: 2, lastReload: { status: 'applied', at: 300, generation: 2, configWarnings: [], applied: [], warnings: [] } }];
    const record = await waitForReload(() => states.shift() ?? null, 0, { timeoutMs: 10_000, pollMs: 100, now: () => now, sleep: async (ms) => void (now += ms) });

    expect(record).toMatchObject({ status: 'applied', generation: 2 });
    expect(now).toBe(200);
  });

  it('gives up with null after the timeout', async () => {
    let now = 0;
    const record = await waitForReload(() => STATE, 0, { timeoutMs: 1000, pollMs: 100, now: () => now, sleep: async (ms) => void (now += ms) });

    expect(record).toBeNull();
    expect(now).toBe(1000);
  });
});

describe('formatDuration', () => {
  it('says an uptime in its two largest units', () => {
    expect([42_000, 310_000, 3 * 3600_000 + 120_000, 2 * 86_400_000 + 3600_000].map(formatDuration)).toEqual(['42s', '5m 10s', '3h 02m', '2d 01h']);
  });
});
