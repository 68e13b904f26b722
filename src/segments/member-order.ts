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
// On SQLite the copy is stored in blocks of 256 contact pks (segment_member_blocks, migration 0013):
// a row per segment and block with the members' offsets in the block; segment_member_order is a
// view that expands them, which every reader reads. Its writers change whole blocks
// (changeOrderRows): an import's batch of 1,000 new contacts rewrites ~240 blocks, where it had
// inserted ~9,600 rows.
//
// PostgreSQL keeps both orders as indexes of segment_members (a heap has no order of its own to
// move): segment_member_order is a view there, nothing is listed and the fold does nothing.
import { CompiledQuery, sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { membersOfSegment } from '../conditions/compile-sql.js';
import type { MemberBlocks } from '../conditions/compile-sql.js';
import { SQL_DIALECTS } from '../conditions/sql-dialect.js';
import { addToColumn, insertRows } from '../db/bulk-insert.js';
import { MEMBER_BLOCK_BITS } from '../db/migrations/0013-member-blocks.js';
import { reusableQuery } from '../db/reusable-query.js';
import { unindexed } from '../db/unindexed.js';
import type { Database } from '../db/database.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';

/** A write that has listed this many contacts since the last fold (in this process) folds them. */
export const FOLD_AFTER = 64;

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
  const lacks = (await rowsTheCopyLacks(ws).execute(tx)).rows.map((r) => [r.segment_id, Number(r.contact_pk)] as const);
  const excess = (await rowsTheCopyHasInExcess(ws).execute(tx)).rows.map((r) => [r.segment_id, Number(r.contact_pk)] as const);
  await changeOrderRows(tx, ws, lacks, excess);
  await addToColumn(tx, 'segment_counts', { workspace_id: ws }, 'segment_id', 'member_count', [...countChanges(lacks, excess)].sort(([a], [b]) => (a < b ? -1 : 1)));
  await tx.deleteFrom('segment_members_pending').where('workspace_id', '=', ws).execute();
  return Number(n);
}

/** Per segment, +1 for each row the copy lacks and −1 for each it has in excess; no zero among them. */
function countChanges(lacks: readonly (readonly [string, number])[], excess: readonly (readonly [string, number])[]): Map<string, number> {
  const changes = new Map<string, number>();
  for (const [segmentId] of lacks) changes.set(segmentId, (changes.get(segmentId) ?? 0) + 1);
  for (const [segmentId] of excess) changes.set(segmentId, (changes.get(segmentId) ?? 0) - 1);
  for (const [segmentId, change] of changes) if (change === 0) changes.delete(segmentId);
  return changes;
}

/**
 * SQLite: the listed contacts' rows of segment_members that the copy lacks (segment_id,
 * contact_pk): those not in the segments the copy has for the contact. CROSS JOIN keeps SQLite's
 * join order, the listed contacts first: without statistics it chose to walk the workspace's
 * segment_members and look each row up in the list. A segment id is found in the list as its
 * JSON string (ids are `seg_` and hex digits: nothing to escape), a text search; json_each parsed
 * the list again for each row (a fold of 64 contacts: 1.2 → 1.0 ms).
 */
export const rowsTheCopyLacks = (ws: string) => sql<{ segment_id: string; contact_pk: number }>`select m.segment_id, m.contact_pk from segment_members_pending p
  cross join segment_members m on m.workspace_id = p.workspace_id and m.contact_pk = p.contact_pk
  where p.workspace_id = ${ws} and instr(p.segments_before, '"' || m.segment_id || '"') = 0`;

/** SQLite: the copy's rows of the listed contacts that segment_members no longer has (segment_id, contact_pk). */
export const rowsTheCopyHasInExcess = (ws: string) => sql<{ segment_id: string; contact_pk: number }>`select j.value as segment_id, p.contact_pk from segment_members_pending p, json_each(p.segments_before) j
  where p.workspace_id = ${ws}
    and not exists (select 1 from segment_members m where m.workspace_id = p.workspace_id and m.contact_pk = p.contact_pk and m.segment_id = j.value)`;

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

/** SQLite: listedCountChanges, for a caller that knows contacts are listed. */
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

const BLOCK_SIZE = 2 ** MEMBER_BLOCK_BITS;
/** Blocks named per statement: two bound values each. */
const BLOCKS_PER_STATEMENT = 400;

interface BlockChange {
  readonly segmentId: string;
  readonly block: number;
  readonly add: number[];
  readonly remove: number[];
}

