// The segment list as every screen reads it, kept in memory per workspace and read again when the
// workspace's config version moves (every change of a segment's definition, name, description,
// status or visibility bumps it, in any process). A request then reads only what moves by itself:
// the config version, the 60 counts (a narrow table) and the progress of builds under way. Reading
// every segment row by the name index cost 140 µs a request (a lookup in the table per segment).
import { hiddenFromOf } from '../access/visibility.js';
import type { HiddenFrom } from '../access/visibility.js';
import type { Tx } from '../db/write-transaction.js';
import { listSegmentRows, toSegment } from './segment-store.js';
import type { Segment } from './segment-store.js';

export interface SegmentListing {
  readonly configVersion: number;
  /** Sorted by name; each with its definition as stored (JSON text) and its count as of the listing (read counts anew). */
  readonly segments: ReadonlyArray<{ readonly segment: Segment; readonly conditionJson: string | null; readonly hiddenFrom: HiddenFrom }>;
}

export class SegmentListings {
  private readonly cache = new Map<string, SegmentListing>();

  /** The listing for `configVersion` (read from the workspace in the same request, before this call). */
  async get(db: Tx, workspaceId: string, configVersion: number): Promise<SegmentListing> {
    const cached = this.cache.get(workspaceId);
    if (cached && cached.configVersion === configVersion) return cached;
    // Read after the version: what is read is at least as new as the version it is kept under.
    const rows = await listSegmentRows(db, workspaceId);
    const hidden = await hiddenFromOf(db, workspaceId, rows.map((r) => r.id));
    const listing: SegmentListing = {
      configVersion,
      segments: rows.map((r) => ({ segment: toSegment({ ...r, condition: null }), conditionJson: r.condition, hiddenFrom: hidden.get(r.id)! })),
    };
    if (!cached || cached.configVersion < configVersion) this.cache.set(workspaceId, listing);
    return listing;
  }
}
