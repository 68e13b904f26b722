// Backfill: a new or edited dynamic definition is evaluated over every contact in batches (each
// its own short transaction, so writers are never kept waiting), into segment_builds. When the
// scan is complete, one transaction replaces the stored membership with the built one, emitting
// events for the net changes only; segments built on this one follow it in that transaction.
import { sql } from 'kysely';
import { compileSql } from '../conditions/compile-sql.js';
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValues } from '../conditions/contact-values.js';
import type { Condition } from '../conditions/types.js';
import type { Database } from '../db/database.js';
import { unindexed } from '../db/unindexed.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { bumpConfigVersion } from '../workspaces/config-version.js';
import { dependentsOf } from './dependencies.js';
import { lowerHorizonsInRange } from './backfill-horizons.js';
import { foldMemberOrder, writeSegmentOrder } from './member-order.js';
import { CountDeltas, updateMembership } from './membership-writer.js';
import type { WorkspaceState, WorkspaceStates } from './workspace-state.js';
import { appendEventsInSql, startAppending } from './event-feed.js';

export interface BackfillProgress {
  readonly segmentId: string;
  readonly processed: number;
  readonly total: number;
  readonly done: boolean;
}

export interface BackfillOptions {
  readonly batchSize?: number;
  readonly clock?: () => number;
  readonly onProgress?: (p: BackfillProgress) => void;
}

/** Runs pending backfill jobs (oldest first) until none is left. Returns how many completed. */
export async function runBackfills(database: Database, states: WorkspaceStates, options: BackfillOptions = {}): Promise<number> {
  let completed = 0;
  for (;;) {
    const job = await database.db.selectFrom('segment_jobs').select(['id']).where('status', '=', 'pending').orderBy('id').limit(1).executeTakeFirst();
    if (!job) return completed;
    while (!(await runBatch(database, states, Number(job.id), options))) { /* next batch */ }
    completed += 1;
  }
}

/** One batch of one job, in its own transaction. True when the job is finished (or gone). */
export async function runBatch(database: Database, states: WorkspaceStates, jobId: number, options: BackfillOptions = {}): Promise<boolean> {
  const now = (options.clock ?? Date.now)();
  return writeTransaction(database, async (tx) => {
    let q = tx.selectFrom('segment_jobs').selectAll().where('id', '=', jobId);
    if (dialectOf(tx) === 'postgres') q = q.forUpdate();
    const job = await q.executeTakeFirst();
    if (!job || job.status !== 'pending') return true;
    const ws = job.workspace_id;
    const state = await states.get(tx, ws);
    const segment = state.byId.get(job.segment_id);
    if (!segment?.building || segment.building.version !== job.version) {
      await tx.updateTable('segment_jobs').set({ status: 'cancelled', updated_ms: now }).where('id', '=', jobId).execute();
      return true;
    }
    try {
      const cursor = Number(job.cursor_pk);
      const total = Number(job.total) || Number((await tx.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('workspace_id', '=', ws).executeTakeFirstOrThrow()).n);
      // The SQL compiler agrees with the predicate, relative dates included (bound to this batch's
      // `now`); a definition with relative dates also keeps each contact's time horizon.
      const { condition, predicate } = segment.building;
      const range = await buildRangeInSql(tx, state, job.id as number, condition, cursor, options.batchSize ?? SQL_BATCH, now);
      if (range === null) {
        await complete(tx, states, job.id as number, ws, job.segment_id, job.version, now);
        options.onProgress?.({ segmentId: job.segment_id, processed: Number(job.processed), total, done: true });
        return true;
      }
      await lowerHorizonsInRange(tx, state, condition, predicate, cursor, range.lastPk, now);
      const processed = Number(job.processed) + range.scanned;
      await tx.updateTable('segment_jobs').set({ cursor_pk: range.lastPk, processed, total, updated_ms: now }).where('id', '=', jobId).execute();
      options.onProgress?.({ segmentId: job.segment_id, processed, total, done: false });
      return false;
    } catch (error) {
      // A database error (deadlock, lost connection) ends this transaction: let it roll back
      // (and be retried); only an error of the definition itself fails the build.
      if (isDatabaseError(error)) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      await tx.updateTable('segment_jobs').set({ status: 'failed', detail, updated_ms: now }).where('id', '=', jobId).execute();
      await tx.updateTable('segments').set({ status: 'failed', status_detail: detail }).where('workspace_id', '=', ws).where('id', '=', job.segment_id).execute();
      await bumpConfigVersion(tx, ws);
      return true;
    }
  });
}

