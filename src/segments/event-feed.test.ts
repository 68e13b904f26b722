// The event feed: stored in blocks, read as one event per contact and change, numbered 1, 2, 3… per
// workspace with no gap, a page boundary anywhere (inside a block too). Its order is its commit
// order: a reader polling with a cursor never passes an event that commits later — on PostgreSQL
// (several writers) that is the event lock.
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { createWorkspace } from '../workspaces/workspace-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { createAttribute } from '../contacts/attribute-store.js';
import { runBackfills } from './backfill.js';
import { EVENTS_PER_BLOCK, appendEvents, feedEnd, readEvents, readMatchingEvents } from './event-feed.js';
import type { OutboxEvent, SegmentEvent } from './event-feed.js';
import { createSegment, updateSegment } from './segment-store.js';
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
        await appendEvents(tx, e.workspaceId, [{ type: 'segment.entered', segmentId: segment.id, version: 1, contactId: 'first' }], e.clock.now);
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

/** Every event after `after`, read a page of `limit` at a time with the cursor each page ends at. */
async function readAll(e: Awaited<ReturnType<typeof openEngine>>, limit: number, after = 0, ws = e.workspaceId): Promise<SegmentEvent[]> {
  const all: SegmentEvent[] = [];
  for (let cursor = after; ;) {
    const page = await readEvents(e.database.db, ws, cursor, limit);
    expect(page.length).toBeLessThanOrEqual(limit);
    if (page.length === 0) return all;
    all.push(...page);
    cursor = page[page.length - 1].seq;
  }
}

