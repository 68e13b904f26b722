// One contact as a client sends it (API body, import row) turned, in one pass, into what the store
// keeps and what the predicates read: coerced values, and the same values prepared in the
// workspace's layout. One pass because a write pays it once per contact, and bench:eval measured
// a second walk over a keyed record at about as much as the coercion itself.
import { prepareValue } from '../conditions/contact-values.js';
import type { ContactLayout, PreparedContact, StoredValue } from '../conditions/contact-values.js';
import { unstorableText } from '../conditions/fold.js';
import { SEGMENTS_FIELD } from '../conditions/schema.js';
import type { ValidationIssue } from '../conditions/types.js';
import { Rejection, coerce } from './coerce.js';

export const MAX_ID_LENGTH = 255;

export interface ContactInput {
  /** The contact's id when the input names one. */
  readonly id: string | undefined;
  /** The attribute keys it writes, in the input's order, and their coerced values beside them, `null` for a removal. */
  readonly keys: readonly string[];
  readonly values: readonly (StoredValue | null)[];
  /** The external id and the e-mail it gives, when they are non-blank texts: contacts are looked up by them. */
  readonly externalId: string | undefined;
  readonly email: string | undefined;
  /** Its values prepared in the layout (a removal is missing): the whole contact when it is new. */
  readonly prepared: PreparedContact;
  /** Every field that does not fit, by path; when there are any, nothing may be written. */
  readonly errors: ValidationIssue[];
}

/**
 * Reads one input row, its keys and their values side by side, against the workspace's layout,
 * whose dates without a time read in `timeZone`. Keys and values, not a record: an import reads
 * its rows so (row-sources.ts), and keyed reads and writes of records were 15% of its reading thread.
 */
export function readContactInput(layout: ContactLayout, inputKeys: readonly string[], inputValues: readonly unknown[], timeZone: string): ContactInput {
  const { attributes, index } = layout;
  const keys: string[] = [];
  const values: (StoredValue | null)[] = [];
  const prepared: PreparedContact = new Array(attributes.length).fill(undefined);
  const errors: ValidationIssue[] = [];
  let id: string | undefined, externalId: string | undefined, email: string | undefined;
  for (let i = 0; i < inputKeys.length; i++) {
    const key = inputKeys[i];
    const raw = inputValues[i];
    if (key === 'id') {
      if (raw === undefined || raw === null || raw === '') continue;
      if (typeof raw !== 'string' || raw.length > MAX_ID_LENGTH || unstorableText(raw) || raw.trim() !== raw) {
        errors.push({ path: 'id', message: `expected a text id of 1 to ${MAX_ID_LENGTH} characters without surrounding white space` });
      } else id = raw;
      continue;
    }
    if (key === SEGMENTS_FIELD) { errors.push({ path: key, message: 'segments is computed from the definitions and cannot be written' }); continue; }
    const at = index.get(key);
    if (at === undefined) { errors.push({ path: key, message: `unknown attribute "${key}"` }); continue; }
    if (raw === undefined) continue;
    const def = attributes[at];
    const coerced = coerce(def, raw, timeZone);
    if (coerced instanceof Rejection) { errors.push({ path: key, message: coerced.message }); continue; }
    keys.push(key);
    values.push(coerced);
    prepared[at] = prepareValue(def.type, coerced);
    if (typeof coerced === 'string' && (key === 'external_id' || key === 'email') && coerced.trim() !== '') {
      if (key === 'email') email = coerced; else externalId = coerced;
    }
  }
  return { id, keys, values, externalId, email, prepared, errors };
}

/** `readContactInput` of a record (an API body, a row read again from its JSON). */
export function readContactRecord(layout: ContactLayout, input: Readonly<Record<string, unknown>>, timeZone: string): ContactInput {
  const keys = Object.keys(input);
  return readContactInput(layout, keys, keys.map((key) => input[key]), timeZone);
}
