// Every write runs here. On SQLite the transaction takes the write lock at its start (BEGIN
// IMMEDIATE), so no writer fails half-way with SQLITE_BUSY after reading; on PostgreSQL it is an
// ordinary transaction in which writers lock the rows they change.
import { sql } from 'kysely';
import { PostgresAdapter } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, SqliteDatabase } from './database.js';
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
  return sqliteWriteTransaction(database, work);
}

/**
 * SQLite: BEGIN IMMEDIATE takes the write lock before anything is read. When another connection
 * holds it (another process's write, or the checkpoint thread finishing the WAL), the attempt
 * gives the connection back and waits asynchronously — better-sqlite3's busy handler would sleep
 * on the event loop, stalling every request of the server, reads included, for as long. While this
 * process's checkpoint thread finishes the WAL (a RESTART), the writer waits for it to end before
 * it tries, so the thread has the lock as soon as the transaction under way commits.
 */
async function sqliteWriteTransaction<T>(database: SqliteDatabase, work: (tx: Tx) => Promise<T>): Promise<T> {
  const deadline = performance.now() + database.busyTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    // Within the busy timeout, as any wait for the lock.
    const restart = database.checkpointRestart(deadline - performance.now());
    if (restart) await restart;
    const outcome = await database.db.connection().execute(async (conn) => {
      if (!tryBeginImmediate(database)) return BUSY;
      try {
        const result = await work(conn);
        await sql`COMMIT`.execute(conn);
        return { result };
      } catch (error) {
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw error;
      }
    });
    if (outcome !== BUSY) return outcome.result;
    if (performance.now() >= deadline) throw Object.assign(new Error('database is locked: no write lock within the busy timeout'), { code: 'SQLITE_BUSY' });
    await new Promise((resolve) => setTimeout(resolve, Math.min(2 ** attempt, 20)));
  }
}

const BUSY = Symbol('busy');
const noWait = new WeakMap<SqliteDatabase['sqlite'], { off: { get(): unknown }; on: { get(): unknown }; begin: { run(): unknown } }>();

/** BEGIN IMMEDIATE without the busy handler: false when another connection holds the write lock. */
function tryBeginImmediate(database: SqliteDatabase): boolean {
  let s = noWait.get(database.sqlite);
  if (!s) {
    s = { off: database.sqlite.prepare('PRAGMA busy_timeout = 0'), on: database.sqlite.prepare(`PRAGMA busy_timeout = ${Math.floor(database.busyTimeoutMs)}`), begin: database.sqlite.prepare('BEGIN IMMEDIATE') };
    noWait.set(database.sqlite, s);
  }
  s.off.get();
  try {
    s.begin.run();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw error;
  } finally {
    s.on.get();
  }
}

/** pg returns int8 columns as strings; SQLite as numbers. */
export const toNumber = (value: number | string | bigint): number => Number(value);

/** Which database a transaction talks to (for the few statements that differ). */
export function dialectOf(db: Tx): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
