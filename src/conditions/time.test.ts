import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TIME_ZONES } from './test-support/arbitraries.js';
import { nextDayText, referenceDayStart } from './test-support/reference.js';
import {
  canonicalTimeZone, dayBounds, daysInMonth, nextDay, parseConditionInstant, parseDataInstant, parseDay, spanMs, startOfDay, utcMs,
} from './time.js';

const ms = (iso: string) => Date.parse(iso);
const day = (text: string) => {
  const [year, month, dayOfMonth] = text.split('-').map(Number);
  return { year, month, day: dayOfMonth };
};

/** The wall clock in a zone, from Node's Intl: `2025-03-09 03:00:00`. */
function wall(at: number, timeZone: string): string {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

describe('dayBounds: a day runs from its first local instant to the next day\'s first, exclusive', () => {
  it.each([
    ['UTC', '2025-03-04', '2025-03-04T00:00:00Z', '2025-03-04T23:59:59.999Z', 24],
    ['America/New_York', '2025-07-04', '2025-07-04T04:00:00Z', '2025-07-05T03:59:59.999Z', 24],
    ['America/New_York', '2025-03-09', '2025-03-09T05:00:00Z', '2025-03-10T03:59:59.999Z', 23],
    ['America/New_York', '2025-11-02', '2025-11-02T04:00:00Z', '2025-11-03T04:59:59.999Z', 25],
    ['Asia/Kolkata', '2025-01-01', '2024-12-31T18:30:00Z', '2025-01-01T18:29:59.999Z', 24],
    ['Asia/Kathmandu', '2025-01-01', '2024-12-31T18:15:00Z', '2025-01-01T18:14:59.999Z', 24],
    ['Australia/Lord_Howe', '2025-04-06', '2025-04-05T13:00:00Z', '2025-04-06T13:29:59.999Z', 24.5],
    ['Australia/Lord_Howe', '2025-10-05', '2025-10-04T13:30:00Z', '2025-10-05T12:59:59.999Z', 23.5],
    // Santiago falls back at 24:00 to 23:00: 2025-04-05 has a second 23:00 hour.
    ['America/Santiago', '2025-04-05', '2025-04-05T03:00:00Z', '2025-04-06T03:59:59.999Z', 25],
    // Where midnight does not exist, the day starts at the first instant that has the date (01:00).
    ['America/Santiago', '2022-09-11', '2022-09-11T04:00:00Z', '2022-09-12T02:59:59.999Z', 23],
    ['America/Santiago', '2022-09-10', '2022-09-10T04:00:00Z', '2022-09-11T03:59:59.999Z', 24],
    ['America/Havana', '2025-03-09', '2025-03-09T05:00:00Z', '2025-03-10T03:59:59.999Z', 23],
    // Havana falls back at 01:00 to 00:00: midnight happens twice, and the day starts at the first.
    ['America/Havana', '2025-11-02', '2025-11-02T04:00:00Z', '2025-11-03T04:59:59.999Z', 25],
    ['Asia/Beirut', '2025-03-30', '2025-03-29T22:00:00Z', '2025-03-30T20:59:59.999Z', 23],
    // Beirut falls back at 00:00 to 23:00: the Saturday has a second 23:00 hour, the Sunday starts after it.
    ['Asia/Beirut', '2025-10-25', '2025-10-24T21:00:00Z', '2025-10-25T21:59:59.999Z', 25],
    ['Asia/Beirut', '2025-10-26', '2025-10-25T22:00:00Z', '2025-10-26T21:59:59.999Z', 24],
  ])('%s %s is [%s, %s] (%s hours)', (zone, date, first, last, hours) => {
    const [start, end] = dayBounds(day(date), zone);
    expect([new Date(start).toISOString(), new Date(end).toISOString()]).toEqual([new Date(ms(first)).toISOString(), new Date(ms(last)).toISOString()]);
    expect((end + 1 - start) / 3_600_000).toBe(hours);
    expect(startOfDay(day(date), zone)).toBe(start);
    // Intl agrees: the instant before the start is the day before; the start, and the end, are the day.
    expect(wall(start - 1, zone).slice(0, 10)).not.toBe(date);
    expect(wall(start, zone).slice(0, 10)).toBe(date);
    expect(wall(end, zone).slice(0, 10)).toBe(date);
    expect(wall(end + 1, zone).slice(0, 10)).not.toBe(date);
  });

  it.each([
    ['America/Santiago', '2022-09-11', '01:00:00'],
    ['America/Havana', '2025-03-09', '01:00:00'],
    ['Asia/Beirut', '2025-03-30', '01:00:00'],
  ])('in %s, %s really has no midnight (Intl): the day starts at %s', (zone, date, clock) => {
    expect(wall(startOfDay(day(date), zone), zone)).toBe(`${date} ${clock}`);
  });

  it('reads years before 100 as such, not as 19xx', () => {
    expect(dayBounds(day('0050-06-01'), 'UTC')).toEqual([ms('0050-06-01T00:00:00Z'), ms('0050-06-01T23:59:59.999Z')]);
    // New York then kept local mean time, −4:56:02.
    expect(startOfDay(day('0050-06-01'), 'America/New_York')).toBe(ms('0050-06-01T04:56:02Z'));
    expect(startOfDay(day('0001-01-01'), 'UTC')).toBe(ms('0001-01-01T00:00:00Z'));
  });

  it('gives a day that a zone skipped entirely no instant (Samoa, 2011-12-30)', () => {
    const [start, end] = dayBounds(day('2011-12-30'), 'Pacific/Apia');
    expect(end).toBe(start - 1);
    expect(startOfDay(day('2011-12-31'), 'Pacific/Apia')).toBe(start);
  });

  it('agrees with a search over Intl\'s local dates, for any day from 1970 to 2040 in the test zones', () => {
    const zones = [...TIME_ZONES, 'America/Havana', 'Asia/Beirut'];
    const days = fc.integer({ min: ms('1970-01-01T00:00:00Z'), max: ms('2040-12-31T00:00:00Z') })
      .map((t) => new Date(t).toISOString().slice(0, 10));
    fc.assert(fc.property(fc.constantFrom(...zones), days, (zone, date) => {
      const [start, end] = dayBounds(day(date), zone);
      expect(start).toBe(referenceDayStart(date, zone));
      expect(end + 1).toBe(referenceDayStart(nextDayText(date), zone));
    }), { numRuns: 300 });
  });
});

describe('startOfDay on the days around every change of offset', () => {
  // Most days take a short path (one offset two days either side of midnight); the days around a
  // change take the sampled one. Every day within two days of every change from 1900 to 2060, in
  // zones whose changes fall at or across midnight, against the search over Intl's local dates.
  const zones = [...TIME_ZONES, 'America/Havana', 'Asia/Beirut', 'Pacific/Apia', 'Europe/Dublin', 'Africa/Casablanca', 'Asia/Gaza', 'America/Sao_Paulo', 'Europe/Moscow'];
  it.each(zones)('%s', (zone) => {
    const noonWall = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    const DAY = 86_400_000;
    const first = ms('1900-01-01T12:00:00Z'), last = ms('2060-12-31T12:00:00Z');
    let before = noonWall.format(first);
    const near = new Set<number>();
    for (let t = first + DAY; t <= last; t += DAY) {
      const now = noonWall.format(t);
      if (now !== before) for (let k = -3; k <= 2; k++) near.add(t + k * DAY);
      before = now;
    }
    expect(near.size, 'the zone changes its offset in these years').toBeGreaterThan(zone === 'UTC' ? -1 : 5);
    for (const t of near) {
      const date = new Date(t).toISOString().slice(0, 10);
      expect(startOfDay(day(date), zone), `${zone} ${date}`).toBe(referenceDayStart(date, zone));
    }
  });
});

describe('calendar days', () => {
  it.each([
    ['2024-02-29', true], ['2000-02-29', true], ['0000-02-29', true], ['0048-02-29', true], ['2025-12-31', true], ['0001-01-01', true],
    ['2025-02-29', false], ['1900-02-29', false], ['0050-02-29', false], ['2025-02-30', false], ['2025-04-31', false],
    ['2025-13-01', false], ['2025-00-01', false], ['2025-01-00', false], ['2025-1-01', false], ['25-01-01', false], ['2025-01-01T00:00:00Z', false],
  ])('parseDay(%j) is a day: %s', (text, valid) => {
    expect(parseDay(text)).toEqual(valid ? day(text) : null);
  });

  it.each([
    ['2025-01-31', '2025-02-01'], ['2024-02-28', '2024-02-29'], ['2025-02-28', '2025-03-01'], ['2025-12-31', '2026-01-01'], ['0099-12-31', '0100-01-01'],
  ])('nextDay(%s) is %s', (from, to) => {
    expect(nextDay(day(from))).toEqual(day(to));
  });

  it('knows the length of every month', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((m) => daysInMonth(2025, m))).toEqual([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expect([2024, 2000, 1900, 0].map((y) => daysInMonth(y, 2))).toEqual([29, 29, 28, 29]);
  });

  it('utcMs keeps years 0–99', () => {
    expect(utcMs(50, 1, 1)).toBe(ms('0050-01-01T00:00:00Z'));
    expect(utcMs(2025, 3, 4, 10, 30, 15, 250)).toBe(ms('2025-03-04T10:30:15.250Z'));
  });
});

describe('instants', () => {
  it.each([
    ['2025-03-04T10:00:00Z', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T10:00Z', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T14:00:00+04:00', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T05:15:00-04:45', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T10:00:00-00:00', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T10:00:00.5Z', '2025-03-04T10:00:00.500Z'],
    ['2025-03-04T10:00:00.05Z', '2025-03-04T10:00:00.050Z'],
    ['2025-03-04T10:00:00.123Z', '2025-03-04T10:00:00.123Z'],
    ['2025-03-04T00:00:00+14:00', '2025-03-03T10:00:00.000Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
    ['0001-01-01T00:00:00+01:00', '0000-12-31T23:00:00.000Z'],
    ['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'],
  ])('a condition and data both read %s as %s', (text, expected) => {
    expect(parseConditionInstant(text)).toBe(ms(expected));
    expect(parseDataInstant(text)).toBe(ms(expected));
  });

  it.each([
    ['2025-03-04T10:00:00', 'no offset'],
    ['2025-03-04T10:00', 'no offset'],
    ['2025-03-04', 'a day, not an instant'],
    ['2025-02-29T10:00:00Z', 'no such day'],
    ['2025-02-30T10:00:00Z', 'no such day'],
    ['2025-03-04T24:00:00Z', 'no hour 24'],
    ['2025-03-04T10:60:00Z', 'no minute 60'],
    ['2025-03-04T10:00:60Z', 'no leap second'],
    ['2025-03-04T10:00:00+24:00', 'no offset of 24 hours'],
    ['2025-03-04T10Z', 'no minutes'],
    ['2025-03-04 10:00:00Z ', 'a trailing space'],
    ['March 4, 2025 10:00 UTC', 'not ISO-8601'],
    ['+002025-03-04T10:00:00Z', 'an expanded year'],
  ])('neither reads %s (%s)', (text) => {
    expect(parseConditionInstant(text)).toBeNull();
    expect(parseDataInstant(text)).toBeNull();
  });

  it.each([
    ['2025-03-04T10:00:00.1234Z', '2025-03-04T10:00:00.123Z'],
    ['2025-03-04T10:00:00.999999Z', '2025-03-04T10:00:00.999Z'],
    ['2025-03-04T14:00:00+0400', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T14:00:00+04', '2025-03-04T10:00:00.000Z'],
    ['2025-03-04T10:00:00,5Z', '2025-03-04T10:00:00.500Z'],
  ])('data reads %s (as %s), a condition does not (at most three fractional digits, offset ±HH:MM)', (text, expected) => {
    expect(parseDataInstant(text)).toBe(ms(expected));
    expect(parseConditionInstant(text)).toBeNull();
  });

  // parseDataInstant reads by hand what this pattern describes; the reference computes the instant
  // with Date, independently of the parser's calendar arithmetic.
  const DATA_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;
  function referenceDataInstant(text: string): number | null {
    const m = DATA_INSTANT.exec(text);
    if (!m) return null;
    const [year, month, dayOfMonth, hour, minute] = [1, 2, 3, 4, 5].map((k) => Number(m[k]));
    const second = Number(m[6] ?? 0), millis = Number((m[7] ?? '0').slice(0, 3).padEnd(3, '0'));
    const oh = Number(m[10] ?? 0), om = Number(m[11] ?? 0);
    if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > daysInMonth(year, month)) return null;
    if (hour > 23 || minute > 59 || second > 59 || oh > 23 || om > 59) return null;
    const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, millis));
    date.setUTCFullYear(year, month - 1, dayOfMonth);
    return date.getTime() - (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }

  it('parseDataInstant accepts exactly the data pattern, and reads the same instant as Date', () => {
    const piece = fc.constantFrom('2025', '0000', '9999', '1969', '-', '02', '29', '12', '13', '00', '31', 'T', 't', ' ', ':', '23', '24', '59', '60',
      '.', ',', '5', '123456', 'Z', 'z', '+', '-', '04', '0430', '14', '');
    const wellFormed = fc.tuple(
      fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.constantFrom('T', 't', ' '),
      fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.option(fc.integer({ min: 0, max: 60 })), fc.option(fc.stringMatching(/^[.,]\d{0,5}$/)),
      fc.constantFrom('Z', 'z', '+', '-', '', 'x'), fc.option(fc.integer({ min: 0, max: 24 })), fc.constantFrom('', ':', ';'), fc.option(fc.integer({ min: 0, max: 60 })),
    ).map(([y, mo, d, t, h, mi, s, frac, z, oh, sep, om]) => {
      const two = (n: number) => String(n).padStart(2, '0');
      const time = `${two(h)}:${two(mi)}${s === null ? '' : `:${two(s)}${frac ?? ''}`}`;
      const offset = z === '+' || z === '-' ? `${z}${oh === null ? '' : two(oh)}${om === null ? '' : `${sep}${two(om)}`}` : z;
      return `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}${t}${time}${offset}`;
    });
    const text = fc.oneof(wellFormed, fc.array(piece, { maxLength: 14 }).map((parts) => parts.join('')));
    fc.assert(fc.property(text, (t) => { expect(parseDataInstant(t)).toBe(referenceDataInstant(t)); }), { numRuns: 5000 });
  });
});

describe('time zones and spans', () => {
  it.each([
    ['UTC', 'UTC'], ['utc', 'UTC'], ['Etc/UTC', 'UTC'], ['America/New_York', 'America/New_York'], ['america/new_york', 'America/New_York'],
    ['Australia/Lord_Howe', 'Australia/Lord_Howe'],
  ])('canonicalTimeZone(%j) is %j', (name, canonical) => {
    expect(canonicalTimeZone(name)).toBe(canonical);
  });

  it.each([['+05:00'], ['-03:00'], ['Mars/Olympus_Mons'], [''], [5], [null]])('canonicalTimeZone(%j) is not a zone', (name) => {
    expect(canonicalTimeZone(name)).toBeNull();
  });

  it('makes days and weeks fixed spans of 24 and 7 × 24 hours', () => {
    expect(spanMs(30, 'days')).toBe(30 * 24 * 3_600_000);
    expect(spanMs(2, 'weeks')).toBe(14 * 24 * 3_600_000);
    expect(spanMs(90, 'minutes')).toBe(5_400_000);
    expect(spanMs(1_000_000, 'weeks')).toBe(604_800_000_000_000);
  });
});
