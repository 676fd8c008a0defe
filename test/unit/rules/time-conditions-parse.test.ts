import { describe, expect, it } from 'vitest';
import {
  parseDatedException,
  parseTimeCondition,
  parseTimeRange,
  parseWeekdays,
  type TimeConditionSpec,
} from '../../../src/rules/time-conditions.js';

const WEEKLY: TimeConditionSpec['weekly'] = { 'mon-fri': ['08:30-12:00', '13:30-18:00'], sat: ['09:00-12:00'] };

/** The errors of a spec that must be refused. */
function errorsOf(spec: TimeConditionSpec): readonly { path: string; message: string }[] {
  const result = parseTimeCondition(spec);
  if (result.ok) throw new Error('expected the condition to be refused');
  return result.errors;
}

describe('parseTimeCondition: the example of the configuration guide', () => {
  it('accepts it and applies the defaults', () => {
    const result = parseTimeCondition({
      weekly: WEEKLY,
      closed: ['2026-12-24', '2026-12-26..2026-12-31'],
      open: ['2026-12-20 10:00-16:00'],
    });

    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { condition } = result;
    expect(condition.timeZone).toBe('Europe/Paris');
    expect(condition.holidays).toBe('france');
    expect(condition.weekly.mon).toEqual([{ startMinute: 510, endMinute: 720 }, { startMinute: 810, endMinute: 1080 }]);
    expect(condition.weekly.fri).toBe(condition.weekly.mon);
    expect(condition.weekly.sat).toEqual([{ startMinute: 540, endMinute: 720 }]);
    expect(condition.weekly.sun).toEqual([]);
    expect(condition.closed[1]).toEqual({
      text: '2026-12-26..2026-12-31',
      first: { year: 2026, month: 12, day: 26 },
      last: { year: 2026, month: 12, day: 31 },
      window: null,
    });
    expect(condition.open[0]?.window).toEqual({ startMinute: 600, endMinute: 960 });
  });

  it('sorts ranges written out of order and accepts ranges that touch', () => {
    const result = parseTimeCondition({ weekly: { mon: ['13:30-18:00', '08:30-12:00', '12:00-13:30'] } });

    expect(result.ok && result.condition.weekly.mon.map((range) => range.startMinute)).toEqual([510, 720, 810]);
  });

  it('accepts another zone, holidays none and alsace-moselle', () => {
    expect(parseTimeCondition({ timezone: 'America/Montreal', weekly: {}, holidays: 'none' }).ok).toBe(true);
    expect(parseTimeCondition({ timezone: 'Indian/Reunion', weekly: {}, holidays: 'alsace-moselle' }).ok).toBe(true);
  });
});

