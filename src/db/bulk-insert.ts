// Multi-row inserts for the write path's bulk rows (contacts, list values, members, events): the
// statement text is built from our own table and column names and run with every value bound.
// Kysely would build a syntax tree of every value of every row first; for the thousands of rows a
// batch writes, that cost more than running the statement (bench:import's profile).
import { CompiledQuery } from 'kysely';
import { dialectOf } from './write-transaction.js';
import type { Tx } from './write-transaction.js';

const NAME = /^[a-z_][a-z0-9_]*$/;
/** Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMETERS = 30_000;

/**
 * Inserts `rows` (each an array in `columns` order) into `table`, as many rows per statement as the
 * parameter limit allows. With `returning`, the values of those columns for every inserted row.
 */
export async function insertRows(
  tx: Tx, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], options: { returning?: readonly string[]; onConflictDoNothing?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  for (const name of [table, ...columns, ...(options.returning ?? [])]) {
    if (!NAME.test(name)) throw new Error(`insertRows: ${JSON.stringify(name)} is not a plain lower-case name`);
  }
  const out: Record<string, unknown>[] = [];
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  const tail = `${options.onConflictDoNothing ? ' on conflict do nothing' : ''}${options.returning ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}` : ''}`;
  const postgres = dialectOf(tx) === 'postgres';
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const parameters: unknown[] = [];
    const tuples: string[] = [];
    for (const row of chunk) {
      if (row.length !== columns.length) throw new Error(`insertRows: a row of ${row.length} values for ${columns.length} columns`);
      const marks: string[] = [];
      for (const value of row) {
        parameters.push(value);
        marks.push(postgres ? `$${parameters.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    const result = await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(head + tuples.join(', ') + tail, parameters));
    if (options.returning) out.push(...result.rows);
  }
  return out;
}
