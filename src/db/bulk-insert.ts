// Multi-row inserts and deletes for the write path's rows (contacts, list values, members, events):
// the statement text is built from our own table and column names and run with every value bound.
// Kysely would build a syntax tree of every value of every row first; for the thousands of rows a
// batch writes, that cost more than running the statement (bench:import's profile), and for the
// few statements of a single-contact write it was a good part of the segments' cost (bench:write).
import { CompiledQuery } from 'kysely';
import type { Dialect } from './database.js';
import { dialectOf } from './write-transaction.js';
import type { Tx } from './write-transaction.js';

const NAME = /^[a-z_][a-z0-9_]*$/;
/** Bound values per statement: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMETERS = 30_000;
/** Up to this many rows, an insert is one statement of exactly that many (a text per count, cached). */
const EXACT_SIZES = 16;

/** A statement's `?` or `$n` for its i-th value (from 0). */
const markFor = (dialect: Dialect): ((i: number) => string) => (dialect === 'postgres' ? (i) => `$${i + 1}` : () => '?');

function checkNames(what: string, names: readonly string[]): void {
  for (const name of names) if (!NAME.test(name)) throw new Error(`${what}: ${JSON.stringify(name)} is not a plain lower-case name`);
}

export interface InsertOptions {
  /** Columns whose value is the same in every row (the workspace, the instant of the write): bound once per statement, not once per row. */
  readonly same?: Readonly<Record<string, unknown>>;
  readonly returning?: readonly string[];
  readonly onConflictDoNothing?: boolean;
  /** A row whose `key` is taken replaces that row's `set` columns (an upsert). */
  readonly onConflictUpdate?: { readonly key: readonly string[]; readonly set: readonly string[] };
}

/**
 * Inserts `rows` (each an array in `columns` order, after the `same` columns) into `table`. With
 * `returning`, the values of those columns for every inserted row.
 *
 * SQLite: the rows go in statements of power-of-two sizes (140 rows: 128, 8 and 4; up to 16 rows, one
 * statement of their count), under the
 * parameter limit: a statement of any other size would be a text seen once, and SQLite preparing it
 * cost about twice what running it did (a 1,000-row, 4-column insert: 388 µs to prepare, 198 µs to
 * run); these few texts stay in the statement cache (database.ts). (30k contacts in batches of
 * 1,000 with the 60 segments: 95 statements prepared before, 53 after; the import's time moved
 * within this machine's noise.) PostgreSQL: one statement of one array per column (`insertByArrays`).
 */
export async function insertRows(
  tx: Tx, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], options: InsertOptions = {},
): Promise<Record<string, unknown>[]> {
  const same = Object.entries(options.same ?? {});
  checkNames('insertRows', [table, ...same.map(([name]) => name), ...columns, ...(options.returning ?? []), ...(options.onConflictUpdate?.key ?? []), ...(options.onConflictUpdate?.set ?? [])]);
  if (rows.length === 0) return [];
  if (dialectOf(tx) === 'postgres') return insertByArrays(tx, table, columns, rows, same, options);
  const out: Record<string, unknown>[] = [];
  const perStatement = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor((MAX_PARAMETERS - same.length) / columns.length))));
  for (let start = 0; start < rows.length;) {
    let size = perStatement;
    // A few rows go in one statement of their exact count (a single write's two or three member
    // rows: one statement, not 2 + 1); more, in power-of-two sizes.
    if (rows.length - start <= EXACT_SIZES) size = rows.length - start;
    while (size > rows.length - start) size >>= 1;
    const parameters: unknown[] = [];
    for (let r = start; r < start + size; r++) {
      const row = rows[r];
      if (row.length !== columns.length) throw new Error(`insertRows: a row of ${row.length} values for ${columns.length} columns`);
      for (let i = 0; i < row.length; i++) parameters.push(row[i]);
    }
    start += size;
    // The same columns' values go as better-sqlite3's named parameters: one object after the rows'.
    if (same.length > 0) parameters.push(Object.fromEntries(same));
    const result = await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(insertText(table, same.map(([name]) => name), columns, size, options), parameters));
    if (options.returning) out.push(...result.rows);
  }
  return out;
}

/**
 * PostgreSQL: the rows as one array per column, `insert … select * from unnest($1::type[], …)`,
 * rows in their order. A statement of thousands of bound values is parsed and planned anew each
 * time; this one is a few parameters whatever the rows: bench:import at 50k contacts with the 60
 * segments took 9.7–10.6 s this way, 12.6–13.2 s with multi-row VALUES (runs taken in turns).
 */
