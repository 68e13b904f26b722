// An in-memory ContactSink for tests: it behaves like the contact store as far as an import can
// tell (upsert by id, else external_id, else email; values coerced with `coerceValue`; `null`
// removes; a row with a bad value is rejected whole, naming the attribute).
import type { StoredValue } from '../../../conditions/contact-values.js';
import { STANDARD_ATTRIBUTES } from '../../../conditions/schema.js';
import type { AttributeDef, Schema } from '../../../conditions/types.js';
import { coerceValue } from '../../coerce.js';
import { rowValues } from '../contact-sink.js';
import type { ContactSink, RowOutcome, SinkRow } from '../contact-sink.js';

export type StoredContact = Record<string, StoredValue>;

export class MemorySink implements ContactSink {
  readonly contacts = new Map<string, StoredContact>();
  /** The size of every batch written, in order. */
  readonly batches: number[] = [];
  private readonly defs: ReadonlyMap<string, AttributeDef>;
  private readonly byExternalId = new Map<string, string>();
  private readonly byEmail = new Map<string, string>();
  private nextId = 1;

  constructor(custom: Schema = [], private readonly timeZone = 'UTC') {
    this.defs = new Map([...STANDARD_ATTRIBUTES, ...custom].map((d) => [d.key, d]));
  }

  async schema(): Promise<Schema> {
    return [...this.defs.values()];
  }

  async writeBatch(_workspaceId: string, rows: ReadonlyArray<SinkRow>): Promise<RowOutcome[]> {
    this.batches.push(rows.length);
    return rows.map((row) => this.write(rowValues(row)));
  }

  /** All contacts, keyed by id, in a stable order: what "the same state" compares. */
  state(): Record<string, StoredContact> {
    return Object.fromEntries([...this.contacts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  private write(row: Readonly<Record<string, unknown>>): RowOutcome {
    const errors: { path: string; message: string }[] = [];
    const values: Record<string, StoredValue | null> = {};
    for (const [key, raw] of Object.entries(row)) {
      if (key === 'id') {
        if (typeof raw !== 'string' || raw.trim() === '') errors.push({ path: 'id', message: 'expected a non-empty text' });
        continue;
      }
      const def = this.defs.get(key);
      if (!def) {
        errors.push({ path: key, message: 'unknown attribute' });
        continue;
      }
      const coerced = coerceValue(def, raw, this.timeZone);
      if (coerced.ok) values[key] = coerced.value;
      else errors.push({ path: key, message: coerced.message });
    }
    if (errors.length > 0) return { status: 'rejected', errors };

    const givenId = row.id as string | undefined;
    const id =
      givenId ??
      (typeof values.external_id === 'string' ? this.byExternalId.get(values.external_id) : undefined) ??
      (typeof values.email === 'string' ? this.byEmail.get(values.email) : undefined);
    const existing = id === undefined ? undefined : this.contacts.get(id);
    const next: StoredContact = { ...existing };
    for (const [key, value] of Object.entries(values)) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    const contactId = id ?? `n${this.nextId++}`;
    if (existing) {
      this.unindex(contactId, existing);
      this.index(contactId, next);
      this.contacts.set(contactId, next);
      return { status: same(existing, next) ? 'unchanged' : 'updated', id: contactId };
    }
    this.index(contactId, next);
    this.contacts.set(contactId, next);
    return { status: 'created', id: contactId };
  }

  private index(id: string, contact: StoredContact): void {
    if (typeof contact.external_id === 'string') this.byExternalId.set(contact.external_id, id);
    if (typeof contact.email === 'string') this.byEmail.set(contact.email, id);
  }

  private unindex(id: string, contact: StoredContact): void {
    if (typeof contact.external_id === 'string' && this.byExternalId.get(contact.external_id) === id) this.byExternalId.delete(contact.external_id);
    if (typeof contact.email === 'string' && this.byEmail.get(contact.email) === id) this.byEmail.delete(contact.email);
  }
}

function same(a: StoredContact, b: StoredContact): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => k in b && JSON.stringify(a[k]) === JSON.stringify(b[k]));
}
