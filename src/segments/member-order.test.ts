// The segment order of the membership (member-order.ts): on SQLite a copy that a small write
// leaves behind for its contact, and that readers merge with the contact's own rows; the fold
// brings it up to date. Readers must never see the difference, before or after a fold.
import fc from 'fast-check';
import { sql } from 'kysely';
import { validateOrThrow } from '../conditions/validate.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runBackfills } from './backfill.js';
import { membersOfSegment } from '../conditions/compile-sql.js';
import { SQL_DIALECTS } from '../conditions/sql-dialect.js';
import { FOLD_AFTER, changeOrderRows, changedBlock, foldMemberOrder, rowsTheCopyHasInExcess, rowsTheCopyLacks } from './member-order.js';
import { listMembers } from './members.js';
import { previewCount } from './preview.js';
import { createSegment, deleteSegment, getSegment, listSegments, readCounts } from './segment-store.js';
import { openEngine } from './test-support/engine.js';
import type { TestEngine } from './test-support/engine.js';
import { checkStore } from './test-support/membership-checks.js';
import { verifyWorkspace } from './verify.js';
import { runMemberOrderFolds, runWorkerPass } from './worker.js';

const pgUrl = await postgresTestUrl();

let opened: TestEngine | undefined;
afterEach(async () => { await opened?.close(); opened = undefined; });

const createSegmentNow = (engine: TestEngine, name: string, condition: object) =>
  writeTransaction(engine.database, (tx) => createSegment(tx, engine.workspaceId, { name, condition } as never, engine.clock.now));

/** A new store with the segment VIP (tags contain "vip"), built; `inVip`: and one built on it. */
async function openWithVip(dialect: Dialect, options: { inVip?: boolean } = {}): Promise<{ engine: TestEngine; vip: string; inVip: string | null }> {
  const engine = opened = await openEngine(dialect, pgUrl);
  const vip = (await createSegmentNow(engine, 'VIP', { attr: 'tags', op: 'contains', value: 'vip' })).id;
  const inVip = options.inVip ? (await createSegmentNow(engine, 'In VIP', { attr: 'segments', op: 'contains', value: vip })).id : null;
  await runBackfills(engine.database, engine.states, { clock: () => engine.clock.now });
  return { engine, vip, inVip };
}

