// Segment definitions: create, edit, delete. A dynamic definition is validated against the schema,
// refused if it would close a dependency cycle, and then built by a backfill job; until that job
// completes, the previous membership stays the one readers see.
import { randomBytes } from 'node:crypto';
import { fold } from '../conditions/fold.js';
import type { Condition } from '../conditions/types.js';
import { attributesUsed, usesDayValues, validate } from '../conditions/validate.js';
import type { Tx } from '../db/write-transaction.js';
import { Conflict, InvalidInput, NotFound } from '../errors.js';
import { bumpConfigVersion } from '../workspaces/config-version.js';
import { dependenciesOf, findCycle } from './dependencies.js';
import { storedCondition } from './workspace-state.js';
import { loadSchema } from '../contacts/attribute-store.js';
import { appendEvents } from './event-feed.js';
import { deleteSegmentMembers, listedCountChanges } from './member-order.js';

export interface SegmentInput {
  readonly name?: unknown;
  readonly description?: unknown;
  readonly kind?: unknown;
  /** Dynamic: the definition. Manual: the optional auto-apply rule. */
  readonly condition?: unknown;
}

export interface Segment {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly kind: 'dynamic' | 'manual';
  readonly condition: unknown;
  readonly version: number;
  readonly activeVersion: number;
  readonly status: 'building' | 'ready' | 'failed';
  readonly statusDetail: string | null;
  readonly memberCount: number;
  readonly createdMs: number;
  readonly updatedMs: number;
}

const MAX_NAME = 200;

export function newSegmentId(): string {
  return `seg_${randomBytes(8).toString('hex')}`;
}

export type SegmentRow = { id: string; name: string; description: string; kind: 'dynamic' | 'manual'; condition: string | null; version: number; active_version: number; status: 'building' | 'ready' | 'failed'; status_detail: string | null; member_count: number | string; created_ms: number | string; updated_ms: number | string };
export const toSegment = (r: SegmentRow): Segment => ({
  id: r.id, name: r.name, description: r.description, kind: r.kind, condition: r.condition === null ? null : JSON.parse(r.condition),
  version: r.version, activeVersion: r.active_version, status: r.status, statusDetail: r.status_detail, memberCount: Number(r.member_count),
  createdMs: Number(r.created_ms), updatedMs: Number(r.updated_ms),
});
const SEGMENT_COLUMNS = ['s.id', 's.name', 's.description', 's.kind', 's.condition', 's.version', 's.active_version', 's.status', 's.status_detail', 'n.member_count', 's.created_ms', 's.updated_ms'] as const;

/**
 * A workspace's segments with their counts (kept apart, in `segment_counts`; on SQLite the counts
 * of the segment order's copy, to which a read adds the listed contacts' changes: member-order.ts).
 */
const segmentsWithCounts = (db: Tx, workspaceId: string) => db.selectFrom('segments as s')
  .innerJoin('segment_counts as n', (j) => j.onRef('n.workspace_id', '=', 's.workspace_id').onRef('n.segment_id', '=', 's.id'))
  .select(SEGMENT_COLUMNS).where('s.workspace_id', '=', workspaceId);

export async function listSegments(db: Tx, workspaceId: string): Promise<Segment[]> {
  return (await listSegmentRows(db, workspaceId)).map(toSegment);
}

/** The rows as stored, definitions as JSON text, by name. */
export async function listSegmentRows(db: Tx, workspaceId: string): Promise<SegmentRow[]> {
  return withListedChanges(db, workspaceId, await segmentsWithCounts(db, workspaceId).orderBy('s.name_folded').execute());
}

/** Each segment's stored member count, by segment id. */
export async function readCounts(db: Tx, workspaceId: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('segment_counts').select(['segment_id', 'member_count']).where('workspace_id', '=', workspaceId).execute();
  const counts = new Map(rows.map((r) => [r.segment_id, Number(r.member_count)]));
  for (const [id, change] of await listedCountChanges(db, workspaceId)) if (counts.has(id)) counts.set(id, counts.get(id)! + change);
  return counts;
}

