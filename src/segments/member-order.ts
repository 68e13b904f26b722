// The segments' order of the stored membership, on SQLite a copy brought up to date after the
// write (migration 0010). segment_members holds each contact's memberships together, keyed
// (workspace, contact, segment), and is always current: every write changes it in its own
// transaction. segment_member_order holds the same rows keyed (workspace, segment, contact), for
// what reads a segment's members in order: the member list, a rebuild's comparison, the SQL of a
// condition on `segments`. A small write leaves that copy behind for its contact and lists the
// contact in segment_members_pending, with the segments the copy still has for it; the fold
// brings the copy (and segment_counts, which counts the copy) up to date for every listed contact,
// at once, later — `segments serve` every second, the worker's every pass, a write once FOLD_AFTER
// contacts are listed in its process, and every writer of the copy itself, first.
//
// So a reader needs no fold: a segment's members are its rows in the copy for the contacts not
// listed, and its rows in segment_members for the listed ones (membersOfSegment); a count is the
// stored one plus the listed contacts' changes (listedCountChanges). The copy agrees with
// segment_members for every contact not listed, and for every listed one once folded.
//
// Why: a write that moved a contact in or out of eleven segments changed eleven leaves of a table
// in segment order, each a page its commit wrote to the WAL (bench:write: the segment-order leaves
// were 11.6 of the 29 pages a write wrote). The fold changes the same leaves for many writes at
// once, after them.
//
// PostgreSQL keeps both orders as indexes of segment_members (a heap has no order of its own to
// move): segment_member_order is a view there, nothing is listed and the fold does nothing.
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { membersOfSegment } from '../conditions/compile-sql.js';
import { SQL_DIALECTS } from '../conditions/sql-dialect.js';
import { addToColumn, insertRows } from '../db/bulk-insert.js';
import { reusableQuery } from '../db/reusable-query.js';
import { unindexed } from '../db/unindexed.js';
import type { Database } from '../db/database.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';

/** A write that has listed this many contacts since the last fold (in this process) folds them. */
export const FOLD_AFTER = 64;
const PER_STATEMENT = 400;

const listedSinceFold = new Map<string, number>();

/** A contact whose member rows a write changed, and the segments it was a member of before that write. */
export interface ChangedMembers {
  readonly pk: number;
  readonly before: Iterable<string>;
}

/**
 * SQLite: lists contacts whose rows in segment_members this transaction changed (and not in
 * segment_member_order). A contact already listed keeps its first list of segments: the copy has
 * not moved since. Folds them all once FOLD_AFTER are listed. PostgreSQL: nothing to do.
 */
export async function listChangedMembers(tx: Tx, ws: string, contacts: readonly ChangedMembers[]): Promise<void> {
  if (dialectOf(tx) === 'postgres' || contacts.length === 0) return;
  await insertRows(tx, 'segment_members_pending', ['workspace_id', 'contact_pk', 'segments_before'],
    contacts.map((c) => [ws, c.pk, JSON.stringify([...c.before])]), { onConflictDoNothing: true });
  const listed = (listedSinceFold.get(ws) ?? 0) + contacts.length;
  listedSinceFold.set(ws, listed);
  if (listed >= FOLD_AFTER) await foldMemberOrder(tx, ws);
}

/**
 * SQLite: brings segment_member_order up to date for every listed contact of the workspace, and
 * clears the list; returns how many contacts it folded. Writers of segment_member_order call it
 * first, so that the copy is exact for the contacts they change. PostgreSQL: nothing to do.
 */
export async function foldMemberOrder(tx: Tx, ws: string): Promise<number> {
  if (dialectOf(tx) === 'postgres') return 0;
  listedSinceFold.set(ws, 0);
  const [{ n }] = await countListed(tx, ws);
  if (Number(n) === 0) return 0;
  const changes = await countChangesOfListed(tx, ws);
  for (const statement of foldStatements(ws)) await statement.execute(tx);
  await addToColumn(tx, 'segment_counts', { workspace_id: ws }, 'segment_id', 'member_count', [...changes].sort(([a], [b]) => (a < b ? -1 : 1)));
  await tx.deleteFrom('segment_members_pending').where('workspace_id', '=', ws).execute();
  return Number(n);
}

/**
 * SQLite: the listed contacts' rows of segment_members that the copy lacks (segment_id,
 * contact_pk): those not in the segments the copy has for the contact. CROSS JOIN keeps SQLite's
 * join order, the listed contacts first: without statistics it chose to walk the workspace's
 * segment_members and look each row up in the list. A segment id is found in the list as its
 * JSON string (ids are `seg_` and hex digits: nothing to escape), a text search; json_each parsed
 * the list again for each row (a fold of 64 contacts: 1.2 → 1.0 ms).
 */
const rowsTheCopyLacks = (ws: string) => sql`select m.segment_id, m.contact_pk from segment_members_pending p
  cross join segment_members m on m.workspace_id = p.workspace_id and m.contact_pk = p.contact_pk
  where p.workspace_id = ${ws} and instr(p.segments_before, '"' || m.segment_id || '"') = 0`;

/** SQLite: the copy's rows of the listed contacts that segment_members no longer has (segment_id, contact_pk). */
const rowsTheCopyHasInExcess = (ws: string) => sql`select j.value as segment_id, p.contact_pk from segment_members_pending p, json_each(p.segments_before) j
  where p.workspace_id = ${ws}
    and not exists (select 1 from segment_members m where m.workspace_id = p.workspace_id and m.contact_pk = p.contact_pk and m.segment_id = j.value)`;

