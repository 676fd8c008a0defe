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
import { PreparedStatements, type Db } from '../store/database.js';
import type { ContactSink, ImportedContact } from './contact-import.js';

export type CampaignPurpose = 'prospecting' | 'customer';

/**
 * What the operator asked of a campaign (voix campaign start|pause|resume|stop):
 * the dialer calls only while it is 'running' and marks it 'completed' when
 * every contact has a result.
 */
export type CampaignState = 'created' | 'running' | 'paused' | 'stopped' | 'completed';

/**
 * How an attempt ended. 'machine': an answering machine answered (when the
 * campaign detects them); 'opted-out': answered, and the contact pressed the
 * opt-out key; 'rejected': the contact declined the call (603); 'unknown':
 * in flight when voix stopped without ending it (a crash).
 */
export type AttemptOutcome = 'answered' | 'machine' | 'opted-out' | 'busy' | 'no-answer' | 'failed' | 'congestion' | 'rejected' | 'unknown';

/**
 * A contact's final result: its last attempt's outcome, or why it was never
 * (again) called: on the do-not-call list, no recorded consent for a
 * prospecting campaign, or calling hours that never open.
 */
export type ContactResult = AttemptOutcome | 'do-not-call' | 'no-consent' | 'outside-hours';

export interface Campaign {
  readonly id: number;
  readonly name: string;
  readonly purpose: CampaignPurpose;
  readonly createdAt: number;
  readonly state: CampaignState;
}

/** A contact the dialer may call now. */
export interface DueContact {
  readonly id: number;
  readonly phone: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly consentGiven: boolean | null;
  readonly variables: Readonly<Record<string, string>>;
}

export interface CampaignProgress {
  readonly contacts: number;
  /** Contacts with a final result, by result. */
  readonly results: Readonly<Partial<Record<ContactResult, number>>>;
  readonly done: number;
  readonly inFlight: number;
  /** Contacts still to call, by why they wait ('due': nothing but the pace). */
  readonly waiting: Readonly<Record<string, number>>;
  readonly attempts: number;
  /** The earliest next attempt of a contact still to call (ms), or null. */
  readonly nextAttemptAt: number | null;
}

/** One contact as exported (CSV/JSON): what was imported, its result and its attempts. */
export interface ContactReport {
  readonly phone: string;
  readonly sourceLine: number;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly result: ContactResult | null;
  readonly resultDetail: string | null;
  readonly resultAt: number | null;
  readonly waitingReason: string | null;
  readonly nextAttemptAt: number | null;
  readonly attempts: readonly Attempt[];
}

export interface Attempt {
  readonly id: number;
  readonly contactId: number;
  readonly phone: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly outcome: AttemptOutcome | null;
  readonly callId: string | null;
  /** The final SIP status of the call (200 when answered), or null. */
  readonly sipStatus: number | null;
  readonly detail: string | null;
}

/** How an attempt's call went, as the dialer records it. */
export interface AttemptEnd {
  readonly outcome: Exclude<AttemptOutcome, 'unknown'>;
  readonly at: number;
  readonly sipStatus?: number | null;
  readonly detail?: string | null;
}

export class CampaignStoreError extends Error {}

interface AttemptRow {
  id: number;
  contact_id: number;
  phone: string;
  started_at: number;
  ended_at: number | null;
  outcome: AttemptOutcome | null;
  call_id: string | null;
  sip_status: number | null;
  detail: string | null;
}

const ATTEMPT_COLUMNS = 'id, contact_id, phone, started_at, ended_at, outcome, call_id, sip_status, detail';

const attemptOf = (row: AttemptRow): Attempt => ({
  id: row.id,
  contactId: row.contact_id,
  phone: row.phone,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  outcome: row.outcome,
  callId: row.call_id,
  sipStatus: row.sip_status,
  detail: row.detail,
});

interface CampaignRow {
  id: number;
  name: string;
  purpose: CampaignPurpose;
  created_at: number;
  state: CampaignState;
}

const campaignOf = (row: CampaignRow): Campaign => ({ id: row.id, name: row.name, purpose: row.purpose, createdAt: row.created_at, state: row.state });