const SQL_BATCH = 10_000; // contacts per transaction: a writer waits for at most one batch

/**
 * The next `batchSize` contacts after `cursor`, built in SQL: the matching ones inserted into the
 * job's build. Null when no contact is left; else how many were scanned and the last pk.
 */
async function buildRangeInSql(tx: Tx, state: WorkspaceState, jobId: number, condition: Condition, cursor: number, batchSize: number, now: number): Promise<{ scanned: number; lastPk: number } | null> {
  const ws = state.workspaceId;
  // Ranges of pk, not of this workspace's contacts: a pk range is read straight off the key, where
  // "the next N of this workspace" made SQLite walk the workspace index from its start every batch.
  const top = Number((await tx.selectFrom('contacts').select((eb) => eb.fn.max('pk').as('pk')).executeTakeFirstOrThrow()).pk ?? 0);
  if (cursor >= top) return null;
  const lastPk = Math.min(top, cursor + batchSize);
  const inRange = tx.selectFrom('contacts as c').where(unindexed(dialectOf(tx), 'c.workspace_id'), '=', ws).where('c.pk', '>', cursor).where('c.pk', '<=', lastPk);
  const scanned = Number((await inRange.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const matches = compileSql(condition, { dialect: dialectOf(tx), columns: state.columns, timeZone: state.timeZone, now, workspaceId: ws });
  await tx.insertInto('segment_builds').columns(['job_id', 'contact_pk'])
    .expression(inRange.select([sql<number>`cast(${jobId} as bigint)`.as('job_id'), 'c.pk']).where(matches))
    .onConflict((oc) => oc.doNothing()).execute();
  return { scanned, lastPk };
}

/**
 * Replaces the stored membership by the built one: net changes only, one event each. Set work in
 * SQL: only the pks that leave pass through memory (at 1M contacts, reading the 573k built pks
 * with their ids alone took 1.1 s, before every row went back as bound values).
 */
async function complete(tx: Tx, states: WorkspaceStates, jobId: number, ws: string, segmentId: string, version: number, now: number): Promise<void> {
  // segment_member_order exact first: the membership is compared in segment order, and written in both.
  await foldMemberOrder(tx, ws);
  const sqlite = dialectOf(tx) === 'sqlite';
  const { entered, left } = membershipChanges(tx, jobId, ws, segmentId);
  // Contacts deleted since they were staged have no row in contacts: no event, no member row.
  const existing = (changes: typeof entered | typeof left) => tx.selectFrom(changes.as('x')).innerJoin('contacts as c', 'c.pk', 'x.contact_pk').orderBy('x.contact_pk');
  // The pks that leave (none for a new segment) are deleted by key: a DELETE joined with the
  // difference could be planned by PostgreSQL as a nested loop rescanning it for every member.
  const leaving = (await tx.selectFrom(left.as('x')).select('x.contact_pk').execute()).map((r) => Number(r.contact_pk));
  // The contacts that enter, once, in a temporary table: the events, the member inserts and the
  // dependents each computed the difference again (SQLite, inactive_30d's 573k entering: 0.6 s each
  // time). With their ids, which the events give: read again from contacts, 0.3 s more.
  await sql`drop table if exists backfill_entered`.execute(tx);
  await sql`create temporary table backfill_entered as select contact_pk, contact_id from ${existing(entered).select(['x.contact_pk', 'c.id as contact_id'])} as e`.execute(tx);
  const enteredRows = () => tx.selectFrom(sql<{ contact_pk: number; contact_id: string }>`backfill_entered`.as('x'));
  // Read before the membership moves: the contacts that segments built on this one re-evaluate.
  const state = await states.get(tx, ws);
  const changed = dependentsOf(state.segments, segmentId).some((d) => d.kind === 'dynamic')
    ? [...await enteredRows().select('x.contact_pk').orderBy('x.contact_pk').execute(), ...await existing(left).select('x.contact_pk').execute()].map((r) => Number(r.contact_pk))
    : [];
  const constant = <T>(value: string | number, type: 'text' | 'integer' | 'bigint') => sql<T>`cast(${value} as ${sql.raw(type)})`;
  const end = await startAppending(tx, ws);
  const afterEntered = await appendEventsInSql(tx, ws, end, { type: 'segment.entered', segmentId, version },
    enteredRows().select(['x.contact_id', 'x.contact_pk as order_key']), now);
  await appendEventsInSql(tx, ws, afterEntered, { type: 'segment.left', segmentId, version }, existing(left).select(['c.id as contact_id', 'x.contact_pk as order_key']), now);
  const key = [constant<string>(ws, 'text').as('workspace_id'), constant<string>(segmentId, 'text').as('segment_id'), 'x.contact_pk'] as const;
  for (let i = 0; i < leaving.length; i += 500) {
    await tx.deleteFrom('segment_members').where('workspace_id', '=', ws).where('segment_id', '=', segmentId).where('contact_pk', 'in', leaving.slice(i, i + 500)).execute();
  }
  // SQLite: `or fail`, so no statement journal (bulk-insert.ts): the new rows land all over
  // segment_members, whose every touched page the journal would copy first.
  const insertMembers = tx.insertInto('segment_members').columns(['workspace_id', 'segment_id', 'contact_pk', 'since_ms'])
    .expression(enteredRows().select([...key, constant<number>(now, 'bigint').as('since_ms')]));
  await (sqlite ? insertMembers.orFail() : insertMembers).execute();
  // SQLite: the segment order (member-order.ts) written again whole from the build: the members now
  // are the built contacts that still exist. PostgreSQL: one table, both orders its indexes.
  if (sqlite) await writeSegmentOrder(tx, jobId, ws, segmentId);
  await sql`drop table backfill_entered`.execute(tx);
  const members = await tx.selectFrom('segment_member_order').select((eb) => eb.fn.countAll().as('n')).where('workspace_id', '=', ws).where('segment_id', '=', segmentId).executeTakeFirstOrThrow();
  const condition = await tx.selectFrom('segments').select('condition').where('workspace_id', '=', ws).where('id', '=', segmentId).executeTakeFirstOrThrow();
  await tx.updateTable('segments').set({ active_version: version, active_condition: condition.condition, status: 'ready', status_detail: null })
    .where('workspace_id', '=', ws).where('id', '=', segmentId).execute();
  await tx.updateTable('segment_counts').set({ member_count: Number(members.n) }).where('workspace_id', '=', ws).where('segment_id', '=', segmentId).execute();
  await tx.deleteFrom('segment_builds').where('job_id', '=', jobId).execute();
  await tx.updateTable('segment_jobs').set({ status: 'done', updated_ms: now }).where('id', '=', jobId).execute();
  await bumpConfigVersion(tx, ws);
  if (changed.length > 0) await followDependents(tx, states, ws, segmentId, changed, now);
}

/**
 * The pks built and not stored as members (entered), and stored and not built (left). Written as
 * EXCEPT, not as correlated NOT EXISTS: with the builds table's statistics stale (it fills during
 * the scan), PostgreSQL planned NOT EXISTS as a nested loop over every member of the segment per
 * built contact, quadratic; a set difference is one pass over each side on both dialects.
 */
function membershipChanges(tx: Tx, jobId: number, ws: string, segmentId: string) {
  const built = tx.selectFrom('segment_builds').select('contact_pk').where('job_id', '=', jobId);
  const stored = tx.selectFrom('segment_member_order').select('contact_pk').where('workspace_id', '=', ws).where('segment_id', '=', segmentId);
  return { entered: built.except(stored), left: stored.except(built) };
}

/**
 * Segments built on this one follow its new membership in the same transaction, so they are never
 * stale: every contact whose membership changed is re-evaluated (dependents in dependency order,
 * their pending builds re-staged) as a write would. Their definitions did not change, so no rebuild.
 */
async function followDependents(tx: Tx, states: WorkspaceStates, ws: string, segmentId: string, changed: readonly number[], now: number): Promise<void> {
  const state = await states.get(tx, ws);
  const counts = new CountDeltas();
  for (let i = 0; i < changed.length; i += 500) {
    const rows = await tx.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
      .select(['c.pk', 'c.id', 'd.document as attributes']).where('c.pk', 'in', changed.slice(i, i + 500)).execute();
    for (const r of rows) {
      const prepared = prepareContact(state.layout, JSON.parse(r.attributes) as StoredValues);
      await updateMembership(tx, state, { pk: Number(r.pk), id: r.id }, prepared, now, counts);
    }
  }
  await counts.flush(tx, ws);
}

/** PostgreSQL errors carry a five-character SQLSTATE; better-sqlite3's a SQLITE_* code. */
function isDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^[0-9A-Z]{5}$/.test(code) || code.startsWith('SQLITE_'));
}
