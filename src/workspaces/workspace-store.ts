// Workspaces: the tenant every row belongs to, with its name and time zone.
import { canonicalTimeZone } from '../conditions/time.js';
import type { Database } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput, NotFound } from '../errors.js';
import { seedStandardAttributes } from '../contacts/attribute-store.js';
import { bumpConfigVersion } from './config-version.js';

export interface Workspace {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  readonly configVersion: number;
}

const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export async function createWorkspace(database: Database, input: { id: string; name?: string; timeZone?: string }, now = Date.now()): Promise<Workspace> {
  if (!WORKSPACE_ID.test(input.id)) throw new InvalidInput('invalid workspace', [{ path: 'id', message: 'expected lower-case letters, digits, "_" or "-", at most 64' }]);
  const timeZone = canonicalTimeZone(input.timeZone ?? 'UTC');
  if (timeZone === null) throw new InvalidInput('invalid workspace', [{ path: 'time_zone', message: `not an IANA time zone: ${JSON.stringify(input.timeZone)}` }]);
  return writeTransaction(database, async (tx) => {
    await tx.insertInto('workspaces').values({ id: input.id, name: input.name ?? input.id, time_zone: timeZone, created_ms: now }).execute();
    await seedStandardAttributes(tx, input.id, now);
    return { id: input.id, name: input.name ?? input.id, timeZone, configVersion: 1 };
  });
}

export async function getWorkspace(db: Tx, id: string): Promise<Workspace> {
  const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('workspace', id);
  return { id: row.id, name: row.name, timeZone: row.time_zone, configVersion: Number(row.config_version) };
}

/** The workspace a store starts with (`segments serve`), and the CLI's when --workspace is not given. */
export const DEFAULT_WORKSPACE = 'default';

export async function findWorkspace(db: Tx, id: string): Promise<Workspace | null> {
  const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? { id: row.id, name: row.name, timeZone: row.time_zone, configVersion: Number(row.config_version) } : null;
}


/**
 * Renames the workspace or changes its time zone. Day values already stored keep their instants;
 * a definition's days are read in the new zone, so the caller rebuilds the dynamic segments that
 * compare dates with days when `timeZoneChanged` (src/segments/segment-store.ts `rebuildForTimeZone`).
 */
export async function updateWorkspace(tx: Tx, id: string, patch: { name?: string; timeZone?: string }): Promise<{ workspace: Workspace; timeZoneChanged: boolean }> {
  const current = await getWorkspace(tx, id);
  const issues: { path: string; message: string }[] = [];
  const name = patch.name?.trim();
  if (name !== undefined && (name === '' || name.length > 200)) issues.push({ path: 'name', message: 'expected a non-blank text of at most 200 characters' });
  const timeZone = patch.timeZone === undefined ? current.timeZone : canonicalTimeZone(patch.timeZone);
  if (timeZone === null) issues.push({ path: 'time_zone', message: `not an IANA time zone: ${JSON.stringify(patch.timeZone)}` });
  if (issues.length > 0) throw new InvalidInput('invalid workspace', issues);
  const timeZoneChanged = timeZone !== current.timeZone;
  await tx.updateTable('workspaces').set({ name: name ?? current.name, time_zone: timeZone! }).where('id', '=', id).execute();
  if (timeZoneChanged) await bumpConfigVersion(tx, id);
  return { workspace: { ...current, name: name ?? current.name, timeZone: timeZone! }, timeZoneChanged };
}
