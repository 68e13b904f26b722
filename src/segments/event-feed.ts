// The membership event outbox and its feed. The events of a transaction are stored in blocks of up
// to EVENTS_PER_BLOCK, one row each, keyed by (workspace, number of the block's last event): an
// import's batch of 1,000 contacts entering nine segments each writes 9 rows, not 9,000 rows and
// their index entries (bench:import at 200k: 22.1 s with a row per event, 18.7 s with no events at
// all). Readers see one event per contact and change, numbered 1, 2, 3… per workspace in commit
// order (events stored before migration 0008 kept their numbers, gaps included); replaying the
// feed from the start gives the stored membership.
import { CompiledQuery, sql } from 'kysely';
import type { Expression, RawBuilder } from 'kysely';
import { insertRows } from '../db/bulk-insert.js';
import { reusableQuery } from '../db/reusable-query.js';
import { dialectOf } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';

/** At most this many events in one stored block (a block of 1,000 is some 20 KB of JSON). */
export const EVENTS_PER_BLOCK = 1_000;

export type SegmentEventType = 'segment.entered' | 'segment.left' | 'segment.deleted';

/** An event as a writer appends it; its number and time come from the transaction that appends it. */
export interface OutboxEvent {
  readonly type: SegmentEventType;
  readonly segmentId: string;
  readonly version: number;
  /** null for segment.deleted */
  readonly contactId: string | null;
}

export interface SegmentEvent {
  readonly seq: number;
  readonly type: SegmentEventType;
  readonly segmentId: string;
  readonly segmentVersion: number;
  readonly contactId: string | null;
  readonly at: number;
}

/** Which events a reader keeps (the feed filtered, a webhook subscription): of these segments, of these types; absent, all. */
export interface EventFilter {
  readonly segmentIds?: readonly string[];
  readonly types?: readonly SegmentEventType[];
}

export function keepsEvent(filter: EventFilter, e: SegmentEvent): boolean {
  return (filter.segmentIds === undefined || filter.segmentIds.includes(e.segmentId)) && (filter.types === undefined || filter.types.includes(e.type));
}

/** A block's JSON: its segments once each (id, version), and each event as [type code, segment index, contact id]. */
interface EncodedBlock {
  readonly segments: readonly (readonly [string, number])[];
  readonly events: readonly (readonly [number, number, string | null])[];
}
const TYPE_CODES: readonly SegmentEventType[] = ['segment.entered', 'segment.left', 'segment.deleted'];
const CODE_OF: Readonly<Record<SegmentEventType, number>> = { 'segment.entered': 0, 'segment.left': 1, 'segment.deleted': 2 };

function encodeBlock(events: readonly OutboxEvent[]): string {
  const segments: [string, number][] = [];
  // By segment id, then version (a block nearly always holds one version of a segment): no key
  // text built per event, which an import's blocks of 1,000 events each made measurable.
  const index = new Map<string, Map<number, number>>();
  const encoded = events.map((e): [number, number, string | null] => {
    let versions = index.get(e.segmentId);
    if (versions === undefined) index.set(e.segmentId, (versions = new Map()));
    let i = versions.get(e.version);
    if (i === undefined) versions.set(e.version, (i = segments.push([e.segmentId, e.version]) - 1));
    return [CODE_OF[e.type], i, e.contactId];
  });
  return JSON.stringify({ segments, events: encoded } satisfies EncodedBlock);
}

function decodeBlock(text: string, firstSeq: number, at: number): SegmentEvent[] {
  const block = JSON.parse(text) as EncodedBlock;
  return block.events.map(([code, i, contactId], k) => ({
    seq: firstSeq + k, type: TYPE_CODES[code], segmentId: block.segments[i][0], segmentVersion: block.segments[i][1], contactId, at,
  }));
}

/**
 * Every transaction takes this before it appends events, and holds it to its commit: the next
 * number is read from the feed's end, so two writers of one workspace must not read it together,
 * and a reader polling from a cursor must never see event 11 commit while event 10 is still open.
 * On SQLite the one writer gives this already. Writers of one workspace already meet at its count
 * rows at the end of their transactions; this is taken a little before: a contact write takes it
 * with its member rows (`contact-batch.ts`), other writers just before their events.
 */
