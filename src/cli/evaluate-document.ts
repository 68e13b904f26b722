// The standalone document `segments evaluate` reads: a schema, a time zone, `now`, contacts and a
// condition. Read whole, checked whole: every problem is reported with its path from the document root.
import { unstorableText } from '../conditions/fold.js';
import type { StoredValue } from '../conditions/contact-values.js';
import { RESERVED_KEYS, SEGMENTS_FIELD, STANDARD_ATTRIBUTES, validateAttributeDef } from '../conditions/schema.js';
import { canonicalTimeZone, parseDataInstant } from '../conditions/time.js';
import type { AttributeDef, Condition, Schema, ValidationIssue } from '../conditions/types.js';
import { validate } from '../conditions/validate.js';
import { coerceValue } from '../contacts/coerce.js';

export interface EvaluateDocument {
  /** The standard attributes, with the document's own entries added (or replacing a standard one). */
  readonly schema: Schema;
  readonly timeZone: string;
  readonly now: number;
  readonly contacts: readonly DocumentContact[];
  readonly condition: Condition;
}

export interface DocumentContact {
  /** As written: a text or a number. */
  readonly id: string | number;
  readonly values: Record<string, StoredValue>;
}

export type DocumentResult = { ok: true; document: EvaluateDocument } | { ok: false; issues: ValidationIssue[] };

const TOP_KEYS = new Set(['schema', 'timezone', 'now', 'contacts', 'condition']);
const SEGMENTS_DEF: AttributeDef = { key: SEGMENTS_FIELD, type: 'list' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `clock` gives `now` when the document has none. */
export function readDocument(document: unknown, clock: () => number = Date.now): DocumentResult {
  const issues: ValidationIssue[] = [];
  if (!isObject(document)) return { ok: false, issues: [{ path: '', message: 'expected a JSON object with schema, timezone, now, contacts and condition' }] };
  for (const k of Object.keys(document)) {
    if (!TOP_KEYS.has(k)) issues.push({ path: k, message: `unknown field "${k}"; a document has schema, timezone, now, contacts, condition` });
  }
  // An optional field given as null is taken as not given.
  const input = Object.fromEntries(Object.entries(document).filter(([k, v]) => v !== null || k === 'condition'));

  const schema = readSchema(input.schema, issues);

  let timeZone = 'UTC';
  if (input.timezone !== undefined) {
    const zone = canonicalTimeZone(input.timezone);
    if (zone === null) issues.push({ path: 'timezone', message: `expected an IANA time zone name such as "UTC" or "America/New_York", not ${JSON.stringify(input.timezone)}` });
    else timeZone = zone;
  }

  let now = clock();
  if (input.now !== undefined) {
    const ms = typeof input.now === 'string' ? parseDataInstant(input.now) : null;
    if (ms === null) issues.push({ path: 'now', message: `expected an ISO-8601 instant with Z or an offset, such as "2025-11-03T14:30:00Z", not ${JSON.stringify(input.now)}` });
    else now = ms;
  }

  const contacts = readContacts(input.contacts, schema, timeZone, issues);

  let condition: Condition | null = null;
  if (!('condition' in input)) {
    issues.push({ path: 'condition', message: 'a document needs a condition' });
  } else {
    const result = validate(schema, input.condition, { segments: 'list' });
    if (result.ok) condition = result.condition;
    else for (const i of result.issues) issues.push({ path: i.path ? `condition.${i.path}` : 'condition', message: i.message });
  }

  if (issues.length > 0 || !condition) return { ok: false, issues };
  return { ok: true, document: { schema, timeZone, now, contacts, condition } };
}

function readSchema(input: unknown, issues: ValidationIssue[]): AttributeDef[] {
  const byKey = new Map<string, AttributeDef>(STANDARD_ATTRIBUTES.map((a) => [a.key, a]));
  byKey.set(SEGMENTS_FIELD, SEGMENTS_DEF);
  if (input === undefined) return [...byKey.values()];
  if (!Array.isArray(input)) {
    issues.push({ path: 'schema', message: 'expected an array of attributes {"key", "type", "options"?}' });
    return [...byKey.values()];
  }
  const declared = new Map<string, number>();
  input.forEach((entry, i) => {
    const path = `schema[${i}]`;
    const def = validateAttributeDef(entry, path, issues);
    if (!def) return;
    const first = declared.get(def.key);
    if (first !== undefined) {
      issues.push({ path: `${path}.key`, message: `"${def.key}" is declared twice (schema[${first}])` });
      return;
    }
    declared.set(def.key, i);
    if (def.key === SEGMENTS_FIELD) {
      if (def.type !== 'list') issues.push({ path: `${path}.type`, message: '"segments" is the list of segment ids a contact belongs to' });
      return;
    }
    if (RESERVED_KEYS.has(def.key)) {
      issues.push({ path: `${path}.key`, message: `"${def.key}" is reserved` });
      return;
    }
    // A document may restate a standard attribute (as the examples do), and its entry is used —
    // with its own label, enabled, and an enum's options — but its type is the contract's.
    const standard = STANDARD_ATTRIBUTES.find((a) => a.key === def.key);
    if (standard && standard.type !== def.type) {
      issues.push({ path: `${path}.type`, message: `"${def.key}" is a standard attribute of type ${standard.type}` });
      return;
    }
    byKey.set(def.key, def);
  });
  return [...byKey.values()];
}

function readContacts(input: unknown, schema: Schema, timeZone: string, issues: ValidationIssue[]): DocumentContact[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) {
    issues.push({ path: 'contacts', message: 'expected an array of contacts: {"id": …, attribute: value, …}' });
    return [];
  }
  const defs = new Map(schema.map((a) => [a.key, a]));
  const ids = new Map<string, number>();
  const contacts: DocumentContact[] = [];
  input.forEach((raw, i) => {
    const path = `contacts[${i}]`;
    if (!isObject(raw)) {
      issues.push({ path, message: 'expected a contact: an object with an "id" and its attributes by key' });
      return;
    }
    const id = raw.id;
    if (!((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id)))) {
      issues.push({ path: `${path}.id`, message: 'expected a non-empty text or a number' });
      return;
    }
    // As for every text: the SQL evaluators store the id, and a store refuses these.
    const unstorable = typeof id === 'string' ? unstorableText(id) : null;
    if (unstorable !== null) {
      issues.push({ path: `${path}.id`, message: unstorable });
      return;
    }
    const first = ids.get(String(id));
    if (first !== undefined) issues.push({ path: `${path}.id`, message: `id ${JSON.stringify(id)} repeats contacts[${first}]` });
    ids.set(String(id), i);
    const values: Record<string, StoredValue> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key === 'id') continue;
      const def = defs.get(key);
      if (!def) {
        issues.push({ path: `${path}.${key}`, message: `unknown attribute "${key}": declare it in the schema` });
        continue;
      }
      const coerced = coerceValue(def, value, timeZone);
      if (!coerced.ok) issues.push({ path: `${path}.${key}`, message: coerced.message });
      else if (coerced.value !== null) values[key] = coerced.value;
    }
    contacts.push({ id: id as string | number, values });
  });
  return contacts;
}
