import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase } from './database.js';
import type { Database } from './database.js';
import { migrateToLatest } from './migrate.js';
import { migrationsFor } from './migrations/index.js';
import { SLOT_COLUMNS } from './tables.js';
import { writeTransaction } from './write-transaction.js';
import { appendEvents, readEvents } from '../segments/event-feed.js';
import { createTestSchema, postgresTestUrl } from './test-support/postgres.js';

const pgUrl = await postgresTestUrl();

async function columnsOf(database: Database, table: string): Promise<string[]> {
  const tables = await database.db.introspection.getTables();
  const found = tables.find((t) => t.name === table && (database.dialect === 'sqlite' || t.schema === database.schema));
  return found ? found.columns.map((c) => c.name) : [];
}

const ALL_MIGRATIONS = ['0001_contacts', '0002_segments', '0003_contact_documents', '0004_access', '0005_webhooks', '0006_segment_counts', '0007_memberships_by_contact', '0008_event_blocks', '0009_webhook_filters', '0010_member_order', '0011_horizon_buckets', '0012_contact_key_tiers', '0013_member_blocks'];

/** What every dialect must give: the tables, the slots, the keys, and a migration run only once. */
async function checkMigrations(database: Database): Promise<void> {
  expect(await migrateToLatest(database)).toEqual(ALL_MIGRATIONS);
  expect(await migrateToLatest(database)).toEqual([]);
  expect(await columnsOf(database, 'contacts')).toEqual(
    ['pk', 'workspace_id', 'id', 'version', 'created_ms', 'updated_ms', ...SLOT_COLUMNS, 'next_change_ms'],
  );
  expect(await columnsOf(database, 'contact_documents')).toEqual(['contact_pk', 'workspace_id', 'document']);
  expect(await columnsOf(database, 'contact_list_values')).toEqual(['workspace_id', 'contact_pk', 'attr', 'value']);
  expect(await columnsOf(database, 'api_tokens')).toEqual(['id', 'workspace_id', 'name', 'role', 'agent_id', 'teams', 'digest', 'prefix', 'created_ms', 'revoked_ms']);
  expect(await columnsOf(database, 'segment_hidden_from')).toEqual(['workspace_id', 'segment_id', 'principal_kind', 'principal_id']);
  expect(await columnsOf(database, 'webhook_deliveries')).toContain('next_attempt_ms');
  expect(await columnsOf(database, 'segment_counts')).toEqual(['workspace_id', 'segment_id', 'member_count']);
  expect(await columnsOf(database, 'segments')).not.toContain('member_count');

  const { db } = database;
  const contact = { workspace_id: 'w1', id: 'a', created_ms: 1, updated_ms: 1, t1: 'x' };
  // pk is generated, version defaults to 1.
  await db.insertInto('contacts').values(contact).execute();
  const row = await db.selectFrom('contacts').select(['pk', 'version', 't1', 'n1']).where('id', '=', 'a').executeTakeFirstOrThrow();
  expect(row).toMatchObject({ version: 1, t1: 'x', n1: null });
  // (workspace_id, id) is unique; another workspace may reuse the id.
  await expect(db.insertInto('contacts').values(contact).execute()).rejects.toThrow(/unique|duplicate/i);
  await db.insertInto('contacts').values({ ...contact, workspace_id: 'w2' }).execute();

  // List rows: one per (workspace, attr, value, contact); they go with their contact.
  const pk = Number(row.pk);
  await db.insertInto('contact_list_values').values({ workspace_id: 'w1', contact_pk: pk, attr: 'tags', value: 'vip' }).execute();
  await expect(db.insertInto('contact_list_values').values({ workspace_id: 'w1', contact_pk: pk, attr: 'tags', value: 'vip' }).execute())
    .rejects.toThrow(/unique|duplicate|primary/i);
  await db.insertInto('contact_documents').values({ contact_pk: pk, workspace_id: 'w1', document: '{"name":"Ana"}' }).execute();
  await db.deleteFrom('contacts').where('pk', '=', pk).execute();
  const left = await db.selectFrom('contact_list_values').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  expect(Number(left.n)).toBe(0);
  const documents = await db.selectFrom('contact_documents').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  expect(Number(documents.n)).toBe(0);
}

/** Migrates a new store up to `name` only: a store as an older release left it. */
async function migrateUpTo(database: Database, name: string): Promise<void> {
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrationsFor(database.dialect) },
    ...(database.dialect === 'postgres' ? { migrationTableSchema: database.schema } : {}),
  });
  expect((await migrator.migrateTo(name)).error).toBeUndefined();
}

