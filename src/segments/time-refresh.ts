// Time: a segment whose condition uses relative dates changes as time passes, with no write. Each
// evaluation stores, per contact, the earliest instant any result may flip (the compilers'
// horizon); the refresh re-evaluates exactly the contacts that are due, so its cost follows the
// contacts that change, not all contacts.
import { sql } from 'kysely';
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValues } from '../conditions/contact-values.js';
import type { Database } from '../db/database.js';
import { HORIZON_BUCKET_BITS } from '../db/migrations/0011-horizon-buckets.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { lockPendingJobs } from './contact-writes.js';
import { CountDeltas, updateMembership } from './membership-writer.js';
import type { WorkspaceStates } from './workspace-state.js';

/**
 * The horizons' index (contacts_horizon, migration 0011) is ordered by this bucket of 2^27 ms, then
 * by pk, so that new contacts append to it: the refresh names the bucket for the index to be used,
 * and reads every bucket up to `now`'s.
 */
const HORIZON_BUCKET = sql<number>`(c.next_change_ms >> ${sql.raw(String(HORIZON_BUCKET_BITS))})`;
const horizonBucket = (ms: number) => Math.floor(ms / 2 ** HORIZON_BUCKET_BITS);

/** The first `limit` contacts due at `now`, with their values, earliest horizon first. */
export function dueContacts(tx: Tx, now: number, limit: number) {
  return tx.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
    .select(['c.pk', 'c.id', 'c.workspace_id', 'd.document as attributes'])
    .where(HORIZON_BUCKET, '<=', horizonBucket(now)).where('c.next_change_ms', '<=', now)
    .orderBy('c.next_change_ms').limit(limit);
}

/** Re-evaluates contacts due at `now`, in batches; returns how many were re-evaluated. */
export async function refreshDue(database: Database, states: WorkspaceStates, now: number, batchSize = 1_000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await writeTransaction(database, async (tx) => {
      await lockPendingJobs(tx, null);
      let q = dueContacts(tx, now, batchSize);
      // The values must be the current ones: lock them; a contact being written is skipped (its writer re-evaluates it).
      if (dialectOf(tx) === 'postgres') q = q.forUpdate().skipLocked();
      const due = await q.execute();
      const counts = new Map<string, CountDeltas>();
      for (const c of due) {
        const state = await states.get(tx, c.workspace_id);
        const deltas = counts.get(c.workspace_id) ?? counts.set(c.workspace_id, new CountDeltas()).get(c.workspace_id)!;
        await updateMembership(tx, state, { pk: Number(c.pk), id: c.id }, prepareContact(state.layout, JSON.parse(c.attributes) as StoredValues), now, deltas);
      }
      for (const [workspaceId, deltas] of counts) await deltas.flush(tx, workspaceId);
      return due.length;
    });
    total += n;
    if (n < batchSize) return total;
  }
}
