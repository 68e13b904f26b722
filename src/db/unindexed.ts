// A column reference that the planner will not drive an index with: SQLite's `+column`,
// PostgreSQL's `column || ''` (text columns only). For a scan of a pk range in one workspace, an
// index on (workspace_id, …) would otherwise win and walk the whole workspace, every batch:
// measured 42 ms per 10,000-row range at 1M contacts on SQLite, against a read of the range by
// its key. PostgreSQL weighs the two by its statistics, and has none for a table loaded since
// autovacuum last came by: a single write then read a contact's memberships through the
// (workspace, segment, contact) key, 2.8 ms at p50 on a 5k-contact store against 0.2 ms by the
// contact's own index. The workspace is still checked, as a filter on the rows the key finds.
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import type { Dialect } from './database.js';

const NAME = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

export function unindexed(dialect: Dialect, column: string): RawBuilder<string> {
  if (!NAME.test(column)) throw new Error(`unindexed: ${JSON.stringify(column)} is not alias.column`);
  return dialect === 'sqlite' ? sql<string>`+${sql.ref(column)}` : sql<string>`(${sql.ref(column)} || '')`;
}
