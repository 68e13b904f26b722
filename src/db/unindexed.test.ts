// A column the planner does not drive an index with. PostgreSQL: a contact's memberships are read
// by its own index whatever the planner knows: on a store whose tables have no statistics yet
// (loaded since autovacuum last came by), it chose the (workspace, segment, contact) key for
// `workspace_id = $1 and contact_pk = $2` and walked every member of the workspace. SQLite: a
// range of contacts is read by its pks, not through the (workspace, …) indexes.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase } from './database.js';
import type { Database } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createTestSchema, postgresTestUrl } from './test-support/postgres.js';
import { unindexed } from './unindexed.js';

const pgUrl = await postgresTestUrl();

async function planOfMembershipRead(database: Database): Promise<string> {
  await migrateToLatest(database);
  // 20 segments of 500 members each in one workspace, never analyzed.
  await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 500)
    insert into segment_members (workspace_id, segment_id, contact_pk, since_ms)
    select 'w1', 'seg_' || s.i, c.i, 0 from n as s, n as c where s.i <= 20`.execute(database.db);
  const read = database.db.selectFrom('segment_members as m').select(['m.segment_id', 'm.since_ms'])
    .where(unindexed(database.dialect, 'm.workspace_id'), '=', 'w1').where('m.contact_pk', '=', 42).compile();
  const explain = database.dialect === 'postgres' ? 'explain ' : 'explain query plan ';
  const { rows } = await database.db.executeQuery<Record<string, unknown>>({ ...read, sql: explain + read.sql });
  return rows.map((r) => Object.values(r).join(' ')).join('\n');
}

describe('unindexed: a column the planner does not drive an index with', () => {
  it('on SQLite', async () => {
    const database = createDatabase({ dialect: 'sqlite', filename: ':memory:' });
    try {
      await migrateToLatest(database);
      const read = database.db.selectFrom('contacts as c').select('c.id')
        .where(unindexed('sqlite', 'c.workspace_id'), '=', 'w1').where('c.pk', '>', 1000).where('c.pk', '<=', 2000).compile();
      const { rows } = await database.db.executeQuery<Record<string, unknown>>({ ...read, sql: 'explain query plan ' + read.sql });
      const plan = rows.map((r) => Object.values(r).join(' ')).join('\n');
      expect(plan).toMatch(/SEARCH c USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/);
    } finally {
      await database.close();
    }
  });

  it.skipIf(pgUrl === null)('on PostgreSQL, with no statistics gathered', async () => {
    const test = await createTestSchema(pgUrl!);
    try {
      const plan = await planOfMembershipRead(test.database);
      expect(plan).toContain('segment_members_contact_since');
      expect(plan).not.toContain('segment_members_pkey');
    } finally {
      await test.drop();
    }
  });
});
