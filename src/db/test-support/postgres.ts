// The one way PostgreSQL tests find their server. With no server: under CI=true the test file
// fails with a clear message; elsewhere the PostgreSQL tests are skipped, and a warning says so.
//
//   const pgUrl = await postgresTestUrl();
//   describe.skipIf(pgUrl === null)('... on PostgreSQL', () => { ... createTestSchema(pgUrl!) ... });
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { createDatabase } from '../database.js';
import type { PostgresDatabase } from '../database.js';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://segments:segments@127.0.0.1:5432/segments_test';

let probe: Promise<string | null> | undefined;

/** The test server's URL if it answers; null (tests skip) if not; throws under CI=true. */
export function postgresTestUrl(): Promise<string | null> {
  probe ??= probeServer(process.env.SEGMENTS_TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL);
  return probe;
}

async function probeServer(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return url;
  } catch (error) {
    const why = `PostgreSQL at ${redact(url)} did not answer: ${(error as Error).message}`;
    if (process.env.CI === 'true') {
      throw new Error(`${why}. CI=true requires the PostgreSQL tests to run: start the server or set SEGMENTS_TEST_DATABASE_URL.`);
    }
    console.warn(`PostgreSQL tests were skipped: ${why}. Set SEGMENTS_TEST_DATABASE_URL to run them.`);
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

export interface TestSchema {
  readonly schema: string;
  /** A database whose connections use only this schema. */
  readonly database: PostgresDatabase;
  /** Drops the schema and closes the database. */
  drop(): Promise<void>;
}

/** A fresh schema of its own for one test or file, so test files can run in parallel. */
export async function createTestSchema(url: string): Promise<TestSchema> {
  const schema = `segments_test_${randomBytes(6).toString('hex')}`;
  const database = createDatabase({ dialect: 'postgres', url, searchPath: schema, maxConnections: 4 });
  await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(database.db);
  return {
    schema,
    database,
    async drop() {
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(database.db);
      } finally {
        await database.close();
      }
    },
  };
}