/** A store made before 0003 keeps every contact's values (they move to contact_documents), and its segments' counts (to segment_counts, 0006). */
async function checkDocumentsMove(database: Database): Promise<void> {
  await migrateUpTo(database, '0002_segments');
  await sql`insert into contacts (workspace_id, id, attributes, created_ms, updated_ms) values ('w1', 'old', '{"name":"Ana","mrr":5}', 1, 1)`.execute(database.db);
  await sql`insert into workspaces (id, name, created_ms) values ('w1', 'W', 1)`.execute(database.db);
  await sql`insert into segments (workspace_id, id, name, name_folded, kind, status, member_count, created_ms, updated_ms) values ('w1', 'sg1', 'VIP', 'vip', 'manual', 'ready', 7, 1, 1)`.execute(database.db);
  expect(await migrateToLatest(database)).toEqual(ALL_MIGRATIONS.slice(2));
  expect(await database.db.selectFrom('segment_counts').selectAll().execute()).toEqual([{ workspace_id: 'w1', segment_id: 'sg1', member_count: database.dialect === 'postgres' ? '7' : 7 }]);
  const rows = await database.db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
    .select(['c.id', 'd.workspace_id', 'd.document']).execute();
  expect(rows).toEqual([{ id: 'old', workspace_id: 'w1', document: '{"name":"Ana","mrr":5}' }]);
}

/**
 * Events stored one a row before 0008 keep their numbers as blocks of one (cursors and webhook
 * event ids held by readers stay valid), and each workspace's next event follows its own highest.
 */
async function checkEventsMove(database: Database): Promise<void> {
  await migrateUpTo(database, '0007_memberships_by_contact');
  for (const [ws, type, segment, contact] of [['w1', 'segment.entered', 'sg_a', 'c1'], ['w2', 'segment.entered', 'sg_b', 'x"1'], ['w1', 'segment.left', 'sg_a', 'c1'], ['w1', 'segment.deleted', 'sg_a', null]]) {
    await sql`insert into segment_events (workspace_id, type, segment_id, segment_version, contact_id, at_ms) values (${ws}, ${type}, ${segment}, 3, ${contact}, 1000)`.execute(database.db);
  }
  expect(await migrateToLatest(database)).toEqual(['0008_event_blocks', '0009_webhook_filters', '0010_member_order', '0011_horizon_buckets', '0012_contact_key_tiers', '0013_member_blocks']);
  const w1 = await readEvents(database.db, 'w1');
  expect(w1).toEqual([
    { seq: 1, type: 'segment.entered', segmentId: 'sg_a', segmentVersion: 3, contactId: 'c1', at: 1000 },
    { seq: 3, type: 'segment.left', segmentId: 'sg_a', segmentVersion: 3, contactId: 'c1', at: 1000 },
    { seq: 4, type: 'segment.deleted', segmentId: 'sg_a', segmentVersion: 3, contactId: null, at: 1000 },
  ]);
  expect(await readEvents(database.db, 'w2')).toEqual([{ seq: 2, type: 'segment.entered', segmentId: 'sg_b', segmentVersion: 3, contactId: 'x"1', at: 1000 }]);
  expect(await readEvents(database.db, 'w1', 1)).toEqual(w1.slice(1));
  await writeTransaction(database, (tx) => appendEvents(tx, 'w2', [{ type: 'segment.left', segmentId: 'sg_b', version: 3, contactId: 'x"1' }], 2000));
  expect((await readEvents(database.db, 'w2')).map((e) => e.seq)).toEqual([2, 3]);
}

/**
 * Membership stored before 0010 is kept, and read in both orders: by contact (segment_members)
 * and by segment (segment_member_order, SQLite's copy or PostgreSQL's view), nothing pending.
 */
