// A row drafted as a new contact's write, away from the writer (the import's worker thread,
// drafting-worker.ts): what the write path computes for a contact that is not stored yet — its
// values coerced, the contacts row's slot values, its document, list values, the segments it
// enters, the definitions being rebuilt that it meets, and when its membership may next change with
// time — from the row alone, at a given `now`.
//
// The writer (contact-batch.ts) uses a draft only for a row that turns out to be a new contact —
// it names no contact stored or written earlier in its batch — written at the same `now` under the
// same workspace configuration (the version compiled from; every change of schema, time zone or
// definition bumps it). Any other row it writes from the row's values as usual; a later row that
// names a drafted contact updates it from the values the draft wrote. So a draft is the
// very computation the writer would make, done earlier on the other core: a test imports the same
// files both ways and compares the stores.
import { fold } from '../conditions/fold.js';
import type { StoredValue } from '../conditions/contact-values.js';
import { listValuesOf, slotValuesOf } from '../contacts/contact-columns.js';
import { readContactInput } from '../contacts/contact-input.js';
import type { ContactInput } from '../contacts/contact-input.js';
import { evaluateSegments, meetsBuildingDefinition } from './membership-writer.js';
import type { WorkspaceState } from './workspace-state.js';

export interface NewContactDraft {
  readonly configVersion: number;
  readonly now: number;
  readonly id: string | undefined;
  /** The keys it is looked up by, folded: external id, then e-mail (when it has no id). */
  readonly externalIdKey: string | undefined;
  readonly emailKey: string | undefined;
  /** Its values as contact_documents keeps them (JSON). */
  readonly document: string;
  /** The contacts row's slot values, in the storage plan's column order. */
  readonly slots: readonly (string | number | null)[];
  /** List values, flat: attribute, value, attribute, value… */
  readonly lists: readonly string[];
  /**
   * The segments it enters, by their position in the compiled workspace's `segments` (the
   * configuration version says which): numbers cross to the writer cheaper than ids, and the
   * writer then holds the workspace's own id strings, which every Map and Set it puts them in
   * has hashed already.
   */
  readonly members: readonly number[];
  /** The segments being rebuilt whose next definitions it meets (a rebuild's scan may have passed its pk). */
  readonly meetsBuilding: readonly string[];
  /** When its membership may next change with time; null: never. */
  readonly nextChange: number | null;
}

/** A lookup text folded, as contacts are looked up by it. */
export function lookupKey(text: string | undefined): string | undefined {
  return text === undefined ? undefined : fold(text);
}

/** A text that JSON writes as it is, between quotes: printable ASCII but `"` and `\\`. */
const PLAIN_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON.stringify of a stored value; a plain text or a number without its call (most of a document's values). */
function jsonOf(value: StoredValue): string {
  if (typeof value === 'string') return PLAIN_TEXT.test(value) ? `"${value}"` : JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return JSON.stringify(value);
}

/**
 * A new contact's document: JSON.stringify of its values (the input's, removals left out), in the
 * input's order, written without building the record (a dictionary: its JSON.stringify takes V8's
 * slow path, 10% of an import's reading thread) and without a call of JSON.stringify for each
 * plain value (with the structured clone that sends it, 9.2 → 8.9 µs a row of the bench file). Attribute keys need no escape.
 */
export function documentOf({ keys, values }: Pick<ContactInput, 'keys' | 'values'>): string {
  const members: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const value = values[i];
    if (value !== null) members.push(`"${keys[i]}":${jsonOf(value)}`);
  }
  return `{${members.join(',')}}`;
}

/** The row's write as a new contact at `now`, from its keys and their values; undefined when it does not fit (the writer reports why). */
export function draftNewContact(state: WorkspaceState, keys: readonly string[], values: readonly unknown[], now: number): NewContactDraft | undefined {
  const input = readContactInput(state.layout, keys, values, state.timeZone);
  if (input.errors.length > 0) return undefined;
  const { prepared } = input;
  const { members, nextChange } = evaluateSegments(state, prepared, () => false, now);
  const positions: number[] = [];
  for (let i = 0; i < state.segments.length; i++) if (members.has(state.segments[i].id)) positions.push(i);
  const meetsBuilding: string[] = [];
  if (state.building.length > 0) {
    const memberIds = [...members];
    for (const s of state.building) if (meetsBuildingDefinition(state, s, prepared, memberIds, now)) meetsBuilding.push(s.id);
  }
  const plan = state.storage;
  return {
    configVersion: state.configVersion, now, id: input.id,
    externalIdKey: lookupKey(input.externalId), emailKey: lookupKey(input.email),
    document: documentOf(input),
    slots: slotValuesOf(plan, prepared),
    lists: listValuesOf(plan, state.layout, prepared),
    members: positions, meetsBuilding,
    nextChange: Number.isFinite(nextChange) ? nextChange : null,
  };
}
