// Members a page at a time: every member exactly once, in a stable order, whatever the page size;
// a bad cursor or limit is refused by name.
import { afterEach, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runBackfills } from './backfill.js';
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
