// A column reference that SQLite's planner will not drive an index with (`+column`). For a scan of
// a pk range in one workspace, an index on (workspace_id, …) would otherwise win and walk the
// whole workspace, every batch: measured 42 ms per 10,000-row range at 1M contacts, against
// a read of the range by its key. PostgreSQL plans the range by its cost; the reference is plain.
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { Dialect } from './database.js';

const NAME = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

export function unindexed(dialect: Dialect, column: string): RawBuilder<string> {
  if (!NAME.test(column)) throw new Error(`unindexed: ${JSON.stringify(column)} is not alias.column`);
  return dialect === 'sqlite' ? sql<string>`+${sql.ref(column)}` : sql<string>`${sql.ref(column)}`;
}
