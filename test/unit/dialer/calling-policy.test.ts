/**
 * The calling policy under a fixed instant (no clock): the law's defaults
 * for French consumers, the contact's own time zone, and a campaign's own
 * settings.
 */
import { describe, expect, it } from 'vitest';
import { CallingPolicy, contactTimeZone, type ContactSituation } from '../../../src/dialer/calling-policy.js';

/** A wall-clock time in Paris (Europe/Paris: UTC+1 in winter, UTC+2 in summer) as ms since the epoch. */
function paris(text: string): number {
  const [date, time] = text.split(' ');
  const utc = Date.parse(`${date}T${time}:00Z`);
  const month = Number(date?.slice(5, 7));
  const summer = month >= 4 && month <= 10;
  return utc - (summer ? 2 : 1) * 3_600_000;
}

const DAY = 86_400_000;
const contact = (overrides: Partial<ContactSituation> = {}): ContactSituation => ({
  phone: '+33612345678',
  consentGiven: true,
  doNotCall: false,
  recentAttempts: [],
  lastRefusalAt: null,
  ...overrides,
});

describe('CallingPolicy, French legal defaults', () => {
  const prospecting = new CallingPolicy('prospecting');

  it('calls on a weekday within 10:00–13:00 and 14:00–20:00, Paris time', () => {
    expect(prospecting.decide(contact(), paris('2026-12-01 10:00'))).toEqual({ ok: true, timeZone: 'Europe/Paris' });
    expect(prospecting.decide(contact(), paris('2026-12-01 19:59'))).toMatchObject({ ok: true });
  });

  it('not on a Saturday (next: Monday 10:00), not at 13:30 (next: 14:00), not on 14 July (next: the 15th at 10:00)', () => {
    expect(prospecting.decide(contact(), paris('2026-12-05 11:00'))).toMatchObject({ ok: false, reason: 'outside-hours', retryAt: paris('2026-12-07 10:00') });
    expect(prospecting.decide(contact(), paris('2026-12-01 13:30'))).toMatchObject({ ok: false, reason: 'outside-hours', retryAt: paris('2026-12-01 14:00') });
    expect(prospecting.decide(contact(), paris('2027-07-14 11:00'))).toMatchObject({ ok: false, reason: 'outside-hours', retryAt: paris('2027-07-15 10:00') });
    expect(prospecting.decide(contact(), paris('2026-12-01 20:00'))).toMatchObject({ ok: false, reason: 'outside-hours', retryAt: paris('2026-12-02 10:00') });
  });

  it('refuses the 5th attempt within 30 days, until the oldest of the four leaves the period', () => {
    const now = paris('2026-12-01 11:00');
    const four = [now - 29 * DAY, now - 20 * DAY, now - 10 * DAY, now - 1 * DAY];
    expect(prospecting.decide(contact({ recentAttempts: four.slice(1) }), now)).toMatchObject({ ok: true });
    expect(prospecting.decide(contact({ recentAttempts: four }), now)).toMatchObject({ ok: false, reason: 'attempt-limit', retryAt: now + DAY });
    expect(prospecting.decide(contact({ recentAttempts: [now - 31 * DAY, ...four.slice(1)] }), now), 'older than 30 days does not count').toMatchObject({ ok: true });
  });

  it('keeps quiet for 60 days after a refusal', () => {
    const now = paris('2026-12-01 11:00');
    expect(prospecting.decide(contact({ lastRefusalAt: now - 59 * DAY }), now)).toMatchObject({ ok: false, reason: 'refusal-quiet', retryAt: now + DAY });
    expect(prospecting.decide(contact({ lastRefusalAt: now - 60 * DAY }), now)).toMatchObject({ ok: true });
  });

  it('prospecting needs recorded consent; a customer-relationship campaign calls without it; nobody calls a do-not-call number', () => {
    const now = paris('2026-12-01 11:00');
    const customer = new CallingPolicy('customer');
    for (const consentGiven of [false, null]) {
      expect(prospecting.decide(contact({ consentGiven }), now)).toMatchObject({ ok: false, reason: 'no-consent', retryAt: null });
      expect(customer.decide(contact({ consentGiven }), now)).toMatchObject({ ok: true });
    }
    expect(customer.decide(contact({ doNotCall: true }), now)).toMatchObject({ ok: false, reason: 'do-not-call', retryAt: null });
    expect(prospecting.departuresFromLaw('prospecting')).toEqual([]);
    expect(customer.departuresFromLaw('customer')).toEqual([]);
  });

  it('uses the contact’s time zone: a Réunion number at 08:00 in Paris is 11:00 there, and a Paris number is not yet callable', () => {
    expect(contactTimeZone('+262262123456')).toBe('Indian/Reunion');
    expect(contactTimeZone('+590590123456')).toBe('America/Guadeloupe');
    expect(contactTimeZone('+33612345678')).toBe('Europe/Paris');
    expect(contactTimeZone('+32470123456')).toBe('Europe/Paris');
    const now = paris('2026-12-01 08:00');
    expect(prospecting.decide(contact({ phone: '+262262123456' }), now)).toEqual({ ok: true, timeZone: 'Indian/Reunion' });
    expect(prospecting.decide(contact(), now)).toMatchObject({ ok: false, reason: 'outside-hours', retryAt: paris('2026-12-01 10:00') });
  });
});

describe('CallingPolicy, a campaign’s own settings', () => {
  it('applies them, and lists where they depart from the law', () => {
    const policy = new CallingPolicy('prospecting', {
      hours: { weekly: { 'mon-sat': ['09:00-21:00'] }, holidays: 'none' },
      maxAttempts: 6,
      attemptPeriodDays: 30,
      quietDaysAfterRefusal: 30,
      consentRequired: false,
    });
    expect(policy.decide(contact({ consentGiven: null }), paris('2026-12-05 09:30'))).toMatchObject({ ok: true });
    expect(policy.departuresFromLaw('prospecting')).toEqual([
      'prospecting without recorded consent',
      '6 attempts per number (law: 4)',
      '30 days of quiet after a refusal (law: 60)',
      'calling hours other than Monday–Friday 10:00–13:00 and 14:00–20:00 outside public holidays',
    ]);
  });

  it('refuses calling hours it cannot read, naming the problem', () => {
    expect(() => new CallingPolicy('customer', { hours: { weekly: { 'mon-fri': ['25:00-26:00'] } } })).toThrow(/calling hours: weekly/);
  });
});
