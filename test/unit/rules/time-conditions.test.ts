import { describe, expect, it } from 'vitest';
import {
  describeDecision,
  evaluate,
  isOpen,
  nextChange,
  parseTimeCondition,
  type TimeCondition,
  type TimeConditionSpec,
} from '../../../src/rules/time-conditions.js';

// Instants are written with the UTC offset the zone has on that day, so each
// test states the wall clock it means; Europe/Paris is +01:00 in winter and
// +02:00 from 2026-03-29 01:00Z to 2026-10-25 01:00Z.

function conditionOf(spec: TimeConditionSpec): TimeCondition {
  const result = parseTimeCondition(spec);
  if (!result.ok) throw new Error(`test condition refused: ${JSON.stringify(result.errors)}`);
  return result.condition;
}

const bureau = conditionOf({
  weekly: { 'mon-fri': ['08:30-12:00', '13:30-18:00'], sat: ['09:00-12:00'] },
  closed: ['2026-12-24', '2026-12-26..2026-12-31'],
  open: ['2026-12-20 10:00-16:00'],
});

const at = (iso: string): Date => new Date(iso);

describe('weekly hours (Europe/Paris)', () => {
  it.each([
    ['2026-01-13T08:29:59+01:00', false],
    ['2026-01-13T08:30:00+01:00', true],
    ['2026-01-13T11:59:59.999+01:00', true],
    ['2026-01-13T12:00:00+01:00', false],
    ['2026-01-13T13:29:59+01:00', false],
    ['2026-01-13T13:30:00+01:00', true],
    ['2026-01-13T17:59:59+01:00', true],
    ['2026-01-13T18:00:00+01:00', false],
    ['2026-01-17T08:59:59+01:00', false],
    ['2026-01-17T09:00:00+01:00', true],
    ['2026-01-17T12:00:00+01:00', false],
    ['2026-01-18T10:00:00+01:00', false],
  ])('%s is open: %s', (iso, open) => {
    expect(isOpen(bureau, at(iso))).toBe(open);
  });

  it('says which range decided', () => {
    const decision = evaluate(bureau, at('2026-01-13T14:00:00+01:00'));

    expect(decision).toMatchObject({ open: true, reason: 'weekly-hours', range: { startMinute: 810, endMinute: 1080 } });
    expect(decision.local).toEqual({ timeZone: 'Europe/Paris', date: { year: 2026, month: 1, day: 13 }, weekday: 'tue', text: '2026-01-13T14:00:00' });
    expect(describeDecision(decision)).toBe('open (weekly hours tue 13:30-18:00) at 2026-01-13T14:00:00 Europe/Paris');
    expect(describeDecision(evaluate(bureau, at('2026-01-18T10:00:00+01:00')))).toBe(
      'closed (outside weekly hours on sun) at 2026-01-18T10:00:00 Europe/Paris',
    );
  });

  it('keeps a range open up to 24:00 and reopens at 00:00 the next day', () => {
    const nights = conditionOf({ weekly: { 'mon-sun': ['20:00-24:00', '00:00-06:00'] }, holidays: 'none' });

    expect(isOpen(nights, at('2026-01-13T23:59:59+01:00'))).toBe(true);
    expect(isOpen(nights, at('2026-01-14T00:00:00+01:00'))).toBe(true);
    expect(isOpen(nights, at('2026-01-14T06:00:00+01:00'))).toBe(false);
  });
});