export async function getSegment(db: Tx, workspaceId: string, id: string): Promise<Segment> {
  const row = await segmentsWithCounts(db, workspaceId).where('s.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('segment', id);
  return toSegment((await withListedChanges(db, workspaceId, [row]))[0]);
}

async function withListedChanges(db: Tx, workspaceId: string, rows: SegmentRow[]): Promise<SegmentRow[]> {
  const changes = await listedCountChanges(db, workspaceId);
  return changes.size === 0 ? rows : rows.map((r) => (changes.has(r.id) ? { ...r, member_count: Number(r.member_count) + changes.get(r.id)! } : r));
}

interface Checked { name: string; description: string; kind: 'dynamic' | 'manual'; condition: Condition | null; json: string | null }

async function check(tx: Tx, workspaceId: string, input: SegmentInput, previous: { id: string; kind: 'dynamic' | 'manual'; condition: string | null } | null): Promise<Checked> {
  const issues: { path: string; message: string }[] = [];
  const name = input.name === undefined && previous ? undefined : input.name;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME)) {
    issues.push({ path: 'name', message: `expected a non-blank text of at most ${MAX_NAME} characters` });
  }
  if (input.description !== undefined && typeof input.description !== 'string') issues.push({ path: 'description', message: 'expected a text' });
  const kind = (input.kind ?? previous?.kind ?? 'dynamic') as 'dynamic' | 'manual';
  if (kind !== 'dynamic' && kind !== 'manual') issues.push({ path: 'kind', message: 'expected "dynamic" or "manual"' });
  if (previous && kind !== previous.kind) issues.push({ path: 'kind', message: 'a segment keeps its kind' });

  const { schema } = await loadSchema(tx, workspaceId);
  const known = new Set((await tx.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).execute()).map((r) => r.id));
  let condition: Condition | null = null;
  const json = input.condition !== undefined ? input.condition : previous?.condition ? JSON.parse(previous.condition) : undefined;
  if (json === undefined || json === null) {
    if (kind === 'dynamic') issues.push({ path: 'condition', message: 'a dynamic segment needs a condition' });
  } else {
    const previousCondition = previous?.condition ? storedCondition(schema, previous.condition, known) : null;
    const result = validate(schema, json, {
      segments: 'segment', isKnownSegment: (id) => known.has(id),
      previouslyUsed: previousCondition ? attributesUsed(previousCondition) : new Set(),
    });
    if (result.ok) condition = result.condition;
    else for (const i of result.issues) issues.push({ path: i.path ? `condition.${i.path}` : 'condition', message: i.message });
  }
  if (issues.length > 0) throw new InvalidInput('invalid segment', issues);
  return {
    name: (name as string | undefined) ?? '', description: (input.description as string | undefined) ?? '', kind, condition,
    json: condition === null ? null : JSON.stringify(json),
  };
}

async function refuseCycle(tx: Tx, workspaceId: string, id: string, condition: Condition | null): Promise<void> {
  if (!condition) return;
  const deps = dependenciesOf(condition);
  if (deps.length === 0) return;
  const rows = await tx.selectFrom('segments').select(['id', 'name', 'condition', 'active_condition', 'kind']).where('workspace_id', '=', workspaceId).execute();
  const { schema } = await loadSchema(tx, workspaceId);
  const known = new Set(rows.map((r) => r.id));
  const nodes = rows.filter((r) => r.kind === 'dynamic' && r.condition !== null)
    .map((r) => ({ id: r.id, dependsOn: [r.condition, r.active_condition].flatMap((j) => (j === null ? [] : dependenciesOf(storedCondition(schema, j, known)))) }));
  refuseCycleAmong(nodes, new Map(rows.map((r) => [r.id, r.name])), id, deps);
}

/**
 * Throws the 409 naming the cycle that giving segment `id` these dependencies would close among
 * `nodes` (each dynamic segment with what its definitions read); the preview of an edit refuses it
 * as saving does.
 */
