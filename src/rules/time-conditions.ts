import { frenchPublicHolidayOn, type FrenchPublicHoliday } from './french-holidays.js';
import {
  compareCalendarDates,
  daysInMonth,
  formatCalendarDate,
  WEEKDAYS,
  weekdayOf,
  type CalendarDate,
  type Weekday,
} from './time-calendar.js';
import { isKnownTimeZone, SECONDS_PER_DAY, wallClockAt, type ZonedWallClock } from './time-zone.js';

/**
 * Time conditions: "is the office open right now?" for inbound routes.
 *
 * A condition is checked against the local wall clock of its own time zone,
 * so opening hours keep meaning 08:30 across DST changes. Layers, the first
 * that has a say deciding: an `open` exception, a `closed` exception, a
 * public holiday, then the weekly hours. An exception with a time window
 * only has a say inside that window, which lets `closed: [2026-12-24]` and
 * `open: ["2026-12-24 09:00-12:00"]` express a half day.
 *
 * Everything here is pure: the caller passes the instant (from its Clock).
 */

export const DEFAULT_TIME_ZONE = 'Europe/Paris';
export const HOLIDAY_CALENDARS = ['france', 'alsace-moselle', 'none'] as const;
export type HolidayCalendar = (typeof HOLIDAY_CALENDARS)[number];
export const DEFAULT_HOLIDAY_CALENDAR: HolidayCalendar = 'france';

/**
 * One entry of `time_conditions` as written in the YAML file, once the YAML
 * is parsed (keys as in the file). {@link parseTimeCondition} checks it.
 */
export interface TimeConditionSpec {
  /** IANA zone; default Europe/Paris. */
  readonly timezone?: string;
  /**
   * Day set (`mon-fri`, `sat`, `mon,wed`, `fri-mon` wraps over the weekend)
   * to `HH:MM-HH:MM` ranges; a day absent from every key is closed. A day
   * may appear under one key only.
   */
  readonly weekly: Readonly<Record<string, readonly string[]>>;
  /** One of {@link HOLIDAY_CALENDARS}; default france. */
  readonly holidays?: string;
  /** `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`, optionally followed by `HH:MM-HH:MM`. */
  readonly closed?: readonly string[];
  /** Same grammar as `closed`: open on days (or hours) that would be closed otherwise. */
  readonly open?: readonly string[];
}

/** Minutes since local midnight, start included, end excluded; end may be 1440 (24:00). */
export interface TimeRange {
  readonly startMinute: number;
  readonly endMinute: number;
}

export interface DatedException {
  /** The entry as written, for logs. */
  readonly text: string;
  readonly first: CalendarDate;
  /** Included; equal to `first` for a single day. */
  readonly last: CalendarDate;
  /** null: the whole day; otherwise the same window on every day from first to last. */
  readonly window: TimeRange | null;
}

export interface TimeCondition {
  readonly timeZone: string;
  /** Sorted, non-overlapping ranges per day; an empty list is a closed day. */
  readonly weekly: Readonly<Record<Weekday, readonly TimeRange[]>>;
  readonly holidays: HolidayCalendar;
  readonly closed: readonly DatedException[];
  readonly open: readonly DatedException[];
}

/** `path` is relative to the condition (`weekly.mon-fri[1]`); the config layer prefixes it and adds file and line. */
export interface TimeConditionIssue {
  readonly path: string;
  readonly message: string;
}

export type TimeConditionParseResult =
  | { readonly ok: true; readonly condition: TimeCondition }
  | { readonly ok: false; readonly errors: readonly TimeConditionIssue[] };

