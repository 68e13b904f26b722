// EXPERIMENT, not the engine: raw JSON → prepared contact with what the profile of bench:eval (c)
// points at removed. Same results as coerceValue + prepareContact (the experiment checks every
// contact), but:
//  - one pass over the raw object's own keys, straight into the layout's slots (no StoredValues
//    record built and then read back with one keyed lookup per attribute: with contacts of many
//    shapes those lookups are megamorphic);
//  - an enum value found in a Map of folded options (coerceValue folds every option per value);
//  - dates parsed with charCodeAt and calendar arithmetic (no RegExp match, no Date object), and a
//    day's start cached by a number per zone (startOfDay builds a string key per call);
//  - fold skips normalize('NFKC') for ASCII text, which NFKC leaves unchanged;
//  - no { ok, value } object per attribute.
// Anything it does not recognise goes through coerceValue, so it never accepts less or more.
import type { ContactLayout, PreparedContact, PreparedValue } from '../../src/conditions/contact-values.js';
import { prepareValue } from '../../src/conditions/contact-values.js';
import { fold, isBlank, unstorableText } from '../../src/conditions/fold.js';
import { parseDay, startOfDay } from '../../src/conditions/time.js';
import type { AttributeDef } from '../../src/conditions/types.js';
import { coerceValue } from '../../src/contacts/coerce.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { true: true, yes: true, '1': true, false: false, no: false, '0': false };

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** fold, with ASCII's NFKC (the identity) skipped. */
export function fastFold(text: string): string {
  return isAscii(text) ? text.toLowerCase() : fold(text);
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48; // NaN past the end
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** An ISO instant in the data forms parseDataInstant reads, or NaN (then coerceValue decides). */
function parseInstant(s: string): number {
  const year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  if (day > (month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1])) return NaN;
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116) return NaN;
  const hour = digits(s, 11, 2), minute = digits(s, 14, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || s.charCodeAt(13) !== 58) return NaN;
  let i = 16, second = 0, millis = 0;
  if (s.charCodeAt(i) === 58) {
    second = digits(s, i + 1, 2);
    if (second < 0 || second > 59) return NaN;
    i += 3;
    const c = s.charCodeAt(i);
    if (c === 46 || c === 44) {
      let n = 0, places = 0;
      for (i += 1; i < s.length; i++) {
        const d = s.charCodeAt(i) - 48;
        if (!(d >= 0 && d <= 9)) break;
        if (places < 3) { n = n * 10 + d; places++; }
      }
      if (places === 0) return NaN;
      millis = places === 1 ? n * 100 : places === 2 ? n * 10 : n;
    }
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i + 1 !== s.length) return NaN;
  } else if (z === 43 || z === 45) {
    const oh = digits(s, i + 1, 2);
    let om = 0, end = i + 3;
    if (end < s.length) {
      if (s.charCodeAt(end) === 58) end++;
      om = digits(s, end, 2);
      end += 2;
    }
    if (oh < 0 || oh > 23 || om < 0 || om > 59 || end !== s.length) return NaN;
    offset = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return NaN;
  }
  const ms = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset * 60_000;
  return Math.abs(ms) <= 8.64e15 ? ms : NaN;
}

export interface FastPreparer {
  prepare(raw: Record<string, unknown>): PreparedContact;
}

export function createFastPreparer(layout: ContactLayout, timeZone: string): FastPreparer {
  const { attributes, index } = layout;
  const enumOptions = new Map<string, Map<string, string>>();
  for (const a of attributes) if (a.type === 'enum') enumOptions.set(a.key, new Map((a.options ?? []).map((o) => [fold(o), o])));
  const dayStarts = new Map<number, number>();

  const dayStart = (text: string): number => {
    if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN;
    const y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2);
    if (y < 0 || m < 0 || d < 0) return NaN;
    const key = y * 10_000 + m * 100 + d;
    let start = dayStarts.get(key);
    if (start === undefined) {
      const day = parseDay(text);
      start = day === null ? NaN : startOfDay(day, timeZone);
      dayStarts.set(key, start);
    }
    return start;
  };

  /** The slow path: coerceValue's answer, prepared. Throws on an error, as the fixtures do. */
  const general = (def: AttributeDef, value: unknown): PreparedValue => {
    const coerced = coerceValue(def, value, timeZone);
    if (!coerced.ok) throw new Error(`${def.key}: ${coerced.message}`);
    return coerced.value === null ? undefined : prepareValue(def.type, coerced.value);
  };

  const one = (def: AttributeDef, value: unknown): PreparedValue => {
    if (value === null) return undefined;
    switch (def.type) {
      case 'text':
        if (typeof value !== 'string' || value.length > 100_000 || unstorableText(value) !== null) return general(def, value);
        return isBlank(value) ? undefined : fastFold(value);
      case 'enum': {
        if (typeof value !== 'string') return general(def, value);
        if (isBlank(value)) return undefined;
        const option = enumOptions.get(def.key)!.get(fastFold(value));
        return option === undefined ? general(def, value) : fastFold(option);
      }
      case 'number': {
        if (typeof value === 'number' && Number.isFinite(value)) return value;
        if (typeof value !== 'string') return general(def, value);
        const text = value.trim();
        if (text === '') return undefined;
        const n = DECIMAL.test(text) ? Number(text) : NaN;
        return Number.isFinite(n) ? n : general(def, value);
      }
      case 'boolean': {
        if (typeof value === 'boolean') return value;
        if (value === 0 || value === 1) return value === 1;
        if (typeof value !== 'string') return general(def, value);
        const text = value.trim().toLowerCase();
        if (text === '') return undefined;
        const b = BOOLEAN_TEXT[text];
        return b === undefined ? general(def, value) : b;
      }
      case 'date': {
        if (typeof value !== 'string') return general(def, value);
        const text = value.length > 0 && value.charCodeAt(0) > 32 && value.charCodeAt(value.length - 1) > 32 ? value : value.trim();
        if (text === '') return undefined;
        const ms = text.length === 10 ? dayStart(text) : parseInstant(text);
        return Number.isNaN(ms) ? general(def, value) : ms;
      }
      case 'list': {
        if (!Array.isArray(value) || value.length > 10_000) return general(def, value);
        if (value.length === 0) return undefined;
        const items: string[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (typeof item !== 'string' || item.length > 1_000 || unstorableText(item) !== null) return general(def, value);
          items[i] = fastFold(item);
        }
        return items;
      }
    }
  };

  return {
    prepare(raw) {
      const out: PreparedContact = new Array(attributes.length).fill(undefined);
      for (const key in raw) {
        const at = index.get(key);
        if (at === undefined) {
          if (key === 'id') continue;
          throw new Error(`unknown attribute "${key}"`);
        }
        out[at] = one(attributes[at], raw[key]);
      }
      return out;
    },
  };
}