async function insertByArrays(
  tx: Tx, table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], same: readonly (readonly [string, unknown])[], options: InsertOptions,
): Promise<Record<string, unknown>[]> {
  const names = [...same.map(([name]) => name), ...columns];
  let types = await columnTypes(tx, table, false);
  if (names.some((c) => !types.has(c))) types = await columnTypes(tx, table, true);
  const typeOf = (column: string) => {
    const type = types.get(column);
    if (type === undefined) throw new Error(`insertRows: ${table} has no column ${column}`);
    return type;
  };
  const arrays: unknown[][] = columns.map(() => new Array(rows.length));
  rows.forEach((row, r) => {
    if (row.length !== columns.length) throw new Error(`insertRows: a row of ${row.length} values for ${columns.length} columns`);
    for (let c = 0; c < columns.length; c++) arrays[c][r] = row[c];
  });
  const scalars = same.map(([name], i) => `$${i + 1}::${typeOf(name)}`);
  const casts = columns.map((column, i) => `$${same.length + i + 1}::${typeOf(column)}[]`);
  const text = `insert into "${table}" (${names.map((c) => `"${c}"`).join(', ')}) select ${[...scalars, 'u.*'].join(', ')} from unnest(${casts.join(', ')}) as u${insertTail(options)}`;
  return (await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [...same.map(([, value]) => value), ...arrays]))).rows;
}

/**
 * PostgreSQL column types by table name, read once (again when a column is not there yet): a
 * table's columns have the same types in every schema, the migrations make them so.
 */
const typesByTable = new Map<string, Promise<Map<string, string>>>();
function columnTypes(tx: Tx, table: string, fresh: boolean): Promise<Map<string, string>> {
  let types = fresh ? undefined : typesByTable.get(table);
  if (!types) {
    types = tx.executeQuery<{ name: string; type: string }>(CompiledQuery.raw(
      'select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped',
      [`"${table}"`],
    )).then((r) => new Map(r.rows.map((row) => [row.name, row.type])));
    types.catch(() => typesByTable.delete(table));
    typesByTable.set(table, types);
  }
  return types;
}

/** What follows an insert's rows: `on conflict do nothing` or `… do update`, `returning …`. */
function insertTail(options: InsertOptions): string {
  const update = options.onConflictUpdate;
  const conflict = options.onConflictDoNothing ? ' on conflict do nothing'
    : update ? ` on conflict (${update.key.map((c) => `"${c}"`).join(', ')}) do update set ${update.set.map((c) => `"${c}" = excluded."${c}"`).join(', ')}` : '';
  return `${conflict}${options.returning ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}` : ''}`;
}

/**
 * SQLite: `or fail`. With the default (ABORT) a multi-row insert keeps a statement journal — the
 * pages it changed, to undo only the statement when a row breaks a constraint half-way — and past
 * 64 KiB SQLite spills it to a temporary file, a write(2) per page: an import's batch wrote more
 * pages there than into the WAL (strace, 50k contacts: 73k journal pages, 57k WAL frames). FAIL
 * stops at the bad row without undoing the rows before it, so SQLite keeps no journal; the error
 * then rolls back the whole transaction, as every write does on an error (write-transaction.ts).
 * A table with a foreign key still keeps one (its check may fail after the row went in): of the
 * import's tables only contact_list_values, about 100 pages a batch of 1,000. (Deferring the keys
 * to COMMIT would avoid it, but the pragma that does so expires every prepared statement: a single
 * write took 0.45 ms at p50 instead of 0.36.)
 */
function failNotAbort(options: InsertOptions): string {
  return options.onConflictDoNothing ? '' : ' or fail';
}

/**
 * SQLite: the text of an insert of `size` rows, built once: the import runs the same few thousands
 * of times. The `same` columns are named parameters (`@workspace_id`), one value each however many
 * rows name them.
 */
const insertTexts = new Map<string, string>();
function insertText(table: string, same: readonly string[], columns: readonly string[], size: number, options: InsertOptions): string {
  const key = `${table} ${same.join(',')} ${columns.join(',')} ${size} ${insertTail(options)}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    const tuple = `(${[...same.map((name) => `@${name}`), ...columns.map(() => '?')].join(', ')})`;
    const tuples: string[] = [];
    for (let r = 0; r < size; r++) tuples.push(tuple);
    text = `insert${failNotAbort(options)} into "${table}" (${[...same, ...columns].map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}${insertTail(options)}`;
    if (insertTexts.size >= 512) insertTexts.delete(insertTexts.keys().next().value!);
    insertTexts.set(key, text);
  }
  return text;
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
  const mark = markFor(dialectOf(tx));
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
  const mark = markFor(dialectOf(tx));
  const bind = (value: unknown) => mark(parameters.push(value) - 1);
  // The cast gives PostgreSQL the parameter's type (a CASE of bare parameters would be text).
  const cases = deltas.map(([k, delta]) => `when ${bind(k)} then cast(${bind(delta)} as integer)`).join(' ');
  const conditions = names.map((name) => `"${name}" = ${bind(equal[name])}`);
  conditions.push(`"${key}" in (${deltas.map(([k]) => bind(k)).join(', ')})`);
  if (parameters.length > MAX_PARAMETERS) throw new Error(`addToColumn: ${parameters.length} values in one statement`);
  await tx.executeQuery(CompiledQuery.raw(`update "${table}" set "${column}" = "${column}" + case "${key}" ${cases} else 0 end where ${conditions.join(' and ')}`, parameters));
}
