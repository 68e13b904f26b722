// The worker keeps membership following the clock with no write: a segment over a relative date
// is built by the first pass, and a contact leaves it once the clock passes its horizon. Asked for
// a pass (a definition saved through the API), it does not wait out its interval.
import { afterEach, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { createSegment } from './segment-store.js';
import { openEngine } from './test-support/engine.js';
import type { TestEngine } from './test-support/engine.js';
import { WorkerWakeup, repeatPasses, runWorker } from './worker.js';

const pgUrl = await postgresTestUrl();
const MINUTE = 60_000;

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('the worker did not get there in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each<Dialect>(['sqlite', 'postgres'])('the worker on %s', (dialect) => {
  let e: TestEngine | undefined;
  afterEach(async () => { await e?.close(); e = undefined; });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('builds new segments and moves members out as their relative dates pass, with no write', async () => {
    e = await openEngine(dialect, pgUrl);
    const engine = e;
    const start = engine.clock.now;
    await engine.writes.upsert(engine.workspaceId, { id: 'recent', last_interaction_at: new Date(start - 30 * MINUTE).toISOString() });
    await engine.writes.upsert(engine.workspaceId, { id: 'old', last_interaction_at: new Date(start - 5 * 60 * MINUTE).toISOString() });
    const segment = await writeTransaction(engine.database, (tx) => createSegment(tx, engine.workspaceId, {
      name: 'Active in the last hour', condition: { attr: 'last_interaction_at', op: 'within_last', value: { amount: 1, unit: 'hours' } },
    }, start));
    const members = async () => (await engine.database.db.selectFrom('segment_members as m').innerJoin('contacts as c', 'c.pk', 'm.contact_pk')
      .select('c.id').where('m.segment_id', '=', segment.id).execute()).map((r) => r.id).sort();

    const stop = new AbortController();
    const passes: number[] = [];
    const worker = runWorker(engine.database, engine.states, {
      intervalMs: 20, signal: stop.signal, clock: () => engine.clock.now,
      onPass: () => passes.push(engine.clock.now), onError: (error) => { throw error; },
    });
    try {
      await until(async () => (await members()).join() === 'recent');
      engine.clock.now = start + 29 * MINUTE; // still within the hour
      const seen = passes.length;
      await until(async () => passes.length > seen + 1);
      expect(await members()).toEqual(['recent']);
      engine.clock.now = start + 31 * MINUTE; // its last interaction is now more than an hour ago
      await until(async () => (await members()).length === 0);
      const count = await engine.database.db.selectFrom('segment_counts').select('member_count').where('segment_id', '=', segment.id).executeTakeFirstOrThrow();
      expect(Number(count.member_count)).toBe(0);
    } finally {
      stop.abort();
      await worker;
    }
  });

  it.skipIf(dialect === 'postgres' && pgUrl === null)('starts a pass when asked instead of waiting out its interval, also when asked during a pass', async () => {
    e = await openEngine(dialect, pgUrl);
    const engine = e;
    await engine.writes.upsert(engine.workspaceId, { id: 'vip', vip: true });
    const stop = new AbortController();
    const wakeup = new WorkerWakeup();
    let passes = 0;
    const worker = runWorker(engine.database, engine.states, {
      intervalMs: 10 * MINUTE, signal: stop.signal, clock: () => engine.clock.now, wakeup,
      // The third pass asks for another before it ends (as a definition saved meanwhile would).
      onPass: () => { if (++passes === 3) wakeup.request(); }, onError: (error) => { throw error; },
    });
    const status = async (id: string) => (await engine.database.db.selectFrom('segments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
    try {
      await until(async () => passes === 1); // the first pass, at once; the next is ten minutes away
      const vips = await writeTransaction(engine.database, (tx) => createSegment(tx, engine.workspaceId, { name: 'VIP', condition: { attr: 'vip', op: 'eq', value: true } }, engine.clock.now));
      expect(await status(vips.id)).toBe('building');
      wakeup.request();
      await until(async () => passes === 2);
      expect(await status(vips.id)).toBe('ready');
      // Asked twice while no pass runs: one pass; asked during that one: one more after it, and no more.
      wakeup.request();
      wakeup.request();
      await until(async () => passes === 4);
      await new Promise((r) => setTimeout(r, 200));
      expect(passes).toBe(4);
    } finally {
      stop.abort();
      await worker;
    }
  });
});

describe('repeatPasses', () => {
  it('runs its pass every interval until stopped, whether or not anyone reads the results, and goes on after a failure', async () => {
    for (const onPass of [undefined, () => {}]) {
      const stop = new AbortController();
      let passes = 0;
      const errors: unknown[] = [];
      const loop = repeatPasses(async () => {
        passes++;
        if (passes === 2) throw new Error('a failed pass');
        if (passes === 4) stop.abort();
        return passes;
      }, { intervalMs: 1, signal: stop.signal, onPass, onError: (error) => errors.push(error) });
      await loop;
      expect(passes).toBe(4);
      expect(errors).toEqual([new Error('a failed pass')]);
    }
  });
});
