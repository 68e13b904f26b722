// An empty database of either dialect for a test: SQLite in memory, or a PostgreSQL schema of its
// own (dropped on close). Not migrated: the caller migrates, or makes the tables it probes.
import { createDatabase } from '../database.js';
import type { Database, Dialect } from '../database.js';
import { createTestSchema } from './postgres.js';

export async function openTestDatabase(dialect: Dialect, pgUrl: string | null): Promise<{ database: Database; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const database = createDatabase({ dialect: 'sqlite', filename: ':memory:' });
    return { database, close: () => database.close() };
  }
  if (!pgUrl) throw new Error('openTestDatabase: no PostgreSQL');
  const t = await createTestSchema(pgUrl);
  return { database: t.database, close: () => t.drop() };
}
