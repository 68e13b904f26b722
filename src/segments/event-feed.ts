// The membership event feed: ordered by sequence, read with a cursor. Replaying it from the start
// gives the stored membership.
import { sql } from 'kysely';
import { dialectOf } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';

/**
 * Every transaction takes this before it appends events, and holds it to its commit. PostgreSQL
 * numbers rows at insert, not at commit: without it, a transaction could commit event 11 while
 * event 10's was still open, and a reader polling from the cursor 11 would never see event 10.
 * With it, a workspace's events commit in the order of their numbers (as on SQLite, whose one
 * writer gives this already). Writers of one workspace already meet at its count rows at the end
 * of their transactions; this is taken just before, for the events.
 */
export async function lockEventOrder(tx: Tx, workspaceId: string): Promise<void> {
  if (dialectOf(tx) !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(${sql.lit(EVENT_ORDER_LOCK)}, hashtext(${workspaceId}))`.execute(tx);
}
/** The first key of the advisory lock: what it is for (the second is the workspace). */
const EVENT_ORDER_LOCK = 7_401;

export interface SegmentEvent {
  readonly seq: number;
  readonly type: 'segment.entered' | 'segment.left' | 'segment.deleted';
  readonly segmentId: string;
  readonly segmentVersion: number;
  readonly contactId: string | null;
  readonly at: number;
}

export async function readEvents(db: Tx, workspaceId: string, after = 0, limit = 1_000): Promise<SegmentEvent[]> {
  const rows = await db.selectFrom('segment_events').selectAll().where('workspace_id', '=', workspaceId).where('seq', '>', after)
    .orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq), type: r.type, segmentId: r.segment_id, segmentVersion: r.segment_version, contactId: r.contact_id, at: Number(r.at_ms),
  }));
}
