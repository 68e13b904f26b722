// Each segment's member count moves out of `segments` into a narrow table of its own. Every write
// that changes membership updates counts; in `segments` they sat among the definitions (JSON, KBs
// a row), so one write rewrote about five pages of it (SQLite, the 60 BENCH segments) where the 60
// counts now fit in one; and the segment list reads the counts without walking the definitions.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function segmentCountsMigration(dialect: Dialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>) {
      let counts = db.schema.createTable('segment_counts')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('segment_id', 'text', (c) => c.notNull())
        .addColumn('member_count', int8, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('segment_counts_pkey', ['workspace_id', 'segment_id'])
        .addForeignKeyConstraint('segment_counts_segment', ['workspace_id', 'segment_id'], 'segments', ['workspace_id', 'id'], (c) => c.onDelete('cascade'));
      if (dialect === 'sqlite') counts = counts.modifyEnd(sql`without rowid`);
      await counts.execute();
      await sql`insert into segment_counts (workspace_id, segment_id, member_count) select workspace_id, id, member_count from segments`.execute(db);
      await db.schema.alterTable('segments').dropColumn('member_count').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('segments').addColumn('member_count', int8, (c) => c.notNull().defaultTo(0)).execute();
      await sql`update segments set member_count = (select c.member_count from segment_counts c where c.workspace_id = segments.workspace_id and c.segment_id = segments.id)`.execute(db);
      await db.schema.dropTable('segment_counts').execute();
    },
  };
}