/** The fold's set work: the rows the copy lacks inserted (in key order), then the rows in excess deleted, by key. */
export function foldStatements(ws: string): RawBuilder<unknown>[] {
  return [
    sql`insert or ignore into segment_member_order (workspace_id, segment_id, contact_pk)
      select ${ws}, segment_id, contact_pk from (${rowsTheCopyLacks(ws)}) order by segment_id, contact_pk`,
    sql`delete from segment_member_order where workspace_id = ${ws} and (segment_id, contact_pk) in (${rowsTheCopyHasInExcess(ws)})`,
  ];
}

/**
 * SQLite: per segment, what the listed contacts change in its count: +1 for each row the copy
 * lacks, −1 for each it has in excess. segment_counts counts the copy (a small write leaves both
 * to the fold), so a count read adds these, and the fold applies them. PostgreSQL: none.
 */
export async function listedCountChanges(db: Tx, ws: string): Promise<Map<string, number>> {
  if (dialectOf(db) === 'postgres') return new Map();
  const [{ n }] = await countListed(db, ws);
  return Number(n) === 0 ? new Map() : countChangesOfListed(db, ws);
}

/** SQLite: listedCountChanges (no zero among them), for a caller that knows contacts are listed: the fold has counted them. */
async function countChangesOfListed(db: Tx, ws: string): Promise<Map<string, number>> {
  const changes = new Map<string, number>();
  const { rows } = await sql<{ segment_id: string; change: number }>`select segment_id, sum(change) as change from (
      select segment_id, 1 as change from (${rowsTheCopyLacks(ws)})
      union all
      select segment_id, -1 from (${rowsTheCopyHasInExcess(ws)})
    ) group by segment_id`.execute(db);
  for (const r of rows) if (Number(r.change) !== 0) changes.set(r.segment_id, Number(r.change));
  return changes;
}

const countListed = reusableQuery((tx: Tx, ws: string) => tx.selectFrom('segment_members_pending').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', ws));

/** SQLite: deletes these (segment id, contact pk) rows of segment_member_order. */
export async function deleteOrderRows(tx: Tx, ws: string, rows: readonly (readonly [string, number])[]): Promise<void> {
  for (let i = 0; i < rows.length; i += PER_STATEMENT) {
    const chunk = rows.slice(i, i + PER_STATEMENT);
    await sql`delete from segment_member_order where workspace_id = ${ws} and (segment_id, contact_pk) in (values ${sql.join(chunk.map(([s, pk]) => sql`(${s}, ${pk})`))})`.execute(tx);
  }
}

/**
 * Deletes a segment's member rows. SQLite: segment_members is keyed by contact, so its rows are
 * found through the segment order, exact after the fold.
 */
export async function deleteSegmentMembers(tx: Tx, ws: string, segmentId: string): Promise<void> {
  if (dialectOf(tx) === 'postgres') {
    await tx.deleteFrom('segment_members').where('workspace_id', '=', ws).where('segment_id', '=', segmentId).execute();
    return;
  }
  await foldMemberOrder(tx, ws);
  await sql`delete from segment_members where workspace_id = ${ws} and segment_id = ${segmentId}
    and contact_pk in (select contact_pk from segment_member_order where workspace_id = ${ws} and segment_id = ${segmentId})`.execute(tx);
  await tx.deleteFrom('segment_member_order').where('workspace_id', '=', ws).where('segment_id', '=', segmentId).execute();
}

/** Rows in segment_member_order's key order (segment id, contact pk): one segment's leaves one after another. */
export const byKey = (a: readonly [string, number, ...unknown[]], b: readonly [string, number, ...unknown[]]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]);

/** The worker's pass: folds every workspace that has contacts listed, each in a transaction; returns how many contacts. */
export async function foldAllMemberOrders(database: Database): Promise<number> {
  if (database.dialect === 'postgres') return 0;
  const rows = await database.db.selectFrom('segment_members_pending').select('workspace_id').distinct().execute();
  let folded = 0;
  for (const { workspace_id: ws } of rows) folded += await writeTransaction(database, (tx) => foldMemberOrder(tx, ws));
  return folded;
}

/**
 * The workspace test of a read of contacts' memberships from segment_members. SQLite: its key
 * begins (workspace, contact), the order such a read follows. PostgreSQL: kept off the
 * (workspace, segment, contact) key, which would walk the workspace's members (unindexed.ts).
 */
export function byContactWorkspace(dialect: 'sqlite' | 'postgres', column: string): RawBuilder<string> {
  return dialect === 'postgres' ? unindexed(dialect, column) : sql<string>`${sql.ref(column)}`;
}

/**
 * The members of one segment, a page in contact order after `afterPk`, each with its contact id
 * and since (from segment_members: the copy holds keys alone). See membersOfSegment.
 */
export function memberPage(tx: Tx, ws: string, segmentId: string, afterPk: number, limit: number) {
  const d = SQL_DIALECTS[dialectOf(tx)];
  const page = sql`${membersOfSegment(d, d.text(ws), (column) => sql`${column} = ${d.text(segmentId)}`, afterPk)} order by 1 limit ${d.integer(limit)}`;
  return sql<{ contact_pk: number | string; id: string; since_ms: number | string }>`select x.contact_pk, c.id, m.since_ms from (${page}) x
    join segment_members m on m.workspace_id = ${d.text(ws)} and m.contact_pk = x.contact_pk and m.segment_id = ${d.text(segmentId)}
    join contacts c on c.pk = x.contact_pk
    order by x.contact_pk`.execute(tx);
}
