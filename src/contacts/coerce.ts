// Ingest: what a contact write or an import turns into stored values. Conditions never coerce; data
// does, here, once, with an error that names the attribute and the value.
import { fold, isBlank, unstorableText } from '../conditions/fold.js';
import { LIMITS } from '../conditions/limits.js';
import type { StoredValue } from '../conditions/contact-values.js';
import { parseDataInstant, parseDay, startOfDay } from '../conditions/time.js';
import type { AttributeDef } from '../conditions/types.js';

export type Coerced = { readonly ok: true; readonly value: StoredValue | null } | { readonly ok: false; readonly message: string };

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { true: true, yes: true, '1': true, false: false, no: false, '0': false };

const fail = (message: string): Coerced => ({ ok: false, message });
const textProblem = (text: string): Coerced | null => {
  const problem = unstorableText(text);
  return problem === null ? null : fail(problem);
};
const ok = (value: StoredValue | null): Coerced => ({ ok: true, value });
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

/**
 * One value for one attribute. `null` (JSON) is a removal, returned as `null`. `timeZone` reads a
 * day (`2025-03-04`) given for a date as that day's first instant there.
 */
export function coerceValue(def: AttributeDef, value: unknown, timeZone: string): Coerced {
  if (value === null) return ok(null);
  switch (def.type) {
    case 'text':
      if (typeof value === 'number' && Number.isFinite(value)) return ok(String(value));
      if (typeof value !== 'string') return fail(`expected a text, got ${show(value)}`);
      if (value.length > 100_000) return fail('a text value is at most 100,000 characters');
      return textProblem(value) ?? ok(value);
    case 'enum': {
      if (typeof value !== 'string') return fail(`expected one of ${def.options?.join(', ')}, got ${show(value)}`);
      if (isBlank(value)) return ok(null);
      const option = optionsByFold(def).get(fold(value));
      return option === undefined ? fail(`${show(value)} is not one of ${def.options?.join(', ')}`) : ok(option);
    }
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? ok(value) : fail(`expected a finite number, got ${show(value)}`);
      if (typeof value !== 'string') return fail(`expected a number, got ${show(value)}`);
      const text = value.trim();
      if (text === '') return ok(null); // "" is missing, never 0
      const n = DECIMAL.test(text) ? Number(text) : NaN;
      return Number.isFinite(n) ? ok(n) : fail(`expected a number, got ${show(value)}`);
    }
    case 'boolean': {
      if (typeof value === 'boolean') return ok(value);
      if (value === 0 || value === 1) return ok(value === 1);
      if (typeof value !== 'string') return fail(`expected true or false, got ${show(value)}`);
      const text = value.trim().toLowerCase();
      if (text === '') return ok(null);
      const b = BOOLEAN_TEXT[text];
      return b === undefined ? fail(`expected true, false, yes, no, 1 or 0, got ${show(value)}`) : ok(b);
    }
    case 'date': {
      if (typeof value !== 'string') return fail(`expected an ISO-8601 instant with Z or an offset, or a day YYYY-MM-DD, got ${show(value)}`);
      const text = value.trim();
      if (text === '') return ok(null);
      const day = parseDay(text);
      if (day) return ok(startOfDay(day, timeZone));
      const ms = parseDataInstant(text);
      return ms === null
        ? fail(`expected an ISO-8601 instant with Z or an offset (2025-03-04T10:00:00Z) or a day (2025-03-04), got ${show(value)}`)
        : ok(ms);
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
      return ok(items);
    }
  }
}

/** A list cell of a CSV file: texts separated by `;` (blank pieces dropped). */
export function splitListCell(cell: string): string[] {
  return cell.split(';').filter((piece) => !isBlank(piece));
}