/** Result of the small parsers: a value, or the reason the text was refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const MINUTES_PER_DAY = 1440;
const DAY_LIST = WEEKDAYS.join(', ');

function weekdayIndex(name: string): number {
  return (WEEKDAYS as readonly string[]).indexOf(name);
}

/** `mon-fri`, `sat`, `mon,wed`, `mon-wed,fri`; case and spaces are not significant. */
export function parseWeekdays(text: string): Parsed<readonly Weekday[]> {
  const compact = text.replace(/\s+/g, '').toLowerCase();
  if (compact === '') return { ok: false, reason: 'empty day set (expected e.g. mon-fri, sat or mon,wed)' };
  const days: Weekday[] = [];
  for (const item of compact.split(',')) {
    if (item === '') return { ok: false, reason: `empty item in day set "${text}"` };
    const bounds = item.split('-');
    if (bounds.length > 2) return { ok: false, reason: `"${item}" is not a day or a day range like mon-fri` };
    const indexes: number[] = [];
    for (const bound of bounds) {
      const index = weekdayIndex(bound);
      if (index < 0) return { ok: false, reason: `unknown day "${bound}" (days are ${DAY_LIST})` };
      indexes.push(index);
    }
    const from = indexes[0] ?? 0;
    const to = indexes[1] ?? from;
    // A range that runs "backwards" (fri-mon) can only mean across the weekend.
    const length = ((to - from + 7) % 7) + 1;
    for (let offset = 0; offset < length; offset++) {
      const day = WEEKDAYS[(from + offset) % 7];
      if (day === undefined) continue;
      if (days.includes(day)) return { ok: false, reason: `${day} appears twice in "${text}"` };
      days.push(day);
    }
  }
  return { ok: true, value: days };
}

function parseClockTime(text: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59) return undefined;
  if (hours === 24 && minutes === 0) return MINUTES_PER_DAY;
  if (hours > 23) return undefined;
  return hours * 60 + minutes;
}

/** `HH:MM-HH:MM` on one day: end after start, `24:00` allowed as the end only. */
export function parseTimeRange(text: string): Parsed<TimeRange> {
  const bounds = text.trim().split(/\s*-\s*/);
  if (bounds.length !== 2) return { ok: false, reason: `"${text}" is not a time range HH:MM-HH:MM` };
  const [startText = '', endText = ''] = bounds;
  const startMinute = parseClockTime(startText);
  if (startMinute === undefined || startMinute === MINUTES_PER_DAY) {
    return { ok: false, reason: `"${startText}" in "${text}" is not a start time (00:00 to 23:59)` };
  }
  const endMinute = parseClockTime(endText);
  if (endMinute === undefined) return { ok: false, reason: `"${endText}" in "${text}" is not an end time (00:01 to 24:00)` };
  if (endMinute <= startMinute) {
    // Ranges past midnight are two ranges on two days; saying so beats guessing.
    return { ok: false, reason: `"${text}" does not end after it starts (a range past midnight is split at 24:00 over two days)` };
  }
  return { ok: true, value: { startMinute, endMinute } };
}

/** `YYYY-MM-DD`, a real day of the Gregorian calendar. */
export function parseCalendarDate(text: string): Parsed<CalendarDate> {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return { ok: false, reason: `"${text}" is not a date YYYY-MM-DD` };
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  if (date.month < 1 || date.month > 12) return { ok: false, reason: `"${text}" is not a calendar date (no month ${match[2]})` };
  const lastDay = daysInMonth(date.year, date.month);
  if (date.day < 1 || date.day > lastDay) {
    return { ok: false, reason: `"${text}" is not a calendar date (${match[1]}-${match[2]} has ${lastDay} days)` };
  }
  return { ok: true, value: date };
}

const DATED_EXCEPTION = /^(\S+?)(?:\s*\.\.\s*(\S+?))?(?:\s+(.+))?$/;

