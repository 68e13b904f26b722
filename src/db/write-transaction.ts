// Every write runs here. On SQLite the transaction takes the write lock at its start (BEGIN
// IMMEDIATE), so no writer fails half-way with SQLITE_BUSY after reading; on PostgreSQL it is an
// ordinary transaction in which writers lock the rows they change.
import { sql } from 'kysely';
import { PostgresAdapter } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { Tables } from './tables.js';

export type Tx = Kysely<Tables>;

export async function writeTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (database.dialect === 'postgres') return database.db.transaction().execute(work);
  return database.db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const result = await work(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
      throw error;
    }
  });
}

/** pg returns int8 columns as strings; SQLite as numbers. */
export const toNumber = (value: number | string | bigint): number => Number(value);

/** Which database a transaction talks to (for the few statements that differ). */
export function dialectOf(db: Tx): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
