/**
 * The campaign scheduler on a real campaign store (SQLite in a temporary
 * directory), a fake clock and a fake call placer (the boundary where the
 * dialer hands a call to the call core): pacing and concurrency, outcomes
 * and retries, the calling policy (do-not-call, consent, hours), opt-out,
 * crash reconciliation, fair sharing of a trunk, completion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OriginatedCallResult, OriginatedOutcome } from '../../../src/calls/originated-call.js';
import type { CampaignConfig, TrunkConfig } from '../../../src/config/types.js';
import { CampaignStore, type CampaignPurpose } from '../../../src/dialer/campaign-store.js';
import { Dialer, type PlannedCall } from '../../../src/dialer/dialer.js';
import { createMemoryLogger } from '../../../src/log/logger.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { FakeClock } from '../../../src/util/clock.js';
import { TRUNK } from '../trunks/fixtures.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Tuesday 1 December 2026, 10:30 in Paris (09:30 UTC): inside the legal calling hours. */
const TUESDAY_1030 = Date.UTC(2026, 11, 1, 9, 30);
/** Saturday 5 December 2026, 11:00 in Paris. */
const SATURDAY_1100 = Date.UTC(2026, 11, 5, 10, 0);

const NEVER = { afterSeconds: 3600, maxRetries: 0 };

function campaignConfig(name: string, overrides: Partial<CampaignConfig> = {}): CampaignConfig {
  return {
    name,
    purpose: 'customer',
    trunk: TRUNK.name,
    callerId: null,
    callsPerSecond: 2,
    maxCalls: 3,
    ringSeconds: 20,
    message: { kind: 'text', text: 'Bonjour', voice: 'fr' },
    optOutKey: '9',
    optOutConfirmation: { kind: 'text', text: 'Au revoir', voice: 'fr' },
    connect: null,
    progressive: false,
    answeringMachine: null,
    hours: null,
    maxAttempts: 4,
    attemptPeriodDays: 30,
    quietDaysAfterRefusal: 60,
    consentRequired: null,
    retry: { busy: { afterSeconds: 60, maxRetries: 1 }, 'no-answer': NEVER, failed: NEVER, congestion: NEVER, unknown: { afterSeconds: 1800, maxRetries: 2 } },
    ...overrides,
  };
}

interface PendingCall {
  readonly call: PlannedCall;
  readonly placedAt: number;
  end(outcome: OriginatedOutcome, status?: number): void;
}

interface Lab {
  readonly clock: FakeClock;
  readonly store: CampaignStore;
  readonly db: Db;
  readonly dir: string;
  readonly calls: PendingCall[];
  readonly lines: Array<Record<string, unknown>>;
  readonly dialer: Dialer;
  configs: CampaignConfig[];
  trunks: TrunkConfig[];
  /** Agents of the fake directory: each call in flight holds or waits for one. */
  agents: number;
}

function startLab(options: { start?: number; configs: CampaignConfig[]; trunks?: TrunkConfig[]; dir?: string }): Lab {
  const dir = options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'voix-dialer-'));
  if (options.dir === undefined) dirs.push(dir);
  const db = openDatabase(dir);
  dbs.push(db);
  const clock = new FakeClock(options.start ?? TUESDAY_1030);
  const store = new CampaignStore(db);
  const { logger, lines } = createMemoryLogger();
  const calls: PendingCall[] = [];
  let ids = 0;
  const lab: Lab = {
    clock,
    store,
    db,
    dir,
    calls,
    lines,
    configs: options.configs,
    trunks: options.trunks ?? [{ ...TRUNK, callsPerSecond: 50, maxCalls: 100 }],
    agents: 0,
    dialer: new Dialer({
      store,
      clock,
      now: () => clock.now(),
      campaigns: () => lab.configs,
      trunks: () => lab.trunks,
      trunkCalls: () => calls.filter((c) => !ended.has(c)).length,
      place: (call) =>
        new Promise<OriginatedCallResult>((resolve) => {
          const pending: PendingCall = {
            call,
            placedAt: clock.now(),
            end: (outcome, status = outcome === 'answered' ? 200 : 486) => {
              ended.add(pending);
              resolve({ outcome, status, detail: outcome, answeredAt: null, endedAt: clock.now() });
            },
          };
          calls.push(pending);
        }),
      newCallId: () => `call-${++ids}`,
      freeAgents: () => lab.agents - calls.filter((c) => !ended.has(c)).length,
      logger,
    }),
  };
  const ended = new Set<PendingCall>();
  return lab;
}

