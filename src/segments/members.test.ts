// Members a page at a time: every member exactly once, in a stable order, whatever the page size;
// a bad cursor or limit is refused by name.
import { afterEach, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runBackfills } from './backfill.js';
import { foldMemberOrder } from './member-order.js';
import { listMembers } from './members.js';
import { createSegment } from './segment-store.js';
import { openEngine } from './test-support/engine.js';
import type { TestEngine } from './test-support/engine.js';

const pgUrl = await postgresTestUrl();

describe.each<Dialect>(['sqlite', 'postgres'])('segment members on %s', (dialect) => {
  let e: TestEngine | undefined;
  afterEach(async () => { await e?.close(); e = undefined; });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('pages through every member once, in creation order, for any page size', async () => {
    e = await openEngine(dialect, pgUrl);
    const engine = e;
    const rows = Array.from({ length: 23 }, (_, i) => ({ id: `c${String(i).padStart(2, '0')}`, tags: i % 3 === 0 ? ['vip'] : ['x'] }));
    await engine.writes.writeBatch(engine.workspaceId, rows);
    const segment = await writeTransaction(engine.database, (tx) => createSegment(tx, engine.workspaceId, { name: 'VIP', condition: { attr: 'tags', op: 'contains', value: 'vip' } }, engine.clock.now));
    await runBackfills(engine.database, engine.states, { clock: () => engine.clock.now });
    const expected = rows.filter((_, i) => i % 3 === 0).map((r) => r.id);
    for (const limit of [1, 2, 3, 7, 8, 100]) {
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page = await listMembers(engine.database.db, engine.workspaceId, segment.id, { limit, after });
        expect(page.members.length).toBeLessThanOrEqual(limit);
        seen.push(...page.members.map((m) => m.id));
        for (const m of page.members) expect(m.since).toBe(engine.clock.now);
        after = page.next;
        pages++;
      } while (after !== null);
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
  });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('pages through a segment spread over many blocks of pks, with contacts waiting for the fold, for any page size', async () => {
    e = await openEngine(dialect, pgUrl);
    const engine = e;
    // 2,000 contacts: on SQLite the segment order is kept in blocks of 256 pks (migration 0013).
    // Sparse members (two to four in a block), a dense run.
    const member = (i: number) => i % 97 === 0 || (i >= 600 && i < 900) || i % 301 === 5;
    const tags = new Map(Array.from({ length: 2000 }, (_, i) => [`c${String(i).padStart(4, '0')}`, member(i) ? ['m'] : ['x']]));
    await engine.writes.writeBatch(engine.workspaceId, [...tags].map(([id, t]) => ({ id, tags: t })));
    const segment = await writeTransaction(engine.database, (tx) => createSegment(tx, engine.workspaceId, { name: 'M', condition: { attr: 'tags', op: 'contains', value: 'm' } }, engine.clock.now));
    await runBackfills(engine.database, engine.states, { clock: () => engine.clock.now });
    const check = async () => {
      const expected = [...tags].filter(([, t]) => t[0] === 'm').map(([id]) => id);
      for (const limit of [1, 2, 5, 64, 1000]) {
        const seen: string[] = [];
        let after: string | null = null;
        do {
          const page = await listMembers(engine.database.db, engine.workspaceId, segment.id, { limit, after });
          seen.push(...page.members.map((m) => m.id));
          after = page.next;
          expect(page.members.length === limit || after === null).toBe(true);
        } while (after !== null);
        expect(seen).toEqual(expected);
      }
    };
    await check();
    // Single writes (each its own batch): on SQLite the contacts are listed, the copy left behind
    // until the fold, and their rows there hidden from readers. Members leave; others join; a
    // member leaves and comes back; every member of two blocks in a row (pks 1024–1535) leaves,
    // so that a page after the block before them finds its members only in the block after.
    const blockLeavers = ['c1067', 'c1164', 'c1209', 'c1261', 'c1358', 'c1455'];
    const moves: [string, string][] = [['c0000', 'x'], ['c0097', 'x'], ['c0194', 'x'], ['c0005', 'x'], ['c0001', 'm'], ['c0700', 'x'], ['c0700', 'm'], ['c0899', 'x'],
      ...blockLeavers.map((id): [string, string] => [id, 'x'])];
    for (const [id, tag] of moves) {
      await engine.writes.writeBatch(engine.workspaceId, [{ id, tags: [tag] }]);
      tags.set(id, [tag]);
    }
    await check();
    await writeTransaction(engine.database, (tx) => foldMemberOrder(tx, engine.workspaceId));
    await check();
    // A batch (it writes the copy itself): members leave and join across blocks.
    const batch = ['c0291', 'c0388', 'c0600', 'c0601', 'c1000', 'c1001', 'c1300', 'c1999'].map((id) => ({ id, tags: [tags.get(id)![0] === 'm' ? 'x' : 'm'] }));
    await engine.writes.writeBatch(engine.workspaceId, batch);
    for (const row of batch) tags.set(row.id, row.tags);
    await check();
  });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('refuses a made-up cursor, a bad limit and an unknown segment', async () => {
    e = await openEngine(dialect, pgUrl);
    const engine = e;
    const segment = await writeTransaction(engine.database, (tx) => createSegment(tx, engine.workspaceId, { name: 'Any', condition: { attr: 'tags', op: 'is_not_empty' } }, engine.clock.now));
    const list = (options: { limit?: number; after?: string }) => listMembers(engine.database.db, engine.workspaceId, segment.id, options);
    await expect(list({ after: 'bm90IGEgY3Vyc29y' })).rejects.toMatchObject({ code: 'invalid_input', issues: [{ path: 'after' }] });
    await expect(list({ after: "1' OR '1'='1" })).rejects.toMatchObject({ code: 'invalid_input', issues: [{ path: 'after' }] });
    for (const limit of [0, 1001, 2.5]) await expect(list({ limit })).rejects.toMatchObject({ code: 'invalid_input', issues: [{ path: 'limit' }] });
    await expect(listMembers(engine.database.db, engine.workspaceId, 'seg_nope', {})).rejects.toMatchObject({ code: 'not_found' });
    await expect(listMembers(engine.database.db, 'other-workspace', segment.id, {})).rejects.toMatchObject({ code: 'not_found' });
  });
});
