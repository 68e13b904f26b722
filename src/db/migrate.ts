// Runs the migrations to the latest version, on either dialect.
import { Migrator, sql } from 'kysely';
import type { MigrationResult } from 'kysely';
import type { Database } from './database.js';
import { createMigrationProvider } from './migrations/index.js';

export class MigrationFailed extends Error {
  readonly code = 'migration_failed';
  constructor(readonly migration: string | undefined, cause: unknown) {
    super(`migration ${migration ?? '(setup)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(database: Database): Promise<string[]> {
  const migrator = new Migrator({
    db: database.db,
    provider: createMigrationProvider(database.dialect),
    // On PostgreSQL, name the schema: Kysely otherwise looks for its bookkeeping tables in every
    // schema and would take another schema's (another test's, another app's) as ours.
    ...(database.dialect === 'postgres' ? { migrationTableSchema: database.schema ?? (await currentSchema(database)) } : {}),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely finds its own tables by introspecting every schema of the database, with a function that
  // fails when another schema is dropped meanwhile (tests and benches each drop theirs): that
  // read-only look is tried again.
  for (let attempt = 1; error && attempt < 5 && isAnotherSchemaDropped(error); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new MigrationFailed(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function isAnotherSchemaDropped(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === '3F000' || code === '42P01' || (typeof message === 'string' && /(schema|relation) "[^"]*" does not exist/.test(message));
}

async function currentSchema(database: Database): Promise<string> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(database.db);
  if (!rows[0]?.schema) throw new Error('migrateToLatest: the connection has no current schema (check search_path)');
  return rows[0].schema;
}