describe('a block of the segment order changed as text (changedBlock)', () => {
  it('is the stored offsets without those removed, then with those added, each once, in any order', () => {
    const offset = fc.integer({ min: 0, max: 255 });
    fc.assert(fc.property(fc.uniqueArray(offset), fc.array(offset), fc.array(offset), (stored, remove, add) => {
      const after = JSON.parse(changedBlock(JSON.stringify(stored), { add, remove })) as number[];
      const expected = new Set(stored.filter((o) => !remove.includes(o)));
      for (const o of add) expected.add(o);
      expect([...after].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    }), { numRuns: 2000 });
  });
});

describe.each<Dialect>(['sqlite', 'postgres'])('the segment order on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null;

  async function withVip(): Promise<{ engine: TestEngine; vip: string; inVip: string }> {
    const { engine, vip, inVip } = await openWithVip(dialect, { inVip: true });
    return { engine, vip, inVip: inVip! };
  }

  const members = async (engine: TestEngine, segmentId: string) => (await listMembers(engine.database.db, engine.workspaceId, segmentId, { limit: 1000 })).members;
  const pending = async (engine: TestEngine) => (await engine.database.db.selectFrom('segment_members_pending').select('contact_pk').execute()).length;
  const fold = (engine: TestEngine) => writeTransaction(engine.database, (tx) => foldMemberOrder(tx, engine.workspaceId));
  const countIn = async (engine: TestEngine, segmentId: string) => {
    const state = await engine.states.get(engine.database.db, engine.workspaceId);
    return previewCount(engine.database, state, validateOrThrow(state.schema, { attr: 'segments', op: 'contains', value: segmentId }), engine.clock.now);
  };
  const consistent = async (engine: TestEngine) => expect(await checkStore(engine.database, engine.states, engine.workspaceId, engine.clock.now)).toEqual([]);

  it.skipIf(skip)('a single write is in member lists and in conditions on segments at once, before the fold and after it', async () => {
    const { engine, vip, inVip } = await withVip();
    await fold(engine);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }]);
    expect(await pending(engine)).toBe(dialect === 'sqlite' ? 1 : 0);
    for (const segmentId of [vip, inVip]) expect(await members(engine, segmentId)).toEqual([{ id: 'a', since: engine.clock.now }]);
    expect(await countIn(engine, vip)).toBe(1);
    await consistent(engine);
    expect(await fold(engine)).toBe(dialect === 'sqlite' ? 1 : 0);
    expect(await pending(engine)).toBe(0);
    for (const segmentId of [vip, inVip]) expect(await members(engine, segmentId)).toEqual([{ id: 'a', since: engine.clock.now }]);
    await consistent(engine);
  });

  it.skipIf(skip)('counts are read with the listed contacts\' changes, and the fold stores them', async () => {
    const { engine, vip, inVip } = await withVip();
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }, { id: 'b', tags: ['vip'] }]);
    await fold(engine);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'c', tags: ['vip'] }]);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: [] }]);
    await engine.writes.delete(engine.workspaceId, 'b');
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'd', tags: ['vip'] }]);
    const db = engine.database.db;
    const stored = async () => Object.fromEntries((await db.selectFrom('segment_counts').select(['segment_id', 'member_count']).execute()).map((r) => [r.segment_id, Number(r.member_count)]));
    const read = async () => {
      const counts = await readCounts(db, engine.workspaceId);
      expect(Object.fromEntries((await listSegments(db, engine.workspaceId)).map((s) => [s.id, s.memberCount]))).toEqual(Object.fromEntries(counts));
      expect((await getSegment(db, engine.workspaceId, vip)).memberCount).toBe(counts.get(vip));
      return Object.fromEntries(counts);
    };
    expect(await read()).toEqual({ [vip]: 2, [inVip]: 2 });
    expect(await stored()).toEqual({ [vip]: 2, [inVip]: 2 }); // c and d in, a and b out: the same counts either way
    await consistent(engine);
    await fold(engine);
    expect(await stored()).toEqual({ [vip]: 2, [inVip]: 2 });
    expect(await read()).toEqual({ [vip]: 2, [inVip]: 2 });
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'e', tags: ['vip'] }]);
    // SQLite: the stored counts are the copy's until the fold; every read adds the listed contacts' changes.
    expect(await stored()).toEqual({ [vip]: dialect === 'sqlite' ? 2 : 3, [inVip]: dialect === 'sqlite' ? 2 : 3 });
    expect(await read()).toEqual({ [vip]: 3, [inVip]: 3 });
    await consistent(engine);
  });

  it.skipIf(skip)('a contact that left and came back before the fold is listed once, with its new since', async () => {
    const { engine, vip } = await withVip();
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }, { id: 'b', tags: ['vip'] }]);
    await fold(engine);
    const first = engine.clock.now;
    engine.clock.now += 60_000;
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: [] }]);
    expect((await members(engine, vip)).map((m) => m.id)).toEqual(['b']);
    expect(await countIn(engine, vip)).toBe(1);
    engine.clock.now += 60_000;
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }]);
    expect(await members(engine, vip)).toEqual([{ id: 'a', since: engine.clock.now }, { id: 'b', since: first }]);
    await consistent(engine);
    await fold(engine);
    expect(await members(engine, vip)).toEqual([{ id: 'a', since: engine.clock.now }, { id: 'b', since: first }]);
    await consistent(engine);
  });

  it.skipIf(skip)('a deleted contact, and a new one given its pk, before the fold', async () => {
    const { engine, vip, inVip } = await withVip();
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['x'] }, { id: 'b', tags: ['vip'] }]);
    await fold(engine);
    await engine.writes.delete(engine.workspaceId, 'b');
    expect(await members(engine, vip)).toEqual([]);
    // SQLite gives the new row the highest pk + 1: b's.
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'c', tags: ['y'] }]);
    expect(await members(engine, vip)).toEqual([]);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'd', tags: ['vip'] }]);
    expect((await members(engine, inVip)).map((m) => m.id)).toEqual(['d']);
    await consistent(engine);
    await fold(engine);
    expect((await members(engine, vip)).map((m) => m.id)).toEqual(['d']);
    await consistent(engine);
  });

  it.skipIf(skip)('a batch of many contacts writes the segment order itself, after folding the contacts listed before it', async () => {
    const { engine, vip } = await withVip();
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }]);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'b', tags: ['vip'] }, { id: 'c', tags: [] }]);
    const batch = Array.from({ length: 40 }, (_, i) => ({ id: `n${String(i).padStart(2, '0')}`, tags: i % 2 === 0 ? ['vip'] : [] }));
    // Stored contacts that leave and enter, and new ones.
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: [] }, { id: 'c', tags: ['vip'] }, ...batch]);
    expect(await pending(engine)).toBe(0);
    expect((await members(engine, vip)).map((m) => m.id)).toEqual(['b', 'c', ...batch.filter((_, i) => i % 2 === 0).map((r) => r.id)]);
    await consistent(engine);
  });

  it.skipIf(skip)(`a write folds once ${FOLD_AFTER} contacts are listed, and the worker's pass folds the rest`, async () => {
    const { engine, vip } = await withVip();
    await fold(engine);
    for (let i = 0; i < FOLD_AFTER - 1; i++) await engine.writes.writeBatch(engine.workspaceId, [{ id: `c${i}`, tags: ['vip'] }]);
    expect(await pending(engine)).toBe(dialect === 'sqlite' ? FOLD_AFTER - 1 : 0);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'last', tags: ['vip'] }]);
    expect(await pending(engine)).toBe(0);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'c0', tags: [] }, { id: 'c1', tags: ['vip', 'x'] }]);
    expect(await pending(engine)).toBe(dialect === 'sqlite' ? 1 : 0);
    const pass = await runWorkerPass(engine.database, engine.states, { clock: () => engine.clock.now });
    expect(pass.folded).toBe(dialect === 'sqlite' ? 1 : 0);
    expect(await pending(engine)).toBe(0);
    expect(await members(engine, vip)).toHaveLength(FOLD_AFTER - 1);
    await consistent(engine);
  });

  it.skipIf(skip)('deleting a segment, and rebuilding one, while contacts are listed', async () => {
    const { engine, vip, inVip } = await withVip();
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }, { id: 'b', tags: ['vip'] }]);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: [] }]);
    await writeTransaction(engine.database, (tx) => deleteSegment(tx, engine.workspaceId, inVip, engine.clock.now));
    expect(await engine.database.db.selectFrom('segment_members').select('contact_pk').where('segment_id', '=', inVip).execute()).toEqual([]);
    expect(await engine.database.db.selectFrom('segment_member_order').select('contact_pk').where('segment_id', '=', inVip).execute()).toEqual([]);
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'c', tags: ['vip'] }]);
    const other = await createSegmentNow(engine, 'Not VIP', { attr: 'segments', op: 'not_contains', value: vip });
    await runBackfills(engine.database, engine.states, { clock: () => engine.clock.now });
    expect((await members(engine, other.id)).map((m) => m.id)).toEqual(['a']);
    await consistent(engine);
  });
});

