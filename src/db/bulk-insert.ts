// Multi-row inserts and deletes for the write path's rows (contacts, list values, members, events):
// the statement text is built from our own table and column names and run with every value bound.
// Kysely would build a syntax tree of every value of every row first; for the thousands of rows a
// batch writes, that cost more than running the statement (bench:import's profile), and for the
// few statements of a single-contact write it was a good part of the segments' cost (bench:write).
import { CompiledQuery } from 'kysely';
import { dialectOf } from './write-transaction.js';
import type { Tx } from './write-transaction.js';

const NAME = /^[a-z_][a-z0-9_]*$/;
/** Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMETERS = 30_000;

/** A statement's `?` or `$n` for its i-th value (from 0). */
const markFor = (tx: Tx): ((i: number) => string) => (dialectOf(tx) === 'postgres' ? (i) => `$${i + 1}` : () => '?');

function checkNames(what: string, names: readonly string[]): void {
  for (const name of names) if (!NAME.test(name)) throw new Error(`${what}: ${JSON.stringify(name)} is not a plain lower-case name`);
}

/**
 * Inserts `rows` (each an array in `columns` order) into `table`. With `returning`, the values of
 * those columns for every inserted row. The rows go in statements of power-of-two sizes (140 rows:
 * 128, 8 and 4), under the parameter limit: a statement of any other size would be a text seen
 * once, and SQLite preparing it cost about twice what running it did (a 1,000-row, 4-column insert:
 * 388 µs to prepare, 198 µs to run); these few texts stay in the statement cache (database.ts).
 * (30k contacts in batches of 1,000 with the 60 segments: 95 statements prepared before, 53 after;
 * the import's time moved within this machine's noise.)
 */
export async function insertRows(
  tx: Tx, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], options: { returning?: readonly string[]; onConflictDoNothing?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  checkNames('insertRows', [table, ...columns, ...(options.returning ?? [])]);
  const out: Record<string, unknown>[] = [];
  const perStatement = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(MAX_PARAMETERS / columns.length))));
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  const tail = `${options.onConflictDoNothing ? ' on conflict do nothing' : ''}${options.returning ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}` : ''}`;
  const mark = markFor(tx);
  for (let start = 0; start < rows.length;) {
    let size = perStatement;
    while (size > rows.length - start) size >>= 1;
    const chunk = rows.slice(start, start + size);
    start += size;
    const parameters: unknown[] = [];
    const tuples: string[] = [];
    for (const row of chunk) {
      if (row.length !== columns.length) throw new Error(`insertRows: a row of ${row.length} values for ${columns.length} columns`);
      const marks: string[] = [];
      for (const value of row) marks.push(mark(parameters.push(value) - 1));
      tuples.push(`(${marks.join(', ')})`);
    }
    const result = await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(head + tuples.join(', ') + tail, parameters));
    if (options.returning) out.push(...result.rows);
  }
  return out;
}

/**
 * Deletes the rows of `table` whose `equal` columns have those values and whose `column` is one of
 * `values`: `delete from t where a = ? and b = ? and c in (?, …)`; nothing when `values` is empty.
 */
export async function deleteRows(tx: Tx, table: string, equal: Readonly<Record<string, unknown>>, column: string, values: readonly unknown[]): Promise<void> {
  if (values.length === 0) return;
  const names = Object.keys(equal);
  checkNames('deleteRows', [table, ...names, column]);
  const parameters = [...names.map((name) => equal[name]), ...values];
  if (parameters.length > MAX_PARAMETERS) throw new Error(`deleteRows: ${parameters.length} values in one statement`);
  const mark = markFor(tx);
  const conditions = names.map((name, i) => `"${name}" = ${mark(i)}`);
  conditions.push(`"${column}" in (${values.map((_, i) => mark(names.length + i)).join(', ')})`);
  await tx.executeQuery(CompiledQuery.raw(`delete from "${table}" where ${conditions.join(' and ')}`, parameters));
}

/**
 * Adds an integer to `column` of each row named by `key` (and the `equal` columns), in one statement:
 * `update t set c = c + case k when ? then ? … else 0 end where a = ? and k in (?, …)`.
 */
export async function addToColumn(
  tx: Tx, table: string, equal: Readonly<Record<string, unknown>>, key: string, column: string, deltas: ReadonlyArray<readonly [unknown, number]>,
): Promise<void> {
  if (deltas.length === 0) return;
  const names = Object.keys(equal);
  checkNames('addToColumn', [table, ...names, key, column]);
  const parameters: unknown[] = [];
  const mark = markFor(tx);
  const bind = (value: unknown) => mark(parameters.push(value) - 1);
  // The cast gives PostgreSQL the parameter's type (a CASE of bare parameters would be text).
  const cases = deltas.map(([k, delta]) => `when ${bind(k)} then cast(${bind(delta)} as integer)`).join(' ');
  const conditions = names.map((name) => `"${name}" = ${bind(equal[name])}`);
  conditions.push(`"${key}" in (${deltas.map(([k]) => bind(k)).join(', ')})`);
  if (parameters.length > MAX_PARAMETERS) throw new Error(`addToColumn: ${parameters.length} values in one statement`);
  await tx.executeQuery(CompiledQuery.raw(`update "${table}" set "${column}" = "${column}" + case "${key}" ${cases} else 0 end where ${conditions.join(' and ')}`, parameters));
}
