// Segments hidden from chosen agents or teams. To a principal they are hidden from, such a segment
// does not exist: not in lists, not in a contact's segments, not in counts, not by id, not in a
// condition (it reads as an unknown segment). A segment built on a hidden one is hidden from the
// same people: its definition names the hidden one, and its members would tell who is in it.
// Admins see every segment.
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput } from '../errors.js';
import { bumpConfigVersion } from '../workspaces/config-version.js';
import { dependentsOf } from '../segments/dependencies.js';
import { PRINCIPAL_ID } from './tokens.js';
import type { Principal } from './tokens.js';

export interface HiddenFrom {
  readonly agents: readonly string[];
  readonly teams: readonly string[];
}

export const NOBODY: HiddenFrom = { agents: [], teams: [] };

type DependencyNodes = ReadonlyArray<{ readonly id: string; readonly dependsOn: readonly string[] }>;

/**
 * The ids of the workspace's segments hidden from this principal (none for an admin), with every
 * segment built on one. `segments` is asked for only when something is hidden (most requests: none).
 */
export async function hiddenSegments(db: Tx, principal: Principal, segments: DependencyNodes | (() => Promise<DependencyNodes>)): Promise<ReadonlySet<string>> {
  const hidden = await hiddenDirectly(db, principal);
  if (hidden.size === 0) return hidden;
  const nodes = typeof segments === 'function' ? await segments() : segments;
  for (const id of [...hidden]) for (const d of dependentsOf(nodes, id)) hidden.add(d.id);
  return hidden;
}

async function hiddenDirectly(db: Tx, principal: Principal): Promise<Set<string>> {
  if (principal.role === 'admin') return new Set();
  // Only the clauses the principal has: no placeholder id for a missing agent id or an empty team
  // list (a NUL placeholder is an error on PostgreSQL, "invalid byte sequence": every request of
  // an agent token without teams was a 500).
  const agentId = principal.agentId, teams = [...principal.teams];
  if (agentId === null && teams.length === 0) return new Set();
  const rows = await db.selectFrom('segment_hidden_from').select('segment_id').distinct()
    .where('workspace_id', '=', principal.workspaceId)
    .where((eb) => eb.or([
      ...(agentId !== null ? [eb.and([eb('principal_kind', '=', 'agent'), eb('principal_id', '=', agentId)])] : []),
      ...(teams.length > 0 ? [eb.and([eb('principal_kind', '=', 'team'), eb('principal_id', 'in', teams)])] : []),
    ]))
    .execute();
  return new Set(rows.map((r) => r.segment_id));
}

/** Who each of these segments is hidden from. */
export async function hiddenFromOf(db: Tx, workspaceId: string, segmentIds: readonly string[]): Promise<Map<string, HiddenFrom>> {
  const out = new Map<string, { agents: string[]; teams: string[] }>(segmentIds.map((id) => [id, { agents: [], teams: [] }]));
  if (segmentIds.length === 0) return out;
  const rows = await db.selectFrom('segment_hidden_from').select(['segment_id', 'principal_kind', 'principal_id'])
    .where('workspace_id', '=', workspaceId).where('segment_id', 'in', [...segmentIds]).orderBy('principal_id').execute();
  for (const r of rows) out.get(r.segment_id)?.[r.principal_kind === 'agent' ? 'agents' : 'teams'].push(r.principal_id);
  return out;
}

/** Checks a `hidden_from` value from a request; `path` is where it sits in the body. */
export function readHiddenFrom(value: unknown, path = 'hidden_from'): HiddenFrom {
  const issues: { path: string; message: string }[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInput('invalid hidden_from', [{ path, message: 'expected {"agents": [...], "teams": [...]}' }]);
  }
  const read = (key: 'agents' | 'teams'): string[] => {
    const list = (value as Record<string, unknown>)[key];
    if (list === undefined) return [];
    if (!Array.isArray(list) || list.length > 1000) { issues.push({ path: `${path}.${key}`, message: 'expected an array of at most 1,000 ids' }); return []; }
    list.forEach((id, i) => { if (typeof id !== 'string' || !PRINCIPAL_ID.test(id)) issues.push({ path: `${path}.${key}[${i}]`, message: 'expected an id of letters, digits and _ . : @ -, at most 128' }); });
    return [...new Set(list as string[])];
  };
  for (const key of Object.keys(value)) if (key !== 'agents' && key !== 'teams') issues.push({ path: `${path}.${key}`, message: 'unknown field' });
  const result = { agents: read('agents'), teams: read('teams') };
  if (issues.length > 0) throw new InvalidInput('invalid hidden_from', issues);
  return result;
}

export async function setHiddenFrom(tx: Tx, workspaceId: string, segmentId: string, hidden: HiddenFrom): Promise<void> {
  await tx.deleteFrom('segment_hidden_from').where('workspace_id', '=', workspaceId).where('segment_id', '=', segmentId).execute();
  const rows = [
    ...hidden.agents.map((id) => ({ workspace_id: workspaceId, segment_id: segmentId, principal_kind: 'agent' as const, principal_id: id })),
    ...hidden.teams.map((id) => ({ workspace_id: workspaceId, segment_id: segmentId, principal_kind: 'team' as const, principal_id: id })),
  ];
  if (rows.length > 0) await tx.insertInto('segment_hidden_from').values(rows).execute();
  await bumpConfigVersion(tx, workspaceId); // the segment list, cached by it, shows who a segment is hidden from
}
