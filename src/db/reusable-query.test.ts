// reusableQuery: compiled once per dialect, each run bound to its own values, constants kept.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Dialect } from './database.js';
import { migrateToLatest } from './migrate.js';
import { reusableQuery } from './reusable-query.js';
import { postgresTestUrl } from './test-support/postgres.js';
import { openTestDatabase } from './test-support/test-database.js';
import type { Tx } from './write-transaction.js';

const pgUrl = await postgresTestUrl();

describe.each<Dialect>(['sqlite', 'postgres'])('reusableQuery on %s', (dialect) => {
  it.skipIf(dialect === 'postgres' && pgUrl === null)('runs with each call\'s values, keeps the query\'s own constants, and refuses an argument it cannot bind', async () => {
    const { database, close } = await openTestDatabase(dialect, pgUrl);
    try {
      await migrateToLatest(database);
      for (const [id, name] of [['w1', 'One'], ['w2', 'Two'], ['w3', 'Three']]) await database.db.insertInto('workspaces').values({ id, name, time_zone: 'UTC', created_ms: 1 }).execute();
      let builds = 0;
      const named = reusableQuery((db: Tx, id: string, name: string) => {
        builds++;
        return db.selectFrom('workspaces').select('id').where((eb) => eb.or([eb.and([eb('id', '=', id), eb('name', '=', name)]), eb('id', '=', 'w3')])).orderBy('id');
      });
      expect(await named(database.db, 'w1', 'One')).toEqual([{ id: 'w1' }, { id: 'w3' }]);
      expect(await named(database.db, 'w2', 'Two')).toEqual([{ id: 'w2' }, { id: 'w3' }]);
      expect(await named(database.db, 'w2', 'One')).toEqual([{ id: 'w3' }]);
      expect(builds).toBe(1);
      const misused = reusableQuery((db: Tx, id: string) => db.selectFrom('workspaces').select('id').where('id', '=', id.toUpperCase()));
      await expect(misused(database.db, 'w1')).rejects.toThrow(/not bound as a parameter/);
      const literal = reusableQuery((db: Tx, n: number) => db.selectNoFrom(sql<number>`${n} + 1`.as('n')));
      expect(Number((await literal(database.db, 41))[0].n)).toBe(42);
    } finally {
      await close();
    }
  });
});
