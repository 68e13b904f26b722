// A reference reading of the contract: a slow, direct interpreter of condition JSON over stored
// values, written from shared/CONDITION_LANGUAGE.md without the core's code (no fold.ts, no
// time.ts, no date-interval.ts). Property tests hold the compilers to it.
//
// Days are read differently from the core on purpose: a date t is "on day D" when its local date
// (Intl) is D, and "after D" when its local date is later. That equals the contract's reading ("a day
// runs from its first local instant to the next day's first local instant") whenever local dates
// never go backwards — true for TIME_ZONES from 1960 to 2045 (checked at 15-minute steps), the
// range the arbitraries draw days from. It is not true of every zone and year (Chile, 1910).
import type { StoredValue, StoredValues } from '../contact-values.js';
import type { AttributeDef, AttributeType, Operator, Schema } from '../types.js';
import { NEGATIVE_TWINS, UNIT_MS, contractFold as fold } from './contract.js';

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (`YYYY-MM-DD`) at instant `ms` in `timeZone`; years 1 to 9999. */
export function localDate(ms: number, timeZone: string): string {
  let f = dateFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year.padStart(4, '0')}-${p.month}-${p.day}`;
}

/** The first instant whose local date is `day` or later (a binary search over local dates). */
export function referenceDayStart(day: string, timeZone: string): number {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  let lo = midnightUtc - 16 * 3_600_000; // its local date is before `day` in every zone
  let hi = midnightUtc + 16 * 3_600_000; // its local date is `day` or later
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDate(mid, timeZone) >= day) hi = mid; else lo = mid;
  }
  return hi;
}

/** The calendar day after `day`. */
export function nextDayText(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10).padStart(10, '0');
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** "A value is missing when the attribute is absent, null, a text empty after trimming, or an empty list." */
export function isMissing(type: AttributeType, value: StoredValue | null | undefined): boolean {
  if (value === undefined || value === null) return true;
  if (type === 'text' || type === 'enum') return (value as string).trim() === '';
  if (type === 'list') return (value as readonly string[]).length === 0;
  return false;
}

export interface ReferenceInput {
  readonly schema: Schema;
  readonly timeZone: string;
  readonly now: number;
}

/** Whether a contact (its stored values) matches a valid condition, as the contract reads. */
export function referenceMatches(input: ReferenceInput, values: StoredValues, condition: unknown): boolean {
  const node = condition as Record<string, unknown>;
  if ('all' in node) return (node.all as unknown[]).every((c) => referenceMatches(input, values, c));
  if ('any' in node) return (node.any as unknown[]).some((c) => referenceMatches(input, values, c));
  if ('not' in node) return !referenceMatches(input, values, node.not);
  const attr = node.attr as string;
  const def: AttributeDef = input.schema.find((a) => a.key === attr) ?? { key: attr, type: 'list' }; // `segments`
  return rule(input, def.type, node.op as Operator, node.value, Object.hasOwn(values, attr) ? values[attr] : undefined);
}

function rule(input: ReferenceInput, type: AttributeType, op: Operator, value: unknown, v: StoredValue | null | undefined): boolean {
  const twin = NEGATIVE_TWINS[op];
  if (twin) return !rule(input, type, twin, value, v);
  const missing = isMissing(type, v);
  if (op === 'is_empty') return missing;
  if (missing) return false; // every positive operator is false on a missing value
  switch (type) {
    case 'text':
    case 'enum': {
      const s = fold(v as string);
      switch (op) {
        case 'eq': return s === fold(value as string);
        case 'contains': return s.includes(fold(value as string));
        case 'starts_with': return s.startsWith(fold(value as string));
        case 'ends_with': return s.endsWith(fold(value as string));
        case 'in': return (value as string[]).some((x) => s === fold(x));
      }
      break;
    }
    case 'list': {
      const has = (x: string) => (v as string[]).some((e) => fold(e) === fold(x));
      if (op === 'contains') return has(value as string);
      if (op === 'in') return (value as string[]).some(has);
      break;
    }
    case 'boolean':
      if (op === 'eq') return v === value;
      break;
    case 'number': {
      const n = v as number;
      switch (op) {
        case 'eq': return n === value;
        case 'gt': return n > (value as number);
        case 'gte': return n >= (value as number);
        case 'lt': return n < (value as number);
        case 'lte': return n <= (value as number);
        case 'between': return n >= (value as number[])[0] && n <= (value as number[])[1];
        case 'in': return (value as number[]).includes(n);
      }
      break;
    }
    case 'date':
      return dateRule(input, op, value, v as number);
  }
  throw new Error(`reference: ${op} on ${type}`);
}

function dateRule({ timeZone, now }: ReferenceInput, op: Operator, value: unknown, t: number): boolean {
  if (op === 'within_last' || op === 'older_than' || op === 'within_next') {
    const { amount, unit } = value as { amount: number; unit: keyof typeof UNIT_MS };
    const span = amount * UNIT_MS[unit];
    if (op === 'within_last') return now - span <= t && t <= now;
    if (op === 'older_than') return t < now - span;
    return now <= t && t <= now + span;
  }
  const date = localDate(t, timeZone);
  // Compares t with one bound; a day compares the local date, an instant the milliseconds.
  const cmp = (bound: string): number => {
    if (DAY.test(bound)) return date < bound ? -1 : date > bound ? 1 : 0;
    const ms = Date.parse(bound);
    return t < ms ? -1 : t > ms ? 1 : 0;
  };
  switch (op) {
    case 'eq': return cmp(value as string) === 0;
    case 'gt': return cmp(value as string) > 0;
    case 'gte': return cmp(value as string) >= 0;
    case 'lt': return cmp(value as string) < 0;
    case 'lte': return cmp(value as string) <= 0;
    case 'between': {
      const [from, to] = value as [string, string];
      return cmp(from) >= 0 && cmp(to) <= 0;
    }
  }
  throw new Error(`reference: ${op} on date`);
}

/** The ids of the contacts a condition selects. */
export function referenceEvaluate(
  input: ReferenceInput & { readonly contacts: readonly { readonly id: string; readonly values: StoredValues }[] },
  condition: unknown,
): string[] {
  return input.contacts.filter((c) => referenceMatches(input, c.values, condition)).map((c) => c.id);
}
