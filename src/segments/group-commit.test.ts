// Group commit of single-contact writes, on both dialects: writes made at once commit together, in
// their order of arrival, with the same outcome each would have had alone; one write's failure is
// never another's.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { sql } from 'kysely';
import { writeContactBatch } from './contact-batch.js';
import { ContactWrites } from './contact-writes.js';
import { GroupCommit } from './group-commit.js';
import { CountDeltas } from './membership-writer.js';
import { readEvents } from './event-feed.js';
import { runBackfills } from './backfill.js';
import { createSegment, getSegment } from './segment-store.js';
import { verifyWorkspace } from './verify.js';
import { openEngine } from './test-support/engine.js';
import type { TestEngine } from './test-support/engine.js';

const pgUrl = await postgresTestUrl();

describe.each<Dialect>(['sqlite', 'postgres'])('group commit on %s', (dialect) => {
  let e: TestEngine;
  let groups: number;
  let writes: ContactWrites;
  const skip = dialect === 'postgres' && pgUrl === null;

  beforeEach(async () => {
    if (skip) return;
    e = await openEngine(dialect, pgUrl, { attributes: [{ key: 'plan_tier', type: 'enum', options: ['free', 'pro', 'enterprise'] }, { key: 'mrr', type: 'number' }] });
    await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name: 'Pro', condition: { attr: 'plan_tier', op: 'eq', value: 'pro' } }, e.clock.now));
    await runBackfills(e.database, e.states, { clock: () => e.clock.now });
    // The writer reads its clock once per transaction: the number of reads is the number of groups.
    groups = 0;
    writes = new ContactWrites(e.database, e.states, () => { groups++; return e.clock.now; });
  });
  afterEach(async () => { if (!skip) await e.close(); });

  const pro = async () => (await e.database.db.selectFrom('segments').select('id').where('name', '=', 'Pro').executeTakeFirstOrThrow()).id;

  it.skipIf(skip)('writes made at once commit as one group, applied in their order of arrival', async () => {
    const sent = Array.from({ length: 30 }, (_, i) => ({ id: `c${i % 5}`, plan_tier: ['free', 'pro'][i % 2], mrr: i }));
    const outcomes = await Promise.all(sent.map((row) => writes.writeOne(e.workspaceId, row)));
    expect(groups).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(sent.map((_, i) => (i < 5 ? 'created' : 'updated')));
    // The last write of each contact is what stays, as if they had run one after another.
    for (let k = 0; k < 5; k++) {
      const last = sent.filter((r) => r.id === `c${k}`).at(-1)!;
      expect((await writes.get(e.workspaceId, `c${k}`))!.values).toEqual({ plan_tier: last.plan_tier, mrr: last.mrr });
    }
    // c0 alternates free/pro with i: its events follow the order of arrival.
    const segmentId = await pro();
    const c1Events = (await readEvents(e.database.db, e.workspaceId)).filter((ev) => ev.contactId === 'c1').map((ev) => ev.type);
    const expected: string[] = [];
    let inside = false;
    for (const r of sent.filter((x) => x.id === 'c1')) {
      if ((r.plan_tier === 'pro') !== inside) { inside = !inside; expected.push(inside ? 'segment.entered' : 'segment.left'); }
    }
    expect(c1Events).toEqual(expected);
    expect((await getSegment(e.database.db, e.workspaceId, segmentId)).memberCount).toBe(sent.slice(-5).filter((r) => r.plan_tier === 'pro').length);
    expect(await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now)).toEqual([]);
  });

  it.skipIf(skip)('in a group, a bad row is rejected and a PATCH of a missing contact is not found; the rest commit', async () => {
    await writes.writeOne(e.workspaceId, { id: 'a', plan_tier: 'free' });
    groups = 0;
    const results = await Promise.allSettled([
      writes.patch(e.workspaceId, { id: 'a', plan_tier: 'pro' }),
      writes.writeOne(e.workspaceId, { id: 'b', mrr: 'lots' }),
      writes.patch(e.workspaceId, { id: 'nobody', plan_tier: 'pro' }),
      writes.writeOne(e.workspaceId, { id: 'c', plan_tier: 'pro', mrr: '12' }),
      // Created earlier in the same group, yet the PATCH was concurrent with it: not found (never created by a PATCH).
      writes.patch(e.workspaceId, { id: 'c', mrr: 13 }),
    ]);
    expect(groups).toBe(1);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { status: 'updated', id: 'a' } });
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: { status: 'rejected', errors: [{ path: 'mrr' }] } });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: 'not_found' } });
    expect(results[3]).toEqual({ status: 'fulfilled', value: { status: 'created', id: 'c' } });
    expect(results[4]).toMatchObject({ status: 'rejected', reason: { code: 'not_found' } });
    expect(await writes.get(e.workspaceId, 'b')).toBeNull();
    expect(await writes.get(e.workspaceId, 'nobody')).toBeNull();
    expect((await writes.get(e.workspaceId, 'c'))!.values).toEqual({ plan_tier: 'pro', mrr: 12 });
    expect((await getSegment(e.database.db, e.workspaceId, await pro())).memberCount).toBe(2);
    expect(await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now)).toEqual([]);
  });

  it.skipIf(skip)('writes of several workspaces go in one group, each to its own workspace', async () => {
    const { createWorkspace } = await import('../workspaces/workspace-store.js');
    await createWorkspace(e.database, { id: 'ws2', name: 'Other' }, e.clock.now);
    await writes.writeOne('ws2', { id: 'same', name: 'In ws2' });
    await writes.writeOne('ws2', { id: 'only-ws2', name: 'In ws2' });
    groups = 0;
    const outcomes = await Promise.all([
      writes.writeOne(e.workspaceId, { id: 'same', plan_tier: 'pro' }),
      writes.patch('ws2', { id: 'same', name: 'Renamed' }),
      writes.patch(e.workspaceId, { id: 'only-ws2', name: 'x' }).catch((error: { code: string }) => error.code),
    ]);
    expect(groups).toBe(2); // one group: the clock is read once per workspace in it
    expect(outcomes).toEqual([{ status: 'created', id: 'same' }, { status: 'updated', id: 'same' }, 'not_found']);
    expect((await writes.get(e.workspaceId, 'same'))!.values).toEqual({ plan_tier: 'pro' });
    expect((await writes.get('ws2', 'same'))!.values).toEqual({ name: 'Renamed' });
  });

  it.skipIf(skip)('only the columns of the changed attributes are rewritten, and the stored columns stay equal to the values', async () => {
    await writes.writeOne(e.workspaceId, { id: 'k', email: 'Ana@Example.com', plan_tier: 'pro', mrr: 5 });
    await writes.patch(e.workspaceId, { id: 'k', mrr: 6 });
    await writes.patch(e.workspaceId, { id: 'k', email: null });
    await writes.patch(e.workspaceId, { id: 'k', plan_tier: 'free', tags: ['a', 'B'] });
    await writes.patch(e.workspaceId, { id: 'k', tags: ['c'] });
    expect((await writes.get(e.workspaceId, 'k'))!.values).toEqual({ plan_tier: 'free', mrr: 6, tags: ['c'] });
    const lists = await e.database.db.selectFrom('contact_list_values').select(['attr', 'value']).where('workspace_id', '=', e.workspaceId).execute();
    expect(lists).toEqual([{ attr: 'tags', value: 'c' }]);
    expect(await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now)).toEqual([]);
    // And verify does see a column or a list that has drifted from the values as written.
    const state = await e.states.get(e.database.db, e.workspaceId);
    const mrr = state.columns.storage.get('mrr')!;
    if (mrr.kind !== 'column') throw new Error('mrr: expected a slot column');
    await e.database.db.updateTable('contacts').set({ [mrr.column]: 7 } as never).where('id', '=', 'k').execute();
    await e.database.db.insertInto('contact_list_values').values({ workspace_id: e.workspaceId, contact_pk: (await writes.get(e.workspaceId, 'k'))!.pk, attr: 'tags', value: 'stale' }).execute();
    const drift = await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now);
    expect(drift.map((d) => [d.kind, d.contactId, d.detail!.split(':')[0]]).sort()).toEqual([['stored_value', 'k', 'mrr'], ['stored_value', 'k', 'tags']]);
  });
});