describe('the segment order on SQLite', () => {
  it('the server\'s fold loop folds what writes list, pass after pass, until stopped', async () => {
    const { engine } = await openWithVip('sqlite');
    const stop = new AbortController();
    const loop = runMemberOrderFolds(engine.database, { intervalMs: 10, signal: stop.signal });
    const listed = async () => (await engine.database.db.selectFrom('segment_members_pending').select('contact_pk').execute()).length;
    for (const id of ['a', 'b']) {
      await engine.writes.writeBatch(engine.workspaceId, [{ id, tags: ['vip'] }]);
      const deadline = Date.now() + 5_000;
      while ((await listed()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await listed()).toBe(0);
    }
    stop.abort();
    await loop;
    expect(await engine.database.db.selectFrom('segment_member_order').select('contact_pk').execute()).toHaveLength(2);
  });

  it('a batch in which a member leaves and comes back keeps it in the copy, since the batch', async () => {
    const { engine, vip } = await openWithVip('sqlite');
    await engine.writes.writeBatch(engine.workspaceId, ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, tags: ['vip'] })));
    engine.clock.now += 1000;
    // More than DEFERRED_UP_TO rows: the batch writes the copy itself.
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['x'] }, { id: 'b', tags: ['x'] }, { id: 'a', tags: ['vip'] }, { id: 'f', tags: ['x'] }, { id: 'g', tags: ['x'] }]);
    expect(await engine.database.db.selectFrom('segment_members_pending').selectAll().execute()).toEqual([]);
    expect(await checkStore(engine.database, engine.states, engine.workspaceId, engine.clock.now)).toEqual([]);
    const members = (await listMembers(engine.database.db, engine.workspaceId, vip, { limit: 10 })).members;
    expect(members).toEqual([{ id: 'a', since: engine.clock.now }, ...['c', 'd', 'e'].map((id) => ({ id, since: engine.clock.now - 1000 }))]);
  });

  it('a copy that lost a row is reported by verify and by the checks', async () => {
    const { engine, vip } = await openWithVip('sqlite');
    await engine.writes.writeBatch(engine.workspaceId, [{ id: 'a', tags: ['vip'] }, { id: 'b', tags: ['vip'] }]);
    await writeTransaction(engine.database, (tx) => foldMemberOrder(tx, engine.workspaceId));
    expect(await verifyWorkspace(engine.database, engine.states, engine.workspaceId, engine.clock.now)).toEqual([]);
    const b = await engine.database.db.selectFrom('contacts').select('pk').where('id', '=', 'b').executeTakeFirstOrThrow();
    await writeTransaction(engine.database, (tx) => changeOrderRows(tx, engine.workspaceId, [], [[vip, Number(b.pk)]]));
    expect(await verifyWorkspace(engine.database, engine.states, engine.workspaceId, engine.clock.now)).toEqual([
      { segmentId: vip, kind: 'segment_order', detail: '1 members in segment order, 2 stored by contact' },
    ]);
    expect(await checkStore(engine.database, engine.states, engine.workspaceId, engine.clock.now)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^segment order: missing /),
      expect.stringMatching(/rows of segment_members for contacts not pending are not in segment_member_order/),
    ]));
  });

  it('reads a contact\'s memberships by segment_members\' key, a segment\'s members by segment_member_order\'s', async () => {
    const engine = opened = await openEngine('sqlite', null);
    const plan = async (query: ReturnType<typeof sql>) => {
      const { rows } = await sql`explain query plan ${query}`.execute(engine.database.db);
      return (rows as Record<string, unknown>[]).map((r) => String(r.detail)).join('\n');
    };
    expect(await plan(sql`select segment_id from segment_members where workspace_id = 'ws1' and contact_pk = 7`)).toMatch(/SEARCH segment_members USING PRIMARY KEY \(workspace_id=\? AND contact_pk=\?\)/);
    // The segment order is a view of blocks of pks: a page reads a range of blocks by their key.
    const page = await plan(sql`select contact_pk from segment_member_order where workspace_id = 'ws1' and segment_id = 's' and block >= 1 and block <= 3 order by contact_pk limit 10`);
    expect(page).toMatch(/SEARCH b USING PRIMARY KEY \(workspace_id=\? AND segment_id=\? AND block>\? AND block<\?\)/);
  });

  it('folds and merges from the listed contacts, never from all of segment_members', async () => {
    const engine = opened = await openEngine('sqlite', null);
    const d = SQL_DIALECTS.sqlite;
    const statements = [rowsTheCopyLacks('ws1'), rowsTheCopyHasInExcess('ws1'), membersOfSegment(d, d.text('ws1'), (c) => sql`${c} = ${d.text('s')}`, 5)];
    for (const statement of statements) {
      const compiled = statement.compile(engine.database.db);
      const { rows } = await engine.database.db.executeQuery<{ detail: string }>({ ...compiled, sql: 'explain query plan ' + compiled.sql });
      const plan = rows.map((r) => r.detail);
      expect(plan.filter((line) => /segment_members|\bm\b/.test(line) && !/segment_members_pending/.test(line))).not.toContainEqual(expect.stringMatching(/^(SCAN|SEARCH) m( USING PRIMARY KEY \(workspace_id=\?\))?$/));
      expect(plan.join('\n')).toMatch(/SEARCH p USING PRIMARY KEY \(workspace_id=\?\)/);
    }
  });
});