/**
 * SQLite: adds and removes rows of segment_member_order, each (segment id, contact pk). Every
 * block they fall in is read once, changed as text, and written whole: back, or deleted when no
 * member is left (migration 0013). The rows removed go first: a row both removed and added (a
 * contact that left a segment and came back) stays. Adding a row the order has, or removing one
 * it lacks, changes nothing.
 */
export async function changeOrderRows(tx: Tx, ws: string, added: Iterable<readonly [string, number]>, removed: Iterable<readonly [string, number]>): Promise<void> {
  // By segment, then block: no key text built per row (an import's batch changes ~9,600).
  const bySegment = new Map<string, Map<number, BlockChange>>();
  const changes: BlockChange[] = [];
  const change = (segmentId: string, pk: number): BlockChange => {
    const block = Math.floor(pk / BLOCK_SIZE);
    let blocks = bySegment.get(segmentId);
    if (blocks === undefined) bySegment.set(segmentId, (blocks = new Map()));
    let c = blocks.get(block);
    if (c === undefined) { blocks.set(block, (c = { segmentId, block, add: [], remove: [] })); changes.push(c); }
    return c;
  };
  for (const [segmentId, pk] of added) { const c = change(segmentId, pk); c.add.push(pk - c.block * BLOCK_SIZE); }
  for (const [segmentId, pk] of removed) { const c = change(segmentId, pk); c.remove.push(pk - c.block * BLOCK_SIZE); }
  if (changes.length === 0) return;
  // In the table's key order: each block written beside the last.
  changes.sort((a, b) => (a.segmentId < b.segmentId ? -1 : a.segmentId > b.segmentId ? 1 : a.block - b.block));
  const stored = new Map<string, string>();
  for (let i = 0; i < changes.length; i += BLOCKS_PER_STATEMENT) {
    for (const r of await readBlocks(tx, ws, changes.slice(i, i + BLOCKS_PER_STATEMENT))) stored.set(`${r.segment_id} ${r.block}`, r.offsets);
  }
  const written: [string, number, string][] = [];
  const emptied: BlockChange[] = [];
  for (const c of changes) {
    const before = stored.get(`${c.segmentId} ${c.block}`);
    const after = before === undefined ? newBlock(c.add) : changedBlock(before, c);
    if (after !== '[]') written.push([c.segmentId, c.block, after]);
    else if (before !== undefined) emptied.push(c);
  }
  await insertRows(tx, 'segment_member_blocks', ['segment_id', 'block', 'offsets'], written,
    { same: { workspace_id: ws }, onConflictUpdate: { key: ['workspace_id', 'segment_id', 'block'], set: ['offsets'] } });
  for (let i = 0; i < emptied.length; i += BLOCKS_PER_STATEMENT) {
    const { list, parameters } = blockValues(emptied.slice(i, i + BLOCKS_PER_STATEMENT));
    await tx.executeQuery(CompiledQuery.raw(`delete from segment_member_blocks where workspace_id = ? and (segment_id, block) in ${list}`, [ws, ...parameters]));
  }
}

/** The stored blocks among these. */
async function readBlocks(tx: Tx, ws: string, blocks: readonly BlockChange[]): Promise<{ segment_id: string; block: number; offsets: string }[]> {
  const { list, parameters } = blockValues(blocks);
  const text = `select segment_id, block, offsets from segment_member_blocks where workspace_id = ? and (segment_id, block) in ${list}`;
  return (await tx.executeQuery<{ segment_id: string; block: number; offsets: string }>(CompiledQuery.raw(text, [ws, ...parameters]))).rows;
}

/**
 * Blocks named in a statement, `(values (?, ?), …)`, and their values: a power-of-two count of
 * them (the last repeated), so that a few texts, prepared once, serve the group commit's many
 * small changes.
 */
function blockValues(blocks: readonly BlockChange[]): { list: string; parameters: unknown[] } {
  let size = 1;
  while (size < blocks.length) size *= 2;
  let list = valuesLists.get(size);
  if (list === undefined) valuesLists.set(size, (list = `(values ${Array(size).fill('(?, ?)').join(', ')})`));
  const parameters: unknown[] = [];
  for (let i = 0; i < size; i++) {
    const c = blocks[Math.min(i, blocks.length - 1)];
    parameters.push(c.segmentId, c.block);
  }
  return { list, parameters };
}
const valuesLists = new Map<number, string>();

/** A new block's offsets text: these, ascending, once each. */
function newBlock(offsets: readonly number[]): string {
  return `[${[...new Set(offsets)].sort((a, b) => a - b).join(',')}]`;
}