/** `YYYY-MM-DD`, `YYYY-MM-DD..YYYY-MM-DD`, either followed by an optional `HH:MM-HH:MM`. */
export function parseDatedException(text: string): Parsed<DatedException> {
  const trimmed = text.trim();
  const match = DATED_EXCEPTION.exec(trimmed);
  if (match === null) {
    return { ok: false, reason: `"${text}" is not YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, optionally followed by HH:MM-HH:MM` };
  }
  const [, firstText = '', lastText, windowText] = match;
  const first = parseCalendarDate(firstText);
  if (!first.ok) return first;
  let last = first.value;
  if (lastText !== undefined) {
    const parsedLast = parseCalendarDate(lastText);
    if (!parsedLast.ok) return parsedLast;
    if (compareCalendarDates(parsedLast.value, first.value) < 0) {
      return { ok: false, reason: `date range "${firstText}..${lastText}" ends before it starts` };
    }
    last = parsedLast.value;
  }
  let window: TimeRange | null = null;
  if (windowText !== undefined) {
    const range = parseTimeRange(windowText);
    if (!range.ok) return range;
    window = range.value;
  }
  return { ok: true, value: { text: trimmed, first: first.value, last, window } };
}

export function formatTimeRange(range: TimeRange): string {
  const clock = (minutes: number): string =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  return `${clock(range.startMinute)}-${clock(range.endMinute)}`;
}

function rangesOverlap(a: TimeRange, b: TimeRange): boolean {
  return a.startMinute < b.endMinute && b.startMinute < a.endMinute;
}

function parseWeekly(weekly: TimeConditionSpec['weekly'], issues: TimeConditionIssue[]): Record<Weekday, TimeRange[]> {
  const result: Record<Weekday, TimeRange[]> = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
  // Which key gave each day: a day under two keys is refused rather than
  // silently merged or overridden, since either reading could be the intent.
  const owner = new Map<Weekday, string>();
  for (const [key, rangeTexts] of Object.entries(weekly)) {
    const path = `weekly.${key}`;
    const days = parseWeekdays(key);
    if (!days.ok) {
      issues.push({ path, message: days.reason });
      continue;
    }
    const ranges: TimeRange[] = [];
    rangeTexts.forEach((rangeText, index) => {
      const range = parseTimeRange(rangeText);
      if (!range.ok) {
        issues.push({ path: `${path}[${index}]`, message: range.reason });
        return;
      }
      const clash = ranges.find((earlier) => rangesOverlap(earlier, range.value));
      if (clash !== undefined) {
        issues.push({ path: `${path}[${index}]`, message: `"${rangeText.trim()}" overlaps "${formatTimeRange(clash)}"` });
        return;
      }
      ranges.push(range.value);
    });
    ranges.sort((a, b) => a.startMinute - b.startMinute);
    for (const day of days.value) {
      const previous = owner.get(day);
      if (previous !== undefined) {
        issues.push({ path, message: `${day} is already given by "${previous}"` });
        continue;
      }
      owner.set(day, key);
      result[day] = ranges;
    }
  }
  return result;
}

function parseExceptions(entries: readonly string[] | undefined, key: 'closed' | 'open', issues: TimeConditionIssue[]): DatedException[] {
  const exceptions: DatedException[] = [];
  (entries ?? []).forEach((entry, index) => {
    const exception = parseDatedException(entry);
    if (exception.ok) exceptions.push(exception.value);
    else issues.push({ path: `${key}[${index}]`, message: exception.reason });
  });
  return exceptions;
}

function isHolidayCalendar(name: string): name is HolidayCalendar {
  return (HOLIDAY_CALENDARS as readonly string[]).includes(name);
}

