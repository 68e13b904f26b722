// SQLite's side of the SQL compiler (see sql-dialect.ts).
import { sql } from 'kysely';
import type { SqlDialect } from './sql-dialect.js';

/**
 * Prefix and suffix tests compare UTF-8 bytes (`CAST(... AS BLOB)`) with a byte length computed
 * here: a byte prefix of UTF-8 is a code-point prefix, and SQLite's text `substr`/`length` stop
 * at a NUL character while the blob forms do not. `instr` already compares the full bytes.
 */
const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  text: (value) => sql`${value}`,
  number: (value) => sql`${value}`,
  integer: (value) => sql`${value}`,
  contains: (column, needle) => sql`instr(${column}, ${needle}) > 0`,
  startsWith: (column, needle) => sql`substr(CAST(${column} AS BLOB), 1, ${utf8Length(needle)}) = CAST(${needle} AS BLOB)`,
  // With a needle longer than the value, substr(x, -n) is the whole value, which then differs.
  endsWith: (column, needle) => sql`substr(CAST(${column} AS BLOB), -${utf8Length(needle)}) = CAST(${needle} AS BLOB)`,
  inTexts: (column, values) => sql`${column} IN (SELECT j.value FROM json_each(${JSON.stringify(values)}) AS j)`,
  // json_each reads an integer-looking literal beyond 2^53 (`-242789625973616930`, JavaScript's
  // shortest spelling of a double) as an exact 64-bit integer, which then differs from the stored
  // double; CAST AS REAL rounds it back to that double.
  inNumbers: (column, values) => sql`${column} IN (SELECT CAST(j.value AS REAL) FROM json_each(${JSON.stringify(values)}) AS j)`,
};
