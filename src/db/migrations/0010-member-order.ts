// SQLite: a contact's memberships together, the segments' order kept beside them and brought up
// to date after the write (segments/member-order.ts).
//
// A WITHOUT ROWID table is stored in its key's order. segment_members was keyed (workspace,
// segment, contact), so a write that moved a contact in or out of eleven segments changed eleven
// leaves of it, each a page the commit writes to the WAL, plus its by-contact index. Now
// segment_members is keyed (workspace, contact, segment): a write changes the one or two leaves
// that hold its contact's rows. The segment order is segment_member_order, a copy of the keys
// alone (a member's since is read from segment_members), behind for the contacts listed in
// segment_members_pending (each with the segments its copy still has); readers merge it with
// those contacts' rows (member-order.ts).
//
// PostgreSQL's tables are heaps, in no key's order, with both orders as indexes of segment_members
// already: segment_member_order is a view of it there, and segment_members_pending stays empty.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function memberOrderMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'postgres') {
        await sql`create view segment_member_order as select workspace_id, segment_id, contact_pk from segment_members`.execute(db);
        await db.schema.createTable('segment_members_pending')
          .addColumn('workspace_id', 'text', (c) => c.notNull())
          .addColumn('contact_pk', 'bigint', (c) => c.notNull())
          .addColumn('segments_before', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('segment_members_pending_pkey', ['workspace_id', 'contact_pk']).execute();
        return;
      }
      await copyMembersKeyedBy(db, 'segment_members_by_contact', ['workspace_id', 'contact_pk', 'segment_id']);
      await sql`create table segment_member_order (
        workspace_id text not null, segment_id text not null, contact_pk integer not null,
        primary key (workspace_id, segment_id, contact_pk)) without rowid`.execute(db);
      await sql`insert into segment_member_order (workspace_id, segment_id, contact_pk) select workspace_id, segment_id, contact_pk from segment_members`.execute(db);
      await sql`drop table segment_members`.execute(db);
      await sql`alter table segment_members_by_contact rename to segment_members`.execute(db);
      await sql`create table segment_members_pending (
        workspace_id text not null, contact_pk integer not null, segments_before text not null,
        primary key (workspace_id, contact_pk)) without rowid`.execute(db);
    },
    async down(db: Kysely<any>) {
      if (dialect === 'postgres') {
        await sql`drop view segment_member_order`.execute(db);
        await db.schema.dropTable('segment_members_pending').execute();
        return;
      }
      await copyMembersKeyedBy(db, 'segment_members_by_segment', ['workspace_id', 'segment_id', 'contact_pk']);
      await sql`drop table segment_members`.execute(db);
      await sql`drop table segment_member_order`.execute(db);
      await sql`drop table segment_members_pending`.execute(db);
      await sql`alter table segment_members_by_segment rename to segment_members`.execute(db);
      await sql`create index segment_members_contact_since on segment_members (contact_pk, segment_id, since_ms)`.execute(db);
      // The counts counted the copy, behind for the contacts that were listed: counted again.
      await sql`update segment_counts set member_count = (select count(*) from segment_members m
        where m.workspace_id = segment_counts.workspace_id and m.segment_id = segment_counts.segment_id)`.execute(db);
    },
  };
}

/** SQLite: a copy of segment_members in a new WITHOUT ROWID table keyed by `key` (written in that order). */
async function copyMembersKeyedBy(db: Kysely<any>, table: string, key: readonly string[]): Promise<void> {
  await sql`create table ${sql.table(table)} (
    workspace_id text not null, segment_id text not null, contact_pk integer not null, since_ms integer not null,
    primary key (${sql.join(key.map((c) => sql.ref(c)))})) without rowid`.execute(db);
  await sql`insert into ${sql.table(table)} (workspace_id, segment_id, contact_pk, since_ms)
    select workspace_id, segment_id, contact_pk, since_ms from segment_members order by ${sql.join(key.map((c) => sql.ref(c)))}`.execute(db);
}
