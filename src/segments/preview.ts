// What the builder shows as the user types: the count of an unsaved condition, and for an edit,
// how many contacts it would add and remove. Set work, so the SQL compiler does it.
import { sql } from 'kysely';
import { compileSql } from '../conditions/compile-sql.js';
import type { Condition } from '../conditions/types.js';
import { attributesUsed } from '../conditions/validate.js';
import type { Database } from '../db/database.js';
import { unindexed } from '../db/unindexed.js';
import { dependenciesOf } from './dependencies.js';
import { refuseCycleAmong } from './segment-store.js';
import type { WorkspaceState } from './workspace-state.js';

/**
 * The disabled attributes the preview of an edit of `segmentId` may keep: those its definition
 * already uses, as the edit itself may (`segment-store.ts`).
 */
export function attributesAnEditKeeps(state: WorkspaceState, segmentId: string | undefined): Set<string> | undefined {
  const edited = segmentId === undefined ? undefined : state.byId.get(segmentId);
  const previous = edited?.building?.condition ?? edited?.activeCondition;
  return previous ? attributesUsed(previous) : undefined;
}

function where(database: Database, state: WorkspaceState, condition: Condition, now: number) {
  return compileSql(condition, { dialect: database.dialect, columns: state.columns, timeZone: state.timeZone, now, workspaceId: state.workspaceId });
}

/**
 * How many contacts match. On a SQLite file the count is split by pk range over the reader threads
 * (one per core; at 1M contacts the median count went from 395 to 108 ms), each range read from its
 * own snapshot: a count taken while writes go on may mix instants a few milliseconds apart, which a
 * live preview tolerates.
 */
export async function previewCount(database: Database, state: WorkspaceState, condition: Condition, now: number): Promise<number> {
  const matches = where(database, state, condition, now);
  const count = () => database.db.selectFrom('contacts as c').select((eb) => eb.fn.countAll().as('n')).where(matches);
  const readers = database.dialect === 'sqlite' ? database.readers() : null;
  if (readers !== null && readers.size > 1) {
    const top = await database.db.selectFrom('contacts').select((eb) => eb.fn.max('pk').as('pk')).executeTakeFirstOrThrow();
    const step = Math.ceil(Number(top.pk ?? 0) / readers.size) || 1;
    const ranges = Array.from({ length: readers.size }, (_, k) => count()
      .where(unindexed('sqlite', 'c.workspace_id'), '=', state.workspaceId).where('c.pk', '>', k * step).where('c.pk', '<=', (k + 1) * step).compile());
    const values = await readers.scalars(ranges.map((q) => ({ sql: q.sql, parameters: q.parameters })));
    return values.reduce<number>((sum, v) => sum + Number(v), 0);
  }
  return Number((await count().where('c.workspace_id', '=', state.workspaceId).executeTakeFirstOrThrow()).n);
}

/**
 * Contacts the new definition would add to and remove from the segment's stored membership. A
 * manual segment's condition is its auto-apply rule, run as conversations are created and never on
 * the members it has: saving one adds and removes nobody. A definition that would close a cycle is
 * refused, as saving it is.
 */
export async function previewImpact(database: Database, state: WorkspaceState, segmentId: string, condition: Condition, now: number): Promise<{ added: number; removed: number; total: number }> {
  if (state.byId.get(segmentId)?.kind === 'manual') return { added: 0, removed: 0, total: await previewCount(database, state, condition, now) };
  refuseCycleAmong(state.segments.filter((s) => s.kind === 'dynamic'), new Map(state.segments.map((s) => [s.id, s.name])), segmentId, dependenciesOf(condition));
  const matches = where(database, state, condition, now);
  const member = sql<boolean>`EXISTS (SELECT 1 FROM segment_members m WHERE m.workspace_id = ${state.workspaceId} AND m.segment_id = ${segmentId} AND m.contact_pk = c.pk)`;
  const row = await database.db.selectFrom('contacts as c')
    .select([
      sql<number>`SUM(CASE WHEN ${matches} AND NOT ${member} THEN 1 ELSE 0 END)`.as('added'),
      sql<number>`SUM(CASE WHEN NOT ${matches} AND ${member} THEN 1 ELSE 0 END)`.as('removed'),
      sql<number>`SUM(CASE WHEN ${matches} THEN 1 ELSE 0 END)`.as('total'),
    ])
    .where('c.workspace_id', '=', state.workspaceId).executeTakeFirstOrThrow();
  return { added: Number(row.added ?? 0), removed: Number(row.removed ?? 0), total: Number(row.total ?? 0) };
}

/** The first contacts (oldest first) an unsaved condition matches: what the builder lists under its count. */
export async function previewMembers(database: Database, state: WorkspaceState, condition: Condition, now: number, limit: number): Promise<string[]> {
  const rows = await database.db.selectFrom('contacts as c').select('c.id')
    .where('c.workspace_id', '=', state.workspaceId).where(where(database, state, condition, now))
    .orderBy('c.pk').limit(limit).execute();
  return rows.map((r) => r.id);
}
