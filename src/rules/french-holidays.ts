import { addDays, compareCalendarDates, sameCalendarDate, type CalendarDate } from './time-calendar.js';

/**
 * French public holidays (jours fériés) as local calendar dates.
 *
 * Metropolitan France: the eleven "fêtes légales" of Code du travail
 * art. L3133-1. Alsace-Moselle (Bas-Rhin, Haut-Rhin, Moselle) adds Good
 * Friday and 26 December (art. L3134-13). The law limits Good Friday to
 * communes with a Protestant or mixed church; a phone system cannot tell
 * those apart, so the flag adds it everywhere and an `open` exception gives
 * the day back where it is worked.
 */
export type FrenchPublicHolidayId =
  | 'new-year'
  | 'easter-monday'
  | 'labour-day'
  | 'victory-1945'
  | 'ascension'
  | 'whit-monday'
  | 'bastille-day'
  | 'assumption'
  | 'all-saints'
  | 'armistice-1918'
  | 'christmas'
  | 'good-friday'
  | 'st-stephen';

export interface FrenchPublicHoliday {
  readonly id: FrenchPublicHolidayId;
  /** The French name, as people in France say it (and as logs show it). */
  readonly name: string;
  readonly date: CalendarDate;
}

export interface FrenchPublicHolidayOptions {
  /** Add the two Alsace-Moselle days (Good Friday, 26 December). */
  readonly alsaceMoselle?: boolean;
}

/** The Gregorian Easter computus is only defined from its adoption in 1583. */
const FIRST_GREGORIAN_EASTER_YEAR = 1583;

/**
 * Easter Sunday in the Gregorian calendar, by the anonymous Gregorian
 * algorithm (Meeus/Jones/Butcher). Unlike Gauss's formula it needs no special
 * cases for the years where the paschal full moon falls on 25/26 April
 * (1954, 1981, 2049...).
 */
export function easterSunday(year: number): CalendarDate {
  if (!Number.isInteger(year) || year < FIRST_GREGORIAN_EASTER_YEAR) {
    throw new RangeError(`Gregorian Easter is defined for integer years from ${FIRST_GREGORIAN_EASTER_YEAR}, not ${year}`);
  }
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return { year, month, day };
}

/**
 * The public holidays of `year`, sorted by date. Two holidays can fall on the
 * same day (Ascension on 1 or 8 May, as in 2008); both are listed, in the
 * order of the Code du travail.
 */
export function frenchPublicHolidays(year: number, options: FrenchPublicHolidayOptions = {}): readonly FrenchPublicHoliday[] {
  const easter = easterSunday(year);
  const fixed = (month: number, day: number): CalendarDate => ({ year, month, day });
  const holidays: FrenchPublicHoliday[] = [
    { id: 'new-year', name: "Jour de l'an", date: fixed(1, 1) },
    { id: 'easter-monday', name: 'Lundi de Pâques', date: addDays(easter, 1) },
    { id: 'labour-day', name: 'Fête du travail', date: fixed(5, 1) },
    { id: 'victory-1945', name: 'Victoire 1945', date: fixed(5, 8) },
    { id: 'ascension', name: 'Ascension', date: addDays(easter, 39) },
    { id: 'whit-monday', name: 'Lundi de Pentecôte', date: addDays(easter, 50) },
    { id: 'bastille-day', name: 'Fête nationale', date: fixed(7, 14) },
    { id: 'assumption', name: 'Assomption', date: fixed(8, 15) },
    { id: 'all-saints', name: 'Toussaint', date: fixed(11, 1) },
    { id: 'armistice-1918', name: 'Armistice 1918', date: fixed(11, 11) },
    { id: 'christmas', name: 'Noël', date: fixed(12, 25) },
  ];
  if (options.alsaceMoselle === true) {
    holidays.push(
      { id: 'good-friday', name: 'Vendredi saint', date: addDays(easter, -2) },
      { id: 'st-stephen', name: 'Saint-Étienne', date: fixed(12, 26) },
    );
  }
  // Array.prototype.sort is stable, so same-day holidays keep the legal order.
  return holidays.sort((x, y) => compareCalendarDates(x.date, y.date));
}

/** The holiday on `date`, or undefined; the first in legal order when two coincide. */
export function frenchPublicHolidayOn(date: CalendarDate, options: FrenchPublicHolidayOptions = {}): FrenchPublicHoliday | undefined {
  return frenchPublicHolidays(date.year, options).find((holiday) => sameCalendarDate(holiday.date, date));
}