export async function lockEventOrder(tx: Tx, workspaceId: string): Promise<void> {
  if (dialectOf(tx) !== 'postgres' || eventOrderHeld.get(tx)?.has(workspaceId)) return;
  await sql`select ${eventOrderLockExpression(workspaceId)}`.execute(tx);
}
/** The first key of the advisory lock: what it is for (the second is the workspace). */
const EVENT_ORDER_LOCK = 7_401;

/**
 * The SQL that takes the lock, for a statement that carries it beside other work (a round trip
 * fewer on PostgreSQL); the caller then says so with `eventOrderTaken`. It must run in a statement
 * before the one that reads the feed's end, whose snapshot must come after the lock.
 */
export function eventOrderLockExpression(workspaceId: string) {
  return sql`pg_advisory_xact_lock(${sql.lit(EVENT_ORDER_LOCK)}, hashtext(${workspaceId}))`;
}

/** The workspaces whose event lock a transaction holds already (PostgreSQL). */
const eventOrderHeld = new WeakMap<Tx, Set<string>>();

export function eventOrderTaken(tx: Tx, workspaceId: string): void {
  const held = eventOrderHeld.get(tx);
  if (held) held.add(workspaceId);
  else eventOrderHeld.set(tx, new Set([workspaceId]));
}

const lastBlock = reusableQuery((db: Tx, workspaceId: string) => db.selectFrom('segment_event_blocks').select('last_seq')
  .where('workspace_id', '=', workspaceId).orderBy('last_seq', 'desc').limit(1));

/** The number of the workspace's last event (0 when it has none): where a new reader starts. */
export async function feedEnd(db: Tx, workspaceId: string): Promise<number> {
  const [row] = await lastBlock(db, workspaceId);
  return row ? Number(row.last_seq) : 0;
}

/** Takes the event lock and returns the number of the workspace's last event: the next is that + 1. */
export async function startAppending(tx: Tx, workspaceId: string): Promise<number> {
  await lockEventOrder(tx, workspaceId);
  return feedEnd(tx, workspaceId);
}

/**
 * One block appended by one statement that reads the feed's end itself: what nearly every
 * transaction appends (a single write's few events). bench:write (SQLite, p50): the end read by a
 * query of its own took 25-31 µs a write, then the insert 7 µs; this statement takes 8 µs.
 */
const APPEND_ONE_BLOCK_SQLITE =
  // `or fail`: no statement journal (bulk-insert.ts says why).
  `insert or fail into segment_event_blocks (workspace_id, last_seq, first_seq, at_ms, events)
    select ?, coalesce(max(last_seq), 0) + ?, coalesce(max(last_seq), 0) + 1, ?, ? from segment_event_blocks where workspace_id = ?`;

/** PostgreSQL: the statement that appends `events` as one block, for a caller that sends it with other work. Take the event lock first. */
export function appendOneBlockStatement(workspaceId: string, events: readonly OutboxEvent[], now: number) {
  return sql`insert into segment_event_blocks (workspace_id, last_seq, first_seq, at_ms, events)
    select ${workspaceId}::text, coalesce(max(last_seq), 0) + ${events.length}::bigint, coalesce(max(last_seq), 0) + 1, ${now}::bigint, ${encodeBlock(events)}::text
    from segment_event_blocks where workspace_id = ${workspaceId}::text`;
}

/**
 * Appends a transaction's events, in their order, at the end of the workspace's feed.
 * `after`: a statement to run after them (PostgreSQL: a write's count update), sent in the same
 * round trip when the events are one block.
 */
export async function appendEvents(tx: Tx, workspaceId: string, events: readonly OutboxEvent[], now: number, after: RawBuilder<unknown> | null = null): Promise<void> {
  if (events.length > 0 && events.length <= EVENTS_PER_BLOCK) {
    await lockEventOrder(tx, workspaceId);
    if (dialectOf(tx) === 'postgres') {
      const append = appendOneBlockStatement(workspaceId, events, now);
      // Both parts see the snapshot taken after the lock; the count update waits for its rows itself.
      await (after ? sql`with appended as (${append}), counted as (${after}) select 1` : append).execute(tx);
      return;
    }
    await tx.executeQuery(CompiledQuery.raw(APPEND_ONE_BLOCK_SQLITE, [workspaceId, events.length, now, encodeBlock(events), workspaceId]));
  } else if (events.length > EVENTS_PER_BLOCK) {
    await appendBlocks(tx, workspaceId, events, now);
  }
  if (after) await after.execute(tx);
}

