import { daysSinceEpoch, type CalendarDate } from './time-calendar.js';

/**
 * The local wall clock of an instant in an IANA time zone, read through
 * `Intl.DateTimeFormat` so that the zone rules (DST included) are the ones
 * of the ICU data Node ships, never hand-written offsets.
 */
export interface ZonedWallClock {
  readonly date: CalendarDate;
  /** Seconds since local midnight, 0 to 86 399. */
  readonly secondOfDay: number;
  /** Local time minus UTC, in seconds (+3600 in Paris in winter). */
  readonly offsetSeconds: number;
}

export const SECONDS_PER_DAY = 86_400;

// Building a DateTimeFormat is far slower than using one; a configuration
// names a handful of zones, so the cache stays small.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      // h23, not hour12: false, which prints midnight as "24" on some ICU versions.
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True when the ICU data knows `timeZone` (names are matched case-insensitively, as Intl does). */
export function isKnownTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

export function wallClockAt(epochMs: number, timeZone: string): ZonedWallClock {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not a valid instant: ${epochMs}`);
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    const value = Number(part.value);
    switch (part.type) {
      case 'year': year = value; break;
      case 'month': month = value; break;
      case 'day': day = value; break;
      case 'hour': hour = value % 24; break;
      case 'minute': minute = value; break;
      case 'second': second = value; break;
      default: break;
    }
  }
  const date: CalendarDate = { year, month, day };
  const secondOfDay = hour * 3600 + minute * 60 + second;
  const localSeconds = daysSinceEpoch(date) * SECONDS_PER_DAY + secondOfDay;
  return { date, secondOfDay, offsetSeconds: localSeconds - Math.floor(epochMs / 1000) };
}
