// The feed's order is its commit order: a reader polling with a cursor never passes an event that
// commits later. On PostgreSQL (several writers, numbers drawn at insert) this is the event lock.
import { describe, expect, it } from 'vitest';
import { writeTransaction } from '../db/write-transaction.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { createAttribute } from '../contacts/attribute-store.js';
import { runBackfills } from './backfill.js';
import { readEvents } from './event-feed.js';
import { insertEvents } from './membership-writer.js';
import { createSegment } from './segment-store.js';
import { openEngine } from './test-support/engine.js';

const pgUrl = await postgresTestUrl();

describe.runIf(pgUrl !== null || process.env.CI === 'true')('the event feed on postgres', () => {
  it('a transaction that appends events waits for an open one that appended first: events commit in the order of their numbers', async () => {
    const e = await openEngine('postgres', pgUrl);
    try {
      await writeTransaction(e.database, (tx) => createAttribute(tx, e.workspaceId, { key: 'mrr', type: 'number' }));
      const segment = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name: 'Paying', condition: { attr: 'mrr', op: 'gt', value: 0 } }, e.clock.now));
      await runBackfills(e.database, e.states, { clock: () => e.clock.now });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      let appended!: () => void;
      const firstAppended = new Promise<void>((resolve) => { appended = resolve; });
      // The first transaction numbers its event, then stays open.
      const first = writeTransaction(e.database, async (tx) => {
        await insertEvents(tx, e.workspaceId, [{ type: 'segment.entered', segmentId: segment.id, version: 1, contactId: 'first' }], e.clock.now);
        appended();
        await gate;
      });
      await firstAppended;
      // A write that changes membership meanwhile: it must not commit its event before the first's.
      let secondDone = false;
      const second = e.writes.writeOne(e.workspaceId, { id: 'second', mrr: 5 }).then((o) => { secondDone = true; return o; });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(secondDone).toBe(false);
      expect(await readEvents(e.database.db, e.workspaceId)).toEqual([]);
      release();
      await first;
      expect(await second).toEqual({ status: 'created', id: 'second' });
      const events = await readEvents(e.database.db, e.workspaceId);
      expect(events.map((ev) => ev.contactId)).toEqual(['first', 'second']);
      expect(events[0].seq).toBeLessThan(events[1].seq);
    } finally {
      await e.close();
    }
  });
});