/** Checks a condition as written; every problem is reported, not just the first. */
export function parseTimeCondition(spec: TimeConditionSpec): TimeConditionParseResult {
  const issues: TimeConditionIssue[] = [];

  const timeZone = spec.timezone ?? DEFAULT_TIME_ZONE;
  if (!isKnownTimeZone(timeZone)) {
    issues.push({ path: 'timezone', message: `unknown time zone "${timeZone}" (expected an IANA name such as Europe/Paris)` });
  }

  const weekly = parseWeekly(spec.weekly, issues);

  const holidayText = spec.holidays ?? DEFAULT_HOLIDAY_CALENDAR;
  let holidays: HolidayCalendar = DEFAULT_HOLIDAY_CALENDAR;
  if (isHolidayCalendar(holidayText)) holidays = holidayText;
  else issues.push({ path: 'holidays', message: `unknown holiday calendar "${holidayText}" (expected one of ${HOLIDAY_CALENDARS.join(', ')})` });

  const closed = parseExceptions(spec.closed, 'closed', issues);
  const open = parseExceptions(spec.open, 'open', issues);

  if (issues.length > 0) return { ok: false, errors: issues };
  return { ok: true, condition: { timeZone, weekly, holidays, closed, open } };
}

/** Where and when a decision was taken, for logs. */
export interface LocalInstant {
  readonly timeZone: string;
  readonly date: CalendarDate;
  readonly weekday: Weekday;
  /** `YYYY-MM-DDTHH:MM:SS`, local wall clock. */
  readonly text: string;
}

export type TimeConditionDecision =
  | { readonly open: true; readonly reason: 'open-exception'; readonly exception: DatedException; readonly local: LocalInstant }
  | { readonly open: false; readonly reason: 'closed-exception'; readonly exception: DatedException; readonly local: LocalInstant }
  | { readonly open: false; readonly reason: 'holiday'; readonly holiday: FrenchPublicHoliday; readonly local: LocalInstant }
  | {
      readonly open: boolean;
      readonly reason: 'weekly-hours';
      /** The range that makes it open, or null when closed. */
      readonly range: TimeRange | null;
      readonly local: LocalInstant;
    };

function exceptionApplies(exception: DatedException, clock: ZonedWallClock): boolean {
  if (compareCalendarDates(clock.date, exception.first) < 0 || compareCalendarDates(clock.date, exception.last) > 0) return false;
  return exception.window === null || inRange(exception.window, clock.secondOfDay);
}

function inRange(range: TimeRange, secondOfDay: number): boolean {
  return secondOfDay >= range.startMinute * 60 && secondOfDay < range.endMinute * 60;
}

function holidayOn(calendar: HolidayCalendar, date: CalendarDate): FrenchPublicHoliday | undefined {
  switch (calendar) {
    case 'france': return frenchPublicHolidayOn(date);
    case 'alsace-moselle': return frenchPublicHolidayOn(date, { alsaceMoselle: true });
    case 'none': return undefined;
  }
}

function localInstant(timeZone: string, clock: ZonedWallClock, weekday: Weekday): LocalInstant {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const s = clock.secondOfDay;
  const time = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  return { timeZone, date: clock.date, weekday, text: `${formatCalendarDate(clock.date)}T${time}` };
}

function decideAt(condition: TimeCondition, epochMs: number): TimeConditionDecision {
  const clock = wallClockAt(epochMs, condition.timeZone);
  const weekday = weekdayOf(clock.date);
  const local = localInstant(condition.timeZone, clock, weekday);

  const opening = condition.open.find((exception) => exceptionApplies(exception, clock));
  if (opening !== undefined) return { open: true, reason: 'open-exception', exception: opening, local };
  const closing = condition.closed.find((exception) => exceptionApplies(exception, clock));
  if (closing !== undefined) return { open: false, reason: 'closed-exception', exception: closing, local };
  const holiday = holidayOn(condition.holidays, clock.date);
  if (holiday !== undefined) return { open: false, reason: 'holiday', holiday, local };
  const range = condition.weekly[weekday].find((candidate) => inRange(candidate, clock.secondOfDay)) ?? null;
  return { open: range !== null, reason: 'weekly-hours', range, local };
}

function epochMsOf(instant: Date): number {
  const epochMs = instant.getTime();
  if (Number.isNaN(epochMs)) throw new RangeError('time condition evaluated at an invalid Date');
  return epochMs;
}

/** Open or closed at `instant`, and which layer decided. */
export function evaluate(condition: TimeCondition, instant: Date): TimeConditionDecision {
  return decideAt(condition, epochMsOf(instant));
}

