/**
 * The campaign store on a real SQLite database in a temporary directory:
 * contacts from an import, attempts written before the call and closed
 * after it, what a crash leaves and how a restart reconciles it, the
 * do-not-call list.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CampaignStore, CampaignStoreError } from '../../../src/dialer/campaign-store.js';
import { importContacts } from '../../../src/dialer/contact-import.js';
import { openDatabase, type Db } from '../../../src/store/database.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'voix-campaign-store-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, readonly = false): Db {
  const db = openDatabase(dir, { readonly });
  dbs.push(db);
  return db;
}

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);
const DAY = 86_400_000;

describe('CampaignStore', () => {
  it('takes an import: one contact per number and campaign, the first line wins; another campaign has its own', async () => {
    const dir = tempDir();
    const store = new CampaignStore(open(dir));
    const spring = store.createCampaign('printemps', 'prospecting', T0);
    const renewals = store.createCampaign('renouvellements', 'customer', T0);
    const file = path.join(dir, 'contacts.csv');
    writeFileSync(file, 'téléphone;prénom;consentement;client\n0612345678;Anne;oui;non\n06 12 34 56 78;Anne bis;oui;non\n0612345679;Marc;non;oui\n');
    const first = await importContacts(file, store.contactSink(spring.id));
    const second = await importContacts(file, store.contactSink(renewals.id));
    expect(first).toMatchObject({ imported: 2, duplicates: 1 });
    expect(second).toMatchObject({ imported: 2, duplicates: 1 });
    expect(store.contactCount(spring.id)).toBe(2);
    const row = open(dir, true).prepare('SELECT first_name, source_line, consent_given, customer FROM campaign_contacts WHERE campaign_id = ? AND phone = ?').get(spring.id, '+33612345678');
    expect(row).toEqual({ first_name: 'Anne', source_line: 2, consent_given: 1, customer: 0 });
    expect(() => store.createCampaign('printemps', 'customer', T0)).toThrow(CampaignStoreError);
    expect(store.campaign('printemps')).toEqual(spring);
  });

  it('an attempt is committed when beginAttempt returns (another connection sees it), and a contact has one in flight at most', async () => {
    const dir = tempDir();
    const store = new CampaignStore(open(dir));
    const campaign = store.createCampaign('c', 'customer', T0);
    const file = path.join(dir, 'c.csv');
    writeFileSync(file, 'phone\n0612345678\n');
    await importContacts(file, store.contactSink(campaign.id));
    const contact = store.contactId(campaign.id, '+33612345678') ?? -1;

    const attempt = store.beginAttempt(contact, T0 + 1000);
    const other = open(dir, true);
    expect(other.prepare('SELECT phone, outcome FROM call_attempts WHERE id = ?').get(attempt.id)).toEqual({ phone: '+33612345678', outcome: null });
    expect(() => store.beginAttempt(contact, T0 + 2000)).toThrow(/already has attempt .* in flight/);

    expect(store.finishAttempt(attempt.id, { outcome: 'busy', at: T0 + 5000 })).toBe(true);
    expect(store.finishAttempt(attempt.id, { outcome: 'answered', at: T0 + 6000 }), 'an ended attempt is not ended again').toBe(false);
    const next = store.beginAttempt(contact, T0 + 60_000);
    expect(store.attempts(contact).map((a) => [a.id, a.outcome])).toEqual([
      [attempt.id, 'busy'],
      [next.id, null],
    ]);
    expect(() => store.beginAttempt(9999, T0)).toThrow(/no contact 9999/);
  });

  it('after a crash: attempts left in flight become unknown at restart, are returned once, and never end twice', async () => {
    const dir = tempDir();
    const before = open(dir);
    const store = new CampaignStore(before);
    const campaign = store.createCampaign('c', 'prospecting', T0);
    const file = path.join(dir, 'c.csv');
    writeFileSync(file, 'phone\n0612345678\n0612345679\n0612345680\n');
    await importContacts(file, store.contactSink(campaign.id));
    const ids = ['+33612345678', '+33612345679', '+33612345680'].map((phone) => store.contactId(campaign.id, phone) ?? -1);
    const done = store.beginAttempt(ids[0] ?? -1, T0);
    store.finishAttempt(done.id, { outcome: 'answered', at: T0 + 30_000 });
    const lost = [store.beginAttempt(ids[1] ?? -1, T0 + 1000), store.beginAttempt(ids[2] ?? -1, T0 + 2000)];
    // The process dies: nothing more is written by it.
    before.close();

    const restarted = new CampaignStore(open(dir));
    const reconciled = restarted.reconcileInFlight(T0 + 120_000);
    expect(reconciled.map((a) => [a.id, a.outcome, a.endedAt])).toEqual(lost.map((a) => [a.id, 'unknown', T0 + 120_000]));
    expect(restarted.reconcileInFlight(T0 + 130_000), 'nothing left in flight').toEqual([]);
    expect(restarted.finishAttempt(lost[0]?.id ?? -1, { outcome: 'answered', at: T0 + 140_000 }), 'the lost call cannot be ended as something else').toBe(false);
    expect(restarted.attempts(ids[0] ?? -1).map((a) => a.outcome)).toEqual(['answered']);
    // The scheduler may call the contact again, as a new attempt.
    expect(restarted.beginAttempt(ids[1] ?? -1, T0 + 200_000).outcome).toBeNull();
  });

  it('counts attempts to a number since a date, across campaigns (the legal limit is per number)', async () => {
    const dir = tempDir();
    const store = new CampaignStore(open(dir));
    const file = path.join(dir, 'c.csv');
    writeFileSync(file, 'phone\n0612345678\n');
    const contacts = [];
    for (const name of ['a', 'b']) {
      const campaign = store.createCampaign(name, 'customer', T0);
      await importContacts(file, store.contactSink(campaign.id));
      contacts.push(store.contactId(campaign.id, '+33612345678') ?? -1);
    }
    for (const [i, at] of [T0 - 40 * DAY, T0 - 20 * DAY, T0 - 1 * DAY].entries()) {
      const attempt = store.beginAttempt(contacts[i % 2] ?? -1, at);
      store.finishAttempt(attempt.id, { outcome: 'no-answer', at: at + 30_000 });
    }
    expect(store.attemptsToNumberSince('+33612345678', T0 - 30 * DAY)).toBe(2);
    expect(store.attemptsToNumberSince('+33612345678', T0 - 60 * DAY)).toBe(3);
    expect(store.attemptsToNumberSince('+33612345679', T0 - 60 * DAY)).toBe(0);
  });

  it('keeps a do-not-call list: add once, check, remove', () => {
    const store = new CampaignStore(open(tempDir()));
    expect(store.isDoNotCall('+33612345678')).toBe(false);
    expect(store.addDoNotCall('+33612345678', 'dtmf', T0)).toBe(true);
    expect(store.addDoNotCall('+33612345678', 'cli', T0 + 1)).toBe(false);
    expect(store.isDoNotCall('+33612345678')).toBe(true);
    expect(store.removeDoNotCall('+33612345678')).toBe(true);
    expect(store.removeDoNotCall('+33612345678')).toBe(false);
    expect(store.isDoNotCall('+33612345678')).toBe(false);
  });
});
