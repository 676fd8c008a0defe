/**
 * Whether a campaign may call a contact now, and if not, why and from
 * when. Pure: the caller gives the instant (its Clock) and what the store
 * knows (attempts, refusals, the do-not-call list).
 *
 * Defaults follow French law for calls to consumers (Code de la
 * consommation art. L223-1 and D223-9, décret n° 2022-1313; loi
 * n° 2025-594 for consent since 11 August 2026):
 * - a prospecting campaign calls only contacts whose consent is recorded;
 *   a customer-relationship campaign (a contract in force) calls the others
 *   too;
 * - Monday to Friday, 10:00–13:00 and 14:00–20:00, not on public holidays,
 *   in the contact's own time zone (a number from La Réunion is called on
 *   Réunion time; see contactTimeZone);
 * - at most 4 attempts per number per 30 days, across campaigns;
 * - no call for 60 days after the contact refused one;
 * - never a number on the do-not-call list.
 * A campaign can change each of them; the dialer says so in its log when
 * it starts one that departs from the law's defaults.
 *
 * The calling window is a time condition (src/rules/time-conditions.ts):
 * the same weekly hours, holiday calendars and exceptions as inbound routes.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { isOpen, nextChange, parseTimeCondition, type TimeCondition, type TimeConditionSpec } from '../rules/time-conditions.js';
import type { CampaignPurpose } from './campaign-store.js';

export const LEGAL_CALLING_HOURS: Readonly<Pick<TimeConditionSpec, 'weekly' | 'holidays'>> = {
  weekly: { 'mon-fri': ['10:00-13:00', '14:00-20:00'] },
  holidays: 'france',
};
export const LEGAL_MAX_ATTEMPTS = 4;
export const LEGAL_ATTEMPT_PERIOD_DAYS = 30;
export const LEGAL_QUIET_DAYS_AFTER_REFUSAL = 60;

const DAY_MS = 86_400_000;

export interface CallingPolicySpec {
  /** Weekly hours, holidays and exceptions of the calling window; default LEGAL_CALLING_HOURS. The time zone is the contact's. */
  readonly hours?: Omit<TimeConditionSpec, 'timezone'>;
  readonly maxAttempts?: number;
  readonly attemptPeriodDays?: number;
  readonly quietDaysAfterRefusal?: number;
  /** Default: true for a prospecting campaign, false for a customer-relationship one. */
  readonly consentRequired?: boolean;
}

/** What the store knows about a contact when the dialer considers calling it. */
export interface ContactSituation {
  /** E.164. */
  readonly phone: string;
  /** null: the file said nothing about consent. */
  readonly consentGiven: boolean | null;
  readonly doNotCall: boolean;
  /** Start times (ms) of the attempts to this number within the attempt period, any campaign. */
  readonly recentAttempts: readonly number[];
  /** When the contact last refused a call (ms), or null. */
  readonly lastRefusalAt: number | null;
}

export type CallRefusal = 'do-not-call' | 'no-consent' | 'attempt-limit' | 'refusal-quiet' | 'outside-hours';

export type CallDecision =
  | { readonly ok: true; readonly timeZone: string }
  /** retryAt: when the reason ends (ms), or null when it never ends by itself. */
  | { readonly ok: false; readonly reason: CallRefusal; readonly retryAt: number | null; readonly detail: string };

/**
 * Time zones of the French numbering areas outside metropolitan France
 * (ITU-T E.164 country codes of the overseas departments and territories).
 */
const OVERSEAS_TIME_ZONES: Readonly<Record<string, string>> = {
  RE: 'Indian/Reunion',
  YT: 'Indian/Mayotte',
  GP: 'America/Guadeloupe',
  BL: 'America/St_Barthelemy',
  MF: 'America/Marigot',
  MQ: 'America/Martinique',
  GF: 'America/Cayenne',
  PM: 'America/Miquelon',
  NC: 'Pacific/Noumea',
  PF: 'Pacific/Tahiti',
  WF: 'Pacific/Wallis',
};

/** The contact's time zone from its number: the overseas areas their own, every other number `fallback` (the campaign's). */
export function contactTimeZone(phone: string, fallback = 'Europe/Paris'): string {
  const country = parsePhoneNumberFromString(phone)?.country;
  return (country === undefined ? undefined : OVERSEAS_TIME_ZONES[country]) ?? fallback;
}

