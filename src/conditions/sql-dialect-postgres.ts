// PostgreSQL's side of the SQL compiler (see sql-dialect.ts). Every parameter carries an explicit
// cast: PostgreSQL cannot always infer a parameter's type (`length($1)`), and a number bound where
// a bigint is expected must not be read as text.
import { sql } from 'kysely';
import type { SqlDialect } from './sql-dialect.js';

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  text: (value) => sql`${value}::text`,
  number: (value) => sql`${value}::float8`,
  integer: (value) => sql`${value}::bigint`,
  contains: (column, needle) => sql`strpos(${column}, ${needle}::text) > 0`,
  startsWith: (column, needle) => sql`starts_with(${column}, ${needle}::text)`,
  // length() and right() count characters (code points in a UTF8 database); right(x, n) with n
  // past the value's length is the whole value, which then differs from the longer needle.
  endsWith: (column, needle) => sql`right(${column}, length(${needle}::text)) = ${needle}::text`,
  inTexts: (column, values) => sql`${column} = ANY(${values}::text[])`,
  inNumbers: (column, values) => sql`${column} = ANY(${values}::float8[])`,
};