async function appendBlocks(tx: Tx, workspaceId: string, events: readonly OutboxEvent[], now: number): Promise<void> {
  const end = await startAppending(tx, workspaceId);
  const rows: unknown[][] = [];
  for (let start = 0; start < events.length; start += EVENTS_PER_BLOCK) {
    const block = events.slice(start, start + EVENTS_PER_BLOCK);
    rows.push([workspaceId, end + start + block.length, end + start + 1, now, encodeBlock(block)]);
  }
  await insertRows(tx, 'segment_event_blocks', ['workspace_id', 'last_seq', 'first_seq', 'at_ms', 'events'], rows);
}

/**
 * Appends, in SQL, one event of `type` for each contact id the `contacts` query selects (a column
 * `contact_id`, ordered by `order_key`), after the feed's `end`; returns the new end. For a
 * backfill's net changes, which can be hundreds of thousands of contacts: they never pass through
 * memory. Call `startAppending` first (it gives `end`).
 */
export async function appendEventsInSql(
  tx: Tx, workspaceId: string, end: number, event: { type: 'segment.entered' | 'segment.left'; segmentId: string; version: number },
  contacts: Expression<{ contact_id: string; order_key: number | string }>, now: number,
): Promise<number> {
  const postgres = dialectOf(tx) === 'postgres';
  const head = `{"segments":[${JSON.stringify([event.segmentId, event.version])}],"events":[`;
  const code = sql.lit(CODE_OF[event.type]);
  const item = postgres ? sql`json_build_array(${code}, 0, n.contact_id)::text` : sql`json_array(${code}, 0, n.contact_id)`;
  const list = postgres ? sql`string_agg(${item}, ',' order by n.i)` : sql`group_concat(${item}, ',' order by n.i)`;
  const result = await sql<{ n: number | string }>`
    with n as (select x.contact_id, row_number() over (order by x.order_key) - 1 as i from (${contacts}) as x)
    insert into segment_event_blocks (workspace_id, last_seq, first_seq, at_ms, events)
    select cast(${workspaceId} as text), cast(${end} as bigint) + max(n.i) + 1, cast(${end} as bigint) + min(n.i) + 1, cast(${now} as bigint),
      cast(${head} as text) || ${list} || ']}'
    from n group by n.i / ${sql.lit(EVENTS_PER_BLOCK)}
    returning last_seq as n`.execute(tx);
  return result.rows.reduce((top, r) => Math.max(top, Number(r.n)), end);
}

/** The workspace's events after `after`, oldest first, at most `limit`. */
export async function readEvents(db: Tx, workspaceId: string, after = 0, limit = 1_000): Promise<SegmentEvent[]> {
  const out: SegmentEvent[] = [];
  let from = after;
  while (out.length < limit) {
    // Every block read holds an event after the cursor, so no more blocks than events are wanted.
    const wanted = Math.min(BLOCKS_PER_READ, limit - out.length);
    const blocks = await db.selectFrom('segment_event_blocks').select(['first_seq', 'last_seq', 'at_ms', 'events'])
      .where('workspace_id', '=', workspaceId).where('last_seq', '>', from).orderBy('last_seq').limit(wanted).execute();
    for (const b of blocks) {
      if (out.length >= limit) break;
      for (const e of decodeBlock(b.events, Number(b.first_seq), Number(b.at_ms))) {
        if (e.seq > after && out.length < limit) out.push(e);
      }
      from = Number(b.last_seq);
    }
    if (blocks.length < wanted) break;
  }
  return out;
}
/**
 * The events after `after` that pass `test`, at most `limit`, looking at no more than `maxScanned`
 * events: a filter on a rare segment must not read the whole feed for one page. `next` is where the
 * next page starts (the last event looked at), so a page with fewer events, even none, still moves on.
 */
export async function readMatchingEvents(
  db: Tx, workspaceId: string, after: number, limit: number, test: (e: SegmentEvent) => boolean, maxScanned = 10_000,
): Promise<{ events: SegmentEvent[]; next: number }> {
  const events: SegmentEvent[] = [];
  let next = after, scanned = 0;
  while (events.length < limit && scanned < maxScanned) {
    const window = Math.min(1_000, maxScanned - scanned);
    const read = await readEvents(db, workspaceId, next, window);
    for (const e of read) {
      next = e.seq;
      scanned++;
      if (test(e) && events.push(e) === limit) break;
    }
    if (read.length < window) break;
  }
  return { events, next };
}

/** Blocks read per query at most: most pages of the feed are in the first few. */
const BLOCKS_PER_READ = 8;
