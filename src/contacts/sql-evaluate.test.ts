// One suite, three implementations: each row of test-support/sql-evaluate-cases.ts runs through the predicate,
// SQL on SQLite and SQL on PostgreSQL, and so does its complement (`not`), which must select
// exactly the other contacts.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePredicate } from '../conditions/compile-predicate.js';
import { createLayout, prepareContact } from '../conditions/contact-values.js';
import { STANDARD_ATTRIBUTES } from '../conditions/schema.js';
import type { Condition } from '../conditions/types.js';
import { validateOrThrow } from '../conditions/validate.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { FIXTURES } from './test-support/sql-evaluate-cases.js';
import type { Fixture } from './test-support/sql-evaluate-cases.js';
import { createSqlEvaluator } from './sql-evaluate.js';
import type { SqlEvaluator } from './sql-evaluate.js';

const pgUrl = await postgresTestUrl();

type Engine = 'predicate' | 'sqlite' | 'postgres';

function predicateEvaluator(fixture: Fixture): SqlEvaluator {
  const layout = createLayout(fixture.schema);
  const prepared = fixture.contacts.map((c) => ({ id: c.id, values: prepareContact(layout, c.values) }));
  const evaluate = async (condition: Condition, now: number) => {
    const { test } = compilePredicate(condition, layout, { timeZone: fixture.timeZone });
    return prepared.filter((c) => test(c.values, now)).map((c) => c.id);
  };
  return { evaluate, count: async (c, now) => (await evaluate(c, now)).length, close: async () => {} };
}

function open(engine: Engine, fixture: Fixture): Promise<SqlEvaluator> {
  if (engine === 'predicate') return Promise.resolve(predicateEvaluator(fixture));
  return createSqlEvaluator(engine, { schema: fixture.schema, timeZone: fixture.timeZone, contacts: fixture.contacts, databaseUrl: pgUrl ?? undefined });
}

const ENGINES: readonly Engine[] = ['predicate', 'sqlite', 'postgres'];

for (const engine of ENGINES) {
  describe.skipIf(engine === 'postgres' && pgUrl === null)(`${engine}`, () => {
    for (const fixture of FIXTURES) {
      describe(fixture.name, () => {
        let evaluator: SqlEvaluator;
        beforeAll(async () => { evaluator = await open(engine, fixture); });
        afterAll(async () => { await evaluator?.close(); });
        const everyone = fixture.contacts.map((c) => c.id);

        for (const row of fixture.cases) {
          it(row.name, async () => {
            const condition = validateOrThrow(fixture.schema, row.condition);
            const ids = await evaluator.evaluate(condition, fixture.now);
            expect([...ids].sort()).toEqual([...row.expected].sort());
            // A condition and its complement partition the contacts.
            const complement = validateOrThrow(fixture.schema, { not: row.condition });
            expect([...(await evaluator.evaluate(complement, fixture.now))].sort())
              .toEqual(everyone.filter((id) => !row.expected.includes(id)).sort());
            expect(await evaluator.count(condition, fixture.now)).toBe(row.expected.length);
          });
        }
      });
    }
  });
}

describe('createSqlEvaluator', () => {
  const schema = [...STANDARD_ATTRIBUTES, { key: 'score', type: 'number' as const }];
  const contacts = Array.from({ length: 12_345 }, (_, i) => ({
    id: `c${i}`,
    values: { name: i % 3 === 0 ? `Name ${i}` : null, score: i, tags: i % 5 === 0 ? ['five', `t${i % 7}`] : [] },
  }));
  const condition = validateOrThrow(schema, { all: [{ attr: 'tags', op: 'contains', value: 'FIVE' }, { attr: 'name', op: 'is_not_empty' }] });
  const expected = contacts.filter((_, i) => i % 15 === 0).map((c) => c.id);

  it('loads many contacts on SQLite and returns ids in load order', async () => {
    const evaluator = await createSqlEvaluator('sqlite', { schema, timeZone: 'UTC', contacts });
    try {
      expect(await evaluator.evaluate(condition, 0)).toEqual(expected);
      expect(await evaluator.count(condition, 0)).toBe(expected.length);
    } finally {
      await evaluator.close();
    }
  });

  it('refuses a duplicate id and a value of the wrong shape before opening a database', async () => {
    await expect(createSqlEvaluator('sqlite', { schema, timeZone: 'UTC', contacts: [{ id: 'a', values: {} }, { id: 'a', values: {} }] }))
      .rejects.toThrow(/"a" appears twice/);
    await expect(createSqlEvaluator('sqlite', { schema, timeZone: 'UTC', contacts: [{ id: 'a', values: { score: '5' } }] }))
      .rejects.toThrow(/attribute "score": expected a finite number/);
  });

  it('needs a URL for PostgreSQL', async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(createSqlEvaluator('postgres', { schema, timeZone: 'UTC', contacts: [] })).rejects.toThrow(/database URL/);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  describe.skipIf(pgUrl === null)('on PostgreSQL', () => {
    const scratchSchemas = async () => {
      const client = new pg.Client({ connectionString: pgUrl! });
      await client.connect();
      try {
        const { rows } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'segments\\_scratch\\_%'");
        return new Set(rows.map((r) => r.nspname));
      } finally {
        await client.end();
      }
    };

    it('loads in batches into a schema of its own, and drops it on close', async () => {
      const before = await scratchSchemas();
      const evaluator = await createSqlEvaluator('postgres', { schema, timeZone: 'UTC', contacts, databaseUrl: pgUrl! });
      const mine = [...(await scratchSchemas())].filter((s) => !before.has(s));
      expect(mine).toHaveLength(1);
      try {
        expect(await evaluator.evaluate(condition, 0)).toEqual(expected);
        expect(await evaluator.count(condition, 0)).toBe(expected.length);
      } finally {
        await evaluator.close();
      }
      expect((await scratchSchemas()).has(mine[0])).toBe(false);
    });
  });
});
