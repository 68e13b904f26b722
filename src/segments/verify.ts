// `segments verify`: every segment recomputed from scratch — each contact's values, every
// dynamic definition in dependency order — and compared with the stored membership and counts; and
// each contact's slot columns and list values (what SQL reads: previews, backfills, filters) with
// its values as written, since an update writes only the columns and lists it changed; and, on
// SQLite, the e-mails and external ids upserts look contacts up by (contact-keys.ts).
import { unindexed } from '../db/unindexed.js';
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValues } from '../conditions/contact-values.js';
import { slotValue } from '../contacts/contact-columns.js';
import { keyDifferences } from '../contacts/contact-keys.js';
import type { Database } from '../db/database.js';
import { evaluateSegments, storedMembershipsInRange } from './membership-writer.js';
import { listedCountChanges } from './member-order.js';
import { readCounts } from './segment-store.js';
import type { WorkspaceStates } from './workspace-state.js';

export interface Difference {
  /** '' for a difference of the contact itself (`stored_value`). */
  readonly segmentId: string;
  /** `stored_value`: a slot column or list (what SQL reads) disagrees with the contact's values as written. */
  /** `segment_order`: the members in segment order (member lists, conditions on `segments`) are not the contacts' own (member-order.ts). */
  /** `lookup_key`: SQLite's tiers of e-mails and external ids lack a contact's key, or hold one it does not have (contact-keys.ts). */
  readonly kind: 'missing_member' | 'extra_member' | 'count' | 'stored_value' | 'segment_order' | 'lookup_key';
  readonly contactId?: string;
  readonly detail?: string;
}

/** Each segment's members in segment order, counted in one pass over segment_member_order (with the listed contacts' changes: member-order.ts). */
async function countsInSegmentOrder(database: Database, workspaceId: string): Promise<Map<string, number>> {
  const rows = await database.db.selectFrom('segment_member_order').select(['segment_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('workspace_id', '=', workspaceId).groupBy('segment_id').execute();
  const counts = new Map(rows.map((r) => [r.segment_id, Number(r.n)]));
  for (const [id, change] of await listedCountChanges(database.db, workspaceId)) counts.set(id, (counts.get(id) ?? 0) + change);
  return counts;
}

/**
 * The instant a contact's stored membership is compared at: now, or for a contact whose stored
 * horizon has come (the time refresh re-evaluates it within a minute: time-refresh.ts), the last
 * instant before it. The horizon is the earliest its result may change since it was last
 * evaluated, so until then the stored membership is what a recompute gives; after it, a recompute
 * at now would report every contact the refresh has not reached yet.
 */
function asOf(horizon: unknown, now: number): number {
  return horizon !== null && Number(horizon) <= now ? Number(horizon) - 1 : now;
}

export async function verifyWorkspace(database: Database, states: WorkspaceStates, workspaceId: string, now: number, batchSize = 5_000): Promise<Difference[]> {
  return (await verifyReport(database, states, workspaceId, now, batchSize)).differences;
}

/** The differences, and how many contacts were due for the time refresh (compared as of their horizon). */
export async function verifyReport(database: Database, states: WorkspaceStates, workspaceId: string, now: number, batchSize = 5_000): Promise<{ differences: Difference[]; due: number }> {
  const db = database.db;
  let due = 0;
  const state = await states.get(db, workspaceId);
  const differences: Difference[] = [];
  const actualCounts = new Map<string, number>(state.segments.map((s) => [s.id, 0]));
  const { storage } = state;
  let cursor = 0;
  for (;;) {
    const rows: Array<Record<string, unknown> & { pk: number | string; id: string; attributes: string }> = await db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
      .select(['c.pk', 'c.id', 'd.document as attributes', 'c.next_change_ms', ...storage.columns.map((column) => `c.${column}` as 'c.id')]).where(unindexed(database.dialect, 'c.workspace_id'), '=', workspaceId)
      .where('c.pk', '>', cursor).orderBy('c.pk').limit(batchSize).execute();
    if (rows.length === 0) break;
    const first = Number(rows[0].pk), last = Number(rows[rows.length - 1].pk);
    const stored = await storedMembershipsInRange(db, workspaceId, first, last);
    const lists = new Map<string, Set<string>>(); // `${pk} ${attr}` → its stored list values
    for (const v of await db.selectFrom('contact_list_values').select(['contact_pk', 'attr', 'value'])
      .where('workspace_id', '=', workspaceId).where('contact_pk', '>=', first).where('contact_pk', '<=', last).execute()) {
      const key = `${Number(v.contact_pk)} ${v.attr}`;
      lists.set(key, (lists.get(key) ?? new Set()).add(v.value));
    }
    for (const row of rows) {
      const mine = new Set(stored.get(Number(row.pk)));
      const prepared = prepareContact(state.layout, JSON.parse(row.attributes) as StoredValues);
      storage.at.forEach((column, i) => {
        if (column === 'list') {
          const key = state.layout.attributes[i].key;
          const expected = [...new Set((prepared[i] as readonly string[] | undefined) ?? [])].sort();
          const actual = [...(lists.get(`${Number(row.pk)} ${key}`) ?? [])].sort();
          if (JSON.stringify(actual) !== JSON.stringify(expected)) differences.push({ segmentId: '', kind: 'stored_value', contactId: row.id, detail: `${key}: the list values stored are ${JSON.stringify(actual)}, the values as written give ${JSON.stringify(expected)}` });
          return;
        }
        if (column === null) return;
        const expected = slotValue(prepared[i]), actual = row[column] === null ? null : typeof expected === 'number' ? Number(row[column]) : row[column];
        if (actual !== expected) differences.push({ segmentId: '', kind: 'stored_value', contactId: row.id, detail: `${state.layout.attributes[i].key}: column ${column} holds ${JSON.stringify(actual)}, the values as written give ${JSON.stringify(expected)}` });
      });
      const at = asOf(row.next_change_ms, now);
      if (at !== now) due++;
      const { members } = evaluateSegments(state, prepared, (s) => mine.has(s.id), at);
      for (const s of state.segments) {
        if (mine.has(s.id)) actualCounts.set(s.id, actualCounts.get(s.id)! + 1);
        if (s.kind !== 'dynamic' || s.active === null) continue;
        if (members.has(s.id) && !mine.has(s.id)) differences.push({ segmentId: s.id, kind: 'missing_member', contactId: row.id });
        if (!members.has(s.id) && mine.has(s.id)) differences.push({ segmentId: s.id, kind: 'extra_member', contactId: row.id });
      }
    }
    cursor = last;
  }
  const inOrder = await countsInSegmentOrder(database, workspaceId);
  for (const [id, count] of await readCounts(db, workspaceId)) {
    const actual = actualCounts.get(id) ?? 0;
    if (count !== actual) differences.push({ segmentId: id, kind: 'count', detail: `stored count ${count}, stored members ${actual}` });
    const ordered = inOrder.get(id) ?? 0;
    if (ordered !== actual) differences.push({ segmentId: id, kind: 'segment_order', detail: `${ordered} members in segment order, ${actual} stored by contact` });
  }
  for (const k of await keyDifferences(db, workspaceId)) {
    const what = `${k.attribute === 'email' ? 'e-mail' : 'external id'} ${JSON.stringify(k.key)}`;
    differences.push({
      segmentId: '', kind: 'lookup_key', contactId: k.contactId ?? `(pk ${k.contactPk}, not stored)`,
      detail: k.problem === 'missing' ? `its ${what} is missing from the lookup keys: upserts by it would not find it` : `the lookup keys hold the ${what} for it, which it does not have`,
    });
  }
  return { differences, due };
}