export class CallingPolicy {
  readonly maxAttempts: number;
  readonly attemptPeriodMs: number;
  readonly quietMs: number;
  readonly consentRequired: boolean;
  private readonly hours: Omit<TimeConditionSpec, 'timezone'>;
  private readonly windows = new Map<string, TimeCondition>();

  constructor(purpose: CampaignPurpose, spec: CallingPolicySpec = {}) {
    this.hours = spec.hours ?? LEGAL_CALLING_HOURS;
    this.maxAttempts = spec.maxAttempts ?? LEGAL_MAX_ATTEMPTS;
    this.attemptPeriodMs = (spec.attemptPeriodDays ?? LEGAL_ATTEMPT_PERIOD_DAYS) * DAY_MS;
    this.quietMs = (spec.quietDaysAfterRefusal ?? LEGAL_QUIET_DAYS_AFTER_REFUSAL) * DAY_MS;
    this.consentRequired = spec.consentRequired ?? purpose === 'prospecting';
    this.window('Europe/Paris');
  }

  /** Where this policy departs from the law's defaults, for the dialer's log; empty when it does not. */
  departuresFromLaw(purpose: CampaignPurpose): string[] {
    const departures: string[] = [];
    if (purpose === 'prospecting' && !this.consentRequired) departures.push('prospecting without recorded consent');
    if (this.maxAttempts > LEGAL_MAX_ATTEMPTS) departures.push(`${this.maxAttempts} attempts per number (law: ${LEGAL_MAX_ATTEMPTS})`);
    if (this.attemptPeriodMs < LEGAL_ATTEMPT_PERIOD_DAYS * DAY_MS) departures.push(`attempts counted over ${this.attemptPeriodMs / DAY_MS} days (law: ${LEGAL_ATTEMPT_PERIOD_DAYS})`);
    if (this.quietMs < LEGAL_QUIET_DAYS_AFTER_REFUSAL * DAY_MS) departures.push(`${this.quietMs / DAY_MS} days of quiet after a refusal (law: ${LEGAL_QUIET_DAYS_AFTER_REFUSAL})`);
    if (JSON.stringify(this.hours) !== JSON.stringify(LEGAL_CALLING_HOURS)) departures.push('calling hours other than Monday–Friday 10:00–13:00 and 14:00–20:00 outside public holidays');
    return departures;
  }

  /** May `contact` be called at `now`? The first reason that applies, with when it ends. */
  decide(contact: ContactSituation, now: number): CallDecision {
    if (contact.doNotCall) return { ok: false, reason: 'do-not-call', retryAt: null, detail: `${contact.phone} is on the do-not-call list` };
    if (this.consentRequired && contact.consentGiven !== true) {
      return { ok: false, reason: 'no-consent', retryAt: null, detail: `no recorded consent for ${contact.phone} (prospecting campaign)` };
    }
    if (contact.lastRefusalAt !== null && now < contact.lastRefusalAt + this.quietMs) {
      return { ok: false, reason: 'refusal-quiet', retryAt: contact.lastRefusalAt + this.quietMs, detail: `${contact.phone} refused a call less than ${this.quietMs / DAY_MS} days ago` };
    }
    const recent = contact.recentAttempts.filter((at) => at > now - this.attemptPeriodMs).sort((a, b) => a - b);
    if (recent.length >= this.maxAttempts) {
      // The limit lifts when enough of the oldest attempts leave the period.
      const freeingAttempt = recent[recent.length - this.maxAttempts] ?? now;
      return { ok: false, reason: 'attempt-limit', retryAt: freeingAttempt + this.attemptPeriodMs, detail: `${recent.length} attempts to ${contact.phone} in ${this.attemptPeriodMs / DAY_MS} days (limit ${this.maxAttempts})` };
    }
    const timeZone = contactTimeZone(contact.phone);
    const window = this.window(timeZone);
    if (!isOpen(window, new Date(now))) {
      const opens = nextChange(window, new Date(now));
      return { ok: false, reason: 'outside-hours', retryAt: opens?.getTime() ?? null, detail: `outside calling hours in ${timeZone}` };
    }
    return { ok: true, timeZone };
  }

  private window(timeZone: string): TimeCondition {
    let window = this.windows.get(timeZone);
    if (window === undefined) {
      const parsed = parseTimeCondition({ ...this.hours, timezone: timeZone });
      if (!parsed.ok) throw new RangeError(`calling hours: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
      window = parsed.condition;
      this.windows.set(timeZone, window);
    }
    return window;
  }
}
