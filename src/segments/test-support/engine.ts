// A migrated store with one workspace, on SQLite (in memory) or PostgreSQL (a schema of its own),
// and the services the segments tests drive. The clock is the test's.
import type { AttributeDef } from '../../conditions/types.js';
import { createAttribute } from '../../contacts/attribute-store.js';
import type { Database, Dialect } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrate.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { openTestDatabase } from '../../db/test-support/test-database.js';
import { createWorkspace } from '../../workspaces/workspace-store.js';
import { ContactWrites } from '../contact-writes.js';
import { WorkspaceStates } from '../workspace-state.js';

export interface TestEngine {
  readonly database: Database;
  readonly states: WorkspaceStates;
  readonly writes: ContactWrites;
  readonly workspaceId: string;
  /** The test's clock (UTC ms); move it with `clock.now = …`. */
  readonly clock: { now: number };
  close(): Promise<void>;
}

/** `attributes`: custom attributes the workspace starts with. */
export async function openEngine(dialect: Dialect, pgUrl: string | null, options: { timeZone?: string; now?: number; attributes?: readonly AttributeDef[] } = {}): Promise<TestEngine> {
  const { database, close } = await openTestDatabase(dialect, pgUrl);
  await migrateToLatest(database);
  const clock = { now: options.now ?? Date.parse('2025-11-03T14:30:00Z') };
  await createWorkspace(database, { id: 'ws1', name: 'Acme', timeZone: options.timeZone ?? 'UTC' }, clock.now);
  for (const def of options.attributes ?? []) await writeTransaction(database, (tx) => createAttribute(tx, 'ws1', def, clock.now));
  const states = new WorkspaceStates();
  return { database, states, writes: new ContactWrites(database, states, () => clock.now), workspaceId: 'ws1', clock, close };
}
