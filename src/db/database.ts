// The Kysely instance for a dialect: SQLite through better-sqlite3 (the embedded default) or
// PostgreSQL through a pg Pool. Durability is chosen here: see docs/architecture.md.
import BetterSqlite3 from 'better-sqlite3';
import { WAL_SIZE_LIMIT_BYTES, WRITER_CHECKPOINT_PAGES, startCheckpointer } from './sqlite-checkpointer.js';
import type { CheckpointTuning } from './sqlite-checkpointer.js';
import { SQLITE_MMAP_BYTES, createSqliteReaders } from './sqlite-readers.js';
import type { SqliteReaders } from './sqlite-readers.js';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Tables } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export type DatabaseConfig = SqliteConfig | PostgresConfig;

export interface SqliteConfig {
  readonly dialect: 'sqlite';
  /** A file path, or ':memory:'. */
  readonly filename: string;
  /** How long a writer waits for the lock before SQLITE_BUSY; default 5 s. */
  readonly busyTimeoutMs?: number;
  /** Reader threads for big reads (preview counts); default one per core, at most 4. */
  readonly readerThreads?: number;
  /** A long-running server: WAL checkpoints mostly in a thread of their own, not inside commits (sqlite-checkpointer.ts). */
  readonly backgroundCheckpoints?: boolean | CheckpointTuning;
}

export interface PostgresConfig {
  readonly dialect: 'postgres';
  readonly url: string;
  /** A schema to set as every connection's search_path (scratch and test schemas); pg_catalog stays implicit. */
  readonly searchPath?: string;
  readonly maxConnections?: number;
  /**
   * Statements marked PREPARED go as named prepared statements (default true). Off for a
   * connection pooler that cannot keep them, such as PgBouncer before 1.21 in transaction mode.
   */
  readonly preparedStatements?: boolean;
}

export interface SqliteDatabase {
  readonly dialect: 'sqlite';
  readonly db: Kysely<Tables>;
  /** The raw handle, for bulk work with prepared statements inside one transaction. */
  readonly sqlite: BetterSqlite3.Database;
  /** How long a write waits for the write lock (held by another process, or a checkpoint) before it fails. */
  readonly busyTimeoutMs: number;
  /**
   * Null, or a promise that the checkpoint thread's RESTART is over, or that `maxWaitMs` passed:
   * writers wait for it before they lock (sqlite-checkpointer.ts).
   */
  checkpointRestart(maxWaitMs: number): Promise<unknown> | null;
  /** Read-only connections in worker threads for big reads, started on first use; null for ':memory:'. */
  readers(): SqliteReaders | null;
  close(): Promise<void>;
}

export interface PostgresDatabase {
  readonly dialect: 'postgres';
  readonly db: Kysely<Tables>;
  readonly pool: pg.Pool;
  /** The schema on the search_path when one was asked for. */
  readonly schema?: string;
  close(): Promise<void>;
}

export type Database = SqliteDatabase | PostgresDatabase;