function addCampaign(lab: Lab, name: string, phones: readonly string[], purpose: CampaignPurpose = 'customer', consent: boolean | null = null): number {
  const campaign = lab.store.createCampaign(name, purpose, lab.clock.now());
  const sink = lab.store.contactSink(campaign.id);
  phones.forEach((phone, i) => {
    void sink.add({ line: i + 2, phone, firstName: null, lastName: null, consent: consent === null ? null : { given: consent, date: null, source: null }, customer: null, variables: {} });
  });
  lab.store.setCampaignState(campaign.id, 'running', lab.clock.now());
  return campaign.id;
}

const phones = (n: number, prefix = '+336100000') => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Moves the clock in small steps, letting the dialer's promise callbacks run between them. */
async function run(lab: Lab, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    lab.clock.advance(Math.min(stepMs, ms - t));
    await settle();
  }
}

describe('Dialer', () => {
  it('spaces calls at the campaign’s rate and keeps at most max_calls in flight', async () => {
    const lab = startLab({ configs: [campaignConfig('relance', { callsPerSecond: 2, maxCalls: 3 })] });
    addCampaign(lab, 'relance', phones(6));
    lab.dialer.start();
    await run(lab, 5000);

    expect(lab.calls.map((c) => c.placedAt - TUESDAY_1030)).toEqual([0, 500, 1000]);
    lab.calls[0]!.end('answered');
    await run(lab, 100);
    expect(lab.calls).toHaveLength(4);
    for (const c of lab.calls.slice(1)) c.end('answered');
    await run(lab, 2000);
    expect(lab.calls).toHaveLength(6);
    const gaps = lab.calls.slice(4).map((c, i) => c.placedAt - lab.calls[3 + i]!.placedAt);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(500);
    expect(new Set(lab.calls.map((c) => c.call.contact.phone)).size).toBe(6);
  });

  it('records each outcome; a busy contact is tried again after its delay, then closed as busy', async () => {
    const lab = startLab({ configs: [campaignConfig('relance')] });
    const id = addCampaign(lab, 'relance', ['+33610000001', '+33610000002']);
    lab.dialer.start();
    await run(lab, 600);
    lab.calls[0]!.end('busy');
    lab.calls[1]!.end('answered');
    await run(lab, 59_000, 1000);
    expect(lab.calls).toHaveLength(2);
    await run(lab, 2000, 100);
    expect(lab.calls).toHaveLength(3);
    expect(lab.calls[2]!.call.contact.phone).toBe('+33610000001');
    lab.calls[2]!.end('busy');
    await run(lab, 120_000, 1000);

    expect(lab.calls).toHaveLength(3);
    const report = lab.store.report(id);
    expect(report.map((c) => [c.phone, c.result, c.attempts.map((a) => [a.outcome, a.sipStatus])])).toEqual([
      ['+33610000001', 'busy', [['busy', 486], ['busy', 486]]],
      ['+33610000002', 'answered', [['answered', 200]]],
    ]);
    expect(lab.store.campaigns()[0]!.state).toBe('completed');
  });

  it('never dials a number on the do-not-call list; a prospecting campaign skips contacts without consent, a customer one calls them', async () => {
    const lab = startLab({ configs: [campaignConfig('prospection', { purpose: 'prospecting' }), campaignConfig('clients')] });
    lab.store.addDoNotCall('+33610000002', 'test', TUESDAY_1030);
    const prospecting = addCampaign(lab, 'prospection', ['+33610000001', '+33610000002'], 'prospecting', null);
    const customer = addCampaign(lab, 'clients', ['+33620000001'], 'customer', null);
    lab.dialer.start();
    await run(lab, 3000);

    expect(lab.calls.map((c) => c.call.contact.phone)).toEqual(['+33620000001']);
    expect(lab.store.report(prospecting).map((c) => [c.phone, c.result])).toEqual([
      ['+33610000001', 'no-consent'],
      ['+33610000002', 'do-not-call'],
    ]);
    expect(lab.store.report(customer)[0]!.result).toBeNull();
    expect(lab.lines.filter((l) => l['msg'] === 'contact skipped').map((l) => l['reason'])).toEqual(['no-consent', 'do-not-call']);
  });

  it('dials nothing on a Saturday: the contacts wait for Monday 10:00 in their own time zone', async () => {
    const lab = startLab({ start: SATURDAY_1100, configs: [campaignConfig('relance')] });
    const id = addCampaign(lab, 'relance', ['+33610000001', '+262692000001']);
    lab.dialer.start();
    await run(lab, 3000);

    expect(lab.calls).toHaveLength(0);
    const report = lab.store.report(id);
    expect(report.map((c) => [c.phone, c.waitingReason, new Date(c.nextAttemptAt ?? 0).toISOString()])).toEqual([
      // Monday 7 December, 10:00 in Paris (09:00 UTC) and in La Réunion (06:00 UTC).
      ['+33610000001', 'outside-hours', '2026-12-07T09:00:00.000Z'],
      ['+262692000001', 'outside-hours', '2026-12-07T06:00:00.000Z'],
    ]);
  });

  it('the opt-out key puts the number on the do-not-call list; the contact is closed as opted-out', async () => {
    const lab = startLab({ configs: [campaignConfig('relance')] });
    const id = addCampaign(lab, 'relance', ['+33610000001']);
    lab.dialer.start();
    await run(lab, 100);
    lab.calls[0]!.call.onOptOut();
    expect(lab.store.isDoNotCall('+33610000001')).toBe(true);
    lab.calls[0]!.end('opted-out', 200);
    await run(lab, 100);
    expect(lab.store.report(id)[0]!.result).toBe('opted-out');
  });

  it('after a crash, the attempt left in flight becomes unknown and is retried after its delay, never at once', async () => {
    const first = startLab({ configs: [campaignConfig('relance')] });
    const id = addCampaign(first, 'relance', ['+33610000001']);
    first.dialer.start();
    await run(first, 100);
    expect(first.calls).toHaveLength(1);
    // voix dies here: the call never ends, the database stays as it is.
    first.dialer.stopDialing();
    first.db.close();

    const second = startLab({ start: TUESDAY_1030 + 60_000, dir: first.dir, configs: [campaignConfig('relance')] });
    second.dialer.start();
    await run(second, 5000, 100);
    expect(second.calls).toHaveLength(0);
    const attempts = second.store.report(id)[0]!.attempts;
    expect(attempts.map((a) => [a.outcome, a.callId])).toEqual([['unknown', 'call-1']]);
    expect(second.lines.some((l) => l['msg'] === 'attempt lost in a crash reconciled')).toBe(true);
    await run(second, 1800_000, 10_000);
    expect(second.calls.map((c) => c.call.contact.phone)).toEqual(['+33610000001']);
  });

  it('campaigns sharing a trunk take turns', async () => {
    const lab = startLab({
      configs: [campaignConfig('a', { callsPerSecond: 50, maxCalls: 50 }), campaignConfig('b', { callsPerSecond: 50, maxCalls: 50 })],
      trunks: [{ ...TRUNK, callsPerSecond: 2, maxCalls: 100 }],
    });
    addCampaign(lab, 'a', phones(6, '+336100000'));
    addCampaign(lab, 'b', phones(6, '+336200000'));
    lab.dialer.start();
    await run(lab, 2900);
    expect(lab.calls.map((c) => c.call.campaign.name)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('progressive: places a call only while an agent is free, one per free agent; waiting for one polls, it does not spin', async () => {
    const lab = startLab({ configs: [campaignConfig('progressif', { callsPerSecond: 10, maxCalls: 10, connect: '2000', progressive: true })] });
    addCampaign(lab, 'progressif', phones(5));
    lab.dialer.start();
    await run(lab, 2000, 100);
    expect(lab.calls, 'no agent: nothing is dialled').toHaveLength(0);
    expect(lab.clock.pendingCount, 'one timer: the next poll').toBe(1);
    lab.agents = 2;
    await run(lab, 2000, 100);
    expect(lab.calls, 'two agents: two calls, then it waits').toHaveLength(2);
    lab.calls[0]!.end('answered');
    await run(lab, 2000, 100);
    expect(lab.calls, 'an agent is free again: one more').toHaveLength(3);
  });

  it('a trunk full of calls holds the campaign back without spinning; a call ending frees it', async () => {
    const lab = startLab({ configs: [campaignConfig('relance', { callsPerSecond: 10, maxCalls: 10 })], trunks: [{ ...TRUNK, callsPerSecond: 50, maxCalls: 1 }] });
    addCampaign(lab, 'relance', phones(3));
    lab.dialer.start();
    await run(lab, 1000, 50);
    expect(lab.calls).toHaveLength(1);
    expect(lab.clock.pendingCount, 'one timer: the next poll').toBe(1);
    lab.calls[0]!.end('answered');
    await run(lab, 500, 50);
    expect(lab.calls).toHaveLength(2);
  });

  it('a paused campaign places no new call; resumed, it goes on', async () => {
    const lab = startLab({ configs: [campaignConfig('relance', { callsPerSecond: 1, maxCalls: 10 })] });
    const id = addCampaign(lab, 'relance', phones(4));
    lab.dialer.start();
    await run(lab, 500);
    lab.store.setCampaignState(id, 'paused', lab.clock.now());
    await run(lab, 5000, 100);
    expect(lab.calls).toHaveLength(1);
    lab.store.setCampaignState(id, 'running', lab.clock.now());
    await run(lab, 2500, 100);
    expect(lab.calls).toHaveLength(4);
  });
});
