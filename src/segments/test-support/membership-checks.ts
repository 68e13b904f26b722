// What "nothing lost" means, as checks a test runs against a store: stored membership, counts and
// the event feed replayed must all agree with each other and with a full recompute. Each check
// returns its problems as sentences (empty when all is well), so a failing test prints what broke.
import { sql } from 'kysely';
import type { Database } from '../../db/database.js';
import { membersOfSegment } from '../../conditions/compile-sql.js';
import { SQL_DIALECTS } from '../../conditions/sql-dialect.js';
import { readEvents } from '../event-feed.js';
import { readCounts } from '../segment-store.js';
import { verifyWorkspace } from '../verify.js';
import type { WorkspaceStates } from '../workspace-state.js';

/** segment id → contact ids. */
export type Membership = Map<string, Set<string>>;

export interface StoredMembership {
  readonly members: Membership;
  /** Membership rows whose contact does not exist, or whose segment does not. */
  readonly problems: string[];
}

const add = (m: Membership, segmentId: string, contactId: string) => {
  let set = m.get(segmentId);
  if (!set) m.set(segmentId, (set = new Set()));
  set.add(contactId);
};

/** The stored membership by contact id; rows pointing at no contact or no segment are problems. */
export async function storedMembership(database: Database, workspaceId: string): Promise<StoredMembership> {
  const rows = await database.db.selectFrom('segment_members as m')
    .leftJoin('contacts as c', 'c.pk', 'm.contact_pk')
    .leftJoin('segments as s', (j) => j.onRef('s.id', '=', 'm.segment_id').onRef('s.workspace_id', '=', 'm.workspace_id'))
    .select(['m.segment_id', 'm.contact_pk', 'c.id as contact_id', 'c.workspace_id as contact_workspace', 's.id as segment'])
    .where('m.workspace_id', '=', workspaceId).execute();
  const members: Membership = new Map();
  const problems: string[] = [];
  for (const r of rows) {
    if (r.segment === null) problems.push(`a membership row for segment ${r.segment_id}, which does not exist (contact pk ${r.contact_pk})`);
    if (r.contact_id === null) problems.push(`segment ${r.segment_id} has a membership row for contact pk ${r.contact_pk}, which does not exist`);
    else if (r.contact_workspace !== workspaceId) problems.push(`segment ${r.segment_id} has a member from workspace ${r.contact_workspace}`);
    else add(members, r.segment_id, r.contact_id);
  }
  return { members, problems };
}

/**
 * Replays the feed from the start: entered adds, left removes, deleted drops the segment. An
 * entered for a pair already in, or a left for a pair not in, is a problem (one event per change).
 */
export async function replayEvents(database: Database, workspaceId: string): Promise<{ members: Membership; problems: string[]; events: number }> {
  const members: Membership = new Map();
  const problems: string[] = [];
  let after = 0, events = 0;
  for (;;) {
    const page = await readEvents(database.db, workspaceId, after, 1_000);
    if (page.length === 0) break;
    for (const ev of page) {
      events++;
      if (ev.seq <= after) problems.push(`event ${ev.seq} comes after ${after}: the feed is not ordered`);
      after = ev.seq;
      if (ev.type === 'segment.deleted') {
        members.delete(ev.segmentId);
        continue;
      }
      if (ev.contactId === null || ev.contactId === undefined) {
        problems.push(`event ${ev.seq} (${ev.type} ${ev.segmentId}) names no contact`);
        continue;
      }
      const set = members.get(ev.segmentId);
      const isIn = set?.has(ev.contactId) ?? false;
      if (ev.type === 'segment.entered') {
        if (isIn) problems.push(`event ${ev.seq}: ${ev.contactId} entered ${ev.segmentId}, which it was already in`);
        add(members, ev.segmentId, ev.contactId);
      } else {
        if (!isIn) problems.push(`event ${ev.seq}: ${ev.contactId} left ${ev.segmentId}, which it was not in`);
        set?.delete(ev.contactId);
      }
    }
  }
  for (const [id, set] of members) if (set.size === 0) members.delete(id);
  return { members, problems, events };
}

/** Differences between two memberships, as sentences; `a` and `b` name them. */
export function compareMembership(a: Membership, b: Membership, aName: string, bName: string): string[] {
  const out: string[] = [];
  for (const id of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(id) ?? new Set<string>(), y = b.get(id) ?? new Set<string>();
    const onlyA = [...x].filter((c) => !y.has(c)).sort(), onlyB = [...y].filter((c) => !x.has(c)).sort();
    if (onlyA.length > 0) out.push(`segment ${id}: in ${aName}, not in ${bName}: ${onlyA.join(', ')}`);
    if (onlyB.length > 0) out.push(`segment ${id}: in ${bName}, not in ${aName}: ${onlyB.join(', ')}`);
  }
  return out;
}

