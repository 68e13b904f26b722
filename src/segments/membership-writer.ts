// The write path's membership step, inside the writer's transaction: evaluate every dynamic
// segment for one contact (dependencies first), diff against the stored membership, write the
// changes, one event per change, the counts, and the instant the result may next change with time.
import { sql } from 'kysely';
import type { PreparedContact } from '../conditions/contact-values.js';
import type { Tx } from '../db/write-transaction.js';
import { addToColumn, deleteRows, insertRows } from '../db/bulk-insert.js';
import { dialectOf } from '../db/write-transaction.js';
import type { CompiledSegment, WorkspaceState } from './workspace-state.js';
import { appendEvents } from './event-feed.js';
import { byContactWorkspace, listChangedMembers } from './member-order.js';
import type { OutboxEvent } from './event-feed.js';

export interface ContactRef {
  readonly pk: number;
  readonly id: string;
}

export interface MembershipDiff {
  readonly entered: readonly string[];
  readonly left: readonly string[];
}

/** Stored membership of one contact: segment id → since. */
export async function storedMembership(tx: Tx, workspaceId: string, contactPk: number): Promise<Map<string, number>> {
  const rows = await tx.selectFrom('segment_members as m').select(['m.segment_id', 'm.since_ms'])
    .where(byContactWorkspace(dialectOf(tx), 'm.workspace_id'), '=', workspaceId).where('m.contact_pk', '=', contactPk).execute();
  return new Map(rows.map((r) => [r.segment_id, Number(r.since_ms)]));
}

/** Stored membership of the contacts with pk in [fromPk, toPk]: pk → segment ids. */
export async function storedMembershipsInRange(tx: Tx, ws: string, fromPk: number, toPk: number): Promise<Map<number, string[]>> {
  // By the contact (byContactWorkspace): in segment order this would walk every member of the workspace.
  const rows = await tx.selectFrom('segment_members as m').select(['m.contact_pk', 'm.segment_id'])
    .where(byContactWorkspace(dialectOf(tx), 'm.workspace_id'), '=', ws).where('m.contact_pk', '>=', fromPk).where('m.contact_pk', '<=', toPk).execute();
  const out = new Map<number, string[]>();
  for (const r of rows) {
    const pk = Number(r.contact_pk);
    const list = out.get(pk);
    if (list) list.push(r.segment_id); else out.set(pk, [r.segment_id]);
  }
  return out;
}

/**
 * Re-evaluates the contact's dynamic segments at `now`; manual membership is kept as stored.
 * Returns what changed. `prepared` is the contact's values as they are after the write.
 */
export async function updateMembership(tx: Tx, state: WorkspaceState, contact: ContactRef, prepared: PreparedContact, now: number, counts: CountDeltas): Promise<MembershipDiff> {
  const current = await storedMembership(tx, state.workspaceId, contact.pk);
  const { members, nextChange } = evaluateSegments(state, prepared, (s) => current.has(s.id), now);

  const entered: string[] = [], left: string[] = [];
  for (const s of state.segments) {
    if (s.kind !== 'dynamic' || s.active === null) continue;
    const was = current.has(s.id), is = members.has(s.id);
    if (is && !was) entered.push(s.id);
    else if (was && !is) left.push(s.id);
  }
  await writeDiff(tx, state, contact, current.keys(), entered, left, now, counts);
  await tx.updateTable('contacts').set({ next_change_ms: Number.isFinite(nextChange) ? nextChange : null })
    .where('pk', '=', contact.pk).execute();
  await stageBuilds(tx, state, [{ pk: contact.pk, prepared, memberIds: [...members] }], now);
  return { entered, left };
}

/**
 * Membership of one prepared contact, segment by segment in dependency order: a dynamic segment
 * by its active predicate (reading the memberships decided before it), a manual one as stored.
 * Also the earliest instant any of the results may change with time.
 */