describe.each<Dialect>(['sqlite', 'postgres'])('group commit on %s: a group the database refuses', (dialect) => {
  it.skipIf(dialect === 'postgres' && pgUrl === null)('fails alone: the group runs again one write at a time', async () => {
    const e = await openEngine(dialect, pgUrl);
    try {
      let transactions = 0;
      // The real write path, and a statement the database itself refuses when the group holds the poison row.
      const commit = new GroupCommit(e.database, async (tx, workspaceId, rows) => {
        transactions++;
        const counts = new CountDeltas();
        const outcomes = await writeContactBatch(tx, await e.states.get(tx, workspaceId), rows.map(({ poison: _, ...row }) => row), e.clock.now, counts);
        await counts.flush(tx, workspaceId);
        if (rows.some((r) => r.poison)) await sql`select * from no_such_table`.execute(tx);
        return outcomes;
      });
      const results = await Promise.allSettled(['fine-1', 'poison', 'fine-2'].map((id) => commit.write({ workspaceId: e.workspaceId, row: { id, name: id, poison: id === 'poison' }, mustExist: false })));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(transactions).toBe(4); // the group, then each write alone
      expect(await e.writes.get(e.workspaceId, 'fine-1')).not.toBeNull();
      expect(await e.writes.get(e.workspaceId, 'poison')).toBeNull();
      expect(await e.writes.get(e.workspaceId, 'fine-2')).not.toBeNull();
    } finally {
      await e.close();
    }
  });
});