describe('DST days in Europe/Paris: the local wall clock decides', () => {
  const everyDay = conditionOf({ weekly: { 'mon-sun': ['08:30-12:00'] }, holidays: 'none' });

  it('opens at 08:30 local on both sides of the March change (29 March 2026)', () => {
    expect(isOpen(everyDay, at('2026-03-28T07:29:59Z'))).toBe(false);
    expect(isOpen(everyDay, at('2026-03-28T07:30:00Z'))).toBe(true); // 08:30 CET
    expect(isOpen(everyDay, at('2026-03-29T06:29:59Z'))).toBe(false);
    expect(isOpen(everyDay, at('2026-03-29T06:30:00Z'))).toBe(true); // 08:30 CEST, the same day
    expect(isOpen(everyDay, at('2026-03-29T10:00:00Z'))).toBe(false); // 12:00 CEST
  });

  it('opens at 08:30 local on both sides of the October change (25 October 2026)', () => {
    expect(isOpen(everyDay, at('2026-10-24T06:29:59Z'))).toBe(false);
    expect(isOpen(everyDay, at('2026-10-24T06:30:00Z'))).toBe(true); // 08:30 CEST
    expect(isOpen(everyDay, at('2026-10-25T07:29:59Z'))).toBe(false);
    expect(isOpen(everyDay, at('2026-10-25T07:30:00Z'))).toBe(true); // 08:30 CET, the same day
    expect(isOpen(everyDay, at('2026-10-25T11:00:00Z'))).toBe(false); // 12:00 CET
  });

  it('skips hours that do not exist: 02:30 never comes on 29 March', () => {
    const lateNight = conditionOf({ weekly: { sun: ['02:30-04:00'] }, holidays: 'none' });

    expect(isOpen(lateNight, at('2026-03-29T00:59:59Z'))).toBe(false); // 01:59:59 CET
    expect(isOpen(lateNight, at('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(nextChange(lateNight, at('2026-03-29T00:30:00Z'))?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
  });

  it('counts the repeated hour twice on 25 October', () => {
    const earlyHours = conditionOf({ weekly: { sun: ['02:00-02:30'] }, holidays: 'none' });
    const changes: string[] = [];
    let instant: Date | null = at('2026-10-24T23:59:00Z'); // 01:59 CEST

    for (let i = 0; i < 4 && instant !== null; i++) {
      instant = nextChange(earlyHours, instant);
      if (instant !== null) changes.push(instant.toISOString());
    }

    expect(changes).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST opens
      '2026-10-25T00:30:00.000Z', // 02:30 CEST closes
      '2026-10-25T01:00:00.000Z', // clocks back to 02:00 CET: open again
      '2026-10-25T01:30:00.000Z', // 02:30 CET closes
    ]);
  });
});

describe('public holidays', () => {
  it('closes on a holiday that falls on a working day', () => {
    const easterMonday = at('2026-04-06T10:00:00+02:00');

    expect(evaluate(bureau, easterMonday)).toMatchObject({ open: false, reason: 'holiday', holiday: { id: 'easter-monday', name: 'Lundi de Pâques' } });
    expect(describeDecision(evaluate(bureau, easterMonday))).toBe('closed (holiday Lundi de Pâques) at 2026-04-06T10:00:00 Europe/Paris');
    expect(isOpen(bureau, at('2026-05-14T10:00:00+02:00'))).toBe(false); // Ascension, a Thursday
    expect(isOpen(bureau, at('2026-04-07T10:00:00+02:00'))).toBe(true); // the Tuesday after
  });

  it('closes on the whole local day, from 00:00 to 24:00', () => {
    const allDay = conditionOf({ weekly: { 'mon-sun': ['00:00-24:00'] } });

    expect(isOpen(allDay, at('2026-07-13T23:59:59+02:00'))).toBe(true);
    expect(isOpen(allDay, at('2026-07-14T00:00:00+02:00'))).toBe(false);
    expect(isOpen(allDay, at('2026-07-14T23:59:59+02:00'))).toBe(false);
    expect(isOpen(allDay, at('2026-07-15T00:00:00+02:00'))).toBe(true);
  });

  it('ignores holidays with holidays: none', () => {
    const noHolidays = conditionOf({ weekly: { 'mon-fri': ['08:30-18:00'] }, holidays: 'none' });

    expect(isOpen(noHolidays, at('2026-04-06T10:00:00+02:00'))).toBe(true);
  });

  it('adds Good Friday and 26 December with holidays: alsace-moselle', () => {
    const strasbourg = conditionOf({ weekly: { 'mon-sat': ['08:30-18:00'] }, holidays: 'alsace-moselle' });
    const paris = conditionOf({ weekly: { 'mon-sat': ['08:30-18:00'] } });
    const goodFriday = at('2026-04-03T10:00:00+02:00');
    const stStephen = at('2026-12-26T10:00:00+01:00');

    expect(evaluate(strasbourg, goodFriday)).toMatchObject({ open: false, reason: 'holiday', holiday: { name: 'Vendredi saint' } });
    expect(isOpen(strasbourg, stStephen)).toBe(false);
    expect(isOpen(paris, goodFriday)).toBe(true);
    expect(isOpen(paris, stStephen)).toBe(true);
  });
});

describe('dated exceptions and precedence', () => {
  it('closes on a closed day and on every day of a closed range', () => {
    expect(evaluate(bureau, at('2026-12-24T10:00:00+01:00'))).toMatchObject({ open: false, reason: 'closed-exception', exception: { text: '2026-12-24' } });
    expect(isOpen(bureau, at('2026-12-26T10:00:00+01:00'))).toBe(false); // a Saturday, first day of the range
    expect(isOpen(bureau, at('2026-12-31T10:00:00+01:00'))).toBe(false); // last day of the range
    expect(isOpen(bureau, at('2026-12-23T10:00:00+01:00'))).toBe(true);
    expect(isOpen(bureau, at('2027-01-04T10:00:00+01:00'))).toBe(true);
  });

  it('opens a Sunday inside the window of an open exception only', () => {
    expect(isOpen(bureau, at('2026-12-20T09:59:59+01:00'))).toBe(false);
    expect(evaluate(bureau, at('2026-12-20T10:00:00+01:00'))).toMatchObject({ open: true, reason: 'open-exception', exception: { text: '2026-12-20 10:00-16:00' } });
    expect(isOpen(bureau, at('2026-12-20T15:59:59+01:00'))).toBe(true);
    expect(evaluate(bureau, at('2026-12-20T16:00:00+01:00'))).toMatchObject({ open: false, reason: 'weekly-hours' });
  });

  it('lets an open exception win over a closed exception: a half day on Christmas Eve', () => {
    const halfDay = conditionOf({ weekly: { 'mon-fri': ['08:30-18:00'] }, closed: ['2026-12-24'], open: ['2026-12-24 09:00-12:00'] });

    expect(isOpen(halfDay, at('2026-12-24T08:45:00+01:00'))).toBe(false);
    expect(evaluate(halfDay, at('2026-12-24T10:00:00+01:00')).reason).toBe('open-exception');
    expect(evaluate(halfDay, at('2026-12-24T14:00:00+01:00'))).toMatchObject({ open: false, reason: 'closed-exception' });
  });

  it('lets an open exception win over a holiday (Lundi de Pentecôte worked), the whole day when no hours are given', () => {
    const solidarityDay = conditionOf({ weekly: { 'mon-fri': ['08:30-18:00'] }, open: ['2026-05-25'] });

    expect(evaluate(solidarityDay, at('2026-05-25T10:00:00+02:00')).reason).toBe('open-exception');
    expect(isOpen(solidarityDay, at('2026-05-25T22:00:00+02:00'))).toBe(true);
  });

  it('lets a closed exception win over a holiday and over weekly hours', () => {
    const closedMay = conditionOf({ weekly: { 'mon-fri': ['08:30-18:00'] }, closed: ['2026-05-01..2026-05-10'] });

    expect(evaluate(closedMay, at('2026-05-01T10:00:00+02:00')).reason).toBe('closed-exception'); // also Fête du travail
    expect(evaluate(closedMay, at('2026-05-04T10:00:00+02:00')).reason).toBe('closed-exception');
  });

  it('closes only inside the window of a closed exception with hours', () => {
    const earlyClose = conditionOf({ weekly: { 'mon-fri': ['08:30-18:00'] }, closed: ['2026-12-24 12:00-24:00'] });

    expect(isOpen(earlyClose, at('2026-12-24T11:59:00+01:00'))).toBe(true);
    expect(isOpen(earlyClose, at('2026-12-24T12:00:00+01:00'))).toBe(false);
  });
});

describe('other time zones are honoured', () => {
  it('reads America/Montreal hours on Montreal clocks, DST included', () => {
    const montreal = conditionOf({ timezone: 'America/Montreal', weekly: { 'mon-fri': ['09:00-17:00'] }, holidays: 'none' });
    const paris = conditionOf({ weekly: { 'mon-fri': ['09:00-17:00'] }, holidays: 'none' });
    const parisAfternoonMontrealMorning = at('2026-01-13T14:00:00Z'); // 15:00 Paris, 09:00 EST

    expect(isOpen(montreal, at('2026-01-13T13:59:59Z'))).toBe(false);
    expect(isOpen(montreal, parisAfternoonMontrealMorning)).toBe(true);
    expect(isOpen(montreal, at('2026-01-13T20:00:00Z'))).toBe(true); // 15:00 EST
    expect(isOpen(paris, at('2026-01-13T20:00:00Z'))).toBe(false); // 21:00 CET
    // North America moves its clocks on 8 March 2026, three weeks before Europe.
    expect(isOpen(montreal, at('2026-03-09T12:59:59Z'))).toBe(false);
    expect(isOpen(montreal, at('2026-03-09T13:00:00Z'))).toBe(true); // 09:00 EDT
    expect(evaluate(montreal, at('2026-03-09T13:00:00Z')).local.text).toBe('2026-03-09T09:00:00');
  });

  it('takes the holiday on the local date of Indian/Reunion (UTC+4, no DST)', () => {
    const reunion = conditionOf({ timezone: 'Indian/Reunion', weekly: { 'mon-sun': ['00:00-24:00'] } });
    const paris = conditionOf({ weekly: { 'mon-sun': ['00:00-24:00'] } });
    const instant = at('2026-07-13T21:00:00Z'); // 14 July 01:00 in Réunion, 13 July 23:00 in Paris

    expect(evaluate(reunion, instant)).toMatchObject({ open: false, reason: 'holiday', holiday: { id: 'bastille-day' } });
    expect(isOpen(paris, instant)).toBe(true);
    expect(isOpen(reunion, at('2026-07-14T20:00:00Z'))).toBe(true); // 15 July 00:00 in Réunion
  });
});

describe('nextChange', () => {
  it.each([
    ['from before opening to 08:30', '2026-01-13T07:00:00+01:00', '2026-01-13T07:30:00.000Z'],
    ['from the morning to the lunch break', '2026-01-13T09:00:00+01:00', '2026-01-13T11:00:00.000Z'],
    ['from Friday evening to Saturday 09:00', '2026-01-16T18:00:00+01:00', '2026-01-17T08:00:00.000Z'],
    ['from Saturday noon over Sunday to Monday 08:30', '2026-01-17T12:00:00+01:00', '2026-01-19T07:30:00.000Z'],
    ['from Saturday noon over Easter Sunday and Monday to Tuesday 08:30', '2026-04-04T12:00:00+02:00', '2026-04-07T06:30:00.000Z'],
    ['over a closed range and New Year to Saturday 2 January', '2026-12-23T18:00:00+01:00', '2027-01-02T08:00:00.000Z'],
    ['into and out of an open exception', '2026-12-20T08:00:00+01:00', '2026-12-20T09:00:00.000Z'],
  ])('%s', (_label, from, expected) => {
    expect(nextChange(bureau, at(from))?.toISOString()).toBe(expected);
  });

  it('does not stop where two ranges touch or at midnight between open days', () => {
    const continuous = conditionOf({ weekly: { 'mon-tue': ['00:00-12:00', '12:00-24:00'] }, holidays: 'none' });

    expect(nextChange(continuous, at('2026-01-12T10:00:00+01:00'))?.toISOString()).toBe('2026-01-13T23:00:00.000Z');
  });

  it('returns null when nothing changes within the horizon', () => {
    const always = conditionOf({ weekly: { 'mon-sun': ['00:00-24:00'] }, holidays: 'none' });
    const never = conditionOf({ weekly: {}, open: ['2027-06-01'] });

    expect(nextChange(always, at('2026-01-13T10:00:00+01:00'))).toBeNull();
    expect(nextChange(never, at('2026-01-13T10:00:00+01:00'), { horizonDays: 30 })).toBeNull();
    expect(nextChange(never, at('2026-01-13T10:00:00+01:00'))).toBeNull(); // default horizon: 366 days
    expect(nextChange(never, at('2026-01-13T10:00:00+01:00'), { horizonDays: 600 })?.toISOString()).toBe('2027-05-31T22:00:00.000Z');
  });
});

describe('invalid instants', () => {
  it('throws on an invalid Date: a bug in the caller, not a configuration error', () => {
    expect(() => isOpen(bureau, new Date(Number.NaN))).toThrow(RangeError);
  });
});