describe('parseWeekdays', () => {
  it.each([
    ['mon-fri', ['mon', 'tue', 'wed', 'thu', 'fri']],
    ['sat', ['sat']],
    ['mon,wed', ['mon', 'wed']],
    ['mon-wed,fri', ['mon', 'tue', 'wed', 'fri']],
    ['Mon - Fri', ['mon', 'tue', 'wed', 'thu', 'fri']],
    ['fri-mon', ['fri', 'sat', 'sun', 'mon']],
    ['mon-sun', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']],
  ])('reads %s', (text, days) => {
    expect(parseWeekdays(text)).toEqual({ ok: true, value: days });
  });

  it.each([
    ['', 'empty day set (expected e.g. mon-fri, sat or mon,wed)'],
    ['lun-ven', 'unknown day "lun" (days are mon, tue, wed, thu, fri, sat, sun)'],
    ['monday', 'unknown day "monday" (days are mon, tue, wed, thu, fri, sat, sun)'],
    ['mon-wed-fri', '"mon-wed-fri" is not a day or a day range like mon-fri'],
    ['mon,,fri', 'empty item in day set "mon,,fri"'],
    ['mon-fri,wed', 'wed appears twice in "mon-fri,wed"'],
  ])('refuses %j', (text, reason) => {
    expect(parseWeekdays(text)).toEqual({ ok: false, reason });
  });
});

describe('parseTimeRange', () => {
  it.each([
    ['08:30-12:00', 510, 720],
    ['8:30-12:00', 510, 720],
    ['13:30 - 18:00', 810, 1080],
    ['00:00-24:00', 0, 1440],
    ['23:59-24:00', 1439, 1440],
  ])('reads %s', (text, startMinute, endMinute) => {
    expect(parseTimeRange(text)).toEqual({ ok: true, value: { startMinute, endMinute } });
  });

  it.each([
    ['08:30', '"08:30" is not a time range HH:MM-HH:MM'],
    ['08:30-12:00-14:00', '"08:30-12:00-14:00" is not a time range HH:MM-HH:MM'],
    ['0830-1200', '"0830" in "0830-1200" is not a start time (00:00 to 23:59)'],
    ['25:00-26:00', '"25:00" in "25:00-26:00" is not a start time (00:00 to 23:59)'],
    ['24:00-24:00', '"24:00" in "24:00-24:00" is not a start time (00:00 to 23:59)'],
    ['08:60-09:00', '"08:60" in "08:60-09:00" is not a start time (00:00 to 23:59)'],
    ['08:30-24:01', '"24:01" in "08:30-24:01" is not an end time (00:01 to 24:00)'],
    ['08:30-noon', '"noon" in "08:30-noon" is not an end time (00:01 to 24:00)'],
    ['12:00-08:30', '"12:00-08:30" does not end after it starts (a range past midnight is split at 24:00 over two days)'],
    ['08:00-08:00', '"08:00-08:00" does not end after it starts (a range past midnight is split at 24:00 over two days)'],
    ['22:00-02:00', '"22:00-02:00" does not end after it starts (a range past midnight is split at 24:00 over two days)'],
  ])('refuses %j', (text, reason) => {
    expect(parseTimeRange(text)).toEqual({ ok: false, reason });
  });
});

describe('parseDatedException', () => {
  it('reads a day, a range of days and a day with hours', () => {
    expect(parseDatedException('2026-12-24')).toEqual({
      ok: true,
      value: { text: '2026-12-24', first: { year: 2026, month: 12, day: 24 }, last: { year: 2026, month: 12, day: 24 }, window: null },
    });
    expect(parseDatedException('2026-12-26 .. 2027-01-02')).toMatchObject({ ok: true, value: { last: { year: 2027, month: 1, day: 2 } } });
    expect(parseDatedException('2026-12-20 10:00-16:00')).toMatchObject({ ok: true, value: { window: { startMinute: 600, endMinute: 960 } } });
    expect(parseDatedException('2028-02-29')).toMatchObject({ ok: true });
  });

  it.each([
    ['', '"" is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, optionally followed by HH:MM-HH:MM'],
    ['24/12/2026', '"24/12/2026" is not a date YYYY-MM-DD'],
    ['2026-12-24..', '"2026-12-24.." is not a date YYYY-MM-DD'],
    ['2026-02-29', '"2026-02-29" is not a calendar date (2026-02 has 28 days)'],
    ['2026-04-31', '"2026-04-31" is not a calendar date (2026-04 has 30 days)'],
    ['2026-13-01', '"2026-13-01" is not a calendar date (no month 13)'],
    ['2026-12-31..2026-12-01', 'date range "2026-12-31..2026-12-01" ends before it starts'],
    ['2026-12-26..2026-12-32', '"2026-12-32" is not a calendar date (2026-12 has 31 days)'],
    ['2026-12-20 10:00', '"10:00" is not a time range HH:MM-HH:MM'],
    ['2026-12-20 16:00-10:00', '"16:00-10:00" does not end after it starts (a range past midnight is split at 24:00 over two days)'],
  ])('refuses %j', (text, reason) => {
    expect(parseDatedException(text)).toEqual({ ok: false, reason });
  });
});

describe('parseTimeCondition: errors name the offending key', () => {
  it('refuses an unknown time zone', () => {
    expect(errorsOf({ timezone: 'Europe/Pariss', weekly: WEEKLY })).toEqual([
      { path: 'timezone', message: 'unknown time zone "Europe/Pariss" (expected an IANA name such as Europe/Paris)' },
    ]);
    expect(errorsOf({ timezone: '', weekly: WEEKLY })[0]?.path).toBe('timezone');
  });

  it('refuses an unknown holiday calendar', () => {
    expect(errorsOf({ weekly: WEEKLY, holidays: 'fr' })).toEqual([
      { path: 'holidays', message: 'unknown holiday calendar "fr" (expected one of france, alsace-moselle, none)' },
    ]);
  });

  it('refuses a bad day set', () => {
    expect(errorsOf({ weekly: { 'lun-ven': ['08:30-12:00'] } })).toEqual([
      { path: 'weekly.lun-ven', message: 'unknown day "lun" (days are mon, tue, wed, thu, fri, sat, sun)' },
    ]);
  });

  it('refuses a day given under two keys rather than guess which wins', () => {
    expect(errorsOf({ weekly: { 'mon-fri': ['08:30-18:00'], fri: ['08:30-16:00'] } })).toEqual([
      { path: 'weekly.fri', message: 'fri is already given by "mon-fri"' },
    ]);
  });

  it('refuses overlapping ranges, pointing at the later one', () => {
    expect(errorsOf({ weekly: { 'mon-fri': ['08:30-12:00', '11:00-14:00'] } })).toEqual([
      { path: 'weekly.mon-fri[1]', message: '"11:00-14:00" overlaps "08:30-12:00"' },
    ]);
    expect(errorsOf({ weekly: { sat: ['09:00-12:00', '09:00-12:00'] } })[0]?.message).toBe('"09:00-12:00" overlaps "09:00-12:00"');
    expect(errorsOf({ weekly: { sat: ['10:00-11:00', '09:00-12:00'] } })[0]?.path).toBe('weekly.sat[1]');
  });

  it('refuses a malformed range with its index', () => {
    expect(errorsOf({ weekly: { 'mon-fri': ['08:30-12:00', '13:30-25:00'] } })).toEqual([
      { path: 'weekly.mon-fri[1]', message: '"25:00" in "13:30-25:00" is not an end time (00:01 to 24:00)' },
    ]);
  });

  it('refuses malformed closed and open entries with their index', () => {
    expect(errorsOf({ weekly: WEEKLY, closed: ['2026-12-24', '2026-12-31..2026-12-26'], open: ['2026-12-20 10h-16h'] })).toEqual([
      { path: 'closed[1]', message: 'date range "2026-12-31..2026-12-26" ends before it starts' },
      { path: 'open[0]', message: '"10h" in "10h-16h" is not a start time (00:00 to 23:59)' },
    ]);
  });

  it('reports every problem at once, in the order of the keys', () => {
    const errors = errorsOf({
      timezone: 'Mars/Olympus',
      weekly: { 'mon-fri': ['08:30'], sunday: [] },
      holidays: 'yes',
      closed: ['tomorrow'],
      open: ['2026-02-30'],
    });

    expect(errors.map((error) => error.path)).toEqual(['timezone', 'weekly.mon-fri[0]', 'weekly.sunday', 'holidays', 'closed[0]', 'open[0]']);
  });
});
