// The membership engine on both dialects: writes keep membership, events and counts current;
// definitions backfill; segments on segments follow; time moves membership; verify agrees.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { createAttribute } from '../contacts/attribute-store.js';
import { runBackfills } from './backfill.js';
import { readEvents } from './event-feed.js';
import { createSegment, deleteSegment, getSegment, updateSegment } from './segment-store.js';
import { dueContacts, refreshDue } from './time-refresh.js';
import { HORIZON_BUCKET_BITS } from '../db/migrations/0011-horizon-buckets.js';
import { verifyReport, verifyWorkspace } from './verify.js';
import { openEngine } from './test-support/engine.js';
import { changeManualMembers } from './manual-members.js';
import { previewCount, previewImpact } from './preview.js';
import { validateOrThrow } from '../conditions/validate.js';
import type { TestEngine } from './test-support/engine.js';

const pgUrl = await postgresTestUrl();
const DAY = 86_400_000;

describe.each<Dialect>(['sqlite', 'postgres'])('membership on %s', (dialect) => {
  let e: TestEngine;
  const skip = dialect === 'postgres' && pgUrl === null;

  beforeEach(async () => {
    if (skip) return;
    e = await openEngine(dialect, pgUrl, { attributes: [{ key: 'plan_tier', type: 'enum', options: ['free', 'pro', 'enterprise'] }, { key: 'mrr', type: 'number' }] });
  });
  afterEach(async () => { if (!skip) await e.close(); });

  const segment = (name: string, condition: unknown) =>
    writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name, condition }, e.clock.now));
  const build = () => runBackfills(e.database, e.states, { clock: () => e.clock.now, batchSize: 3 });
  const members = async (id: string) => (await e.database.db.selectFrom('segment_members as m').innerJoin('contacts as c', 'c.pk', 'm.contact_pk')
    .select('c.id').where('m.segment_id', '=', id).orderBy('c.id').execute()).map((r) => r.id);
  const verify = () => verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now);

  it.skipIf(skip)('writes keep membership, events and counts current', async () => {
    const vip = await segment('VIP', { attr: 'tags', op: 'contains', value: 'vip' });
    await build();
    expect((await getSegment(e.database.db, e.workspaceId, vip.id)).status).toBe('ready');

    expect(await e.writes.upsert(e.workspaceId, { id: 'c1', tags: ['VIP'], mrr: '120' })).toEqual({ status: 'created', id: 'c1' });
    await e.writes.upsert(e.workspaceId, { id: 'c2', tags: ['lead'] });
    expect(await members(vip.id)).toEqual(['c1']);
    expect(await e.writes.upsert(e.workspaceId, { id: 'c1', mrr: 120 })).toEqual({ status: 'unchanged', id: 'c1' });
    await e.writes.upsert(e.workspaceId, { id: 'c2', tags: ['vip'] });
    await e.writes.upsert(e.workspaceId, { id: 'c1', tags: null });
    expect(await members(vip.id)).toEqual(['c2']);
    expect((await getSegment(e.database.db, e.workspaceId, vip.id)).memberCount).toBe(1);
    const events = await readEvents(e.database.db, e.workspaceId);
    expect(events.map((ev) => [ev.type, ev.contactId])).toEqual([['segment.entered', 'c1'], ['segment.entered', 'c2'], ['segment.left', 'c1']]);
    expect(events.every((ev) => ev.segmentVersion === 1)).toBe(true);
    await e.writes.delete(e.workspaceId, 'c2');
    expect(await members(vip.id)).toEqual([]);
    expect((await readEvents(e.database.db, e.workspaceId, events[2].seq)).map((ev) => [ev.type, ev.contactId])).toEqual([['segment.left', 'c2']]);
    expect(await verify()).toEqual([]);
  });

  it.skipIf(skip)('rejects a bad value naming the attribute, and writes nothing of that row', async () => {
    const outcomes = await e.writes.writeBatch(e.workspaceId, [{ id: 'a', mrr: 'abc' }, { id: 'b', colour: 'red' }, { id: 'c', mrr: '5' }]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'created']);
    expect(outcomes[0]).toMatchObject({ errors: [{ path: 'mrr' }] });
    expect(outcomes[1]).toMatchObject({ errors: [{ path: 'colour' }] });
    expect(await e.writes.get(e.workspaceId, 'a')).toBeNull();
  });

  it.skipIf(skip)('upserts by external_id and by email, case-insensitively', async () => {
    await e.writes.upsert(e.workspaceId, { email: 'Ana@Acme.com', name: 'Ana' });
    const again = await e.writes.upsert(e.workspaceId, { email: 'ana@acme.COM', mrr: 5 });
    expect(again.status).toBe('updated');
    await e.writes.upsert(e.workspaceId, { external_id: 'X-1', name: 'Bob' });
    expect((await e.writes.upsert(e.workspaceId, { external_id: 'X-1', name: 'Bobby' })).status).toBe('updated');
    expect(Number((await e.database.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(2);
  });

  it.skipIf(skip)('an edit backfills; the previous membership stays readable until the new one is complete; net events only', async () => {
    for (let i = 0; i < 10; i++) await e.writes.upsert(e.workspaceId, { id: `c${i}`, mrr: i * 100 });
    const big = await segment('Big', { attr: 'mrr', op: 'gte', value: 500 });
    await build();
    expect(await members(big.id)).toEqual(['c5', 'c6', 'c7', 'c8', 'c9']);
    const before = (await readEvents(e.database.db, e.workspaceId)).length;

    await writeTransaction(e.database, (tx) => updateSegment(tx, e.workspaceId, big.id, { condition: { attr: 'mrr', op: 'gte', value: 700 } }));
    expect((await getSegment(e.database.db, e.workspaceId, big.id)).status).toBe('building');
    expect(await members(big.id)).toEqual(['c5', 'c6', 'c7', 'c8', 'c9']);
    // A write during the build, to a contact the scan has not reached and to one it has.
    await e.writes.upsert(e.workspaceId, { id: 'c9', mrr: 50 });
    await build();
    expect(await members(big.id)).toEqual(['c7', 'c8']);
    const after = (await readEvents(e.database.db, e.workspaceId, 0, 10_000)).slice(before);
    expect(after.filter((ev) => ev.segmentVersion === 2).map((ev) => [ev.type, ev.contactId]).sort()).toEqual([['segment.left', 'c5'], ['segment.left', 'c6']]);
    expect(await verify()).toEqual([]);
    await expect(writeTransaction(e.database, (tx) => updateSegment(tx, e.workspaceId, big.id, { name: 'x' }, { ifVersion: 1 }))).rejects.toThrow(/version/);
  });

  it.skipIf(skip)('segments on segments: evaluated in dependency order; cycles and deleting a used segment are refused', async () => {
    const pro = await segment('Pro', { attr: 'plan_tier', op: 'eq', value: 'pro' });
    const proBig = await segment('Pro and big', { all: [{ attr: 'segments', op: 'contains', value: pro.id }, { attr: 'mrr', op: 'gt', value: 100 }] });
    await build();
    await e.writes.upsert(e.workspaceId, { id: 'a', plan_tier: 'PRO', mrr: 500 });
    expect(await members(proBig.id)).toEqual(['a']);
    await e.writes.upsert(e.workspaceId, { id: 'a', plan_tier: 'free' });
    expect(await members(proBig.id)).toEqual([]);
    await expect(writeTransaction(e.database, (tx) => updateSegment(tx, e.workspaceId, pro.id, { condition: { attr: 'segments', op: 'contains', value: proBig.id } })))
      .rejects.toThrow(/cycle: "Pro" \(seg_[0-9a-f]+\) → "Pro and big"/);
    await expect(writeTransaction(e.database, (tx) => deleteSegment(tx, e.workspaceId, pro.id))).rejects.toThrow(/^segment "Pro" \(seg_[0-9a-f]+\) is used by "Pro and big" \(seg_[0-9a-f]+\)$/);
    // Rebuilding Pro moves Pro-and-big along once Pro's new membership is complete.
    await e.writes.upsert(e.workspaceId, { id: 'b', plan_tier: 'enterprise', mrr: 900 });
    await writeTransaction(e.database, (tx) => updateSegment(tx, e.workspaceId, pro.id, { condition: { attr: 'plan_tier', op: 'in', value: ['pro', 'enterprise'] } }));
    await build();
    expect(await members(proBig.id)).toEqual(['b']);
    expect(await verify()).toEqual([]);
  });

  it.skipIf(skip)('relative dates: membership follows the clock, re-evaluating only due contacts', async () => {
    const recent = await segment('Recent', { attr: 'last_interaction_at', op: 'within_last', value: { amount: 2, unit: 'days' } });
    await build();
    await e.writes.upsert(e.workspaceId, { id: 'a', last_interaction_at: new Date(e.clock.now - DAY).toISOString() });
    await e.writes.upsert(e.workspaceId, { id: 'b', last_interaction_at: new Date(e.clock.now - 3 * DAY).toISOString() });
    await e.writes.upsert(e.workspaceId, { id: 'c' });
    expect(await members(recent.id)).toEqual(['a']);
    e.clock.now += DAY + 1;
    // Before the refresh comes by, verify compares the due contact as of its horizon: no difference,
    // one contact due. A stored membership wrong even then is still reported.
    expect(await verifyReport(e.database, e.states, e.workspaceId, e.clock.now)).toEqual({ differences: [], due: 1 });
    const bPk = (await e.writes.get(e.workspaceId, 'b'))!.pk;
    await e.database.db.updateTable('contacts').set({ next_change_ms: e.clock.now - 5 }).where('pk', '=', bPk).execute();
    expect(await verifyReport(e.database, e.states, e.workspaceId, e.clock.now)).toEqual({ differences: [], due: 2 });
    await e.database.db.deleteFrom('segment_members').where('segment_id', '=', recent.id).execute();
    expect((await verify()).filter((d) => d.kind === 'missing_member').map((d) => d.contactId)).toEqual(['a']);
    await e.database.db.insertInto('segment_members').values({ workspace_id: e.workspaceId, segment_id: recent.id, contact_pk: (await e.writes.get(e.workspaceId, 'a'))!.pk, since_ms: e.clock.now - DAY - 1 }).execute();
    expect(await refreshDue(e.database, e.states, e.clock.now)).toBe(2);
    expect(await members(recent.id)).toEqual([]);
    expect(await refreshDue(e.database, e.states, e.clock.now)).toBe(0);
    expect(await verifyReport(e.database, e.states, e.workspaceId, e.clock.now)).toEqual({ differences: [], due: 0 });
  });

  it.skipIf(skip)('a write moves a stored horizon earlier, never later; the refresh finds the later one when the earlier comes', async () => {
    const recent = await segment('Recent', { attr: 'last_interaction_at', op: 'within_last', value: { amount: 2, unit: 'days' } });
    await build();
    const horizon = async () => {
      const row = await e.database.db.selectFrom('contacts').select('next_change_ms').where('id', '=', 'a').executeTakeFirstOrThrow();
      return row.next_change_ms === null ? null : Number(row.next_change_ms);
    };
    const interaction = (msAgo: number) => e.writes.upsert(e.workspaceId, { id: 'a', last_interaction_at: new Date(e.clock.now - msAgo).toISOString() });
    const start = e.clock.now;
    await interaction(DAY); // leaves Recent a day from now
    expect(await horizon()).toBe(start + DAY + 1);
    await interaction(0); // a conversation now: leaves two days from now, but the stored day stays
    expect(await horizon()).toBe(start + DAY + 1);
    await interaction(1.5 * DAY); // half a day from now: earlier, so stored
    expect(await horizon()).toBe(start + DAY / 2 + 1);
    await interaction(0);
    e.clock.now = start + DAY / 2 + 1; // the stored horizon comes: one re-evaluation, no change, the exact horizon stored
    expect(await refreshDue(e.database, e.states, e.clock.now)).toBe(1);
    expect(await members(recent.id)).toEqual(['a']);
    expect(await horizon()).toBe(start + 2 * DAY + 1);
    expect(await refreshDue(e.database, e.states, e.clock.now)).toBe(0);
    e.clock.now = start + 2 * DAY + 1;
    expect(await refreshDue(e.database, e.states, e.clock.now)).toBe(1);
    expect(await members(recent.id)).toEqual([]);
    expect(await horizon()).toBeNull();
    // A horizon already due is replaced by the write that evaluates the contact after it.
    await interaction(DAY);
    const due = await horizon();
    e.clock.now = due! + 1;
    await interaction(0);
    expect(await horizon()).toBe(e.clock.now + 2 * DAY + 1);
    expect(await verify()).toEqual([]);
  });

  it.skipIf(skip)('the refresh finds every due horizon across the index\'s buckets, and nothing before its time', async () => {
    await segment('Recent', { attr: 'last_interaction_at', op: 'within_last', value: { amount: 2, unit: 'days' } });
    await build();
    const BUCKET = 2 ** HORIZON_BUCKET_BITS;
    const bucketStart = Math.floor(e.clock.now / BUCKET) * BUCKET;
    e.clock.now = bucketStart + BUCKET / 2;
    const now = e.clock.now;
    // Stored horizons (as a write or a backfill leaves them): due in earlier buckets, due in now's
    // bucket (up to now itself), and not yet due in now's bucket and the next.
    const horizons: Record<string, number> = {
      old: bucketStart - 3 * BUCKET + 5, edge: bucketStart - 1, first: bucketStart, due: now - 1, now,
      soon: now + 1, end: bucketStart + BUCKET - 1, next: bucketStart + BUCKET,
    };
    for (const [id, horizon] of Object.entries(horizons)) {
      await e.writes.upsert(e.workspaceId, { id });
      await e.database.db.updateTable('contacts').set({ next_change_ms: horizon }).where('id', '=', id).execute();
    }
    const due = async (at: number) => (await dueContacts(e.database.db as never, at, 100).execute()).map((c) => c.id).sort();
    expect(await due(now)).toEqual(['due', 'edge', 'first', 'now', 'old']);
    expect(await due(now + 1)).toEqual(['due', 'edge', 'first', 'now', 'old', 'soon']);
    expect(await due(bucketStart + BUCKET)).toEqual(['due', 'edge', 'end', 'first', 'next', 'now', 'old', 'soon']);
    // Earliest horizon first, in batches.
    expect((await dueContacts(e.database.db as never, now, 2).execute()).map((c) => c.id)).toEqual(['old', 'edge']);
    expect(await refreshDue(e.database, e.states, now, 2)).toBe(5);
    expect(await due(now)).toEqual([]);
    if (dialect === 'sqlite') {
      // Through the buckets: a contact's row is read only once its horizon, in the index, is due.
      const query = dueContacts(e.database.db as never, now, 100).compile();
      const { rows } = await e.database.db.executeQuery<{ detail: string }>({ ...query, sql: `explain query plan ${query.sql}` });
      expect(rows.map((r) => r.detail).join('\n')).toMatch(/^SEARCH c USING INDEX contacts_horizon \(<expr><\?\)/);
    }
  });

  it.skipIf(skip)('deleting a segment emits one segment.deleted and leaves contacts alone', async () => {
    const s = await segment('All', { all: [] });
    await e.writes.upsert(e.workspaceId, { id: 'a' });
    await build();
    expect(await members(s.id)).toEqual(['a']);
    await writeTransaction(e.database, (tx) => deleteSegment(tx, e.workspaceId, s.id));
    const events = await readEvents(e.database.db, e.workspaceId);
    expect(events.at(-1)).toMatchObject({ type: 'segment.deleted', segmentId: s.id, contactId: null });
    expect(await e.writes.get(e.workspaceId, 'a')).not.toBeNull();
  });
});

describe.each<Dialect>(['sqlite', 'postgres'])('manual segments and previews on %s', (dialect) => {
  let e: TestEngine;
  const skip = dialect === 'postgres' && pgUrl === null;
  beforeEach(async () => { if (!skip) e = await openEngine(dialect, pgUrl); });
  afterEach(async () => { if (!skip) await e.close(); });

  it.skipIf(skip)('adds and removes by hand; segments built on a manual one follow', async () => {
    const vip = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name: 'Hand-picked', kind: 'manual' }));
    const vipOptedIn = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, {
      name: 'Hand-picked, opted in', condition: { all: [{ attr: 'segments', op: 'contains', value: vip.id }, { attr: 'marketing_opt_out', op: 'neq', value: true }] },
    }));
    await runBackfills(e.database, e.states);
    await e.writes.upsert(e.workspaceId, { id: 'a' });
    await e.writes.upsert(e.workspaceId, { id: 'b', marketing_opt_out: true });
    const added = await changeManualMembers(e.database, e.states, e.workspaceId, vip.id, ['a', 'b', 'nobody'], 'add');
    expect(added).toEqual({ changed: ['a', 'b'], unknown: ['nobody'] });
    const ids = async (id: string) => (await e.writes.get(e.workspaceId, 'a'))!.segments.map((s) => s.id).includes(id);
    expect(await ids(vipOptedIn.id)).toBe(true);
    expect((await getSegment(e.database.db, e.workspaceId, vip.id)).memberCount).toBe(2);
    expect((await getSegment(e.database.db, e.workspaceId, vipOptedIn.id)).memberCount).toBe(1);
    await changeManualMembers(e.database, e.states, e.workspaceId, vip.id, ['a'], 'remove');
    expect(await ids(vipOptedIn.id)).toBe(false);
    await expect(changeManualMembers(e.database, e.states, e.workspaceId, vipOptedIn.id, ['a'], 'add')).rejects.toThrow(/dynamic/);
    expect(await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now)).toEqual([]);
  });

  it.skipIf(skip)('previews a count and the impact of an edit before it is saved', async () => {
    await writeTransaction(e.database, (tx) => createAttribute(tx, e.workspaceId, { key: 'mrr', type: 'number' }));
    for (let i = 0; i < 10; i++) await e.writes.upsert(e.workspaceId, { id: `c${i}`, mrr: i });
    const s = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name: 'Big', condition: { attr: 'mrr', op: 'gte', value: 5 } }));
    await runBackfills(e.database, e.states);
    const state = await e.states.get(e.database.db, e.workspaceId);
    const next = validateOrThrow(state.schema, { attr: 'mrr', op: 'between', value: [3, 6] }, { segments: 'segment', isKnownSegment: () => true });
    expect(await previewCount(e.database, state, next, e.clock.now)).toBe(4);
    expect(await previewImpact(e.database, state, s.id, next, e.clock.now)).toEqual({ added: 2, removed: 3, total: 4 });
  });
});
