// A backfill of a definition with relative dates, on both dialects: its membership and every
// contact's stored horizon are exactly the compiled predicate's (`test` and `nextChange`) over the
// contacts' values, with dates on each side of every boundary the spans draw, across batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValues } from '../conditions/contact-values.js';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runBackfills } from './backfill.js';
import { createSegment, deleteSegment } from './segment-store.js';
import { openEngine } from './test-support/engine.js';
import type { TestEngine } from './test-support/engine.js';
import { verifyWorkspace } from './verify.js';

const pgUrl = await postgresTestUrl();
const H = 3_600_000, DAY = 24 * H;
const span = (amount: number, unit: 'hours' | 'days') => ({ amount, unit });

/** Offsets from now that sit on and beside the bounds of 1-hour and 2-day spans, and far off. */
const OFFSETS = [-30 * DAY, -2 * DAY - 1, -2 * DAY, -2 * DAY + 1, -H - 1, -H, -H + 1, -1, 0, 1, H - 1, H, H + 1, 2 * DAY, 2 * DAY + 1, 30 * DAY];

const CONDITIONS: Array<{ name: string; condition: unknown }> = [
  { name: 'within_last', condition: { attr: 'last_interaction_at', op: 'within_last', value: span(2, 'days') } },
  { name: 'older_than or never', condition: { any: [{ attr: 'last_interaction_at', op: 'older_than', value: span(1, 'hours') }, { attr: 'last_interaction_at', op: 'is_empty' }] } },
  { name: 'within_next', condition: { attr: 'renews_at', op: 'within_next', value: span(2, 'days') } },
  { name: 'not, with a fixed date and a number', condition: { all: [
    { not: { attr: 'renews_at', op: 'within_last', value: span(1, 'hours') } },
    { attr: 'created_at', op: 'lt', value: '2030-01-01' },
    { attr: 'mrr', op: 'gt', value: 0 },
  ] } },
  { name: 'two dates, one twice', condition: { any: [
    { attr: 'last_interaction_at', op: 'within_last', value: span(1, 'hours') },
    { attr: 'last_interaction_at', op: 'older_than', value: span(2, 'days') },
    { attr: 'renews_at', op: 'within_next', value: span(1, 'hours') },
  ] } },
];

describe.each<Dialect>(['sqlite', 'postgres'])('backfill with relative dates on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null;
  let e: TestEngine;
  /** A contact whose horizon is finite and after now + 1 for every condition (both dates 30 days ahead). */
  let far: string;

  beforeAll(async () => {
    if (skip) return;
    e = await openEngine(dialect, pgUrl, { attributes: [{ key: 'renews_at', type: 'date' }, { key: 'mrr', type: 'number' }] });
    const at = (offset: number | null) => (offset === null ? null : new Date(e.clock.now + offset).toISOString());
    const rows = [];
    for (const seen of [null, ...OFFSETS]) {
      for (const renews of [null, ...OFFSETS]) rows.push({ id: `c${rows.length}`, last_interaction_at: at(seen), renews_at: at(renews), mrr: rows.length % 3, created_at: at(seen) });
    }
    await e.writes.writeBatch(e.workspaceId, rows);
    far = rows[rows.length - 1].id;
  });
  afterAll(async () => { if (!skip) await e.close(); });

  it.skipIf(skip).each(CONDITIONS)('$name: members and horizons are the predicate\'s', async ({ name, condition }) => {
    // No other segment: every stored horizon is this definition's, but one earlier horizon must stay.
    await e.database.db.updateTable('contacts').set({ next_change_ms: null }).execute();
    await e.database.db.updateTable('contacts').set({ next_change_ms: e.clock.now + 1 }).where('id', '=', far).execute();
    const segment = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name, condition }, e.clock.now));
    await runBackfills(e.database, e.states, { clock: () => e.clock.now, batchSize: 7 });

    const state = await e.states.get(e.database.db, e.workspaceId);
    const predicate = state.byId.get(segment.id)!.active!;
    const contacts = await e.database.db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
      .select(['c.id', 'c.next_change_ms', 'd.document']).orderBy('c.pk').execute();
    const members = new Set((await e.database.db.selectFrom('segment_members as m').innerJoin('contacts as c', 'c.pk', 'm.contact_pk')
      .select('c.id').where('m.segment_id', '=', segment.id).execute()).map((r) => r.id));
    const expected = contacts.map((c) => {
      const prepared = prepareContact(state.layout, JSON.parse(c.document) as StoredValues);
      const horizon = Math.min(predicate.nextChange(prepared, e.clock.now), c.id === far ? e.clock.now + 1 : Infinity);
      return { id: c.id, member: predicate.test(prepared, e.clock.now), horizon: Number.isFinite(horizon) ? horizon : null };
    });
    const actual = contacts.map((c) => ({ id: c.id, member: members.has(c.id), horizon: c.next_change_ms === null ? null : Number(c.next_change_ms) }));
    expect(actual).toEqual(expected);
    expect(expected.some((c) => c.member) && expected.some((c) => !c.member) && expected.some((c) => c.horizon !== null)).toBe(true);
    expect(await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now)).toEqual([]);
    await writeTransaction(e.database, (tx) => deleteSegment(tx, e.workspaceId, segment.id, e.clock.now));
  });
});