function parseVariables(json: string): Record<string, string> {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Attempts whose outcome means the contact refused the call (the legal quiet period after a refusal). */
const REFUSALS = "('rejected', 'opted-out')";

const flag = (value: boolean | null | undefined): number | null => (value === null || value === undefined ? null : value ? 1 : 0);

export class CampaignStore {
  private readonly statements: PreparedStatements;

  constructor(private readonly db: Db) {
    this.statements = new PreparedStatements(db);
  }

  createCampaign(name: string, purpose: CampaignPurpose, at: number): Campaign {
    try {
      const id = Number(this.statements.get('INSERT INTO campaigns (name, purpose, created_at) VALUES (?, ?, ?)').run(name, purpose, at).lastInsertRowid);
      return { id, name, purpose, createdAt: at, state: 'created' };
    } catch (err) {
      if (err instanceof Error && /UNIQUE/.test(err.message)) throw new CampaignStoreError(`a campaign named ${JSON.stringify(name)} already exists`);
      throw err;
    }
  }

  campaign(name: string): Campaign | null {
    const row = this.statements.get('SELECT id, name, purpose, created_at, state FROM campaigns WHERE name = ?').get(name) as CampaignRow | undefined;
    return row === undefined ? null : campaignOf(row);
  }

  campaigns(): Campaign[] {
    return (this.statements.get('SELECT id, name, purpose, created_at, state FROM campaigns ORDER BY id').all() as CampaignRow[]).map(campaignOf);
  }

  setCampaignState(campaignId: number, state: CampaignState, at: number): void {
    this.statements.get('UPDATE campaigns SET state = ?, state_changed_at = ? WHERE id = ?').run(state, at, campaignId);
  }

  /** The dialer's end of a campaign: only if it is still running (a pause or stop the operator just wrote wins); true when done. */
  completeIfRunning(campaignId: number, at: number): boolean {
    return this.statements.get("UPDATE campaigns SET state = 'completed', state_changed_at = ? WHERE id = ? AND state = 'running'").run(at, campaignId).changes === 1;
  }

  /** A purpose changed in the configuration applies to the contacts not yet called. */
  setCampaignPurpose(campaignId: number, purpose: CampaignPurpose): void {
    this.statements.get('UPDATE campaigns SET purpose = ? WHERE id = ?').run(purpose, campaignId);
  }

  /** Where an import puts its contacts: one per number and campaign, the first line that brought it wins. */
  contactSink(campaignId: number): ContactSink {
    const insert = this.statements.get(
      `INSERT OR IGNORE INTO campaign_contacts (campaign_id, phone, source_line, first_name, last_name, consent_given, consent_date, consent_source, customer, variables)
       VALUES (@campaign_id, @phone, @source_line, @first_name, @last_name, @consent_given, @consent_date, @consent_source, @customer, @variables)`,
    );
    const existing = this.statements.get('SELECT source_line FROM campaign_contacts WHERE campaign_id = ? AND phone = ?');
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
    return (this.statements.get('SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ?').get(campaignId) as { n: number }).n;
  }

  /** Contact id of a number in a campaign, or null. */
  contactId(campaignId: number, phone: string): number | null {
    const row = this.statements.get('SELECT id FROM campaign_contacts WHERE campaign_id = ? AND phone = ?').get(campaignId, phone) as { id: number } | undefined;
    return row?.id ?? null;
  }

  // ---- attempts ----

  /**
   * Records that `contactId` is about to be called, committed when this
   * returns; refuses (CampaignStoreError) while another attempt of the same
   * contact is in flight.
   */
  beginAttempt(contactId: number, at: number, callId: string | null = null): Attempt {
    return this.db.transaction((): Attempt => {
      const contact = this.statements.get('SELECT phone FROM campaign_contacts WHERE id = ?').get(contactId) as { phone: string } | undefined;
      if (contact === undefined) throw new CampaignStoreError(`no contact ${contactId}`);
      const inFlight = this.statements.get('SELECT id FROM call_attempts WHERE contact_id = ? AND outcome IS NULL').get(contactId) as { id: number } | undefined;
      if (inFlight !== undefined) throw new CampaignStoreError(`contact ${contactId} already has attempt ${inFlight.id} in flight`);
      const id = Number(this.statements.get('INSERT INTO call_attempts (contact_id, phone, started_at, call_id) VALUES (?, ?, ?, ?)').run(contactId, contact.phone, at, callId).lastInsertRowid);
      this.statements.get('UPDATE campaign_contacts SET waiting_reason = NULL WHERE id = ?').run(contactId);
      return { id, contactId, phone: contact.phone, startedAt: at, endedAt: null, outcome: null, callId, sipStatus: null, detail: null };
    }).immediate();
  }

  /** Ends an attempt in flight; false when it was not in flight (already ended, or reconciled). */
  finishAttempt(attemptId: number, end: AttemptEnd): boolean {
    return (
      this.statements
        .get('UPDATE call_attempts SET outcome = ?, ended_at = ?, sip_status = ?, detail = ? WHERE id = ? AND outcome IS NULL')
        .run(end.outcome, end.at, end.sipStatus ?? null, end.detail ?? null, attemptId).changes === 1
    );
  }

  /** At start: every attempt still in flight ended with the crash; each becomes 'unknown' and is returned. */
  reconcileInFlight(at: number): Attempt[] {
    return this.db.transaction((): Attempt[] => {
      const rows = this.statements.get(`SELECT ${ATTEMPT_COLUMNS} FROM call_attempts WHERE outcome IS NULL ORDER BY id`).all() as AttemptRow[];
      this.statements.get("UPDATE call_attempts SET outcome = 'unknown', ended_at = ? WHERE outcome IS NULL").run(at);
      return rows.map((row) => attemptOf({ ...row, outcome: 'unknown', ended_at: at }));
    }).immediate();
  }

  attempts(contactId: number): Attempt[] {
    const rows = this.statements.get(`SELECT ${ATTEMPT_COLUMNS} FROM call_attempts WHERE contact_id = ? ORDER BY id`).all(contactId) as AttemptRow[];
    return rows.map(attemptOf);
  }

  /** Start times of the attempts to `phone` (any campaign) since `since`, for the legal limit. */
  attemptStartsToNumberSince(phone: string, since: number): number[] {
    return (this.statements.get('SELECT started_at FROM call_attempts WHERE phone = ? AND started_at >= ? ORDER BY started_at').all(phone, since) as { started_at: number }[]).map((r) => r.started_at);
  }

  /** When `phone` last refused a call (declined it or opted out), any campaign; null if never. */
  lastRefusalAt(phone: string): number | null {
    const row = this.statements.get(`SELECT MAX(COALESCE(ended_at, started_at)) AS at FROM call_attempts WHERE phone = ? AND outcome IN ${REFUSALS}`).get(phone) as { at: number | null };
    return row.at;
  }

  // ---- schedule ----

  /**
   * Contacts of a campaign the dialer may try at `now`: no result yet, next
   * attempt due, none in flight; the longest waiting first.
   */
  dueContacts(campaignId: number, now: number, limit: number): DueContact[] {
    const rows = this.statements
      .get(
        `SELECT c.id, c.phone, c.first_name, c.last_name, c.consent_given, c.variables FROM campaign_contacts c
         WHERE c.campaign_id = ? AND c.result IS NULL AND c.next_attempt_at <= ?
           AND NOT EXISTS (SELECT 1 FROM call_attempts a WHERE a.contact_id = c.id AND a.outcome IS NULL)
         ORDER BY c.next_attempt_at, c.id LIMIT ?`,
      )
      .all(campaignId, now, limit) as { id: number; phone: string; first_name: string | null; last_name: string | null; consent_given: number | null; variables: string }[];
    return rows.map((r) => ({
      id: r.id,
      phone: r.phone,
      firstName: r.first_name,
      lastName: r.last_name,
      consentGiven: r.consent_given === null ? null : r.consent_given === 1,
      variables: parseVariables(r.variables),
    }));
  }

  /** The earliest next attempt among a campaign's contacts still to call and not in a call now (ms), or null when there is none. */
  nextDueAt(campaignId: number): number | null {
    const row = this.statements
      .get(
        `SELECT MIN(c.next_attempt_at) AS at FROM campaign_contacts c
         WHERE c.campaign_id = ? AND c.result IS NULL
           AND NOT EXISTS (SELECT 1 FROM call_attempts a WHERE a.contact_id = c.id AND a.outcome IS NULL)`,
      )
      .get(campaignId) as { at: number | null };
    return row.at;
  }

  /** The contact waits until `at`; `reason` says why (null: it is simply its turn then). */
  schedule(contactId: number, at: number, reason: string | null): void {
    this.statements.get('UPDATE campaign_contacts SET next_attempt_at = ?, waiting_reason = ? WHERE id = ?').run(at, reason, contactId);
  }

  /** The contact is done: its final result, and why. */
  close(contactId: number, result: ContactResult, detail: string | null, at: number): void {
    this.statements.get('UPDATE campaign_contacts SET result = ?, result_detail = ?, result_at = ?, waiting_reason = NULL WHERE id = ?').run(result, detail, at, contactId);
  }

  /** Outcomes of a contact's attempts in this campaign, in order. */
  outcomes(contactId: number): AttemptOutcome[] {
    return (this.statements.get('SELECT outcome FROM call_attempts WHERE contact_id = ? AND outcome IS NOT NULL ORDER BY id').all(contactId) as { outcome: AttemptOutcome }[]).map((r) => r.outcome);
  }

  /** The campaign of a contact. */
  campaignOfContact(contactId: number): number | null {
    const row = this.statements.get('SELECT campaign_id FROM campaign_contacts WHERE id = ?').get(contactId) as { campaign_id: number } | undefined;
    return row?.campaign_id ?? null;
  }

  progress(campaignId: number): CampaignProgress {
    const results: Partial<Record<ContactResult, number>> = {};
    let done = 0;
    for (const row of this.statements.get('SELECT result, COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ? AND result IS NOT NULL GROUP BY result').all(campaignId) as { result: ContactResult; n: number }[]) {
      results[row.result] = row.n;
      done += row.n;
    }
    const waiting: Record<string, number> = {};
    for (const row of this.statements
      .get("SELECT COALESCE(waiting_reason, 'due') AS reason, COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ? AND result IS NULL GROUP BY reason")
      .all(campaignId) as { reason: string; n: number }[]) {
      waiting[row.reason] = row.n;
    }
    const attempts = this.statements
      .get('SELECT COUNT(*) AS n, SUM(a.outcome IS NULL) AS flying FROM call_attempts a JOIN campaign_contacts c ON c.id = a.contact_id WHERE c.campaign_id = ?')
      .get(campaignId) as { n: number; flying: number | null };
    return {
      contacts: this.contactCount(campaignId),
      results,
      done,
      inFlight: attempts.flying ?? 0,
      waiting,
      attempts: attempts.n,
      nextAttemptAt: this.nextDueAt(campaignId),
    };
  }

  /** Contacts of a campaign that got their final result at or after `since`: the recent pace of a campaign. */
  resultsSince(campaignId: number, since: number): number {
    return (this.statements.get('SELECT COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = ? AND result_at >= ?').get(campaignId, since) as { n: number }).n;
  }

  /** Every contact of a campaign with its result and attempts, in file order. */
  report(campaignId: number): ContactReport[] {
    const contacts = this.statements
      .get('SELECT id, phone, source_line, first_name, last_name, result, result_detail, result_at, waiting_reason, next_attempt_at FROM campaign_contacts WHERE campaign_id = ? ORDER BY source_line, id')
      .all(campaignId) as {
      id: number;
      phone: string;
      source_line: number;
      first_name: string | null;
      last_name: string | null;
      result: ContactResult | null;
      result_detail: string | null;
      result_at: number | null;
      waiting_reason: string | null;
      next_attempt_at: number;
    }[];
    const attempts = new Map<number, Attempt[]>();
    for (const row of this.statements
      .get(`SELECT a.id, a.contact_id, a.phone, a.started_at, a.ended_at, a.outcome, a.call_id, a.sip_status, a.detail FROM call_attempts a JOIN campaign_contacts c ON c.id = a.contact_id WHERE c.campaign_id = ? ORDER BY a.id`)
      .all(campaignId) as AttemptRow[]) {
      const list = attempts.get(row.contact_id) ?? [];
      list.push(attemptOf(row));
      attempts.set(row.contact_id, list);
    }
    return contacts.map((c) => ({
      phone: c.phone,
      sourceLine: c.source_line,
      firstName: c.first_name,
      lastName: c.last_name,
      result: c.result,
      resultDetail: c.result_detail,
      resultAt: c.result_at,
      waitingReason: c.waiting_reason,
      nextAttemptAt: c.result === null ? c.next_attempt_at : null,
      attempts: attempts.get(c.id) ?? [],
    }));
  }

  /** Attempts to `phone` (any campaign) started at or after `since`: the legal limit counts calls to a number, not per campaign. */
  attemptsToNumberSince(phone: string, since: number): number {
    return (this.statements.get('SELECT COUNT(*) AS n FROM call_attempts WHERE phone = ? AND started_at >= ?').get(phone, since) as { n: number }).n;
  }

  // ---- do-not-call ----

  /** Adds `phone` (E.164) to the do-not-call list; true when it was not there. */
  addDoNotCall(phone: string, source: string, at: number): boolean {
    return this.statements.get('INSERT OR IGNORE INTO do_not_call (phone, added_at, source) VALUES (?, ?, ?)').run(phone, at, source).changes === 1;
  }

  /** True when it was there. */
  removeDoNotCall(phone: string): boolean {
    return this.statements.get('DELETE FROM do_not_call WHERE phone = ?').run(phone).changes === 1;
  }

  isDoNotCall(phone: string): boolean {
    return this.statements.get('SELECT 1 FROM do_not_call WHERE phone = ?').get(phone) !== undefined;
  }

  doNotCallList(): { phone: string; addedAt: number; source: string }[] {
    return (this.statements.get('SELECT phone, added_at, source FROM do_not_call ORDER BY phone').all() as { phone: string; added_at: number; source: string }[]).map((r) => ({
      phone: r.phone,
      addedAt: r.added_at,
      source: r.source,
    }));
  }
}