describe.each<Dialect>(['sqlite', 'postgres'])('the event feed on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null && process.env.CI !== 'true';

  it.skipIf(skip)('a transaction of more events than a block holds reads back whole, in order and numbered without gaps, at any page size', async () => {
    const e = await openEngine(dialect, pgUrl);
    try {
      const n = EVENTS_PER_BLOCK * 2 + 345;
      // Segment ids and versions vary inside a block; contact ids carry what JSON must escape.
      const written: OutboxEvent[] = Array.from({ length: n }, (_, i) => ({
        type: i % 3 === 0 ? 'segment.left' : 'segment.entered', segmentId: `sg_${i % 7}`, version: 1 + (i % 2), contactId: `c"${i}\\\u00e9\n`,
      }));
      await writeTransaction(e.database, (tx) => appendEvents(tx, e.workspaceId, [{ type: 'segment.entered', segmentId: 'sg_0', version: 1, contactId: 'before' }], 500));
      await writeTransaction(e.database, (tx) => appendEvents(tx, e.workspaceId, written, 1_000));
      await writeTransaction(e.database, (tx) => appendEvents(tx, e.workspaceId, [{ type: 'segment.deleted', segmentId: 'sg_6', version: 4, contactId: null }], 2_000));
      const expected: SegmentEvent[] = [
        { seq: 1, type: 'segment.entered', segmentId: 'sg_0', segmentVersion: 1, contactId: 'before', at: 500 },
        ...written.map((w, i) => ({ seq: i + 2, type: w.type, segmentId: w.segmentId, segmentVersion: w.version, contactId: w.contactId, at: 1_000 })),
        { seq: n + 2, type: 'segment.deleted', segmentId: 'sg_6', segmentVersion: 4, contactId: null, at: 2_000 },
      ];
      for (const limit of [1, 7, 999, 1_000, 1_001, 5_000]) expect(await readAll(e, limit)).toEqual(expected);
      // A cursor anywhere, inside a block or on its last event.
      for (const after of [1, 2, 500, EVENTS_PER_BLOCK + 1, EVENTS_PER_BLOCK + 2, n + 1, n + 2]) expect(await readAll(e, 300, after)).toEqual(expected.slice(after));
      expect(await feedEnd(e.database.db, e.workspaceId)).toBe(n + 2);
    } finally {
      await e.close();
    }
  });

  it.skipIf(skip)('a filtered read gives the matching events in order, looks at a bounded number per page, and its cursor always moves on', async () => {
    const e = await openEngine(dialect, pgUrl);
    try {
      const n = 5_000;
      // sg_rare: every 997th event; in blocks of several sizes.
      const written: OutboxEvent[] = Array.from({ length: n }, (_, i) => ({ type: i % 2 ? 'segment.left' : 'segment.entered', segmentId: i % 997 === 3 ? 'sg_rare' : `sg_${i % 5}`, version: 1, contactId: `c${i}` }));
      for (let i = 0; i < n; i += 1_300) await writeTransaction(e.database, (tx) => appendEvents(tx, e.workspaceId, written.slice(i, i + 1_300), 1_000));
      const rare = (ev: SegmentEvent) => ev.segmentId === 'sg_rare';
      const all = await readAll(e, 5_000);
      for (const [limit, maxScanned] of [[1, 10_000], [2, 700], [1_000, 1_500], [3, 1]] as const) {
        const got: SegmentEvent[] = [];
        let cursor = 0, pages = 0;
        for (;;) {
          const page = await readMatchingEvents(e.database.db, e.workspaceId, cursor, limit, rare, maxScanned);
          expect(page.events.length).toBeLessThanOrEqual(limit);
          expect(page.next - cursor, 'what a page looked at').toBeLessThanOrEqual(maxScanned);
          got.push(...page.events);
          if (page.next === cursor) break;
          expect(page.next).toBeGreaterThan(cursor);
          cursor = page.next;
          pages++;
        }
        expect(got, `limit ${limit}, ${maxScanned} looked at`).toEqual(all.filter(rare));
        expect(cursor).toBe(n);
        if (maxScanned === 700) expect(pages).toBeGreaterThanOrEqual(Math.ceil(n / 700));
      }
      expect((await readMatchingEvents(e.database.db, e.workspaceId, 0, 10, (ev) => ev.type === 'segment.left')).events.map((ev) => ev.contactId)).toEqual(['c1', 'c3', 'c5', 'c7', 'c9', 'c11', 'c13', 'c15', 'c17', 'c19']);
    } finally {
      await e.close();
    }
  });

  it.skipIf(skip)('each workspace numbers its own events from 1, and reads only its own', async () => {
    const e = await openEngine(dialect, pgUrl);
    try {
      await createWorkspace(e.database, { id: 'ws2' }, e.clock.now);
      const event = (contactId: string): OutboxEvent => ({ type: 'segment.entered', segmentId: 'sg_x', version: 1, contactId });
      for (let i = 0; i < 3; i++) {
        await writeTransaction(e.database, (tx) => appendEvents(tx, e.workspaceId, [event(`a${i}`), event(`a${i}b`)], 1));
        await writeTransaction(e.database, (tx) => appendEvents(tx, 'ws2', [event(`b${i}`)], 1));
      }
      expect((await readAll(e, 2)).map((ev) => `${ev.seq}:${ev.contactId}`)).toEqual(['1:a0', '2:a0b', '3:a1', '4:a1b', '5:a2', '6:a2b']);
      expect((await readAll(e, 2, 0, 'ws2')).map((ev) => `${ev.seq}:${ev.contactId}`)).toEqual(['1:b0', '2:b1', '3:b2']);
      expect(await feedEnd(e.database.db, 'nobody')).toBe(0);
    } finally {
      await e.close();
    }
  });

  it.skipIf(skip)('a backfill\'s events, appended in SQL, are one per contact in pk order, after the events before them', async () => {
    const e = await openEngine(dialect, pgUrl, { attributes: [{ key: 'mrr', type: 'number' }] });
    try {
      const n = EVENTS_PER_BLOCK + 150;
      // Some ids carry what the SQL's JSON must escape.
      const idOf = (i: number) => (i % 97 === 5 ? `c${i} "q" \\ é 😀` : `c${i}`);
      for (let i = 0; i < n; i += 500) {
        await e.writes.writeBatch(e.workspaceId, Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ id: idOf(i + k), mrr: (i + k) % 4 })));
      }
      const segment = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name: 'Paying', condition: { attr: 'mrr', op: 'gt', value: 0 } }, e.clock.now));
      await runBackfills(e.database, e.states, { clock: () => e.clock.now, batchSize: 400 });
      await e.writes.writeOne(e.workspaceId, { id: 'c0', mrr: 9 });
      // Edited: those with mrr 1 leave, and c0 (entered by its write) stays.
      await writeTransaction(e.database, (tx) => updateSegment(tx, e.workspaceId, segment.id, { condition: { attr: 'mrr', op: 'gt', value: 1 } }, { now: e.clock.now }));
      await runBackfills(e.database, e.states, { clock: () => e.clock.now, batchSize: 400 });
      const events = await readAll(e, 250);
      const paying = Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 > 0);
      expect(events.map((ev) => `${ev.type} v${ev.segmentVersion} ${ev.contactId}`)).toEqual([
        ...paying.map((i) => `segment.entered v1 ${idOf(i)}`),
        'segment.entered v1 c0',
        ...paying.filter((i) => i % 4 === 1).map((i) => `segment.left v2 ${idOf(i)}`),
      ]);
      expect(events.map((ev) => ev.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.every((ev) => ev.segmentId === segment.id && ev.at === e.clock.now)).toBe(true);
    } finally {
      await e.close();
    }
  });
});