/**
 * The engine's own promises, all at once: verify (a full recompute) finds nothing; every
 * segment's member_count is its number of stored members; replaying the feed gives the stored
 * membership exactly; no membership row points at a missing contact or segment.
 */
export async function checkStore(database: Database, states: WorkspaceStates, workspaceId: string, now: number): Promise<string[]> {
  const problems: string[] = [];
  const stored = await storedMembership(database, workspaceId);
  problems.push(...stored.problems);
  for (const d of await verifyWorkspace(database, states, workspaceId, now)) {
    problems.push(`verify: ${d.kind} in ${d.segmentId}${d.contactId ? ` (${d.contactId})` : ''}${d.detail ? `: ${d.detail}` : ''}`);
  }
  // The counts as every reader reads them (readCounts: on SQLite with the listed contacts' changes).
  const storedCounts = await readCounts(database.db, workspaceId);
  const counts = await database.db.selectFrom('segments as s')
    .select(['s.id', (eb) => eb.selectFrom('segment_members as m').select(sql<number>`count(*)`.as('n'))
      .whereRef('m.segment_id', '=', 's.id').whereRef('m.workspace_id', '=', 's.workspace_id').as('rows')])
    .where('s.workspace_id', '=', workspaceId).execute();
  for (const c of counts) {
    const count = storedCounts.get(c.id);
    if (count === undefined) problems.push(`segment ${c.id}: no row in segment_counts`);
    else if (count !== Number(c.rows)) problems.push(`segment ${c.id}: member_count ${count}, but ${c.rows} membership rows`);
  }
  const replay = await replayEvents(database, workspaceId);
  problems.push(...replay.problems);
  problems.push(...compareMembership(stored.members, replay.members, 'stored membership', 'the replayed feed'));
  problems.push(...await checkSegmentOrder(database, workspaceId));
  return problems;
}

/**
 * Each segment's members as the segment order gives them (what member lists and conditions on
 * `segments` read: member-order.ts) equal segment_members' rows; and on SQLite, for every contact
 * not listed as pending, the copy has exactly its segment_members rows.
 */
export async function checkSegmentOrder(database: Database, workspaceId: string): Promise<string[]> {
  const problems: string[] = [];
  const d = SQL_DIALECTS[database.dialect];
  const key = (segmentId: string, pk: unknown) => `${segmentId} ${Number(pk)}`;
  const truth = new Set((await database.db.selectFrom('segment_members').select(['segment_id', 'contact_pk']).where('workspace_id', '=', workspaceId).execute()).map((r) => key(r.segment_id, r.contact_pk)));
  const segments = await database.db.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).execute();
  const ordered = new Set<string>();
  for (const { id } of segments) {
    const { rows } = await sql<{ contact_pk: number }>`${membersOfSegment(d, d.text(workspaceId), (c) => sql`${c} = ${d.text(id)}`)}`.execute(database.db);
    for (const r of rows) {
      const k = key(id, r.contact_pk);
      if (ordered.has(k)) problems.push(`segment order: ${k} twice`);
      ordered.add(k);
    }
  }
  for (const k of truth) if (!ordered.has(k)) problems.push(`segment order: missing ${k} (segment, contact pk)`);
  for (const k of ordered) if (!truth.has(k)) problems.push(`segment order: ${k} (segment, contact pk) is not in segment_members`);
  if (database.dialect === 'sqlite') {
    const notListed = sql`not in (select contact_pk from segment_members_pending where workspace_id = ${workspaceId})`;
    const { rows } = await sql<{ extra: number; missing: number }>`select
      (select count(*) from segment_member_order o where o.workspace_id = ${workspaceId} and o.contact_pk ${notListed}
        and not exists (select 1 from segment_members m where m.workspace_id = o.workspace_id and m.contact_pk = o.contact_pk and m.segment_id = o.segment_id)) as extra,
      (select count(*) from segment_members m where m.workspace_id = ${workspaceId} and m.contact_pk ${notListed}
        and not exists (select 1 from segment_member_order o where o.workspace_id = m.workspace_id and o.segment_id = m.segment_id and o.contact_pk = m.contact_pk)) as missing`.execute(database.db);
    if (Number(rows[0].extra) > 0) problems.push(`segment order: ${rows[0].extra} rows of segment_member_order for contacts not pending are not in segment_members`);
    if (Number(rows[0].missing) > 0) problems.push(`segment order: ${rows[0].missing} rows of segment_members for contacts not pending are not in segment_member_order`);
  }
  return problems;
}
