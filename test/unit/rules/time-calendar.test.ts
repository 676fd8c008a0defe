import { describe, expect, it } from 'vitest';
import {
  addDays,
  calendarDateFromDays,
  compareCalendarDates,
  daysInMonth,
  daysSinceEpoch,
  formatCalendarDate,
  weekdayOf,
} from '../../../src/rules/time-calendar.js';

describe('calendar dates', () => {
  it('counts days from 1970-01-01 like Date.UTC does', () => {
    for (const [year, month, day] of [[1970, 1, 1], [2000, 2, 29], [2026, 12, 31], [1583, 10, 15], [2400, 3, 1]] as const) {
      expect(daysSinceEpoch({ year, month, day })).toBe(Date.UTC(year, month - 1, day) / 86_400_000);
    }
  });

  it('round-trips every day from 1900 to 2100', () => {
    const start = daysSinceEpoch({ year: 1900, month: 1, day: 1 });
    const end = daysSinceEpoch({ year: 2100, month: 12, day: 31 });
    const mismatches: number[] = [];
    for (let days = start; days <= end; days++) if (daysSinceEpoch(calendarDateFromDays(days)) !== days) mismatches.push(days);
    expect(mismatches).toEqual([]);
  });

  it('adds days across month, year and leap-day boundaries', () => {
    expect(formatCalendarDate(addDays({ year: 2028, month: 2, day: 28 }, 1))).toBe('2028-02-29');
    expect(formatCalendarDate(addDays({ year: 2026, month: 2, day: 28 }, 1))).toBe('2026-03-01');
    expect(formatCalendarDate(addDays({ year: 2026, month: 12, day: 31 }, 1))).toBe('2027-01-01');
    expect(formatCalendarDate(addDays({ year: 2026, month: 1, day: 1 }, -1))).toBe('2025-12-31');
  });

  it('names weekdays Monday first', () => {
    expect(weekdayOf({ year: 1970, month: 1, day: 1 })).toBe('thu');
    expect(weekdayOf({ year: 2026, month: 3, day: 29 })).toBe('sun');
    expect(weekdayOf({ year: 2026, month: 3, day: 30 })).toBe('mon');
  });

  it('knows the Gregorian leap years', () => {
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect(daysInMonth(2026, 4)).toBe(30);
  });

  it('orders dates', () => {
    expect(compareCalendarDates({ year: 2026, month: 12, day: 24 }, { year: 2026, month: 12, day: 26 })).toBeLessThan(0);
    expect(compareCalendarDates({ year: 2027, month: 1, day: 1 }, { year: 2026, month: 12, day: 31 })).toBeGreaterThan(0);
    expect(compareCalendarDates({ year: 2026, month: 5, day: 1 }, { year: 2026, month: 5, day: 1 })).toBe(0);
  });
});
