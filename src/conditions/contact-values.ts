// What a predicate reads: a contact's values prepared once per write (text folded, missing values
// made undefined), in an array laid out by a `ContactLayout`. Preparing once lets every segment's
// predicate be a handful of comparisons.
import { fold, isBlank } from './fold.js';
import { SEGMENTS_FIELD } from './schema.js';
import type { AttributeDef, AttributeType, Schema } from './types.js';

/**
 * A contact's stored values by key, as ingest leaves them: text and enum as strings (text as given,
 * blank allowed), numbers, dates as UTC milliseconds, booleans, lists as arrays of strings.
 * Absent or null is missing.
 */
export type StoredValues = Readonly<Record<string, StoredValue | null | undefined>>;
export type StoredValue = string | number | boolean | readonly string[];

/** A prepared value: folded text, number, ms, boolean, folded list; undefined when missing. */
export type PreparedValue = string | number | boolean | readonly string[] | undefined;
export type PreparedContact = PreparedValue[];

export interface ContactLayout {
  readonly attributes: readonly AttributeDef[];
  /** Position of each attribute key in a prepared contact. `segments` is always present, as a list. */
  readonly index: ReadonlyMap<string, number>;
}

export function createLayout(schema: Schema): ContactLayout {
  const attributes = schema.some((a) => a.key === SEGMENTS_FIELD)
    ? [...schema]
    : [...schema, { key: SEGMENTS_FIELD, type: 'list' as AttributeType }];
  return { attributes, index: new Map(attributes.map((a, i) => [a.key, i])) };
}

/** Turns one stored value into what the predicate compares; undefined when it is missing. */
export function prepareValue(type: AttributeType, value: StoredValue | null | undefined): PreparedValue {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'text':
    case 'enum':
      return isBlank(value as string) ? undefined : fold(value as string);
    case 'list': {
      const items = value as readonly string[];
      return items.length === 0 ? undefined : items.map(fold);
    }
    default:
      return value as number | boolean;
  }
}

export function prepareContact(layout: ContactLayout, values: StoredValues): PreparedContact {
  const { attributes, index } = layout;
  const out: PreparedContact = new Array(attributes.length).fill(undefined);
  // A contact holds a few of the schema's attributes: walk its own keys, not the schema's (a keyed
  // read per attribute on objects of many shapes is megamorphic, and most would find nothing).
  for (const key of Object.keys(values)) {
    const at = index.get(key);
    if (at !== undefined) out[at] = prepareValue(attributes[at].type, values[key]);
  }
  return out;
}

/** A stored value by key; own properties only, so an attribute named `constructor` is not Object's. */
export function storedValue(values: StoredValues, key: string): StoredValue | null | undefined {
  return Object.hasOwn(values, key) ? values[key] : undefined;
}
