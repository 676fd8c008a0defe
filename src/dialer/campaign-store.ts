/**
 * What the dialer must never forget, in SQLite (WAL, src/store/database.ts):
 * campaigns, their contacts, every call attempt and its outcome, and the
 * do-not-call list.
 *
 * The rules that keep a crash from calling anyone twice:
 * - an attempt row is written, and committed, before its INVITE leaves
 *   (better-sqlite3 is synchronous: when beginAttempt returns, the row is
 *   in the database);
 * - a contact has at most one attempt in flight (outcome still NULL):
 *   beginAttempt refuses a second one;
 * - at start, attempts left in flight by a crash are closed as 'unknown'
 *   (reconcileInFlight): the call may or may not have happened, so it
 *   counts as an attempt (towards the legal limits too) and the scheduler
 *   decides whether to try again, as for any other outcome — never by
 *   replaying the lost attempt.
 */
import type { Db } from '../store/database.js';
import type { ContactSink, ImportedContact } from './contact-import.js';

export type CampaignPurpose = 'prospecting' | 'customer';

/** How an attempt ended; 'unknown': in flight when voix stopped without ending it (a crash). */
export type AttemptOutcome = 'answered' | 'busy' | 'no-answer' | 'failed' | 'congestion' | 'rejected' | 'unknown';

export interface Campaign {
  readonly id: number;
  readonly name: string;
  readonly purpose: CampaignPurpose;
  readonly createdAt: number;
}

export interface Attempt {
  readonly id: number;
  readonly contactId: number;
  readonly phone: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly outcome: AttemptOutcome | null;
}

export class CampaignStoreError extends Error {}

interface AttemptRow {
  id: number;
  contact_id: number;
  phone: string;
  started_at: number;
  ended_at: number | null;
  outcome: AttemptOutcome | null;
}

const attemptOf = (row: AttemptRow): Attempt => ({
  id: row.id,
  contactId: row.contact_id,
  phone: row.phone,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  outcome: row.outcome,
});

const flag = (value: boolean | null | undefined): number | null => (value === null || value === undefined ? null : value ? 1 : 0);

export class CampaignStore {
  constructor(private readonly db: Db) {}

  createCampaign(name: string, purpose: CampaignPurpose, at: number): Campaign {
    try {
      const id = Number(this.db.prepare('INSERT INTO campaigns (name, purpose, created_at) VALUES (?, ?, ?)').run(name, purpose, at).lastInsertRowid);
      return { id, name, purpose, createdAt: at };
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw new CampaignStoreError(`a campaign named ${JSON.stringify(name)} already exists`);
      throw err;
    }
  }

  campaign(name: string): Campaign | null {
    const row = this.db.prepare('SELECT id, name, purpose, created_at FROM campaigns WHERE name = ?').get(name) as
      | { id: number; name: string; purpose: CampaignPurpose; created_at: number }
      | undefined;
    return row === undefined ? null : { id: row.id, name: row.name, purpose: row.purpose, createdAt: row.created_at };
  }

