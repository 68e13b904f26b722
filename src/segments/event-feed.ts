// The membership event feed: ordered by sequence, read with a cursor. Replaying it from the start
// gives the stored membership.
import type { Tx } from '../db/write-transaction.js';

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