export function evaluateSegments(state: WorkspaceState, prepared: PreparedContact, isStoredMember: (s: CompiledSegment) => boolean, now: number) {
  const members = new Set<string>();
  let nextChange = Infinity;
  // The `segments` value is copied only when a segment was added to it (members only grow here),
  // not before each segment: most segments add nothing, and the copies were measurable.
  let listed = -1;
  for (const s of state.segments) {
    if (members.size !== listed) {
      prepared[state.segmentsSlot] = members.size === 0 ? undefined : [...members];
      listed = members.size;
    }
    if (s.building) {
      const b = s.building.predicate.nextChange(prepared, now);
      if (b < nextChange) nextChange = b;
    }
    if (s.kind === 'manual' || s.active === null) {
      // Manual, or dynamic and not built yet: its membership is what is stored.
      if (isStoredMember(s)) members.add(s.id);
      continue;
    }
    if (s.active.test(prepared, now)) members.add(s.id);
    const h = s.active.nextChange(prepared, now);
    if (h < nextChange) nextChange = h;
  }
  prepared[state.segmentsSlot] = members.size === 0 ? undefined : [...members];
  return { members, nextChange };
}

/**
 * Writes entered/left changes: member rows and one event each; the counts go to `counts`
 * (PostgreSQL; on SQLite they follow the segment order's copy, to the fold: member-order.ts).
 * `before`: the segments the contact was a member of before.
 */
export async function writeDiff(tx: Tx, state: WorkspaceState, contact: ContactRef, before: Iterable<string>, entered: readonly string[], left: readonly string[], now: number, counts: CountDeltas): Promise<void> {
  if (entered.length === 0 && left.length === 0) return;
  const ws = state.workspaceId;
  await insertRows(tx, 'segment_members', ['segment_id', 'contact_pk'], entered.map((id) => [id, contact.pk]), { same: { workspace_id: ws, since_ms: now } });
  await deleteMembers(tx, ws, contact.pk, left);
  await listChangedMembers(tx, ws, [{ pk: contact.pk, before }]);
  const event = (type: 'segment.entered' | 'segment.left') => (id: string): OutboxEvent => ({ type, segmentId: id, version: state.byId.get(id)?.activeVersion ?? 0, contactId: contact.id });
  await appendEvents(tx, ws, [...entered.map(event('segment.entered')), ...left.map(event('segment.left'))], now);
  if (dialectOf(tx) === 'sqlite') return;
  for (const id of entered) counts.add(id, 1);
  for (const id of left) counts.add(id, -1);
}

/** Removes one contact's member rows of these segments. */
export async function deleteMembers(tx: Tx, workspaceId: string, contactPk: number, segmentIds: readonly string[]): Promise<void> {
  await deleteRows(tx, 'segment_members', { workspace_id: workspaceId, contact_pk: contactPk }, 'segment_id', segmentIds);
}

/**
 * Member-count changes of one transaction, applied once at its end: a batch of writes updates
 * each segment's count once, not once per contact.
 */
export class CountDeltas {
  private readonly deltas = new Map<string, number>();

  add(segmentId: string, delta: number): void {
    this.deltas.set(segmentId, (this.deltas.get(segmentId) ?? 0) + delta);
  }

  async flush(tx: Tx, workspaceId: string): Promise<void> {
    if (dialectOf(tx) === 'postgres') {
      const update = this.takePostgresUpdate(workspaceId);
      if (update) await update.execute(tx);
      return;
    }
    const changes = this.takeChanges();
    if (changes.length === 0) return;
    await addToColumn(tx, 'segment_counts', { workspace_id: workspaceId }, 'segment_id', 'member_count', changes);
  }

  /**
   * PostgreSQL: the statement that applies the deltas (and forgets them), for a caller that sends it
   * with other work in one round trip; null when nothing changed. The segment rows are locked in id
   * order — the subquery's rows are locked as they come out of its sort, before the counts they
   * guard — so concurrent writers lock them alike (no deadlock). Its text is the same whatever the
   * deltas (they are two arrays), so a statement that carries it can stay prepared.
   */
  takePostgresUpdate(workspaceId: string) {
    const { ids, deltas } = this.take();
    return ids.length === 0 ? null : postgresCountUpdate(workspaceId, ids, deltas);
  }