describe('group commit on sqlite: the write lock held by another process', () => {
  it('writes wait for it without blocking the event loop, commit once it is free, and fail together (not one by one) past the busy timeout', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const { createDatabase } = await import('../db/database.js');
    const { migrateToLatest } = await import('../db/migrate.js');
    const { createWorkspace } = await import('../workspaces/workspace-store.js');
    const { WorkspaceStates } = await import('./workspace-state.js');
    const dir = mkdtempSync(join(tmpdir(), 'segments-busy-'));
    const file = join(dir, 'store.sqlite');
    const database = createDatabase({ dialect: 'sqlite', filename: file, busyTimeoutMs: 1_000 });
    const other = new BetterSqlite3(file);
    try {
      await migrateToLatest(database);
      await createWorkspace(database, { id: 'ws1', name: 'Acme' });
      const writes = new ContactWrites(database, new WorkspaceStates());
      await writes.writeOne('ws1', { id: 'warm' });

      // Another connection (as another process would) holds the write lock for 150 ms.
      other.exec('BEGIN IMMEDIATE');
      let ticks = 0;
      const ticker = setInterval(() => { ticks++; }, 10);
      setTimeout(() => other.exec('COMMIT'), 150);
      const started = performance.now();
      const outcomes = await Promise.all(['a', 'b', 'c'].map((id) => writes.writeOne('ws1', { id })));
      clearInterval(ticker);
      expect(outcomes.map((o) => o.status)).toEqual(['created', 'created', 'created']);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      expect(ticks).toBeGreaterThanOrEqual(5); // the event loop ran while the writes waited

      // Held past the busy timeout: every write of the group fails, once, after about that long.
      other.exec('BEGIN IMMEDIATE');
      const t0 = performance.now();
      const failed = await Promise.allSettled(['d', 'e', 'f'].map((id) => writes.writeOne('ws1', { id })));
      const waited = performance.now() - t0;
      other.exec('ROLLBACK');
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(failed.map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['SQLITE_BUSY', 'SQLITE_BUSY', 'SQLITE_BUSY']);
      expect(waited).toBeGreaterThanOrEqual(990);
      // Not 4 × 1 s: the group is not retried write by write (2 s of room for a busy machine).
      expect(waited).toBeLessThan(3_000);
      expect(await writes.get('ws1', 'd')).toBeNull();
    } finally {
      other.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