async function checkMembersMove(database: Database): Promise<void> {
  await migrateUpTo(database, '0009_webhook_filters');
  // pks in three blocks of the segment order (migration 0013: blocks of 256)
  const rows = [['w1', 'sg_b', 2, 20], ['w1', 'sg_a', 3, 30], ['w1', 'sg_a', 1, 10], ['w2', 'sg_a', 1, 11], ['w1', 'sg_a', 700, 70], ['w1', 'sg_a', 256, 25], ['w1', 'sg_a', 255, 24]] as const;
  for (const [ws, segment, pk, since] of rows) {
    await sql`insert into segment_members (workspace_id, segment_id, contact_pk, since_ms) values (${ws}, ${segment}, ${pk}, ${since})`.execute(database.db);
  }
  expect(await migrateToLatest(database)).toEqual(['0010_member_order', '0011_horizon_buckets', '0012_contact_key_tiers', '0013_member_blocks']);
  const expected = [...rows].map((r) => [...r]).sort((a, b) => String(a.slice(0, 2)).localeCompare(String(b.slice(0, 2))) || Number(a[2]) - Number(b[2]));
  const members = await database.db.selectFrom('segment_members').select(['workspace_id', 'segment_id', 'contact_pk', 'since_ms'])
    .orderBy('workspace_id').orderBy('segment_id').orderBy('contact_pk').execute();
  expect(members.map((r) => [r.workspace_id, r.segment_id, Number(r.contact_pk), Number(r.since_ms)])).toEqual(expected);
  const ordered = await database.db.selectFrom('segment_member_order').select(['workspace_id', 'segment_id', 'contact_pk'])
    .orderBy('workspace_id').orderBy('segment_id').orderBy('contact_pk').execute();
  expect(ordered.map((r) => [r.workspace_id, r.segment_id, Number(r.contact_pk)])).toEqual(expected.map((r) => r.slice(0, 3)));
  expect(await database.db.selectFrom('segment_members_pending').selectAll().execute()).toEqual([]);
  if (database.dialect === 'sqlite') {
    // 0013: a row per segment and block of 256 pks, with the members' offsets in the block.
    const blocks = await database.db.selectFrom('segment_member_blocks').selectAll().orderBy('workspace_id').orderBy('segment_id').orderBy('block').execute();
    expect(blocks.map((b) => [b.workspace_id, b.segment_id, b.block, JSON.parse(b.offsets)])).toEqual([
      ['w1', 'sg_a', 0, [1, 3, 255]], ['w1', 'sg_a', 1, [0]], ['w1', 'sg_a', 2, [188]], ['w1', 'sg_b', 0, [2]], ['w2', 'sg_a', 0, [1]],
    ]);
  }
  // And back down: the membership as it was, keyed by segment again.
  expect((await migratorOf(database).migrateTo('0009_webhook_filters')).error).toBeUndefined();
  const back = await database.db.selectFrom('segment_members').select(['workspace_id', 'segment_id', 'contact_pk', 'since_ms'])
    .orderBy('workspace_id').orderBy('segment_id').orderBy('contact_pk').execute();
  expect(back.map((r) => [r.workspace_id, r.segment_id, Number(r.contact_pk), Number(r.since_ms)])).toEqual(expected);
  expect(await migrateToLatest(database)).toEqual(['0010_member_order', '0011_horizon_buckets', '0012_contact_key_tiers', '0013_member_blocks']);
}

function migratorOf(database: Database): Migrator {
  return new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrationsFor(database.dialect) },
    ...(database.dialect === 'postgres' ? { migrationTableSchema: database.schema } : {}),
  });
}

