// Backfill: a new or edited dynamic definition is evaluated over every contact in batches (each
// its own short transaction, so writers are never kept waiting), into segment_builds. When the
// scan is complete, one transaction replaces the stored membership with the built one, emitting
// events for the net changes only; segments built on this one follow it in that transaction.
import { sql } from 'kysely';
import { compileSql } from '../conditions/compile-sql.js';
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValues } from '../conditions/contact-values.js';
import { isRelative } from '../conditions/date-interval.js';
import type { Condition } from '../conditions/types.js';
import type { Database } from '../db/database.js';
import { insertRows } from '../db/bulk-insert.js';
import { unindexed } from '../db/unindexed.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { bumpConfigVersion } from '../workspaces/workspace-store.js';
import { dependentsOf } from './dependencies.js';
import { CountDeltas, storedMembershipsInRange, updateMembership } from './membership-writer.js';
import type { WorkspaceState, WorkspaceStates } from './workspace-state.js';

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
  const batchSize = options.batchSize ?? 2_000;
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
      if (!usesRelativeDates(segment.building.condition)) {
        // Without relative dates no result ever changes with time (no horizon to keep): the batch
        // is one INSERT … SELECT through the SQL compiler, which agrees with the predicate.
        const done = await buildRangeInSql(tx, state, job.id as number, segment.building.condition, cursor, options.batchSize ?? SQL_BATCH, now);
        if (done === null) {
          await complete(tx, states, job.id as number, ws, job.segment_id, job.version, now);
          options.onProgress?.({ segmentId: job.segment_id, processed: Number(job.processed), total, done: true });
          return true;
        }
        const processed = Number(job.processed) + done.scanned;
        await tx.updateTable('segment_jobs').set({ cursor_pk: done.lastPk, processed, total, updated_ms: now }).where('id', '=', jobId).execute();
        options.onProgress?.({ segmentId: job.segment_id, processed, total, done: false });
        return false;
      }
      const rows = await tx.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
        .select(['c.pk', 'd.document as attributes']).where(unindexed(dialectOf(tx), 'c.workspace_id'), '=', ws).where('c.pk', '>', cursor)
        .orderBy('c.pk').limit(batchSize).execute();
      if (rows.length === 0) {
        await complete(tx, states, job.id as number, ws, job.segment_id, job.version, now);
        options.onProgress?.({ segmentId: job.segment_id, processed: Number(job.processed), total, done: true });
        return true;
      }
      const pks = rows.map((r) => Number(r.pk));
      const memberships = await storedMembershipsInRange(tx, ws, pks[0], pks[pks.length - 1]);
      const built: number[][] = [];
      const horizons: number[][] = [];
      for (const row of rows) {
        const pk = Number(row.pk);
        const prepared = prepareContact(state.layout, JSON.parse(row.attributes) as StoredValues);
        const others = (memberships.get(pk) ?? []).filter((id) => id !== segment.id);
        prepared[state.segmentsSlot] = others.length === 0 ? undefined : others;
        if (segment.building.predicate.test(prepared, now)) built.push([job.id as number, pk]);
        const horizon = segment.building.predicate.nextChange(prepared, now);
        if (Number.isFinite(horizon)) horizons.push([pk, horizon]);
      }
      await insertRows(tx, 'segment_builds', ['job_id', 'contact_pk'], built, { onConflictDoNothing: true });
      await lowerHorizons(tx, horizons);
      const processed = Number(job.processed) + rows.length;
      await tx.updateTable('segment_jobs').set({ cursor_pk: pks[pks.length - 1], processed, total, updated_ms: now }).where('id', '=', jobId).execute();
      options.onProgress?.({ segmentId: job.segment_id, processed, total, done: false });
      return false;
    } catch (error) {
      // A database error (deadlock, lost connection) ends this transaction: let it roll back
      // (and be retried); only an error of the definition itself fails the build.
      if (isDatabaseError(error)) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      await tx.updateTable('segment_jobs').set({ status: 'failed', detail, updated_ms: now }).where('id', '=', jobId).execute();
      await tx.updateTable('segments').set({ status: 'failed', status_detail: detail }).where('workspace_id', '=', ws).where('id', '=', job.segment_id).execute();
      return true;
    }
  });
}

const SQL_BATCH = 10_000; // contacts per transaction: a writer waits for at most one batch

