// A segment's members, a page at a time, from stored membership (never a scan of contacts). Pages
// follow the segment order (segment, contact pk): contacts in the order they were created, each
// page one index range however large the segment (member-order.ts). The cursor is opaque to callers.
import type { Tx } from '../db/write-transaction.js';
import { memberPage } from './member-order.js';
import { InvalidInput, NotFound } from '../errors.js';

export interface Member {
  readonly id: string;
  /** When the contact entered the segment (UTC ms). */
  readonly since: number;
}

export interface MemberPage {
  readonly members: readonly Member[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
}

export const MAX_PAGE = 1_000;

export async function listMembers(db: Tx, workspaceId: string, segmentId: string, options: { limit?: number; after?: string | null } = {}): Promise<MemberPage> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new InvalidInput('invalid page', [{ path: 'limit', message: `expected a whole number from 1 to ${MAX_PAGE}, got ${JSON.stringify(limit)}` }]);
  }
  const afterPk = options.after === undefined || options.after === null ? 0 : readCursor(options.after);
  const segment = await db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).where('id', '=', segmentId).executeTakeFirst();
  if (!segment) throw new NotFound('segment', segmentId);
  const { rows } = await memberPage(db, workspaceId, segmentId, afterPk, limit + 1);
  const page = rows.slice(0, limit);
  return {
    members: page.map((r) => ({ id: r.id, since: Number(r.since_ms) })),
    next: rows.length > limit ? writeCursor(Number(page[page.length - 1].contact_pk)) : null,
  };
}

function writeCursor(pk: number): string {
  return Buffer.from(`m1:${pk}`).toString('base64url');
}

function readCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,40}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const m = /^m1:(\d{1,15})$/.exec(text);
  if (!m) throw new InvalidInput('invalid page', [{ path: 'after', message: 'not a cursor this list returned' }]);
  return Number(m[1]);
}
