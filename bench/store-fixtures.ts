// A store for the membership benches (import, write): a fresh SQLite file or PostgreSQL schema, one
// workspace with the BENCH schema, and the 60 BENCH conditions as dynamic segments (built, empty),
// or none for the baseline. The clock is BENCH_NOW, so relative dates mean what the scan counts.
import { closeSync, createReadStream, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { sql } from 'kysely';
import { compilePredicate } from '../src/conditions/compile-predicate.js';
import { importContacts } from '../src/contacts/import/import-contacts.js';
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
import { cachePath } from './harness.js';
import { BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_SCHEMA, BENCH_TIME_ZONE, contactStream, readRaw } from './fixtures.js';

export const BENCH_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://segments:segments@127.0.0.1:5432/segments_test';
export const WORKSPACE = 'bench';

export interface BenchStore {
  readonly database: Database;
  readonly states: WorkspaceStates;
  readonly writes: ContactWrites;
  readonly clock: { now: number };
  close(): Promise<void>;
}

/** `backgroundCheckpoints`: SQLite as `segments import` and `segments serve` run it (sqlite-checkpointer.ts). */
/** BENCH_SQLITE_PRAGMAS="a = 1;b = 2": pragmas to try on the writer's connection, for experiments. */
function applyBenchPragmas(database: Database): void {
  if (database.dialect !== 'sqlite') return;
  for (const p of (process.env.BENCH_SQLITE_PRAGMAS ?? '').split(';').filter(Boolean)) database.sqlite.pragma(p);
}

export async function openBenchStore(dialect: Dialect, options: { segments: boolean; name: string; backgroundCheckpoints?: boolean }): Promise<BenchStore> {
  let database: Database;
  let close: () => Promise<void>;
  if (dialect === 'sqlite') {
    const file = cachePath(`${options.name}.sqlite`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    database = createDatabase({ dialect: 'sqlite', filename: file, backgroundCheckpoints: options.backgroundCheckpoints === true });
    applyBenchPragmas(database);
    close = async () => {
      await database.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
    };
  } else {
    const t = await createTestSchema(BENCH_DATABASE_URL);
    database = t.database;
    close = () => t.drop();
  }
  const clock = { now: BENCH_NOW };
  const states = await setUpWorkspace(database, options.segments, clock);
  return { database, states, writes: new ContactWrites(database, states, () => clock.now), clock, close };
}

/** Migrates, creates the workspace and its attributes, and the 60 segments (built while empty). */
async function setUpWorkspace(database: Database, segments: boolean, clock: { now: number }): Promise<WorkspaceStates> {
  await migrateToLatest(database);
  await createWorkspace(database, { id: WORKSPACE, name: 'Bench', timeZone: BENCH_TIME_ZONE }, clock.now);
  const standard = new Set(STANDARD_ATTRIBUTES.map((a) => a.key));
  await writeTransaction(database, async (tx) => {
    for (const def of BENCH_SCHEMA) if (!standard.has(def.key)) await createAttribute(tx, WORKSPACE, def, clock.now);
    if (segments) {
      for (const c of BENCH_CONDITIONS) await createSegment(tx, WORKSPACE, { name: c.id, kind: 'dynamic', condition: c.json }, clock.now);
    }
  });
  const states = new WorkspaceStates();
  await runBackfills(database, states, { clock: () => clock.now });
  return states;
}

/**
 * The JSON Lines file of N generated contacts and the scan's count of each BENCH condition over
 * them, made once per N in bench/.cache (not committed).
 */
export function importFile(n: number, log: (text: string) => void): { file: string; counts: number[] } {
  const file = cachePath(`import-${n}.jsonl`);
  const countsFile = `${file}.counts.json`;
  if (!existsSync(file) || !existsSync(countsFile)) {
    const t0 = performance.now();
    const tests = BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test);
    const counts = new Array<number>(tests.length).fill(0);
    // Written in pieces: 1M lines are more text than one JavaScript string may hold.
    const fd = openSync(`${file}.partial`, 'w');
    let lines: string[] = [];
    for (const raw of contactStream(n)) {
      lines.push(JSON.stringify(raw));
      const { prepared } = readRaw(raw);
      tests.forEach((test, j) => { if (test(prepared, BENCH_NOW)) counts[j]++; });
      if (lines.length === 10_000) { writeSync(fd, `${lines.join('\n')}\n`); lines = []; }
    }
    if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
    closeSync(fd);
    renameSync(`${file}.partial`, file);
    writeFileSync(countsFile, JSON.stringify(counts));
    log(`wrote ${file} and the scan's counts in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { file, counts: JSON.parse(readFileSync(countsFile, 'utf8')) as number[] };
}

/**
 * A store of N imported contacts with the 60 segments, kept between runs (a SQLite file in
 * bench/.cache, a PostgreSQL schema `bench_store_N`) because importing 1M contacts takes minutes.
 * Benches that change it must put it back as they found it. `asServer`: SQLite as `segments serve`
 * runs it, WAL checkpoints in a thread of their own (sqlite-checkpointer.ts), not in commits.
 */
export async function openPopulatedStore(dialect: Dialect, n: number, log: (text: string) => void, options: { asServer?: boolean } = {}): Promise<BenchStore> {
  const clock = { now: BENCH_NOW };
  let database: Database;
  if (dialect === 'sqlite') {
    const file = cachePath(`store-${n}.sqlite`);
    database = createDatabase({ dialect: 'sqlite', filename: file, backgroundCheckpoints: options.asServer === true });
    applyBenchPragmas(database);
  } else {
    const schema = `bench_store_${n}`;
    const admin = createDatabase({ dialect: 'postgres', url: BENCH_DATABASE_URL });
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(admin.db);
    await admin.close();
    database = createDatabase({ dialect: 'postgres', url: BENCH_DATABASE_URL, searchPath: schema, maxConnections: 2 });
  }
  const ready = await sql<{ n: number | string }>`SELECT count(*) AS n FROM contacts`.execute(database.db).then((r) => Number(r.rows[0].n) === n, () => false);
  let states: WorkspaceStates;
  if (ready) {
    await migrateToLatest(database); // a store kept from before a new migration
    states = new WorkspaceStates();
  } else {
    log(`building the ${dialect} store of ${n} contacts (kept for later runs)…`);
    await dropEverything(database);
    states = await setUpWorkspace(database, true, clock);
    const { file } = importFile(n, log);
    const writes = new ContactWrites(database, states, () => clock.now);
    const ledger = await importContacts(writes, WORKSPACE, createReadStream(file), { format: 'jsonl', batchSize: 1000 });
    if (ledger.created !== n) throw new Error(`populated store: imported ${JSON.stringify(ledger)}`);
  }
  return { database, states, writes: new ContactWrites(database, states, () => clock.now), clock, close: () => database.close() };
}

async function dropEverything(database: Database): Promise<void> {
  // segment_member_order: a view on PostgreSQL, and on SQLite since migration 0013 (a table before).
  const orderIsView = database.dialect === 'postgres'
    || (await sql<{ type: string }>`select type from sqlite_master where name = 'segment_member_order'`.execute(database.db)).rows[0]?.type === 'view';
  if (orderIsView) await sql`DROP VIEW IF EXISTS segment_member_order`.execute(database.db);
  const tables = ['webhook_deliveries', 'webhook_subscriptions', 'import_jobs', 'api_tokens', 'segment_event_blocks', 'segment_events', 'segment_builds', 'segment_jobs', 'segment_members_pending', 'segment_member_order', 'segment_member_blocks', 'segment_members', 'segment_counts', 'segment_hidden_from', 'segments', 'contact_list_values', 'contact_documents', 'contact_keys', 'contact_keys_recent', 'contacts', 'attributes', 'workspaces', 'kysely_migration', 'kysely_migration_lock'];
  for (const t of tables) await sql`DROP TABLE IF EXISTS ${sql.id(t)}`.execute(database.db);
}