function usesRelativeDates(condition: Condition): boolean {
  if (condition.kind === 'rule') return isRelative(condition);
  if (condition.kind === 'not') return usesRelativeDates(condition.child);
  return condition.children.some(usesRelativeDates);
}

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

/** Lowers each contact's stored horizon to the given instant where that is earlier: one statement per batch. */
async function lowerHorizons(tx: Tx, horizons: readonly number[][]): Promise<void> {
  for (let i = 0; i < horizons.length; i += 1_000) {
    const chunk = horizons.slice(i, i + 1_000);
    const values = sql.join(chunk.map(([pk, h]) => sql`(cast(${pk} as bigint), cast(${h} as bigint))`));
    await sql`update contacts set next_change_ms = v.column2 from (values ${values}) as v
      where contacts.pk = v.column1 and (contacts.next_change_ms is null or contacts.next_change_ms > v.column2)`.execute(tx);
  }
}

/** Replaces the stored membership by the built one: net changes only, one event each. */
async function complete(tx: Tx, states: WorkspaceStates, jobId: number, ws: string, segmentId: string, version: number, now: number): Promise<void> {
  const ids = new Map<number, string>();
  const built = new Set<number>(), stored = new Set<number>();
  for (const r of await tx.selectFrom('segment_builds as b').innerJoin('contacts as c', 'c.pk', 'b.contact_pk').select(['b.contact_pk', 'c.id']).where('b.job_id', '=', jobId).execute()) {
    built.add(Number(r.contact_pk));
    ids.set(Number(r.contact_pk), r.id);
  }
  for (const r of await tx.selectFrom('segment_members as m').innerJoin('contacts as c', 'c.pk', 'm.contact_pk').select(['m.contact_pk', 'c.id'])
    .where('m.workspace_id', '=', ws).where('m.segment_id', '=', segmentId).execute()) {
    stored.add(Number(r.contact_pk));
    ids.set(Number(r.contact_pk), r.id);
  }
  const entered = [...built].filter((pk) => !stored.has(pk)).sort((a, b) => a - b);
  const left = [...stored].filter((pk) => !built.has(pk)).sort((a, b) => a - b);
  await insertRows(tx, 'segment_members', ['workspace_id', 'segment_id', 'contact_pk', 'since_ms'], entered.map((pk) => [ws, segmentId, pk, now]));
  for (let i = 0; i < left.length; i += 500) {
    await tx.deleteFrom('segment_members').where('workspace_id', '=', ws).where('segment_id', '=', segmentId).where('contact_pk', 'in', left.slice(i, i + 500)).execute();
  }
  await insertRows(tx, 'segment_events', ['workspace_id', 'type', 'segment_id', 'segment_version', 'contact_id', 'at_ms'], [
    ...entered.map((pk) => [ws, 'segment.entered', segmentId, version, ids.get(pk)!, now]),
    ...left.map((pk) => [ws, 'segment.left', segmentId, version, ids.get(pk)!, now]),
  ]);
  const condition = await tx.selectFrom('segments').select('condition').where('workspace_id', '=', ws).where('id', '=', segmentId).executeTakeFirstOrThrow();
  await tx.updateTable('segments').set({ active_version: version, active_condition: condition.condition, status: 'ready', status_detail: null, member_count: built.size, updated_ms: now })
    .where('workspace_id', '=', ws).where('id', '=', segmentId).execute();
  await tx.deleteFrom('segment_builds').where('job_id', '=', jobId).execute();
  await tx.updateTable('segment_jobs').set({ status: 'done', updated_ms: now }).where('id', '=', jobId).execute();
  await bumpConfigVersion(tx, ws);
  if (entered.length + left.length > 0) await followDependents(tx, states, ws, segmentId, [...entered, ...left], now);
}

/**
 * Segments built on this one follow its new membership in the same transaction, so they are never
 * stale: every contact whose membership changed is re-evaluated (dependents in dependency order,
 * their pending builds re-staged) as a write would. Their definitions did not change, so no rebuild.
 */
async function followDependents(tx: Tx, states: WorkspaceStates, ws: string, segmentId: string, changed: readonly number[], now: number): Promise<void> {
  const state = await states.get(tx, ws);
  if (!dependentsOf(state.segments, segmentId).some((d) => d.kind === 'dynamic')) return;
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
