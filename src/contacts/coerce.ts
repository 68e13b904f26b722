// Ingest: what a contact write or an import turns into stored values. Conditions never coerce; data
// does, here, once, with an error that names the attribute and the value.
import { fold, isBlank, unstorableText } from '../conditions/fold.js';
import { LIMITS } from '../conditions/limits.js';
import type { StoredValue } from '../conditions/contact-values.js';
import { parseDataInstant, parseDay, startOfDay } from '../conditions/time.js';
import type { AttributeDef } from '../conditions/types.js';

export type Coerced = { readonly ok: true; readonly value: StoredValue | null } | { readonly ok: false; readonly message: string };

/** Why a value does not fit its attribute. Returned, not thrown: a bad import row is data, not an exception. */
export class Rejection {
  constructor(readonly message: string) {}
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { true: true, yes: true, '1': true, false: false, no: false, '0': false };

const fail = (message: string) => new Rejection(message);
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v));

const foldedOptions = new WeakMap<AttributeDef, ReadonlyMap<string, string>>();

/** An enum's options by folded spelling, computed once per definition (not once per value). */
function optionsByFold(def: AttributeDef): ReadonlyMap<string, string> {
  let map = foldedOptions.get(def);
  if (!map) {
    map = new Map((def.options ?? []).map((o) => [fold(o), o]));
    foldedOptions.set(def, map);
  }
  return map;
}

/** `coerce`'s answer as a record: `{ ok: true, value }` or `{ ok: false, message }`. */
export function coerceValue(def: AttributeDef, value: unknown, timeZone: string): Coerced {
  const coerced = coerce(def, value, timeZone);
  return coerced instanceof Rejection ? { ok: false, message: coerced.message } : { ok: true, value: coerced };
}

/**
 * One value for one attribute, or why not. `null` (JSON) is a removal, returned as `null`.
 * `timeZone` reads a day (`2025-03-04`) given for a date as that day's first instant there.
 * Nothing is allocated for a value that fits: ingest calls this once per value.
 */
export function coerce(def: AttributeDef, value: unknown, timeZone: string): StoredValue | null | Rejection {
  if (value === null) return null;
  switch (def.type) {
    case 'text': {
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value !== 'string') return fail(`expected a text, got ${show(value)}`);
      if (value.length > 100_000) return fail('a text value is at most 100,000 characters');
      const problem = unstorableText(value);
      return problem === null ? value : fail(problem);
    }
    case 'enum': {
      if (typeof value !== 'string') return fail(`expected one of ${def.options?.join(', ')}, got ${show(value)}`);
      if (isBlank(value)) return null;
      const option = optionsByFold(def).get(fold(value));
      return option === undefined ? fail(`${show(value)} is not one of ${def.options?.join(', ')}`) : option;
    }
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : fail(`expected a finite number, got ${show(value)}`);
      if (typeof value !== 'string') return fail(`expected a number, got ${show(value)}`);
      const text = value.trim();
      if (text === '') return null; // "" is missing, never 0
      const n = DECIMAL.test(text) ? Number(text) : NaN;
      return Number.isFinite(n) ? n : fail(`expected a number, got ${show(value)}`);
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === 'number') return fail(`expected true, false, yes, no, 1 or 0, got ${show(value)}`);
      if (typeof value !== 'string') return fail(`expected true or false, got ${show(value)}`);
      const text = value.trim().toLowerCase();
      if (text === '') return null;
      const b = BOOLEAN_TEXT[text];
      return b === undefined ? fail(`expected true, false, yes, no, 1 or 0, got ${show(value)}`) : b;
    }
    case 'date': {
      if (typeof value !== 'string') return fail(`expected an ISO-8601 instant with Z or an offset, or a day YYYY-MM-DD, got ${show(value)}`);
      const text = value.trim();
      if (text === '') return null;
      const day = parseDay(text);
      if (day) return startOfDay(day, timeZone);
      const ms = parseDataInstant(text);
      return ms === null
        ? fail(`expected an ISO-8601 instant with Z or an offset (2025-03-04T10:00:00Z) or a day (2025-03-04), got ${show(value)}`)
        : ms;
    }
    case 'list': {
      if (!Array.isArray(value)) return fail(`expected an array of texts, got ${show(value)}`);
      if (value.length > LIMITS.listElements) return fail(`a list holds at most ${LIMITS.listElements} texts`);
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (typeof item !== 'string') return fail(`element [${i}]: expected a text, got ${show(item)}`);
        if (item.length > LIMITS.textLength) return fail(`element [${i}]: a list text is at most ${LIMITS.textLength} characters`);
        const unstorable = unstorableText(item);
        if (unstorable) return fail(`element [${i}]: ${unstorable}`);
        items.push(item);
      }
      return items;
    }
  }
}

/**
 * A list cell of a CSV file: texts separated by `;` (blank pieces dropped), or a JSON array of
 * texts — what `listCell` writes for a list that `;` cannot carry. A cell that only looks like one
 * (`[urgent]`) is read as texts separated by `;`.
 */
export function splitListCell(cell: string): string[] {
  if (cell.startsWith('[') && cell.endsWith(']')) {
    try {
      const items: unknown = JSON.parse(cell);
      if (Array.isArray(items) && items.every((item) => typeof item === 'string')) return items as string[];
    } catch { /* not JSON: texts separated by ; */ }
  }
  return cell.split(';').filter((piece) => !isBlank(piece));
}

/**
 * A list as a CSV cell that splitListCell reads back to the same texts: separated by `;`, or as a
 * JSON array when a text holds a `;` or is blank, or the cell would read as an array.
 */
export function listCell(items: readonly string[]): string {
  const joined = items.join(';');
  const plain = items.every((item) => !item.includes(';') && !isBlank(item)) && !(joined.startsWith('[') && joined.endsWith(']'));
  return plain ? joined : JSON.stringify(items);
}
