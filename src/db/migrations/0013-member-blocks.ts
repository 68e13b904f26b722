// SQLite: the segment order of the membership (migration 0010) in blocks of 256 contact pks, a
// row each, instead of a row per member.
//
// segment_member_order held one row per (segment, member), keyed (workspace, segment, contact): an
// import's batch of 1,000 new contacts inserted its ~9,600 rows there, each a descent of the B-tree
// from its root (at 1M contacts 10 s of the import's 46 s of statements, the largest after the
// contacts rows). Now segment_member_blocks holds, for each segment and each block of 256 pks that
// has members, the members' offsets in the block (pk - block * 256) as a JSON array (written in
// ascending order; no reader depends on it): a batch rewrites ~4 blocks of each segment it
// touches, ~240 rows instead of ~9,600.
// segment_member_order is a view that expands the blocks (json_each: as fast as reading the same
// number of index entries), so what reads a segment's members in order reads it as before; only its
// writers changed (segments/member-order.ts). A block is never empty: its row goes with its last member.
//
// PostgreSQL: nothing (segment_member_order is a view of segment_members there, migration 0010).
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

/** A contact pk's block is pk >> MEMBER_BLOCK_BITS; its offset in the block, pk & (2^bits - 1). */
export const MEMBER_BLOCK_BITS = 8;

const view = sql`create view segment_member_order as
  select b.workspace_id, b.segment_id, b.block, (b.block << ${sql.raw(String(MEMBER_BLOCK_BITS))}) | o.value as contact_pk
  from segment_member_blocks b, json_each(b.offsets) o`;

export function memberBlocksMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect === 'postgres') return;
      await sql`create table segment_member_blocks (
        workspace_id text not null, segment_id text not null, block integer not null, offsets text not null,
        primary key (workspace_id, segment_id, block)) without rowid`.execute(db);
      await sql`insert into segment_member_blocks (workspace_id, segment_id, block, offsets)
        select workspace_id, segment_id, block, json_group_array(contact_pk & ${sql.raw(String((1 << MEMBER_BLOCK_BITS) - 1))})
        from (select workspace_id, segment_id, contact_pk >> ${sql.raw(String(MEMBER_BLOCK_BITS))} as block, contact_pk
          from segment_member_order order by workspace_id, segment_id, contact_pk)
        group by workspace_id, segment_id, block`.execute(db);
      await sql`drop table segment_member_order`.execute(db);
      await view.execute(db);
    },
    async down(db: Kysely<any>) {
      if (dialect === 'postgres') return;
      await sql`create table segment_member_order_rows (
        workspace_id text not null, segment_id text not null, contact_pk integer not null,
        primary key (workspace_id, segment_id, contact_pk)) without rowid`.execute(db);
      await sql`insert into segment_member_order_rows select workspace_id, segment_id, contact_pk from segment_member_order`.execute(db);
      await sql`drop view segment_member_order`.execute(db);
      await sql`drop table segment_member_blocks`.execute(db);
      await sql`alter table segment_member_order_rows rename to segment_member_order`.execute(db);
    },
  };
}
