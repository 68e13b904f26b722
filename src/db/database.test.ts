// PostgreSQL: a statement marked PREPARED is a named prepared statement of its connection, parsed
// once and reused; any other statement stays unnamed (planned each time, as PostgreSQL does).
// The mark can be turned off for a connection pooler that cannot keep prepared statements.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { PREPARED, createDatabase } from './database.js';
import { createTestSchema, postgresTestUrl } from './test-support/postgres.js';

const pgUrl = await postgresTestUrl();

describe.skipIf(pgUrl === null)('statements on PostgreSQL', () => {
  it('a statement marked PREPARED is prepared once per connection and gives the same rows', async () => {
    const test = await createTestSchema(pgUrl!);
    try {
      const rows = await test.database.db.connection().execute(async (db) => {
        const results: unknown[] = [];
        for (const n of [1, 2, 3]) {
          results.push((await sql<{ v: number }>`${sql.raw(PREPARED)}select ${n}::int + 1 as v`.execute(db)).rows);
          results.push((await sql<{ v: number }>`select ${n}::int * 10 as v`.execute(db)).rows);
        }
        const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db);
        return { results, prepared: prepared.rows.map((r) => r.statement) };
      });
      expect(rows.results).toEqual([[{ v: 2 }], [{ v: 10 }], [{ v: 3 }], [{ v: 20 }], [{ v: 4 }], [{ v: 30 }]]);
      expect(rows.prepared).toEqual([`${PREPARED}select $1::int + 1 as v`]);
    } finally {
      await test.drop();
    }
  });

  it('with preparedStatements off (a pooler that cannot keep them), a marked statement runs unnamed', async () => {
    const test = await createTestSchema(pgUrl!);
    const database = createDatabase({ dialect: 'postgres', url: pgUrl!, searchPath: test.schema, preparedStatements: false });
    try {
      const prepared = await database.db.connection().execute(async (db) => {
        expect((await sql<{ v: number }>`${sql.raw(PREPARED)}select ${1}::int + 1 as v`.execute(db)).rows).toEqual([{ v: 2 }]);
        return (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db)).rows;
      });
      expect(prepared).toEqual([]);
    } finally {
      await database.close();
      await test.drop();
    }
  });
});

describe('configuration', () => {
  it('SEGMENTS_PG_PREPARED_STATEMENTS turns them off, and refuses anything but on or off', () => {
    const url = 'postgres://u:p@localhost/db';
    expect(loadConfig({ DATABASE_URL: url }).database).toMatchObject({ dialect: 'postgres', preparedStatements: true });
    expect(loadConfig({ DATABASE_URL: url, SEGMENTS_PG_PREPARED_STATEMENTS: 'off' }).database).toMatchObject({ preparedStatements: false });
    expect(() => loadConfig({ DATABASE_URL: url, SEGMENTS_PG_PREPARED_STATEMENTS: 'no' })).toThrow('SEGMENTS_PG_PREPARED_STATEMENTS must be on or off, not "no"');
  });
});
