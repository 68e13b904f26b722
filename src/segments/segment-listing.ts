// The segment list as every screen reads it, kept in memory per workspace and read again when the
// workspace's config version moves (every change of a segment's definition, name, description,
// status or visibility bumps it, in any process). A request then reads only what moves by itself:
// the config version, the 60 counts (a narrow table) and the progress of builds under way. Reading
// every segment row by the name index cost 140 µs a request (a lookup in the table per segment).
import { hiddenFromOf } from '../access/visibility.js';
import type { HiddenFrom } from '../access/visibility.js';
import { fold } from '../conditions/fold.js';
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput } from '../errors.js';
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
    // Sorted here, by code point, whatever the database's collation: the order the cursor of a page relies on.
    const rows = (await listSegmentRows(db, workspaceId)).map((r) => ({ r, key: fold(r.name) }))
      .sort((a, b) => compareCodePoints(a.key, b.key)).map(({ r }) => r);
    const hidden = await hiddenFromOf(db, workspaceId, rows.map((r) => r.id));
    const listing: SegmentListing = {
      configVersion,
      segments: rows.map((r) => ({ segment: toSegment({ ...r, condition: null }), conditionJson: r.condition, hiddenFrom: hidden.get(r.id)! })),
    };
    if (!cached || cached.configVersion < configVersion) this.cache.set(workspaceId, listing);
    return listing;
  }
}

/**
 * A page of a listing (sorted by folded name, which is unique in a workspace). The cursor names the
 * last segment given; the next page starts after it, where it is now. When it was deleted in the
 * meantime, the page starts at the first name after the start of its name (kept in the cursor, up to
 * 40 characters): a segment may then be given twice, none is skipped.
 */
export function pageOfListing<T extends { readonly segment: Segment }>(items: readonly T[], limit: number, cursor: string | undefined): { page: T[]; next: string | null } {
  let start = 0;
  if (cursor !== undefined) {
    const { id, prefix } = readListingCursor(cursor);
    const at = items.findIndex((item) => item.segment.id === id);
    start = at >= 0 ? at + 1 : items.findIndex((item) => compareCodePoints(fold(item.segment.name), prefix) > 0);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  const next = start + limit < items.length ? Buffer.from(JSON.stringify([last.segment.id, [...fold(last.segment.name)].slice(0, 40).join('')])).toString('base64url') : null;
  return { page, next };
}

function readListingCursor(cursor: string): { id: string; prefix: string } {
  let parsed: unknown;
  try { parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString()); } catch { parsed = null; }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') {
    throw new InvalidInput('invalid page', [{ path: 'cursor', message: 'not a cursor this list returned' }]);
  }
  return { id: parsed[0], prefix: parsed[1] };
}

/** Text by code point (JavaScript's `<` compares UTF-16 code units: an emoji would sort before U+FF21). */
function compareCodePoints(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