export function refuseCycleAmong(nodes: Parameters<typeof findCycle>[0], names: ReadonlyMap<string, string>, id: string, dependsOn: readonly string[]): void {
  const cycle = findCycle(nodes, id, dependsOn);
  if (cycle) {
    throw new Conflict('segment_cycle', `the definition would make a cycle: ${cycle.map((s) => `"${names.get(s) ?? '(this segment)'}" (${s})`).join(' → ')}`, 'condition');
  }
}

async function refuseTakenName(tx: Tx, workspaceId: string, name: string, except: string | null): Promise<void> {
  let q = tx.selectFrom('segments').select(['id', 'name']).where('workspace_id', '=', workspaceId).where('name_folded', '=', fold(name.trim()));
  if (except) q = q.where('id', '!=', except);
  const taken = await q.executeTakeFirst();
  // Named as stored: "FILE" is taken by "ﬁle" (names are compared folded), which the user must find.
  if (taken) throw new Conflict('segment_name_taken', `the name ${JSON.stringify(name.trim())} is taken by segment ${JSON.stringify(taken.name)} (${taken.id}): names are compared ignoring case and width`, 'name');
}

async function enqueueBuild(tx: Tx, workspaceId: string, segmentId: string, version: number, now: number): Promise<void> {
  await tx.updateTable('segment_jobs').set({ status: 'cancelled', updated_ms: now })
    .where('workspace_id', '=', workspaceId).where('segment_id', '=', segmentId).where('status', '=', 'pending').execute();
  await tx.insertInto('segment_jobs').values({ workspace_id: workspaceId, segment_id: segmentId, version, status: 'pending', created_ms: now, updated_ms: now }).execute();
}

export async function createSegment(tx: Tx, workspaceId: string, input: SegmentInput, now = Date.now()): Promise<Segment> {
  const c = await check(tx, workspaceId, input, null);
  await refuseTakenName(tx, workspaceId, c.name, null);
  const id = newSegmentId();
  await refuseCycle(tx, workspaceId, id, c.kind === 'dynamic' ? c.condition : null);
  await tx.insertInto('segments').values({
    workspace_id: workspaceId, id, name: c.name.trim(), name_folded: fold(c.name.trim()), description: c.description, kind: c.kind,
    condition: c.json, version: 1, active_version: c.kind === 'manual' ? 1 : 0, active_condition: null,
    status: c.kind === 'manual' ? 'ready' : 'building', status_detail: null, created_ms: now, updated_ms: now,
  }).execute();
  await tx.insertInto('segment_counts').values({ workspace_id: workspaceId, segment_id: id, member_count: 0 }).execute();
  if (c.kind === 'dynamic') await enqueueBuild(tx, workspaceId, id, 1, now);
  await bumpConfigVersion(tx, workspaceId);
  return getSegment(tx, workspaceId, id);
}

