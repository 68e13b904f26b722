// insertRows on both dialects: every row in, with its values, whatever the count (SQLite: statements
// of power-of-two sizes under the parameter limit; PostgreSQL: one array per column), `returning`
// for each, and values of every kind as written.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { insertRows } from './bulk-insert.js';
import type { Dialect } from './database.js';
import { postgresTestUrl } from './test-support/postgres.js';
import { openTestDatabase } from './test-support/test-database.js';
import { writeTransaction } from './write-transaction.js';

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

  it.skipIf(dialect === 'postgres' && pgUrl === null)('gives every row the `same` columns\' values, whatever the count of rows and statements', async () => {
    const { database, close } = await openTestDatabase(dialect, pgUrl);
    try {
      const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
      await sql.raw(`create table probe_same (ws text not null, k integer not null, at_ms ${bigint}, v text, primary key (ws, k))`).execute(database.db);
      // 2 columns a row besides the same ones: 8,192 rows a statement, so 20,001 rows take several.
      for (const [ws, n, at] of [['w1', 1, 5], ['w2', 3, null], ['w,3 "x"', 20_001, 1_700_000_000_000]] as const) {
        const rows = Array.from({ length: n }, (_, k) => [k, k % 4 === 0 ? null : `v${k}`]);
        const returned = await insertRows(database.db, 'probe_same', ['k', 'v'], rows, { same: { ws, at_ms: at }, returning: ['ws', 'k'] });
        expect(returned.length).toBe(n);
        expect(returned.every((r) => r.ws === ws)).toBe(true);
        const stored = await database.db.selectFrom('probe_same' as never).select(['ws', 'k', 'at_ms', 'v'] as never).where('ws' as never, '=', ws as never).orderBy('k' as never).execute();
        expect(stored.map((r: Record<string, unknown>) => [r.ws, r.k, r.at_ms === null ? null : Number(r.at_ms), r.v])).toEqual(rows.map(([k, v]) => [ws, k, at, v]));
      }
      // A same column's name is checked as the others are: never spliced in as given.
      await expect(insertRows(database.db, 'probe_same', ['k'], [[1]], { same: { 'ws; drop table probe_same': 'x' } })).rejects.toThrow(/not a plain lower-case name/);
    } finally {
      await close();
    }
  });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('replaces the named columns of a row whose key is taken (an upsert), and inserts the others', async () => {
    const { database, close } = await openTestDatabase(dialect, pgUrl);
    try {
      await sql`create table probe_upsert (ws text not null, k integer not null, v text not null, kept text, primary key (ws, k))`.execute(database.db);
      await insertRows(database.db, 'probe_upsert', ['k', 'v', 'kept'], [[1, 'one', 'x1'], [2, 'two', 'x2']], { same: { ws: 'w' } });
      const upsert = { key: ['ws', 'k'], set: ['v'] };
      // 5,000 rows: several statements on SQLite; the taken keys among them, first and last.
      const rows = Array.from({ length: 5_000 }, (_, i) => [i + 1, `new${i + 1}`, 'y']);
      await insertRows(database.db, 'probe_upsert', ['k', 'v', 'kept'], rows, { same: { ws: 'w' }, onConflictUpdate: upsert });
      const stored = await database.db.selectFrom('probe_upsert' as never).select(['k', 'v', 'kept'] as never).orderBy('k' as never).execute();
      expect(stored).toEqual(rows.map(([k, v], i) => ({ k, v, kept: i < 2 ? `x${k}` : 'y' })));
      await expect(insertRows(database.db, 'probe_upsert', ['k', 'v'], [[1, 'x']], { same: { ws: 'w' }, onConflictUpdate: { key: ['ws', 'k'], set: ['v = 1; --'] } })).rejects.toThrow(/not a plain lower-case name/);
    } finally {
      await close();
    }
  });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('stores texts, numbers and NULLs exactly as given, and skips conflicting rows when asked', async () => {
    const { database, close } = await openTestDatabase(dialect, pgUrl);
    try {
      const bigint = dialect === 'postgres' ? 'bigint' : 'integer', double = dialect === 'postgres' ? 'double precision' : 'real';
      await sql.raw(`create table probe_values (k integer primary key, t text, n ${double}, d ${bigint}, b smallint)`).execute(database.db);
      // Texts an array literal would have to quote: braces, commas, quotes, backslashes, the word NULL, blanks.
      const texts = ['plain', '', ' ', 'NULL', 'null', 'a,b', '{x}', '"quoted"', 'back\\slash', "it's", 'tab\there', 'line\nbreak', 'ünïcödé 😀', '\\"{,}"\\'];
      const rows = texts.map((t, k) => [k, t, k === 1 ? null : k + 0.25, k === 2 ? null : 1_700_000_000_000 + k, k % 2]);
      rows.push([100, null, -0.5, -(2 ** 53 - 1), null]);
      await insertRows(database.db, 'probe_values', ['k', 't', 'n', 'd', 'b'], rows);
      const stored = await database.db.selectFrom('probe_values' as never).select(['k', 't', 'n', 'd', 'b'] as never).orderBy('k' as never).execute();
      expect(stored.map((r: Record<string, unknown>) => [r.k, r.t, r.n, r.d === null ? null : Number(r.d), r.b])).toEqual(rows);
      // A row whose key is taken is skipped with onConflictDoNothing; the others go in and come back.
      const returned = await insertRows(database.db, 'probe_values', ['k', 't', 'n', 'd', 'b'], [[0, 'again', 1, 1, 1], [200, 'new', 2, 2, 0]], { onConflictDoNothing: true, returning: ['k'] });
      expect(returned.map((r) => Number(r.k))).toEqual([200]);
      expect((await sql<{ t: string }>`select t from probe_values where k = 0`.execute(database.db)).rows[0].t).toBe('plain');
    } finally {
      await close();
    }
  });

  // SQLite's inserts stop at a bad row without undoing the rows before it (`or fail`: no statement
  // journal): the transaction, rolled back, must leave nothing.
  it.skipIf(dialect === 'postgres' && pgUrl === null)('leaves nothing of a transaction whose insert breaks a key or a foreign key half-way', async () => {
    const { database, close } = await openTestDatabase(dialect, pgUrl);
    try {
      await sql`create table probe_parent (k integer primary key, v text not null)`.execute(database.db);
      await sql`create table probe_child (k integer primary key, parent integer not null references probe_parent (k))`.execute(database.db);
      await insertRows(database.db, 'probe_parent', ['k', 'v'], [[1, 'kept']]);
      const count = async (table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(database.db)).rows[0].n);
      const parents = Array.from({ length: 3_000 }, (_, i) => [i + 10, `p${i}`]);
      const cases: Array<[string, (tx: Parameters<Parameters<typeof writeTransaction>[1]>[0]) => Promise<void>]> = [
        ['a key already stored, at row 2,500', (tx) => insertRows(tx, 'probe_parent', ['k', 'v'], parents.map((r, i) => (i === 2_500 ? [1, 'again'] : r))).then(() => {})],
        ['a NULL where none may be, at the last row', (tx) => insertRows(tx, 'probe_parent', ['k', 'v'], parents.map((r, i) => (i === parents.length - 1 ? [r[0], null] : r))).then(() => {})],
        ['a child of no parent, after rows that were fine', async (tx) => {
          await insertRows(tx, 'probe_parent', ['k', 'v'], parents);
          await insertRows(tx, 'probe_child', ['k', 'parent'], Array.from({ length: 2_000 }, (_, i) => [i, i === 1_500 ? 999_999 : 1]));
        }],
      ];
      for (const [name, work] of cases) {
        await expect(writeTransaction(database, work), name).rejects.toThrow();
        expect([await count('probe_parent'), await count('probe_child')], name).toEqual([1, 0]);
      }
      await writeTransaction(database, (tx) => insertRows(tx, 'probe_child', ['k', 'parent'], [[1, 1]]));
      expect(await count('probe_child'), 'a good write after them goes in').toBe(1);
    } finally {
      await close();
    }
  });
});
