// What differs between the SQL dialects the compiler writes: parameter casts, substring tests and
// how a whole array binds as one parameter. Everything else in compile-sql.ts is shared.
import type { RawBuilder } from 'kysely';
import { postgresDialect } from './sql-dialect-postgres.js';
import type { SqlDialectName } from './sql-layout.js';
import { sqliteDialect } from './sql-dialect-sqlite.js';

export type SqlFragment = RawBuilder<unknown>;

/**
 * Each method returns a fragment with its values bound as parameters. The substring and
 * membership tests may assume their column is not NULL: the compiler guards it first, so every
 * rule stays two-valued.
 */
export interface SqlDialect {
  readonly name: SqlDialectName;
  /** A text parameter. */
  text(value: string): SqlFragment;
  /** A double-precision parameter (number attributes). */
  number(value: number): SqlFragment;
  /** A 64-bit integer parameter (dates in UTC ms, booleans as 0/1). */
  integer(value: number): SqlFragment;
  /** `column` contains `needle` (plain text, never a pattern). */
  contains(column: SqlFragment, needle: string): SqlFragment;
  startsWith(column: SqlFragment, needle: string): SqlFragment;
  endsWith(column: SqlFragment, needle: string): SqlFragment;
  /** `column` equals one of `values`, the whole array bound as ONE parameter. */
  inTexts(column: SqlFragment, values: readonly string[]): SqlFragment;
  inNumbers(column: SqlFragment, values: readonly number[]): SqlFragment;
}

export const SQL_DIALECTS: Readonly<Record<SqlDialectName, SqlDialect>> = {
  sqlite: sqliteDialect,
  postgres: postgresDialect,
};