export function isOpen(condition: TimeCondition, instant: Date): boolean {
  return decideAt(condition, epochMsOf(instant)).open;
}

/** One line for logs: `closed (holiday Lundi de Pâques) at 2026-04-06T09:00:00 Europe/Paris`. */
export function describeDecision(decision: TimeConditionDecision): string {
  let why: string;
  switch (decision.reason) {
    case 'open-exception': why = `open exception ${decision.exception.text}`; break;
    case 'closed-exception': why = `closed exception ${decision.exception.text}`; break;
    case 'holiday': why = `holiday ${decision.holiday.name}`; break;
    case 'weekly-hours':
      why = decision.range === null ? `outside weekly hours on ${decision.local.weekday}` : `weekly hours ${decision.local.weekday} ${formatTimeRange(decision.range)}`;
      break;
  }
  return `${decision.open ? 'open' : 'closed'} (${why}) at ${decision.local.text} ${decision.local.timeZone}`;
}

/** Local seconds of day where some layer may start or stop having a say; 86 400 (midnight) always. */
function boundariesOn(condition: TimeCondition, date: CalendarDate): number[] {
  const seconds = [SECONDS_PER_DAY];
  for (const range of condition.weekly[weekdayOf(date)]) seconds.push(range.startMinute * 60, range.endMinute * 60);
  for (const exception of [...condition.open, ...condition.closed]) {
    if (exception.window === null) continue;
    if (compareCalendarDates(date, exception.first) < 0 || compareCalendarDates(date, exception.last) > 0) continue;
    seconds.push(exception.window.startMinute * 60, exception.window.endMinute * 60);
  }
  return seconds;
}

export interface NextChangeOptions {
  /** How far to look ahead; default 366 days. */
  readonly horizonDays?: number;
}

/**
 * The first instant after `instant` where {@link isOpen} changes, or null
 * when it does not change within the horizon. Walks from boundary to
 * boundary of the local day (range edges, exception windows, midnight)
 * rather than minute by minute, and stops at each UTC offset change so that
 * the gap and the repeated hour of DST days are taken as the clock shows them.
 */
export function nextChange(condition: TimeCondition, instant: Date, options: NextChangeOptions = {}): Date | null {
  const startMs = epochMsOf(instant);
  const wasOpen = decideAt(condition, startMs).open;
  const limitMs = startMs + (options.horizonDays ?? 366) * SECONDS_PER_DAY * 1000;
  let currentMs = startMs;
  while (currentMs < limitMs) {
    const clock = wallClockAt(currentMs, condition.timeZone);
    const nextLocalSecond = Math.min(...boundariesOn(condition, clock.date).filter((second) => second > clock.secondOfDay));
    const currentSecond = Math.floor(currentMs / 1000);
    let candidateSecond = currentSecond + (nextLocalSecond - clock.secondOfDay);
    if (wallClockAt(candidateSecond * 1000, condition.timeZone).offsetSeconds !== clock.offsetSeconds) {
      candidateSecond = offsetChangeSecond(condition.timeZone, currentSecond, candidateSecond, clock.offsetSeconds);
    }
    const candidateMs = candidateSecond * 1000;
    if (candidateMs > limitMs) return null;
    if (decideAt(condition, candidateMs).open !== wasOpen) return new Date(candidateMs);
    currentMs = candidateMs;
  }
  return null;
}

/** First second in (afterSecond, atOrBeforeSecond] whose UTC offset is no longer `offsetSeconds`; zone rules change on whole seconds. */
function offsetChangeSecond(timeZone: string, afterSecond: number, atOrBeforeSecond: number, offsetSeconds: number): number {
  let low = afterSecond;
  let high = atOrBeforeSecond;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (wallClockAt(middle * 1000, timeZone).offsetSeconds === offsetSeconds) low = middle;
    else high = middle;
  }
  return high;
}
