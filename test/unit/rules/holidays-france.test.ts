// Tests for src/rules/french-holidays.ts (named holidays-*.test.ts to stay in
// the file names reserved for this work in test/unit/rules).
import { describe, expect, it } from 'vitest';
import { easterSunday, frenchPublicHolidayOn, frenchPublicHolidays } from '../../../src/rules/french-holidays.js';
import { addDays, formatCalendarDate, weekdayOf, type CalendarDate } from '../../../src/rules/time-calendar.js';

/**
 * Metropolitan public holidays 2020–2029, copied by hand from the data.gouv.fr
 * dataset "Jours fériés en France" (CSV `jours_feries_seuls.csv` in
 * github.com/AntoineAugusti/jours-feries-france-datagouv, the dump published on
 * data.gouv.fr/fr/dataservices/Jours-feries, commit 3e800063), one row per
 * holiday sorted by date. The list of days is Code du travail art. L3133-1
 * (legifrance.gouv.fr, LEGISCTA000033008129); the 2026 row was also checked
 * against the calendar FO Fonctionnaires published for 2026
 * (fo-fonctionnaires.fr, "Calendrier congés fériés") and joursferies.fr.
 * The same CSV is wrong for 1954, 1981 and 2049 (Easter Monday in May): only
 * this decade is taken from it, and those years are checked separately below.
 */
const METROPOLITAN_HOLIDAYS: Readonly<Record<number, readonly string[]>> = {
  2020: ['2020-01-01', '2020-04-13', '2020-05-01', '2020-05-08', '2020-05-21', '2020-06-01', '2020-07-14', '2020-08-15', '2020-11-01', '2020-11-11', '2020-12-25'],
  2021: ['2021-01-01', '2021-04-05', '2021-05-01', '2021-05-08', '2021-05-13', '2021-05-24', '2021-07-14', '2021-08-15', '2021-11-01', '2021-11-11', '2021-12-25'],
  2022: ['2022-01-01', '2022-04-18', '2022-05-01', '2022-05-08', '2022-05-26', '2022-06-06', '2022-07-14', '2022-08-15', '2022-11-01', '2022-11-11', '2022-12-25'],
  2023: ['2023-01-01', '2023-04-10', '2023-05-01', '2023-05-08', '2023-05-18', '2023-05-29', '2023-07-14', '2023-08-15', '2023-11-01', '2023-11-11', '2023-12-25'],
  2024: ['2024-01-01', '2024-04-01', '2024-05-01', '2024-05-08', '2024-05-09', '2024-05-20', '2024-07-14', '2024-08-15', '2024-11-01', '2024-11-11', '2024-12-25'],
  2025: ['2025-01-01', '2025-04-21', '2025-05-01', '2025-05-08', '2025-05-29', '2025-06-09', '2025-07-14', '2025-08-15', '2025-11-01', '2025-11-11', '2025-12-25'],
  2026: ['2026-01-01', '2026-04-06', '2026-05-01', '2026-05-08', '2026-05-14', '2026-05-25', '2026-07-14', '2026-08-15', '2026-11-01', '2026-11-11', '2026-12-25'],
  2027: ['2027-01-01', '2027-03-29', '2027-05-01', '2027-05-06', '2027-05-08', '2027-05-17', '2027-07-14', '2027-08-15', '2027-11-01', '2027-11-11', '2027-12-25'],
  2028: ['2028-01-01', '2028-04-17', '2028-05-01', '2028-05-08', '2028-05-25', '2028-06-05', '2028-07-14', '2028-08-15', '2028-11-01', '2028-11-11', '2028-12-25'],
  2029: ['2029-01-01', '2029-04-02', '2029-05-01', '2029-05-08', '2029-05-10', '2029-05-21', '2029-07-14', '2029-08-15', '2029-11-01', '2029-11-11', '2029-12-25'],
};

/** Gregorian Easter Sundays (the day before each Lundi de Pâques above). */
const EASTER_SUNDAYS: Readonly<Record<number, string>> = {
  2020: '2020-04-12',
  2021: '2021-04-04',
  2022: '2022-04-17',
  2023: '2023-04-09',
  2024: '2024-03-31',
  2025: '2025-04-20',
  2026: '2026-04-05',
  2027: '2027-03-28',
  2028: '2028-04-16',
  2029: '2029-04-01',
  // The years where Gauss's formula needs its 25/26 April corrections.
  1954: '1954-04-18',
  1981: '1981-04-19',
  2049: '2049-04-18',
  // Earliest and latest possible dates (22 March, 25 April).
  1818: '1818-03-22',
  2285: '2285-03-22',
  1943: '1943-04-25',
  2038: '2038-04-25',
};