/** `ifVersion`: the version the editor read; a stale one is refused and changes nothing. */
export async function updateSegment(tx: Tx, workspaceId: string, id: string, input: SegmentInput, options: { ifVersion?: number; now?: number } = {}): Promise<Segment> {
  const now = options.now ?? Date.now();
  const row = await tx.selectFrom('segments').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('segment', id);
  if (options.ifVersion !== undefined && options.ifVersion !== row.version) {
    throw new Conflict('segment_version_mismatch', `segment ${id} is at version ${row.version}, not ${options.ifVersion}: reload and edit again`);
  }
  const c = await check(tx, workspaceId, input, { id, kind: row.kind, condition: row.condition });
  const name = c.name.trim() === '' ? row.name : c.name.trim();
  await refuseTakenName(tx, workspaceId, name, id);
  const conditionChanged = c.json !== row.condition;
  if (conditionChanged && c.kind === 'dynamic') await refuseCycle(tx, workspaceId, id, c.condition);
  const version = conditionChanged ? row.version + 1 : row.version;
  await tx.updateTable('segments').set({
    name, name_folded: fold(name), description: input.description !== undefined ? c.description : row.description,
    condition: c.json, version, updated_ms: now,
    ...(conditionChanged && c.kind === 'dynamic' ? { status: 'building' as const, status_detail: null } : {}),
    ...(conditionChanged && c.kind === 'manual' ? { active_version: version } : {}),
  }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  if (conditionChanged && c.kind === 'dynamic') await enqueueBuild(tx, workspaceId, id, version, now);
  // Every edit, a rename too: the segment list is cached by the config version (segment-listing.ts).
  await bumpConfigVersion(tx, workspaceId);
  return getSegment(tx, workspaceId, id);
}

/**
 * The workspace's time zone changed: every dynamic segment whose definition compares a date with a
 * day gets a new version built from it (the contract: "re-evaluates the segments whose conditions
 * use day values"); the others, relative spans and instants included, mean what they meant.
 */
export async function rebuildForTimeZone(tx: Tx, workspaceId: string, now = Date.now()): Promise<void> {
  const all = await tx.selectFrom('segments').select(['id', 'kind', 'version', 'condition']).where('workspace_id', '=', workspaceId).execute();
  const { schema } = await loadSchema(tx, workspaceId);
  const known = new Set(all.map((r) => r.id));
  // The segments built on these follow their new membership as they do any change of it.
  const rows = all.filter((r) => r.kind === 'dynamic' && r.condition !== null && usesDayValues(storedCondition(schema, r.condition, known)));
  for (const r of rows) {
    await tx.updateTable('segments').set({ version: r.version + 1, status: 'building', status_detail: null, updated_ms: now })
      .where('workspace_id', '=', workspaceId).where('id', '=', r.id).execute();
    await enqueueBuild(tx, workspaceId, r.id, r.version + 1, now);
  }
  if (rows.length > 0) await bumpConfigVersion(tx, workspaceId);
}

/** Deleting never touches contacts; it is refused while other segments are built on this one. */
export async function deleteSegment(tx: Tx, workspaceId: string, id: string, now = Date.now()): Promise<void> {
  const row = await tx.selectFrom('segments').select(['id', 'name', 'version']).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('segment', id);
  const users = await segmentsUsing(tx, workspaceId, (c) => dependenciesOf(c).includes(id));
  if (users.length > 0) throw new Conflict('segment_in_use', `segment ${JSON.stringify(row.name)} (${id}) is used by ${users.join(', ')}`);
  const jobs = tx.selectFrom('segment_jobs').select('id').where('workspace_id', '=', workspaceId).where('segment_id', '=', id);
  await tx.deleteFrom('segment_builds').where('job_id', 'in', jobs).execute();
  await tx.deleteFrom('segment_jobs').where('workspace_id', '=', workspaceId).where('segment_id', '=', id).execute();
  await deleteSegmentMembers(tx, workspaceId, id);
  await tx.deleteFrom('segment_hidden_from').where('workspace_id', '=', workspaceId).where('segment_id', '=', id).execute();
  await tx.deleteFrom('segment_counts').where('workspace_id', '=', workspaceId).where('segment_id', '=', id).execute();
  await tx.deleteFrom('segments').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  await appendEvents(tx, workspaceId, [{ type: 'segment.deleted', segmentId: id, version: row.version, contactId: null }], now);
  await bumpConfigVersion(tx, workspaceId);
}

/** Names and ids of the segments whose stored definitions satisfy `test` (for "in use by" errors). */
export async function segmentsUsing(tx: Tx, workspaceId: string, test: (c: Condition) => boolean): Promise<string[]> {
  const rows = await tx.selectFrom('segments').select(['id', 'name', 'condition', 'active_condition']).where('workspace_id', '=', workspaceId).execute();
  const { schema } = await loadSchema(tx, workspaceId);
  const known = new Set(rows.map((r) => r.id));
  return rows.filter((r) => [r.condition, r.active_condition].some((j) => j !== null && test(storedCondition(schema, j, known))))
    .map((r) => `"${r.name}" (${r.id})`);
}

/** The segments whose definitions use an attribute: what deleting it, or removing an option, would break. */
export function segmentsUsingAttribute(tx: Tx, workspaceId: string): (key: string) => Promise<string[]> {
  return (key) => segmentsUsing(tx, workspaceId, (c) => attributesUsed(c).has(key));
}
