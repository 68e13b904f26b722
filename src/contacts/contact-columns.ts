// Maps a workspace's attributes to the shared contacts table: each scalar attribute to a typed
// slot column, each list to rows of contact_list_values. Column names are produced here, from
// our own slot numbers, and never from user text.
import { prepareValue } from '../conditions/contact-values.js';
import type { ContactLayout, PreparedContact, PreparedValue } from '../conditions/contact-values.js';
import type { StoredValue, StoredValues } from '../conditions/contact-values.js';
import { unstorableText } from '../conditions/fold.js';
import { SEGMENTS_FIELD } from '../conditions/schema.js';
import { SLOT_COLUMN } from '../conditions/sql-layout.js';
import type { AttributeStorage, SqlColumnLayout } from '../conditions/sql-layout.js';
import type { AttributeDef, AttributeType, Schema } from '../conditions/types.js';
import { SLOT_COUNTS } from '../db/tables.js';
import type { SlotLetter } from '../db/tables.js';

export interface ColumnLayout extends SqlColumnLayout {
  /** The attributes in schema order, `segments` included, with their types. */
  readonly attributes: readonly AttributeDef[];
}

const LETTER: Readonly<Record<Exclude<AttributeType, 'list'>, SlotLetter>> = { text: 't', enum: 't', number: 'n', date: 'd', boolean: 'b' };

export class TooManyAttributes extends Error {
  readonly code = 'too_many_attributes';
  constructor(readonly attribute: string, readonly type: AttributeType, readonly limit: number) {
    super(`attribute "${attribute}" is one ${type} attribute too many: a workspace has at most ${limit} ${type === 'enum' || type === 'text' ? 'text and enum' : type} attributes`);
  }
}

export class InvalidStoredValue extends Error {
  readonly code = 'invalid_stored_value';
  constructor(readonly contactId: string, readonly attribute: string, message: string) {
    super(`contact ${JSON.stringify(contactId)}, attribute "${attribute}": ${message}`);
  }
}

/**
 * Assigns storage to every attribute: text and enum share the `t` slots, and each type takes its
 * slots in schema order. `segments` is a list unless the schema says otherwise.
 *
 * The assignment depends on the schema's order, so a stored workspace must keep each attribute's
 * slot once given (a later issue persists it); here it serves a schema known in full up front.
 */
export function assignColumns(schema: Schema): ColumnLayout {
  const attributes: AttributeDef[] = [...schema];
  if (!attributes.some((a) => a.key === SEGMENTS_FIELD)) attributes.push({ key: SEGMENTS_FIELD, type: 'list' });
  const used: Record<SlotLetter, number> = { t: 0, n: 0, d: 0, b: 0 };
  const storage = new Map<string, AttributeStorage>();
  for (const attribute of attributes) {
    if (storage.has(attribute.key)) throw new Error(`assignColumns: attribute "${attribute.key}" appears twice in the schema`);
    // `segments` becomes { kind: 'membership' } once membership has its own table (a later issue).
    if (attribute.type === 'list') {
      storage.set(attribute.key, { kind: 'list' });
      continue;
    }
    const letter = LETTER[attribute.type];
    if (!letter) throw new Error(`assignColumns: attribute "${attribute.key}" has unknown type ${JSON.stringify(attribute.type)}`);
    if (used[letter] === SLOT_COUNTS[letter]) throw new TooManyAttributes(attribute.key, attribute.type, SLOT_COUNTS[letter]);
    used[letter] += 1;
    const column = `${letter}${used[letter]}`;
    if (!SLOT_COLUMN.test(column)) throw new Error(`assignColumns: produced an invalid column name ${column}`);
    storage.set(attribute.key, { kind: 'column', column });
  }
  return { attributes, storage };
}

/** The values of one contacts row (without pk and timestamps, which the writer adds). */
export interface ContactRow {
  readonly workspace_id: string;
  readonly id: string;
  /** Slot column → value; a slot absent here is NULL. */
  readonly slots: Readonly<Record<string, string | number>>;
}

/** One element of a list attribute, as a contact_list_values row without its contact_pk. */
export interface ListValueRow {
  readonly attr: string;
  readonly value: string;
}

/**
 * The row to write for a contact, and its list rows. Slot values go through the predicate's own
 * `prepareValue`, so the SQL compares exactly what the predicate compares: folded text, NULL
 * for a missing value, one row per distinct folded list element (an empty list has none).
 */
