// The shared rows of src/conditions/cases.ts through SQL: the same runner as the predicate's, on
// SQLite and on PostgreSQL. Each row has its own contacts, so each gets its own scratch database
// (on PostgreSQL its own schema, so this file runs beside the others).
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { runCases } from '../conditions/test-support/run-cases.js';
import type { CaseInput } from '../conditions/test-support/run-cases.js';
import type { Dialect } from '../db/database.js';
import { createSqlEvaluator } from './sql-evaluate.js';

const pgUrl = await postgresTestUrl();

function evaluateWith(dialect: Dialect) {
  return async (input: CaseInput): Promise<string[]> => {
    const evaluator = await createSqlEvaluator(dialect, {
      schema: input.schema, timeZone: input.timeZone, contacts: input.contacts, databaseUrl: pgUrl ?? undefined,
    });
    try {
      return await evaluator.evaluate(input.condition, input.now);
    } finally {
      await evaluator.close();
    }
  };
}

runCases('SQL on SQLite', evaluateWith('sqlite'));
if (pgUrl !== null) runCases('SQL on PostgreSQL', evaluateWith('postgres'));