  /** The non-zero deltas as two arrays in segment id order (none for no change), and none left. */
  take(): { ids: string[]; deltas: number[] } {
    const changes = this.takeChanges();
    return { ids: changes.map(([id]) => id), deltas: changes.map(([, delta]) => delta) };
  }

  /** The non-zero deltas in segment id order, and none left: one statement for all (a write that moves a contact in or out of a dozen segments paid a dozen round trips). */
  private takeChanges(): [string, number][] {
    const changes = [...this.deltas].filter(([, delta]) => delta !== 0).sort(([a], [b]) => (a < b ? -1 : 1));
    this.deltas.clear();
    return changes;
  }
}

/** PostgreSQL: adds `deltas[i]` to the count of segment `ids[i]`, the segment rows locked in id order first (see takePostgresUpdate). */
export function postgresCountUpdate(workspaceId: string, ids: readonly string[], deltas: readonly number[]) {
  return sql`update segment_counts set member_count = member_count + d.delta
    from (select s.id, u.delta from unnest(${ids}::text[], ${deltas}::integer[]) as u(id, delta)
      join segments s on s.workspace_id = ${workspaceId}::text and s.id = u.id order by s.id for update of s) as d
    where segment_counts.workspace_id = ${workspaceId}::text and segment_counts.segment_id = d.id`;
}

/**
 * Whether a contact meets the definition `s` is being rebuilt to: its values with `segments` set to
 * its other memberships (`memberIds`, the segment's own stored membership left out).
 */
export function meetsBuildingDefinition(state: WorkspaceState, s: CompiledSegment, prepared: PreparedContact, memberIds: readonly string[], now: number): boolean {
  const others = memberIds.filter((id) => id !== s.id);
  prepared[state.segmentsSlot] = others.length === 0 ? undefined : others;
  return s.building!.predicate.test(prepared, now);
}

/** A contact a write leaves: its values (or, drafted, the rebuilt segments whose definitions it meets) and memberships. */
export type StagedContact =
  | { readonly pk: number; readonly prepared: PreparedContact; readonly memberIds: readonly string[] }
  | { readonly pk: number; readonly meetsBuilding: readonly string[] };

/**
 * A segment being rebuilt keeps its next membership in segment_builds. Contacts its scan has
 * already passed are kept current here by each write, new ones included (SQLite can give a new
 * contact the pk of a deleted one the scan passed); the ones ahead of it it will read itself.
 */
export async function stageBuilds(tx: Tx, state: WorkspaceState, contacts: ReadonlyArray<StagedContact>, now: number): Promise<void> {
  const { building } = state;
  if (building.length === 0 || contacts.length === 0) return;
  let jobs = tx.selectFrom('segment_jobs').select(['id', 'segment_id', 'cursor_pk'])
    .where('workspace_id', '=', state.workspaceId).where('status', '=', 'pending').where('segment_id', 'in', building.map((s) => s.id));
  // A backfill batch locks its job row; reading it FOR SHARE orders this write before or after the batch.
  if (dialectOf(tx) === 'postgres') jobs = jobs.forShare();
  for (const job of await jobs.execute()) {
    const s = state.byId.get(job.segment_id)!;
    const jobId = job.id as number;
    const add: number[][] = [], drop: number[] = [];
    for (const c of contacts) {
      if (c.pk > Number(job.cursor_pk)) continue;
      const meets = 'meetsBuilding' in c ? c.meetsBuilding.includes(s.id) : meetsBuildingDefinition(state, s, c.prepared, c.memberIds, now);
      if (meets) add.push([jobId, c.pk]); else drop.push(c.pk);
    }
    await insertRows(tx, 'segment_builds', ['job_id', 'contact_pk'], add, { onConflictDoNothing: true });
    for (let i = 0; i < drop.length; i += 500) {
      await tx.deleteFrom('segment_builds').where('job_id', '=', jobId).where('contact_pk', 'in', drop.slice(i, i + 500)).execute();
    }
  }
}