export function contactRow(layout: ColumnLayout, workspaceId: string, id: string, stored: StoredValues): { contact: ContactRow; lists: ListValueRow[] } {
  const badId = unstorableText(id);
  if (badId) throw new InvalidStoredValue(id, 'id', badId);
  const slots: Record<string, string | number> = {};
  const lists: ListValueRow[] = [];
  for (const attribute of layout.attributes) {
    // Own properties only: a key such as `constructor` must not read Object.prototype.
    const raw = Object.hasOwn(stored, attribute.key) ? stored[attribute.key] : undefined;
    if (raw === null || raw === undefined) continue;
    checkShape(id, attribute, raw);
    const prepared = prepareValue(attribute.type, raw);
    if (prepared === undefined) continue;
    const where = layout.storage.get(attribute.key);
    if (where?.kind === 'list') {
      for (const value of new Set(prepared as readonly string[])) lists.push({ attr: attribute.key, value });
    } else if (where?.kind === 'column') {
      slots[where.column] = typeof prepared === 'boolean' ? (prepared ? 1 : 0) : (prepared as string | number);
    } else {
      throw new Error(`contactRow: attribute "${attribute.key}" has no storage in the layout`);
    }
  }
  return { contact: { workspace_id: workspaceId, id, slots }, lists };
}

/** Stored values come from ingest, already coerced; a wrong shape here is a caller's bug. */
function checkShape(id: string, attribute: AttributeDef, value: StoredValue): void {
  const bad = (expected: string) => {
    throw new InvalidStoredValue(id, attribute.key, `expected ${expected}, not ${JSON.stringify(value)}`);
  };
  switch (attribute.type) {
    case 'text': case 'enum':
      if (typeof value !== 'string') bad('a text');
      storable(id, attribute, value as string);
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) bad('a finite number');
      break;
    case 'date':
      // Dates are whole UTC milliseconds (a bigint column), within the range of a JavaScript Date.
      if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > 8.64e15) bad('a date as whole UTC milliseconds');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') bad('true or false');
      break;
    case 'list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) bad('an array of texts');
      for (const item of value as readonly string[]) storable(id, attribute, item);
      break;
  }
}

/** NUL and lone surrogates: a database would refuse or alter them, and then disagree with the predicate. */
function storable(id: string, attribute: AttributeDef, text: string): void {
  const problem = unstorableText(text);
  if (problem) throw new InvalidStoredValue(id, attribute.key, problem);
}

/**
 * Where each position of a prepared contact (`ContactLayout`) is stored: its slot column, or a
 * list (rows of contact_list_values), or nowhere (`segments`, which is membership). The write path
 * fills rows straight from the values it has already prepared for the predicates, so the SQL
 * compares exactly what the predicate compares without preparing each value twice.
 */
export interface PreparedStorage {
  /** The slot columns the layout uses, in layout order. */
  readonly columns: readonly string[];
  /** By layout position: the slot column, 'list', or null. */
  readonly at: ReadonlyArray<string | 'list' | null>;
}

export function preparedStorage(columns: ColumnLayout, layout: ContactLayout): PreparedStorage {
  const at = layout.attributes.map((a) => {
    if (a.key === SEGMENTS_FIELD) return null;
    const storage = columns.storage.get(a.key);
    if (!storage) throw new Error(`preparedStorage: attribute "${a.key}" has no storage`);
    return storage.kind === 'column' ? storage.column : storage.kind === 'list' ? 'list' : null;
  });
  return { columns: at.filter((c): c is string => c !== null && c !== 'list'), at };
}

/** A prepared contact's slot values, in `plan.columns` order. */
export function slotValuesOf(plan: PreparedStorage, prepared: PreparedContact): (string | number | null)[] {
  const out: (string | number | null)[] = [];
  for (let i = 0; i < plan.at.length; i++) {
    const column = plan.at[i];
    if (column !== null && column !== 'list') out.push(slotValue(prepared[i]));
  }
  return out;
}

/** A prepared contact's list values, flat: attribute, value, attribute, value…; each value once per attribute. */
export function listValuesOf(plan: PreparedStorage, layout: ContactLayout, prepared: PreparedContact): string[] {
  const out: string[] = [];
  for (let i = 0; i < plan.at.length; i++) {
    if (plan.at[i] !== 'list' || prepared[i] === undefined) continue;
    const attr = layout.attributes[i].key;
    for (const value of new Set(prepared[i] as readonly string[])) out.push(attr, value);
  }
  return out;
}

/** A slot's stored form of a prepared value: NULL when missing, booleans as 0/1. */
export function slotValue(value: PreparedValue): string | number | null {
  return value === undefined ? null : typeof value === 'boolean' ? (value ? 1 : 0) : (value as string | number);
}
