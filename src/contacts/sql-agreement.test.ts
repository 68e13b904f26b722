// Two compilers, one meaning: on random schemas, contacts and conditions, SQL on SQLite and on
// PostgreSQL select exactly the contacts the predicate selects, and a condition and its `not`
// partition the contacts in SQL too. Each random world is loaded once and asked many conditions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePredicate } from '../conditions/compile-predicate.js';
import { createLayout, prepareContact } from '../conditions/contact-values.js';
import type { ConditionJson } from '../conditions/types.js';
import { validateOrThrow } from '../conditions/validate.js';
import { arbitraryCondition, arbitraryContacts, arbitraryPool, arbitrarySchema } from '../conditions/test-support/arbitraries.js';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { createSqlEvaluator } from './sql-evaluate.js';

const pgUrl = await postgresTestUrl();
const CONDITIONS_PER_WORLD = 12;

const world = arbitraryPool().chain((pool) =>
  arbitrarySchema({ segments: true }).chain((schema) =>
    fc.record({
      contacts: arbitraryContacts(schema, pool, { minLength: 1, maxLength: 40 }),
      // Depth 7 at most, so that `{"not": condition}` stays within the contract's 8.
      conditions: fc.array(arbitraryCondition(schema, pool, { maxDepth: 7 }), { minLength: CONDITIONS_PER_WORLD, maxLength: CONDITIONS_PER_WORLD }),
    }).map((r) => ({ ...r, schema, timeZone: pool.timeZone, now: pool.now }))));

type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

const sorted = (ids: readonly string[]) => [...ids].sort();

async function agree(dialect: Dialect, w: World) {
  const layout = createLayout(w.schema);
  const prepared = w.contacts.map((c) => ({ id: c.id, values: prepareContact(layout, c.values) }));
  const everyone = sorted(w.contacts.map((c) => c.id));
  const evaluator = await createSqlEvaluator(dialect, { schema: w.schema, timeZone: w.timeZone, contacts: w.contacts, databaseUrl: pgUrl ?? undefined });
  try {
    for (const json of w.conditions) {
      const condition = validateOrThrow(w.schema, json, { segments: 'list' });
      const predicate = compilePredicate(condition, layout, { timeZone: w.timeZone });
      const expected = sorted(prepared.filter((c) => predicate.test(c.values, w.now)).map((c) => c.id));
      const got = sorted(await evaluator.evaluate(condition, w.now));
      expect(got, `${dialect} disagrees with the predicate on ${JSON.stringify(json)}`).toEqual(expected);

      const negated = validateOrThrow(w.schema, { not: json } as ConditionJson, { segments: 'list' });
      const complement = await evaluator.evaluate(negated, w.now);
      expect(sorted([...got, ...complement]), `${dialect}: a condition and its not must partition`).toEqual(everyone);
    }
  } finally {
    await evaluator.close();
  }
}

describe('SQL agrees with the predicate on random inputs', () => {
  it('on SQLite', async () => {
    await fc.assert(fc.asyncProperty(world, (w) => agree('sqlite', w)), { numRuns: 400 });
  });

  it.skipIf(pgUrl === null)('on PostgreSQL', async () => {
    await fc.assert(fc.asyncProperty(world, (w) => agree('postgres', w)), { numRuns: 120 });
  });
});
