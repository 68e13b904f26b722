// Instants, calendar days and time zones. Pure: the clock and the zone are always arguments.
import { TIME_UNITS } from './operators.js';
import type { TimeUnit } from './types.js';

/** A calendar day, `YYYY-MM-DD`, which must exist in the (proleptic Gregorian) calendar. */
export interface CalendarDay { readonly year: number; readonly month: number; readonly day: number }

// Condition instants (the contract): `Z` or `±HH:MM`; seconds and up to three fractional digits optional.
const CONDITION_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
// Data instants (ingest) are read more widely, as ISO-8601 writers emit them: any number of
// fractional digits (kept to the millisecond) and the `±HHMM` / `±HH` offset forms too. As a pattern:
//   ^YYYY-MM-DD[Tt]hh:mm(:ss([.,]\d+)?)?([Zz]|[+-]hh(:?mm)?)$
// parseDataInstant reads it by hand; time.test.ts checks it against this pattern.

const MAX_DATE_MS = 8.64e15;

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : MONTH_DAYS[month - 1];
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/**
 * UTC milliseconds of a valid wall-clock reading; unlike `Date.UTC`, years 0–99 are not moved to
 * 19xx. Plain arithmetic: no Date object per call, which ingest pays for every date it reads.
 */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms;
}

/** The number written by `count` ASCII digits at `at`, or -1 if any of them is not a digit. */
function digitsAt(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48; // NaN past the end
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

export function parseDay(text: string): CalendarDay | null {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null;
  const year = digitsAt(text, 0, 4), month = digitsAt(text, 5, 2), day = digitsAt(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

function instantFromMatch(m: RegExpExecArray): number | null {
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3]);
  const hour = Number(m[4]), minute = Number(m[5]), second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]), om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = utcMs(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}

/** An instant as a condition may write it; null if it is not one. */
export function parseConditionInstant(text: string): number | null {
  const m = CONDITION_INSTANT.exec(text);
  return m ? instantFromMatch(m) : null;
}

/**
 * An instant as contact data may carry it (ISO-8601 with `Z` or an offset); null if it is not one.
 * Read character by character rather than with a RegExp, because ingest reads one per date value.
 */
