// The path of one write: coerce to the schema, merge with the stored contact, write the row, and
// in the same transaction bring every segment's membership, events and counts up to date.
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValue, StoredValues } from '../conditions/contact-values.js';
import type { Schema } from '../conditions/types.js';
import { readContactInput } from '../contacts/contact-input.js';
import { deleteContactRow, findContact, insertContact, newContactId, readContact, updateContact } from '../contacts/contact-store.js';
import type { StoredContact } from '../contacts/contact-store.js';
import type { ContactSink, RowOutcome } from '../contacts/import/contact-sink.js';
import type { Database } from '../db/database.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput, NotFound } from '../errors.js';
import { CountDeltas, storedMembership, updateMembership, writeDiff } from './membership-writer.js';
import type { WorkspaceState, WorkspaceStates } from './workspace-state.js';

export type Clock = () => number;

export class ContactWrites implements ContactSink {
  constructor(private readonly database: Database, private readonly states: WorkspaceStates, private readonly clock: Clock = Date.now) {}

  async schema(workspaceId: string): Promise<Schema> {
    return (await this.states.get(this.database.db, workspaceId)).schema;
  }

  /** Writes rows in one transaction; a row that does not fit is reported and writes nothing. */
  async writeBatch(workspaceId: string, rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<RowOutcome[]> {
    return writeTransaction(this.database, async (tx) => {
      await lockPendingJobs(tx, workspaceId);
      const state = await this.states.get(tx, workspaceId);
      const now = this.clock();
      const outcomes: RowOutcome[] = [];
      const counts = new CountDeltas();
      for (const row of rows) outcomes.push(await writeRow(tx, state, row, now, counts));
      await counts.flush(tx, workspaceId);
      return outcomes;
    });
  }

  /** One contact: created or updated (merged), or an `InvalidInput` naming each bad field. */
  async upsert(workspaceId: string, row: Readonly<Record<string, unknown>>): Promise<{ status: 'created' | 'updated' | 'unchanged'; id: string }> {
    const [outcome] = await this.writeBatch(workspaceId, [row]);
    if (outcome.status === 'rejected') throw new InvalidInput('invalid contact', outcome.errors);
    return outcome;
  }

  /** Deletes a contact; it leaves every segment it was in (an event each). */
  async delete(workspaceId: string, id: string): Promise<void> {
    await writeTransaction(this.database, async (tx) => {
      await lockPendingJobs(tx, workspaceId);
      const state = await this.states.get(tx, workspaceId);
      const contact = await findContact(tx, workspaceId, { id });
      if (!contact) throw new NotFound('contact', id);
      const current = await storedMembership(tx, workspaceId, contact.pk);
      const counts = new CountDeltas();
      await writeDiff(tx, state, contact, [], [...current.keys()], this.clock(), counts);
      await tx.deleteFrom('segment_builds').where('contact_pk', '=', contact.pk).execute();
      await deleteContactRow(tx, contact.pk);
      await counts.flush(tx, workspaceId);
    });
  }

  async get(workspaceId: string, id: string): Promise<(StoredContact & { segments: { id: string; since: number }[] }) | null> {
    const contact = await readContact(this.database.db, workspaceId, id);
    if (!contact) return null;
    const members = await storedMembership(this.database.db, workspaceId, contact.pk);
    return { ...contact, segments: [...members].map(([sid, since]) => ({ id: sid, since })).sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }
}

/** PostgreSQL: a backfill batch holds its job FOR UPDATE; taking the jobs first orders every write before or after a batch, with the same lock order (job, then contacts). */
export async function lockPendingJobs(tx: Tx, workspaceId: string | null): Promise<void> {
  if (dialectOf(tx) !== 'postgres') return;
  let q = tx.selectFrom('segment_jobs').select('id').where('status', '=', 'pending');
  if (workspaceId !== null) q = q.where('workspace_id', '=', workspaceId);
  await q.orderBy('id').forShare().execute();
}

async function writeRow(tx: Tx, state: WorkspaceState, row: Readonly<Record<string, unknown>>, now: number, counts: CountDeltas): Promise<RowOutcome> {
  const { id, changes, prepared, errors } = readContactInput(state.layout, row, state.timeZone);
  if (errors.length > 0) return { status: 'rejected', errors };

  const lookupText = (key: string) => (typeof changes[key] === 'string' && (changes[key] as string).trim() !== '' ? (changes[key] as string) : undefined);
  const existing = id !== undefined
    ? await findContact(tx, state.workspaceId, { id })
    : (await findContact(tx, state.workspaceId, { externalId: lookupText('external_id') })) ?? (await findContact(tx, state.workspaceId, { email: lookupText('email') }));

  const merged: Record<string, StoredValue> = Object.assign(Object.create(null) as Record<string, StoredValue>, existing?.values);
  for (const key of Object.keys(changes)) {
    const value = changes[key];
    if (value === null) delete merged[key]; else merged[key] = value;
  }
  if (existing && sameValues(existing.values, merged)) return { status: 'unchanged', id: existing.id };
  const written = existing
    ? await updateContact(tx, state.columns, state.workspaceId, existing, merged, now)
    : await insertContact(tx, state.columns, state.workspaceId, id ?? newContactId(), merged, now);
  // A new contact is its input, already prepared; an update is prepared from the merged values.
  await updateMembership(tx, state, written, existing ? prepareContact(state.layout, merged) : prepared, now, counts);
  return { status: existing ? 'updated' : 'created', id: written.id };
}

function sameValues(a: StoredValues, b: StoredValues): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}
