// Instants, calendar days and time zones. Pure: the clock and the zone are always arguments.
import { TIME_UNITS } from './operators.js';
import type { TimeUnit } from './types.js';

/** A calendar day, `YYYY-MM-DD`, which must exist in the (proleptic Gregorian) calendar. */
export interface CalendarDay { readonly year: number; readonly month: number; readonly day: number }

// Condition instants (the contract): `Z` or `±HH:MM`; seconds and up to three fractional digits optional.
const CONDITION_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
// Data instants (ingest) are read more widely, as ISO-8601 writers emit them: any number of
// fractional digits (kept to the millisecond) and the `±HHMM` / `±HH` offset forms too.
const DATA_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

const MAX_DATE_MS = 8.64e15;

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** UTC milliseconds of a wall-clock reading; unlike `Date.UTC`, years 0–99 are not moved to 19xx. */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, ms));
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

export function parseDay(text: string): CalendarDay | null {
  const m = DAY.exec(text);
  if (!m) return null;
  const year = Number(m[1]), month = Number(m[2]), day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
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

/** An instant as contact data may carry it (ISO-8601 with `Z` or an offset); null if it is not one. */
export function parseDataInstant(text: string): number | null {
  const m = DATA_INSTANT.exec(text);
  return m ? instantFromMatch(m) : null;
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

const dayStarts = new Map<string, number>();
const HOUR = 3_600_000;

/**
 * The first instant of a calendar day in a time zone. A day runs from its first local instant to the
 * next day's first local instant. Where local midnight does not exist (a DST change at midnight),
 * the day starts at the first instant that has that date; where it occurs twice, at the first.
 */
export function startOfDay(day: CalendarDay, timeZone: string): number {
  const localMidnight = utcMs(day.year, day.month, day.day);
  if (timeZone === 'UTC') return localMidnight;
  const key = `${timeZone}|${localMidnight}`;
  const cached = dayStarts.get(key);
  if (cached !== undefined) return cached;

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
  if (dayStarts.size > 50_000) dayStarts.clear();
  dayStarts.set(key, start);
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
