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
  /** Coerced values by key, `null` for a removal. A null-prototype record: keys are data, never Object's. */
  readonly changes: Record<string, StoredValue | null>;
  /** The keys of `changes`, in the input's order (Object.keys of a null-prototype record sorts them each time). */
  readonly keys: readonly string[];
  /** `changes` prepared in the layout (a removal is missing): the whole contact when it is new. */
  readonly prepared: PreparedContact;
  /** Every field that does not fit, by path; when there are any, nothing may be written. */
  readonly errors: ValidationIssue[];
}

/**
 * Reads one input row against the workspace's layout, whose dates without a time read in
 * `timeZone`; `inputKeys`, when the caller has them, are Object.keys(input).
 */
export function readContactInput(layout: ContactLayout, input: Readonly<Record<string, unknown>>, timeZone: string, inputKeys?: readonly string[]): ContactInput {
  const { attributes, index } = layout;
  const changes = Object.create(null) as Record<string, StoredValue | null>;
  const keys: string[] = [];
  const prepared: PreparedContact = new Array(attributes.length).fill(undefined);
  const errors: ValidationIssue[] = [];
  let id: string | undefined;
  for (const key of inputKeys ?? Object.keys(input)) {
    const raw = input[key];
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
    changes[key] = coerced;
    keys.push(key);
    prepared[at] = prepareValue(def.type, coerced);
  }
  return { id, changes, keys, prepared, errors };
}
