/**
 * The administration API on a real socket (port 0) over a real campaign
 * store: campaigns with their progress and pace, one campaign, health, and
 * what it refuses (other methods, unknown paths).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminApi, type AdminApiOptions, type HealthState } from '../../../src/admin/admin-api.js';
import type { CampaignConfig } from '../../../src/config/types.js';
import { CampaignStore } from '../../../src/dialer/campaign-store.js';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { openDatabase, type Db } from '../../../src/store/database.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const NOW = Date.UTC(2026, 11, 1, 9, 30);

async function startApi(extra: Partial<Pick<AdminApiOptions, 'metrics' | 'status' | 'health'>> = {}): Promise<{ base: string; store: CampaignStore; db: Db }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-admin-'));
  const db = openDatabase(dir);
  cleanups.push(
    () => rmSync(dir, { recursive: true, force: true }),
    () => {
      db.close();
    },
  );
  const store = new CampaignStore(db);
  const api = new AdminApi({
    address: '127.0.0.1',
    port: 0,
    campaigns: store,
    configuredCampaigns: () => [{ name: 'relance' } as CampaignConfig],
    now: () => NOW,
    logger: createMemoryLogger().logger,
    ...extra,
  });
  const port = await api.start();
  cleanups.push(() => api.stop());
  return { base: `http://127.0.0.1:${port}`, store, db };
}

describe('AdminApi', () => {
  it('serves each campaign’s progress and pace as JSON', async () => {
    const { base, store } = await startApi();
    const campaign = store.createCampaign('relance', 'customer', NOW - 600_000);
    const sink = store.contactSink(campaign.id);
    for (let i = 0; i < 4; i++) await sink.add({ line: i + 2, phone: `+3361000000${i}`, firstName: null, lastName: null, consent: null, customer: null, variables: {} });
    store.setCampaignState(campaign.id, 'running', NOW - 600_000);
    const [first, second] = [store.contactId(campaign.id, '+33610000000')!, store.contactId(campaign.id, '+33610000001')!];
    const attempt = store.beginAttempt(first, NOW - 120_000, 'call-1');
    store.finishAttempt(attempt.id, { outcome: 'answered', at: NOW - 60_000, sipStatus: 200 });
    store.close(first, 'answered', 'message played', NOW - 60_000);
    store.beginAttempt(second, NOW - 10_000, 'call-2');

    const response = await fetch(`${base}/api/campaigns/relance`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({
      campaign: 'relance',
      purpose: 'customer',
      state: 'running',
      configured: true,
      contacts: 4,
      done: 1,
      percent: 25,
      results: { answered: 1 },
      waiting: { due: 3 },
      inFlight: 1,
      attempts: 2,
      nextAttemptAt: new Date(NOW).toISOString(),
      // One contact finished in the last 5 minutes: 0.2 per minute, 3 left: 15 minutes.
      pace: { windowSeconds: 300, contactsPerMinute: 0.2, etaSeconds: 900 },
    });
    const all = (await (await fetch(`${base}/api/campaigns`)).json()) as Array<{ campaign: string }>;
    expect(all.map((c) => c.campaign)).toEqual(['relance']);
  });

  it('answers health, 404 for an unknown campaign or path, 405 for anything but GET', async () => {
    const { base } = await startApi();
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const unknown = await fetch(`${base}/api/campaigns/inconnue`);
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: 'no campaign named "inconnue"' }]);
    expect((await fetch(`${base}/metrics/x`)).status).toBe(404);
    const post = await fetch(`${base}/api/campaigns`, { method: 'POST', body: '{}' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
  });

  it('serves /metrics as Prometheus text and /api/status as JSON when given, 404 otherwise', async () => {
    const { base } = await startApi({ metrics: () => '# HELP voix_up Up.\n# TYPE voix_up gauge\nvoix_up 1\n', status: () => ({ status: 'ok', activeCalls: 2 }) });
    const { base: bare } = await startApi();

    const metrics = await fetch(`${base}/metrics`);
    const status = await fetch(`${base}/api/status`);

    expect([metrics.status, metrics.headers.get('content-type'), await metrics.text()]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8', '# HELP voix_up Up.\n# TYPE voix_up gauge\nvoix_up 1\n']);
    expect(await status.json()).toEqual({ status: 'ok', activeCalls: 2 });
    expect([(await fetch(`${bare}/metrics`)).status, (await fetch(`${bare}/api/status`)).status]).toEqual([404, 404]);
  });

  it('says overloaded with 200 and stopping with 503 on /health', async () => {
    let state: HealthState = 'overloaded';
    const { base } = await startApi({ health: () => state });

    const overloaded = await fetch(`${base}/health`);
    state = 'stopping';
    const stopping = await fetch(`${base}/health`);

    expect([overloaded.status, await overloaded.json()]).toEqual([200, { status: 'overloaded' }]);
    expect([stopping.status, await stopping.json()]).toEqual([503, { status: 'stopping' }]);
  });

  it('answers 500 without stopping when a source throws', async () => {
    const { base } = await startApi({
      metrics: () => {
        throw new Error('database is locked');
      },
    });

    const failed = await fetch(`${base}/metrics`);
    const health = await fetch(`${base}/health`);

    expect([failed.status, await failed.json()]).toEqual([500, { error: 'internal error (see the voix log)' }]);
    expect(health.status).toBe(200);
  });
});