/** The horizons' index: by bucket and pk from 0011, by the horizon alone before it, both ways. */
async function checkHorizonIndex(database: Database): Promise<void> {
  const indexColumns = async (name: string) => {
    const query = database.dialect === 'postgres'
      ? sql<{ def: string }>`select indexdef as def from pg_indexes where schemaname = ${database.schema} and indexname = ${name}`
      : sql<{ def: string }>`select sql as def from sqlite_master where type = 'index' and name = ${name}`;
    const { rows } = await query.execute(database.db);
    return rows.length === 0 ? null : rows[0].def.replace(/^.* on [^(]*/i, '').replace(/"/g, '');
  };
  await migrateUpTo(database, '0010_member_order');
  expect(await indexColumns('contacts_next_change')).toBe('(next_change_ms)');
  await migrateUpTo(database, '0011_horizon_buckets');
  expect(await indexColumns('contacts_next_change')).toBeNull();
  expect(await indexColumns('contacts_horizon')).toBe(database.dialect === 'postgres' ? '(((next_change_ms >> 27)), pk, next_change_ms)' : '((next_change_ms >> 27), pk, next_change_ms)');
  expect((await migratorOf(database).migrateDown()).error).toBeUndefined();
  expect(await indexColumns('contacts_horizon')).toBeNull();
  expect(await indexColumns('contacts_next_change')).toBe('(next_change_ms)');
}

/**
 * SQLite from 0012: the e-mails and external ids of the contacts stored before it are in
 * contact_keys, the triggers keep both tiers as contacts change, and back down the two indexes
 * return. PostgreSQL keeps its indexes: 0012 does nothing there.
 */
async function checkKeyTiers(database: Database): Promise<void> {
  const indexes = async () => (database.dialect === 'postgres'
    ? (await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = ${database.schema} and tablename = 'contacts'`.execute(database.db)).rows
    : (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'contacts'`.execute(database.db)).rows).map((r) => r.name);
  await migrateUpTo(database, '0011_horizon_buckets');
  const contacts = [[1, 'w1', 'c1', 'a@x.io', 'ext-1'], [2, 'w1', 'c2', 'a@x.io', null], [3, 'w2', 'c3', null, 'ext-1'], [4, 'w1', 'c4', null, null]] as const;
  for (const [pk, ws, id, email, external] of contacts) {
    await sql`insert into contacts (pk, workspace_id, id, created_ms, updated_ms, t1, t5) values (${pk}, ${ws}, ${id}, 1, 1, ${email}, ${external})`.execute(database.db);
  }
  expect(await migrateToLatest(database)).toEqual(['0012_contact_key_tiers', '0013_member_blocks']);
  if (database.dialect === 'postgres') {
    expect(await indexes()).toEqual(expect.arrayContaining(['contacts_email', 'contacts_external_id']));
    return;
  }
  const tiers = async () => Promise.all(['contact_keys', 'contact_keys_recent'].map(async (table) => (await sql<{ k: string }>`
    select workspace_id || ' ' || kind || ' ' || key || ' ' || contact_pk as k from ${sql.table(table)} order by 1`.execute(database.db)).rows.map((r) => r.k)));
  expect(await indexes()).not.toContain('contacts_email');
  expect(await indexes()).not.toContain('contacts_external_id');
  expect(await tiers()).toEqual([['w1 1 a@x.io 1', 'w1 1 a@x.io 2', 'w1 2 ext-1 1', 'w2 2 ext-1 3'], []]);
  // New keys go to the recent tier; a changed key leaves both tiers for the recent one; a delete takes both keys.
  await sql`insert into contacts (pk, workspace_id, id, created_ms, updated_ms, t1, t5) values (5, 'w1', 'c5', 1, 1, 'b@x.io', 'ext-5')`.execute(database.db);
  await sql`update contacts set t1 = 'c@x.io' where pk = 1`.execute(database.db);
  await sql`update contacts set t5 = null where pk = 3`.execute(database.db);
  await sql`update contacts set t1 = 'd@x.io', version = 2 where pk = 5`.execute(database.db);
  await sql`update contacts set version = 3 where pk = 2`.execute(database.db);
  await sql`delete from contacts where pk = 1`.execute(database.db);
  expect(await tiers()).toEqual([['w1 1 a@x.io 2'], ['w1 1 d@x.io 5', 'w1 2 ext-5 5']]);
  expect((await migratorOf(database).migrateTo('0011_horizon_buckets')).error).toBeUndefined();
  expect(await indexes()).toEqual(expect.arrayContaining(['contacts_email', 'contacts_external_id']));
  expect(await columnsOf(database, 'contact_keys')).toEqual([]);
  expect(await columnsOf(database, 'contact_keys_recent')).toEqual([]);
}

/** A store an older release made keeps what it holds: each check runs on both dialects. */
const UPGRADES: readonly (readonly [string, (database: Database) => Promise<void>])[] = [
  ['move the values of contacts stored before 0003 into contact_documents', checkDocumentsMove],
  ['keep the events stored before 0008, with their numbers', checkEventsMove],
  ['keep the membership stored before 0010, in both orders', checkMembersMove],
  ['index the horizons by bucket and pk from 0011, and back', checkHorizonIndex],
  ['keep the e-mails and external ids in two tiers from 0012 (SQLite), and back', checkKeyTiers],
];

describe('migrations on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segments-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('create the contacts storage', async () => {
    const database = createDatabase({ dialect: 'sqlite', filename: ':memory:' });
    try {
      await checkMigrations(database);
    } finally {
      await database.close();
    }
  });

  it.each(UPGRADES)('%s', async (_, check) => {
    const database = createDatabase({ dialect: 'sqlite', filename: ':memory:' });
    try {
      await check(database);
    } finally {
      await database.close();
    }
  });

  it('open a file in WAL mode with synchronous=NORMAL, foreign keys and a busy timeout', async () => {
    const database = createDatabase({ dialect: 'sqlite', filename: join(dir, 'db.sqlite'), busyTimeoutMs: 1234 });
    try {
      const { sqlite } = database;
      expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(1234);
    } finally {
      await database.close();
    }
  });
});

describe.skipIf(pgUrl === null)('migrations on PostgreSQL', () => {
  it('create the contacts storage in the schema on the search path', async () => {
    const test = await createTestSchema(pgUrl!);
    try {
      await checkMigrations(test.database);
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ${test.schema}`.execute(test.database.db);
      // contacts, contact_list_values, the 7 tables of 0002, contact_documents, 0004's three, 0005's two, segment_counts, 0010's view and table, and Kysely's two bookkeeping tables
      expect(Number(rows[0].n)).toBe(20);
    } finally {
      await test.drop();
    }
  });

  it.each(UPGRADES)('%s', async (_, check) => {
    const test = await createTestSchema(pgUrl!);
    try {
      await check(test.database);
    } finally {
      await test.drop();
    }
  });

  it('two schemas migrate independently (another schema\'s bookkeeping is not ours)', async () => {
    const [a, b] = await Promise.all([createTestSchema(pgUrl!), createTestSchema(pgUrl!)]);
    try {
      expect(await migrateToLatest(a.database)).toEqual(ALL_MIGRATIONS);
      expect(await migrateToLatest(b.database)).toEqual(ALL_MIGRATIONS);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
  });
});
