// Imports started over HTTP run in the background as jobs the client polls: status, the ledger so far
// (counts and the rejections kept), and why a file was refused or an import stopped. A running job
// writes its progress after every batch (a second or so); one silent for STALE_MS has lost its
// server and reads as `stopped`: importing the same file again completes it (rows are upserted by
// key). Decided by time, not at a server's start, because another server may be running it. The
// workspace's imports are listed newest first.
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ImportJobsTable } from '../../db/tables.js';
import type { Tx } from '../../db/write-transaction.js';
import { InvalidInput, NotFound } from '../../errors.js';
import type { ImportFormat, ImportProgress } from './import-contacts.js';
import type { ImportLedger } from './import-ledger.js';

export type ImportStatus = 'running' | 'done' | 'refused' | 'stopped';

export interface ImportJob {
  readonly id: string;
  readonly status: ImportStatus;
  readonly format: ImportFormat;
  readonly bytes: number;
  readonly ledger: Partial<ImportLedger> & ImportProgress;
  readonly detail: string | null;
  readonly createdMs: number;
  readonly updatedMs: number;
}

const EMPTY: ImportProgress = { rowsRead: 0, created: 0, updated: 0, unchanged: 0, rejected: 0, bytesRead: 0 };

export async function createImportJob(tx: Tx, workspaceId: string, format: ImportFormat, bytes: number, now = Date.now()): Promise<ImportJob> {
  const id = `imp_${randomBytes(8).toString('hex')}`;
  await tx.insertInto('import_jobs').values({ id, workspace_id: workspaceId, status: 'running', format, bytes, ledger: JSON.stringify(EMPTY), detail: null, created_ms: now, updated_ms: now }).execute();
  return { id, status: 'running', format, bytes, ledger: EMPTY, detail: null, createdMs: now, updatedMs: now };
}

export async function updateImportJob(tx: Tx, workspaceId: string, id: string, change: { status?: ImportStatus; ledger: ImportJob['ledger']; detail?: string | null }, now = Date.now()): Promise<void> {
  await tx.updateTable('import_jobs').set({
    ledger: JSON.stringify(change.ledger), updated_ms: now,
    ...(change.status ? { status: change.status } : {}), ...(change.detail !== undefined ? { detail: change.detail } : {}),
  }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export const STALE_MS = 5 * 60_000;

export async function getImportJob(db: Tx, workspaceId: string, id: string, now = Date.now()): Promise<ImportJob> {
  const r = await db.selectFrom('import_jobs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!r) throw new NotFound('import', id);
  return toJob(r, now);
}

/**
 * A page of the workspace's imports, newest first, with the cursor of the next page (null at the
 * end). A workspace starts a few imports a day, so its rows are read without an index of their own.
 */
export async function listImportJobs(db: Tx, workspaceId: string, page: { limit: number; cursor?: string }, now = Date.now()): Promise<{ jobs: ImportJob[]; next: string | null }> {
  let q = db.selectFrom('import_jobs').selectAll().where('workspace_id', '=', workspaceId);
  if (page.cursor !== undefined) {
    const after = readCursor(page.cursor);
    q = q.where((eb) => eb.or([eb('created_ms', '<', after.createdMs), eb.and([eb('created_ms', '=', after.createdMs), eb('id', '<', after.id)])]));
  }
  const rows = await q.orderBy('created_ms', 'desc').orderBy('id', 'desc').limit(page.limit + 1).execute();
  const jobs = rows.slice(0, page.limit).map((r) => toJob(r, now));
  const last = jobs[jobs.length - 1];
  return { jobs, next: rows.length > page.limit ? Buffer.from(`i1:${last.createdMs}:${last.id}`).toString('base64url') : null };
}

function readCursor(cursor: string): { createdMs: number; id: string } {
  const text = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const m = /^i1:(\d{1,15}):(imp_[0-9a-f]{16})$/.exec(text);
  if (!m) throw new InvalidInput('invalid page', [{ path: 'cursor', message: 'not a cursor this list returned' }]);
  return { createdMs: Number(m[1]), id: m[2] };
}

function toJob(r: Selectable<ImportJobsTable>, now: number): ImportJob {
  const lost = r.status === 'running' && now - Number(r.updated_ms) > STALE_MS;
  return {
    id: r.id, format: r.format, bytes: Number(r.bytes), ledger: JSON.parse(r.ledger) as ImportJob['ledger'], createdMs: Number(r.created_ms), updatedMs: Number(r.updated_ms),
    status: lost ? 'stopped' : r.status,
    detail: lost ? 'the server stopped during the import: upload the same file again to complete it' : r.detail,
  };
}