/**
 * A stored block's offsets text with the change made, as text (a small write changes a member or
 * two of a block of up to 256): what it removes taken out, what it adds put at the end (no reader
 * depends on the order).
 */
export function changedBlock(text: string, change: { readonly add: readonly number[]; readonly remove: readonly number[] }): string {
  let out = text;
  for (const offset of change.remove) {
    const at = offsetAt(out, offset);
    if (at < 0) continue;
    const end = at + String(offset).length;
    // The offset and a comma beside it: `[5,7]` → `[7]` or `[5]`; `[5]` → `[]`.
    out = out[end] === ',' ? out.slice(0, at) + out.slice(end + 1) : out[at - 1] === ',' ? out.slice(0, at - 1) + out.slice(end) : out.slice(0, at) + out.slice(end);
  }
  for (const offset of change.add) {
    if (offsetAt(out, offset) >= 0) continue;
    out = out === '[]' ? `[${offset}]` : `${out.slice(0, -1)},${offset}]`;
  }
  return out;
}

/** Where `offset` is in an offsets text (a whole number between `[` or `,` and `,` or `]`); -1 if it is not. */
function offsetAt(text: string, offset: number): number {
  const token = String(offset);
  for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) {
    const before = text[at - 1], after = text[at + token.length];
    if ((before === '[' || before === ',') && (after === ',' || after === ']')) return at;
  }
  return -1;
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
  await tx.deleteFrom('segment_member_blocks').where('workspace_id', '=', ws).where('segment_id', '=', segmentId).execute();
}

/**
 * SQLite: a segment's blocks written again whole when its build completes (backfill.ts): its
 * members are then its members that were built again, and the contacts that enter (the temporary
 * table backfill_entered). In SQL, one pass over each: a build of 573k members at 1M contacts
 * writes ~3,900 blocks.
 */
export async function writeSegmentOrder(tx: Tx, jobId: number, ws: string, segmentId: string): Promise<void> {
  const bits = sql.raw(String(MEMBER_BLOCK_BITS));
  await sql`drop table if exists backfill_blocks`.execute(tx);
  await sql`create temporary table backfill_blocks as
    select contact_pk >> ${bits} as block, json_group_array(contact_pk & ${sql.raw(String(BLOCK_SIZE - 1))}) as offsets from (
      select o.contact_pk from segment_member_order o where o.workspace_id = ${ws} and o.segment_id = ${segmentId}
        and o.contact_pk in (select b.contact_pk from segment_builds b where b.job_id = ${jobId})
      union all
      select e.contact_pk from backfill_entered e
      order by 1)
    group by 1`.execute(tx);
  await tx.deleteFrom('segment_member_blocks').where('workspace_id', '=', ws).where('segment_id', '=', segmentId).execute();
  await sql`insert or fail into segment_member_blocks (workspace_id, segment_id, block, offsets)
    select ${ws}, ${segmentId}, block, offsets from backfill_blocks order by block`.execute(tx);
  await sql`drop table backfill_blocks`.execute(tx);
}

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
 * and since (from segment_members: the copy holds keys alone). See membersOfSegment. SQLite: the
 * copy is read from the cursor's block up to the block that makes sure of the page — every block
 * has a member, and a listed contact hides at most one of a segment's rows — so a page sorts a few
 * blocks' members, not the whole segment's.
 */
export async function memberPage(tx: Tx, ws: string, segmentId: string, afterPk: number, limit: number) {
  const dialect = dialectOf(tx);
  const d = SQL_DIALECTS[dialect];
  let blocks: MemberBlocks | undefined;
  if (dialect === 'sqlite') {
    const from = Math.floor(Math.max(0, afterPk) / BLOCK_SIZE);
    const [{ n }] = await countListed(tx, ws);
    const last = await tx.selectFrom('segment_member_blocks').select('block')
      .where('workspace_id', '=', ws).where('segment_id', '=', segmentId).where('block', '>=', from)
      .orderBy('block').limit(1).offset(limit + Number(n)).executeTakeFirst();
    blocks = { from, to: last?.block };
  }
  const page = sql`${membersOfSegment(d, d.text(ws), (column) => sql`${column} = ${d.text(segmentId)}`, afterPk, blocks)} order by 1 limit ${d.integer(limit)}`;
  return sql<{ contact_pk: number | string; id: string; since_ms: number | string }>`select x.contact_pk, c.id, m.since_ms from (${page}) x
    join segment_members m on m.workspace_id = ${d.text(ws)} and m.contact_pk = x.contact_pk and m.segment_id = ${d.text(segmentId)}
    join contacts c on c.pk = x.contact_pk
    order by x.contact_pk`.execute(tx);
}