  /** Where an import puts its contacts: one per number and campaign, the first line that brought it wins. */
  contactSink(campaignId: number): ContactSink {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO campaign_contacts (campaign_id, phone, source_line, first_name, last_name, consent_given, consent_date, consent_source, customer, variables)
       VALUES (@campaign_id, @phone, @source_line, @first_name, @last_name, @consent_given, @consent_date, @consent_source, @customer, @variables)`,
    );
    const existing = this.db.prepare('SELECT source_line FROM campaign_contacts WHERE campaign_id = ? AND phone = ?');
    return {
      add: (contact: ImportedContact) => {
        const inserted = insert.run({
          campaign_id: campaignId,
          phone: contact.phone,
          source_line: contact.line,
          first_name: contact.firstName,
          last_name: contact.lastName,
          consent_given: flag(contact.consent?.given),
          consent_date: contact.consent?.date ?? null,
          consent_source: contact.consent?.source ?? null,
          customer: flag(contact.customer),
          variables: JSON.stringify(contact.variables),
        });
        if (inserted.changes === 1) return Promise.resolve('added');
        const row = existing.get(campaignId, contact.phone) as { source_line: number } | undefined;
        return Promise.resolve({ duplicateOfLine: row?.source_line ?? 0 });
      },
    };
  }

  contactCount(campaignId: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ?').get(campaignId) as { n: number }).n;
  }

  /** Contact id of a number in a campaign, or null. */
  contactId(campaignId: number, phone: string): number | null {
    const row = this.db.prepare('SELECT id FROM campaign_contacts WHERE campaign_id = ? AND phone = ?').get(campaignId, phone) as { id: number } | undefined;
    return row?.id ?? null;
  }

  // ---- attempts ----

  /**
   * Records that `contactId` is about to be called, committed when this
   * returns; refuses (CampaignStoreError) while another attempt of the same
   * contact is in flight.
   */
  beginAttempt(contactId: number, at: number): Attempt {
    return this.db.transaction((): Attempt => {
      const contact = this.db.prepare('SELECT phone FROM campaign_contacts WHERE id = ?').get(contactId) as { phone: string } | undefined;
      if (contact === undefined) throw new CampaignStoreError(`no contact ${contactId}`);
      const inFlight = this.db.prepare('SELECT id FROM call_attempts WHERE contact_id = ? AND outcome IS NULL').get(contactId) as { id: number } | undefined;
      if (inFlight !== undefined) throw new CampaignStoreError(`contact ${contactId} already has attempt ${inFlight.id} in flight`);
      const id = Number(this.db.prepare('INSERT INTO call_attempts (contact_id, phone, started_at) VALUES (?, ?, ?)').run(contactId, contact.phone, at).lastInsertRowid);
      return { id, contactId, phone: contact.phone, startedAt: at, endedAt: null, outcome: null };
    }).immediate();
  }

  /** Ends an attempt in flight; false when it was not in flight (already ended, or reconciled). */
  finishAttempt(attemptId: number, outcome: Exclude<AttemptOutcome, 'unknown'>, at: number): boolean {
    return this.db.prepare('UPDATE call_attempts SET outcome = ?, ended_at = ? WHERE id = ? AND outcome IS NULL').run(outcome, at, attemptId).changes === 1;
  }

  /** At start: every attempt still in flight ended with the crash; each becomes 'unknown' and is returned. */
  reconcileInFlight(at: number): Attempt[] {
    return this.db.transaction((): Attempt[] => {
      const rows = this.db.prepare('SELECT id, contact_id, phone, started_at, ended_at, outcome FROM call_attempts WHERE outcome IS NULL ORDER BY id').all() as AttemptRow[];
      this.db.prepare("UPDATE call_attempts SET outcome = 'unknown', ended_at = ? WHERE outcome IS NULL").run(at);
      return rows.map((row) => attemptOf({ ...row, outcome: 'unknown', ended_at: at }));
    }).immediate();
  }

  attempts(contactId: number): Attempt[] {
    const rows = this.db.prepare('SELECT id, contact_id, phone, started_at, ended_at, outcome FROM call_attempts WHERE contact_id = ? ORDER BY id').all(contactId) as AttemptRow[];
    return rows.map(attemptOf);
  }

  /** Attempts to `phone` (any campaign) started at or after `since`: the legal limit counts calls to a number, not per campaign. */
  attemptsToNumberSince(phone: string, since: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM call_attempts WHERE phone = ? AND started_at >= ?').get(phone, since) as { n: number }).n;
  }

  // ---- do-not-call ----

  /** Adds `phone` (E.164) to the do-not-call list; true when it was not there. */
  addDoNotCall(phone: string, source: string, at: number): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO do_not_call (phone, added_at, source) VALUES (?, ?, ?)').run(phone, at, source).changes === 1;
  }

  /** True when it was there. */
  removeDoNotCall(phone: string): boolean {
    return this.db.prepare('DELETE FROM do_not_call WHERE phone = ?').run(phone).changes === 1;
  }

  isDoNotCall(phone: string): boolean {
    return this.db.prepare('SELECT 1 FROM do_not_call WHERE phone = ?').get(phone) !== undefined;
  }
}