export function parseDataInstant(text: string): number | null {
  const year = digitsAt(text, 0, 4), month = digitsAt(text, 5, 2), day = digitsAt(text, 8, 2);
  if (year < 0 || month < 0 || day < 0 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return null;
  const t = text.charCodeAt(10);
  if (t !== 84 && t !== 116) return null; // T or t
  const hour = digitsAt(text, 11, 2), minute = digitsAt(text, 14, 2);
  if (hour < 0 || minute < 0 || text.charCodeAt(13) !== 58) return null;
  let at = 16, second = 0, millis = 0;
  if (text.charCodeAt(at) === 58) { // :ss
    second = digitsAt(text, at + 1, 2);
    if (second < 0) return null;
    at += 3;
    const c = text.charCodeAt(at);
    if (c === 46 || c === 44) { // . or , then one or more digits, kept to the millisecond
      let places = 0;
      for (at += 1; at < text.length; at++) {
        const d = text.charCodeAt(at) - 48;
        if (!(d >= 0 && d <= 9)) break;
        if (places < 3) millis += d * (places === 0 ? 100 : places === 1 ? 10 : 1);
        places++;
      }
      if (places === 0) return null;
    }
  }
  let offsetMinutes = 0;
  const z = text.charCodeAt(at);
  if (z === 90 || z === 122) { // Z or z
    if (at + 1 !== text.length) return null;
  } else if (z === 43 || z === 45) { // ±HH, ±HHMM, ±HH:MM
    const oh = digitsAt(text, at + 1, 2);
    let om = 0, end = at + 3;
    if (end < text.length) {
      if (text.charCodeAt(end) === 58) end++;
      om = digitsAt(text, end, 2);
      end += 2;
    }
    if (oh < 0 || om < 0 || end !== text.length || oh > 23 || om > 59) return null;
    offsetMinutes = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return null;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = utcMs(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  return Math.abs(ms) <= MAX_DATE_MS ? ms : null;
}

// ---- time zones -------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The canonical IANA name of a time zone, or null when it is not one (offsets like `+05:00` are not). */
export function canonicalTimeZone(name: unknown): string | null {
  if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The wall-clock reading in `timeZone` at instant `ms`, as if it were UTC, to the second. */
function wallClock(timeZone: string, ms: number): number {
  let year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, bc = false;
  for (const part of formatter(timeZone).formatToParts(ms)) {
    switch (part.type) {
      case 'year': year = Number(part.value); break;
      case 'month': month = Number(part.value); break;
      case 'day': day = Number(part.value); break;
      case 'hour': hour = Number(part.value); break;
      case 'minute': minute = Number(part.value); break;
      case 'second': second = Number(part.value); break;
      case 'era': bc = part.value.startsWith('B'); break;
    }
  }
  return utcMs(bc ? 1 - year : year, month, day, hour, minute, second);
}

function offsetAt(timeZone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClock(timeZone, whole) - whole;
}

const dayStarts = new Map<string, Map<number, number>>(); // zone → local midnight → first instant
const HOUR = 3_600_000;

/**
 * The first instant of a calendar day in a time zone. A day runs from its first local instant to the
 * next day's first local instant. Where local midnight does not exist (a DST change at midnight),
 * the day starts at the first instant that has that date; where it occurs twice, at the first.
 */
export function startOfDay(day: CalendarDay, timeZone: string): number {
  const localMidnight = utcMs(day.year, day.month, day.day);
  if (timeZone === 'UTC') return localMidnight;
  let starts = dayStarts.get(timeZone);
  if (starts === undefined) dayStarts.set(timeZone, (starts = new Map()));
  const cached = starts.get(localMidnight);
  if (cached !== undefined) return cached;

  const start = startAtOneOffset(timeZone, localMidnight) ?? startBySampling(timeZone, localMidnight);
  if (starts.size > 50_000) starts.clear();
  starts.set(localMidnight, start);
  return start;
}

/**
 * Most days: the zone keeps one offset from two days before local midnight to two days after, and
 * midnight at that offset exists; then it is the day's start. Three readings of the wall clock
 * instead of the ten or more of `startBySampling` (an import's dates are mostly days not seen
 * before: the reading thread spent 6% of its time here). Undefined for any other day.
 */
function startAtOneOffset(timeZone: string, localMidnight: number): number | undefined {
  const offset = offsetAt(timeZone, localMidnight - 48 * HOUR);
  if (offsetAt(timeZone, localMidnight + 48 * HOUR) !== offset) return undefined;
  const start = localMidnight - offset;
  return wallClock(timeZone, start) === localMidnight ? start : undefined;
}

/** A day's start from the offsets in force two days either side, whatever happens at midnight. */
function startBySampling(timeZone: string, localMidnight: number): number {
  // Offsets in force within two days either side; a zone changes offset at most a few times a year.
  const offsets = new Set<number>();
  for (let k = -4; k <= 4; k++) offsets.add(offsetAt(timeZone, localMidnight + k * 12 * HOUR));
  let start = Infinity;
  for (const offset of offsets) {
    const t = localMidnight - offset;
    if (wallClock(timeZone, t) === localMidnight && t < start) start = t;
  }
  if (start === Infinity) {
    // Midnight was skipped: find, to the second, the first instant whose wall clock is past it.
    let lo = Math.floor((localMidnight - Math.max(...offsets) - 24 * HOUR) / 1000);
    let hi = Math.ceil((localMidnight - Math.min(...offsets) + 24 * HOUR) / 1000);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (wallClock(timeZone, mid * 1000) >= localMidnight) hi = mid; else lo = mid;
    }
    start = hi * 1000;
  }
  return start;
}

export function nextDay(day: CalendarDay): CalendarDay {
  if (day.day < daysInMonth(day.year, day.month)) return { year: day.year, month: day.month, day: day.day + 1 };
  if (day.month < 12) return { year: day.year, month: day.month + 1, day: 1 };
  return { year: day.year + 1, month: 1, day: 1 };
}

/** The instants of a day in a zone, both inclusive: [first instant, next day's first instant − 1 ms]. */
export function dayBounds(day: CalendarDay, timeZone: string): readonly [number, number] {
  return [startOfDay(day, timeZone), startOfDay(nextDay(day), timeZone) - 1];
}

/** `days` and `weeks` are fixed spans of 24 and 7 × 24 hours, also across a DST change. */
export function spanMs(amount: number, unit: TimeUnit): number {
  return amount * TIME_UNITS[unit];
}

export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}
