// insertRows on both dialects: every row in, with its values, whatever the count (statements of
// power-of-two sizes under the parameter limit), and `returning` for each.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { insertRows } from './bulk-insert.js';
import type { Dialect } from './database.js';
import { postgresTestUrl } from './test-support/postgres.js';
import { openTestDatabase } from './test-support/test-database.js';

const pgUrl = await postgresTestUrl();

describe.each<Dialect>(['sqlite', 'postgres'])('insertRows on %s', (dialect) => {
  it.skipIf(dialect === 'postgres' && pgUrl === null)('writes every row of any count, past the parameter limit too, and returns each', async () => {
    const { database, close } = await openTestDatabase(dialect, pgUrl);
    try {
      await sql`create table probe (batch integer not null, k integer not null, a text, b integer, c text)`.execute(database.db);
      // 5 columns: 4,096 rows a statement at most (a power of two under 30,000 parameters), so 13,001 takes several.
      for (const n of [0, 1, 2, 3, 7, 140, 1_000, 13_001]) {
        const rows = Array.from({ length: n }, (_, k) => [n, k, `a${k}`, k * 2, k % 3 === 0 ? null : `c${k}`]);
        const returned = await insertRows(database.db, 'probe', ['batch', 'k', 'a', 'b', 'c'], rows, { returning: ['k'] });
        expect(returned.map((r) => Number(r.k)).sort((x, y) => x - y)).toEqual(rows.map((r) => r[1]));
        const stored = await database.db.selectFrom('probe' as never).select(['k', 'a', 'b', 'c'] as never).where('batch' as never, '=', n as never).orderBy('k' as never).execute();
        expect(stored).toEqual(rows.map((r) => ({ k: r[1], a: r[2], b: r[3], c: r[4] })));
      }
    } finally {
      await close();
    }
  });
});
