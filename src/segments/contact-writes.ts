// Contact writes: a batch (or one upsert) coerced, merged with the stored contacts and written with
// every segment's membership, events and counts in the same transaction (contact-batch.ts); deletes.
import type { Schema } from '../conditions/types.js';
import { deleteContactRow, findContact } from '../contacts/contact-store.js';
import type { StoredContact } from '../contacts/contact-store.js';
import type { ContactSink, RowBatch, RowOutcome, SinkRow } from '../contacts/import/contact-sink.js';
import type { Database } from '../db/database.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput, NotFound } from '../errors.js';
import { writeContactBatch } from './contact-batch.js';
import type { DraftTally } from './contact-batch.js';
import { readContactProfile } from './contact-profile.js';
import { readInWorker } from './drafting-reader.js';
import type { DraftingReadOptions } from './drafting-reader.js';
import { GroupCommit } from './group-commit.js';
import { CountDeltas, storedMembership, writeDiff } from './membership-writer.js';
import type { WorkspaceStates } from './workspace-state.js';

export type Clock = () => number;

export class ContactWrites implements ContactSink {
  /** Single-contact writes (the API's), committed in groups: see group-commit.ts. */
  private readonly singles: GroupCommit;
  /** Of the rows imports read in a worker thread: written from their drafts, or read again here (drafting-reader.ts). */
  readonly drafts: DraftTally = { fromDraft: 0, readAgain: 0 };

  constructor(private readonly database: Database, private readonly states: WorkspaceStates, private readonly clock: Clock = Date.now) {
    this.singles = new GroupCommit(database, (tx, workspaceId, rows) => this.writeRows(tx, workspaceId, rows));
  }

  async schema(workspaceId: string): Promise<Schema> {
    return (await this.states.get(this.database.db, workspaceId)).schema;
  }

  /** Writes rows in one transaction, at `now` when given; a row that does not fit is reported and writes nothing. */
  async writeBatch(workspaceId: string, rows: ReadonlyArray<SinkRow>, options: { readonly now?: number } = {}): Promise<RowOutcome[]> {
    return writeTransaction(this.database, (tx) => this.writeRows(tx, workspaceId, rows, options.now));
  }

  /** An import's rows read and drafted in a worker thread, under the workspace's configuration now (drafting-reader.ts). */
  readInWorker(workspaceId: string, path: string, options: DraftingReadOptions): AsyncGenerator<RowBatch> {
    return readInWorker(async () => (await this.states.get(this.database.db, workspaceId)).config, this.clock, path, options);
  }

  /** One contact created or updated (merged); a row that does not fit is `rejected`, nothing written. */
  async writeOne(workspaceId: string, row: Readonly<Record<string, unknown>>): Promise<RowOutcome> {
    return this.singles.write({ workspaceId, row, mustExist: false });
  }

  /**
   * Changes an existing contact's values (the row names it by `id`), in the transaction that checks
   * that it exists: a contact deleted meanwhile is `NotFound`, never created again.
   */
  async patch(workspaceId: string, row: Readonly<Record<string, unknown>> & { readonly id: string }): Promise<RowOutcome> {
    return this.singles.write({ workspaceId, row, mustExist: true });
  }

  /** One contact: created or updated (merged), or an `InvalidInput` naming each bad field. */
  async upsert(workspaceId: string, row: Readonly<Record<string, unknown>>): Promise<{ status: 'created' | 'updated' | 'unchanged'; id: string }> {
    const outcome = await this.writeOne(workspaceId, row);
    if (outcome.status === 'rejected') throw new InvalidInput('invalid contact', outcome.errors);
    return outcome;
  }

  private async writeRows(tx: Tx, workspaceId: string, rows: ReadonlyArray<SinkRow>, now = this.clock()): Promise<RowOutcome[]> {
    await lockPendingJobs(tx, workspaceId);
    const state = await this.states.get(tx, workspaceId);
    const counts = new CountDeltas();
    const outcomes = await writeContactBatch(tx, state, rows, now, counts, this.drafts);
    await counts.flush(tx, workspaceId);
    return outcomes;
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
      await writeDiff(tx, state, contact, current.keys(), [], [...current.keys()], this.clock(), counts);
      await tx.deleteFrom('segment_builds').where('contact_pk', '=', contact.pk).execute();
      await deleteContactRow(tx, contact.pk);
      await counts.flush(tx, workspaceId);
    });
  }

  async get(workspaceId: string, id: string): Promise<(StoredContact & { segments: { id: string; since: number }[] }) | null> {
    const profile = await readContactProfile(this.database.db, workspaceId, id);
    if (!profile) return null;
    const { memberships, ...contact } = profile;
    return { ...contact, segments: [...memberships].map(([sid, since]) => ({ id: sid, since })).sort((a, b) => (a.id < b.id ? -1 : 1)) };
  }
}

/** PostgreSQL: a backfill batch holds its job FOR UPDATE; taking the jobs first orders every write before or after a batch, with the same lock order (job, then contacts). */
export async function lockPendingJobs(tx: Tx, workspaceId: string | null): Promise<void> {
  if (dialectOf(tx) !== 'postgres') return;
  let q = tx.selectFrom('segment_jobs').select('id').where('status', '=', 'pending');
  if (workspaceId !== null) q = q.where('workspace_id', '=', workspaceId);
  await q.orderBy('id').forShare().execute();
}
