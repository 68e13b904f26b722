// Every write runs here. On SQLite the transaction takes the write lock at its start (BEGIN
// IMMEDIATE), so no writer fails half-way with SQLITE_BUSY after reading; on PostgreSQL it is an
// ordinary transaction in which writers lock the rows they change.
import { sql } from 'kysely';
import { PostgresAdapter } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import type { Tables } from './tables.js';

export type Tx = Kysely<Tables>;

/** PostgreSQL's deadlock and serialization failures: the transaction was rolled back whole and may run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 8;

export async function writeTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (database.dialect === 'postgres') {
    // Writers of several contacts lock rows in the order of their input, so two batches can
    // deadlock; PostgreSQL then aborts one, which runs again from the start (nothing of it stayed).
    for (let attempt = 1; ; attempt++) {
      try {
        return await database.db.transaction().execute(work);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }
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
