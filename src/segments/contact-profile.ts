// A contact with the segments it belongs to, in one query (the contact profile, what a support
// agent's sidebar shows on every conversation): its stored values and each membership with the
// time it began.
import { sql } from 'kysely';
import type { StoredValues } from '../conditions/contact-values.js';
import type { StoredContact } from '../contacts/contact-store.js';
import { reusableQuery } from '../db/reusable-query.js';
import { dialectOf } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { byContactWorkspace } from './member-order.js';

export interface ContactProfile extends StoredContact {
  /** Segment id → since (UTC ms). */
  readonly memberships: ReadonlyMap<string, number>;
}

const profileRow = reusableQuery((db: Tx, workspaceId: string, id: string) => {
  // By the contact: segment_members' key on SQLite, the (contact_pk, segment_id, since_ms) index on PostgreSQL.
  const dialect = dialectOf(db);
  const sameWorkspace = sql`${byContactWorkspace(dialect, 'm.workspace_id')} = c.workspace_id`;
  const memberships = dialect === 'postgres'
    ? sql<string>`(select coalesce(json_agg(json_build_array(m.segment_id, m.since_ms)), '[]')::text from segment_members m where m.contact_pk = c.pk and ${sameWorkspace})`
    : sql<string>`(select json_group_array(json_array(m.segment_id, m.since_ms)) from segment_members m where m.contact_pk = c.pk and ${sameWorkspace})`;
  return db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
    .select(['c.pk', 'c.id', 'd.document', 'c.version', 'c.created_ms', 'c.updated_ms', memberships.as('memberships')])
    .where('c.workspace_id', '=', workspaceId).where('c.id', '=', id);
});

export async function readContactProfile(db: Tx, workspaceId: string, id: string): Promise<ContactProfile | null> {
  const [row] = await profileRow(db, workspaceId, id);
  if (!row) return null;
  return {
    pk: Number(row.pk), id: row.id, values: JSON.parse(row.document) as StoredValues, version: row.version,
    createdMs: Number(row.created_ms), updatedMs: Number(row.updated_ms),
    memberships: new Map((JSON.parse(row.memberships) as Array<[string, number | string]>).map(([s, since]) => [s, Number(since)])),
  };
}
