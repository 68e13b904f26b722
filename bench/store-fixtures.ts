// A store for the membership benches (import, write): a fresh SQLite file or PostgreSQL schema, one
// workspace with the BENCH schema, and the 60 BENCH conditions as dynamic segments (built, empty),
// or none for the baseline. The clock is BENCH_NOW, so relative dates mean what the scan counts.
import { rmSync } from 'node:fs';
import { STANDARD_ATTRIBUTES } from '../src/conditions/schema.js';
import { createAttribute } from '../src/contacts/attribute-store.js';
import { createDatabase } from '../src/db/database.js';
import type { Database, Dialect } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTestSchema } from '../src/db/test-support/postgres.js';
import { writeTransaction } from '../src/db/write-transaction.js';
import { runBackfills } from '../src/segments/backfill.js';
import { ContactWrites } from '../src/segments/contact-writes.js';
import { createSegment } from '../src/segments/segment-store.js';
import { WorkspaceStates } from '../src/segments/workspace-state.js';
import { createWorkspace } from '../src/workspaces/workspace-store.js';
import { BENCH_CONDITIONS, BENCH_NOW, BENCH_SCHEMA, BENCH_TIME_ZONE } from './fixtures.js';

export const BENCH_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://segments:segments@127.0.0.1:5432/segments_test';
export const WORKSPACE = 'bench';

export interface BenchStore {
  readonly database: Database;
  readonly states: WorkspaceStates;
  readonly writes: ContactWrites;
  readonly clock: { now: number };
  close(): Promise<void>;
}

export async function openBenchStore(dialect: Dialect, options: { segments: boolean; name: string }): Promise<BenchStore> {
  let database: Database;
  let close: () => Promise<void>;
  if (dialect === 'sqlite') {
    const file = new URL(`./.cache/${options.name}.sqlite`, import.meta.url).pathname;
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    database = createDatabase({ dialect: 'sqlite', filename: file });
    close = async () => {
      await database.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    };
  } else {
    const t = await createTestSchema(BENCH_DATABASE_URL);
    database = t.database;
    close = () => t.drop();
  }
  await migrateToLatest(database);
  const clock = { now: BENCH_NOW };
  await createWorkspace(database, { id: WORKSPACE, name: 'Bench', timeZone: BENCH_TIME_ZONE }, clock.now);
  const standard = new Set(STANDARD_ATTRIBUTES.map((a) => a.key));
  await writeTransaction(database, async (tx) => {
    for (const def of BENCH_SCHEMA) if (!standard.has(def.key)) await createAttribute(tx, WORKSPACE, def, clock.now);
    if (options.segments) {
      for (const c of BENCH_CONDITIONS) await createSegment(tx, WORKSPACE, { name: c.id, kind: 'dynamic', condition: c.json }, clock.now);
    }
  });
  const states = new WorkspaceStates();
  await runBackfills(database, states, { clock: () => clock.now });
  return { database, states, writes: new ContactWrites(database, states, () => clock.now), clock, close };
}