/** Schema names we put in a connection option: plain names only, so they never need quoting. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function createDatabase(config: SqliteConfig): SqliteDatabase;
export function createDatabase(config: PostgresConfig): PostgresDatabase;
export function createDatabase(config: DatabaseConfig): Database;
export function createDatabase(config: DatabaseConfig): Database {
  return config.dialect === 'sqlite' ? createSqlite(config) : createPostgres(config);
}

function createSqlite(config: SqliteConfig): SqliteDatabase {
  const { filename, readerThreads } = config;
  const busyTimeoutMs = config.busyTimeoutMs ?? 5_000;
  const sqlite = new BetterSqlite3(filename, { timeout: busyTimeoutMs });
  // WAL with synchronous=NORMAL: a killed process loses nothing committed; a power cut may lose
  // the last transactions. (':memory:' keeps its own journal mode.)
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  // Reads through a memory map (up to SQLite's 2 GiB cap): on the 1M store a contact and its
  // memberships by key took 0.21 ms through the page cache and 0.11 ms mapped.
  sqlite.pragma(`mmap_size = ${SQLITE_MMAP_BYTES}`);
  const checkpointer = config.backgroundCheckpoints && filename !== ':memory:'
    ? startCheckpointer(filename, config.backgroundCheckpoints === true ? undefined : config.backgroundCheckpoints) : null;
  if (checkpointer) {
    sqlite.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
    sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  }
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  let readers: SqliteReaders | null = null;
  return {
    dialect: 'sqlite', db, sqlite, busyTimeoutMs,
    checkpointRestart: (maxWaitMs) => checkpointer?.restartUnderWay(maxWaitMs) ?? null,
    readers: () => (filename === ':memory:' ? null : (readers ??= createSqliteReaders(filename, readerThreads))),
    // Kysely's driver closes the better-sqlite3 handle on destroy.
    close: async () => {
      await readers?.close();
      await checkpointer?.close();
      await db.destroy(); // the last connection to close checkpoints the WAL and removes it
    },
  };
}

function createPostgres(config: PostgresConfig): PostgresDatabase {
  const { searchPath } = config;
  if (searchPath !== undefined && !SCHEMA_NAME.test(searchPath)) {
    throw new Error(`createDatabase: schema name ${JSON.stringify(searchPath)} is not a plain lower-case name`);
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.maxConnections ?? 10,
    // A startup option, so every connection of the pool has it before its first query.
    ...(searchPath !== undefined ? { options: `-c search_path=${searchPath}` } : {}),
  });
  // An idle client's error (a server restart) would otherwise crash the process; the next
  // query reports the failure instead.
  pool.on('error', () => {});
  if (config.preparedStatements !== false) pool.on('connect', preparesMarkedStatements);
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  // Kysely's driver ends the pool on destroy.
  return { dialect: 'postgres', db, pool, ...(searchPath !== undefined ? { schema: searchPath } : {}), close: () => db.destroy() };
}

/**
 * Kysely's SQLite driver prepares every query it runs. Preparing costs more than running a small
 * statement (a contacts insert has over 160 columns), and the write path runs the same few
 * shapes again and again, so prepared statements are kept by SQL text (a bounded map).
 */
function withStatementCache(sqlite: BetterSqlite3.Database, size = 500) {
  const cache = new Map<string, SpreadStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (statement === undefined) {
        statement = new SpreadStatement(sqlite.prepare(sqlText));
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
}

/**
 * A statement run with its values as arguments, not as one array: better-sqlite3 reads an array's
 * elements one V8 call each, and a call's arguments directly — 22 ns a NULL bound against 42, 112
 * ns a short text against 139 (an import binds some 90 values a contact). Spread, a trailing plain
 * object is better-sqlite3's named parameters, which insertRows' `same` columns use.
 */
class SpreadStatement {
  readonly reader: boolean;
  constructor(private readonly statement: BetterSqlite3.Statement) { this.reader = statement.reader; }
  all(parameters: readonly unknown[]) { return this.statement.all(...parameters); }
  run(parameters: readonly unknown[]) { return this.statement.run(...parameters); }
  iterate(parameters: readonly unknown[]) { return this.statement.iterate(...parameters); }
}

/**
 * PostgreSQL parses and plans an unnamed statement every time it runs: the single write's
 * membership statement spent 0.15 ms in parse and 0.24 ms in plan for 0.17 ms of execution. A
 * statement whose text begins with PREPARED goes as a prepared statement named by its text, so
 * each connection parses and plans it once. Only texts that stay the same whatever their values
 * (arrays, not lists of parameters) carry the mark, so a connection keeps a few.
 */
export const PREPARED = '/* prepared */ ';

function preparesMarkedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (config: unknown, ...rest: unknown[]) => {
    if (typeof config === 'string' && config.startsWith(PREPARED) && Array.isArray(rest[0])) {
      return query({ name: preparedName(config), text: config, values: rest[0] }, ...rest.slice(1));
    }
    return query(config, ...rest);
  };
}

const preparedNames = new Map<string, string>();
function preparedName(text: string): string {
  let name = preparedNames.get(text);
  if (name === undefined) {
    name = `sg_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    preparedNames.set(text, name);
  }
  return name;
}