const years = Object.keys(METROPOLITAN_HOLIDAYS).map(Number);

describe('easterSunday', () => {
  it.each(Object.entries(EASTER_SUNDAYS))('Easter %s is %s', (year, expected) => {
    expect(formatCalendarDate(easterSunday(Number(year)))).toBe(expected);
  });

  it('is a Sunday between 22 March and 25 April in every year from 1583 to 3000', () => {
    for (let year = 1583; year <= 3000; year++) {
      const easter = easterSunday(year);
      expect(weekdayOf(easter)).toBe('sun');
      const monthDay = easter.month * 100 + easter.day;
      expect(monthDay).toBeGreaterThanOrEqual(322);
      expect(monthDay).toBeLessThanOrEqual(425);
    }
  });

  it('refuses years before the Gregorian calendar and non-integers', () => {
    expect(() => easterSunday(1582)).toThrow(RangeError);
    expect(() => easterSunday(2026.5)).toThrow(RangeError);
  });
});

describe('frenchPublicHolidays (metropolitan France)', () => {
  it.each(years)('%i matches the data.gouv.fr table', (year) => {
    const holidays = frenchPublicHolidays(year);

    expect(holidays.map((holiday) => formatCalendarDate(holiday.date))).toEqual(METROPOLITAN_HOLIDAYS[year]);
  });

  it('names the eleven legal holidays of Code du travail L3133-1', () => {
    const names = frenchPublicHolidays(2026).map((holiday) => `${formatCalendarDate(holiday.date)} ${holiday.name}`);

    expect(names).toEqual([
      "2026-01-01 Jour de l'an",
      '2026-04-06 Lundi de Pâques',
      '2026-05-01 Fête du travail',
      '2026-05-08 Victoire 1945',
      '2026-05-14 Ascension',
      '2026-05-25 Lundi de Pentecôte',
      '2026-07-14 Fête nationale',
      '2026-08-15 Assomption',
      '2026-11-01 Toussaint',
      '2026-11-11 Armistice 1918',
      '2026-12-25 Noël',
    ]);
  });

  it('puts the moveable feasts on their weekdays for two centuries', () => {
    for (let year = 1900; year <= 2100; year++) {
      const byId = new Map(frenchPublicHolidays(year).map((holiday) => [holiday.id, holiday.date]));
      expect(weekdayOf(byId.get('easter-monday') as CalendarDate)).toBe('mon');
      expect(weekdayOf(byId.get('ascension') as CalendarDate)).toBe('thu');
      expect(weekdayOf(byId.get('whit-monday') as CalendarDate)).toBe('mon');
    }
  });

  it('lists both holidays when Ascension falls on 1 May (2008)', () => {
    const firstOfMay = frenchPublicHolidays(2008).filter((holiday) => formatCalendarDate(holiday.date) === '2008-05-01');

    expect(firstOfMay.map((holiday) => holiday.id)).toEqual(['labour-day', 'ascension']);
    expect(frenchPublicHolidayOn({ year: 2008, month: 5, day: 1 })?.id).toBe('labour-day');
  });
});

describe('Alsace-Moselle (Code du travail L3134-13)', () => {
  it('adds Good Friday and 26 December, in date order', () => {
    const holidays = frenchPublicHolidays(2024, { alsaceMoselle: true });

    expect(holidays).toHaveLength(13);
    expect(holidays.map((holiday) => formatCalendarDate(holiday.date)).slice(0, 3)).toEqual(['2024-01-01', '2024-03-29', '2024-04-01']);
    expect(holidays.at(-1)).toEqual({ id: 'st-stephen', name: 'Saint-Étienne', date: { year: 2024, month: 12, day: 26 } });
  });

  it('keeps Good Friday two days before Easter in every year of the table', () => {
    for (const year of years) {
      const goodFriday = frenchPublicHolidays(year, { alsaceMoselle: true }).find((holiday) => holiday.id === 'good-friday');
      expect(goodFriday?.date).toEqual(addDays(easterSunday(year), -2));
    }
  });

  it('is off unless asked for', () => {
    expect(frenchPublicHolidayOn({ year: 2026, month: 4, day: 3 })).toBeUndefined();
    expect(frenchPublicHolidayOn({ year: 2026, month: 4, day: 3 }, { alsaceMoselle: true })?.name).toBe('Vendredi saint');
  });
});
