// Contact rows: find by id, external_id or email; insert, update and delete a row with its list
// values. Membership is not here: src/segments runs it in the same transaction as these writes.
import { randomBytes } from 'node:crypto';
import type { StoredValues } from '../conditions/contact-values.js';
import { fold } from '../conditions/fold.js';
import type { Tx } from '../db/write-transaction.js';
import { dialectOf } from '../db/write-transaction.js';
import { EMAIL_COLUMN, EXTERNAL_ID_COLUMN } from './attribute-store.js';
import { contactRow } from './contact-columns.js';
import type { ColumnLayout } from './contact-columns.js';

export interface StoredContact {
  readonly pk: number;
  readonly id: string;
  readonly values: StoredValues;
  readonly version: number;
  readonly createdMs: number;
  readonly updatedMs: number;
}

type Row = { pk: number | string; id: string; attributes: string; version: number; created_ms: number | string; updated_ms: number | string };
const toContact = (r: Row): StoredContact => ({
  pk: Number(r.pk), id: r.id, values: JSON.parse(r.attributes) as StoredValues, version: r.version,
  createdMs: Number(r.created_ms), updatedMs: Number(r.updated_ms),
});
const COLUMNS = ['pk', 'id', 'attributes', 'version', 'created_ms', 'updated_ms'] as const;

export function newContactId(): string {
  return `c_${randomBytes(10).toString('hex')}`;
}

/**
 * The contact a write names: by `id`, else by `external_id`, else by `email` (both compared
 * folded). On PostgreSQL the row is locked until the transaction ends, so two writers of one
 * contact are serialised and neither merges from a stale read.
 */
export async function findContact(tx: Tx, workspaceId: string, by: { id?: string; externalId?: string; email?: string }): Promise<StoredContact | null> {
  let q = tx.selectFrom('contacts').select(COLUMNS).where('workspace_id', '=', workspaceId);
  if (by.id !== undefined) q = q.where('id', '=', by.id);
  else if (by.externalId !== undefined) q = q.where(EXTERNAL_ID_COLUMN as 't5', '=', fold(by.externalId));
  else if (by.email !== undefined) q = q.where(EMAIL_COLUMN as 't1', '=', fold(by.email));
  else return null;
  q = q.orderBy('pk').limit(1);
  if (dialectOf(tx) === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toContact(row) : null;
}

export async function readContact(tx: Tx, workspaceId: string, id: string): Promise<StoredContact | null> {
  const row = await tx.selectFrom('contacts').select(COLUMNS).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  return row ? toContact(row) : null;
}

/** Every slot the layout uses, NULL unless the contact has a value: an update clears removed values. */
function slotValues(columns: ColumnLayout, slots: Readonly<Record<string, string | number>>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const storage of columns.storage.values()) if (storage.kind === 'column') out[storage.column] = slots[storage.column] ?? null;
  return out;
}

export async function insertContact(tx: Tx, columns: ColumnLayout, workspaceId: string, id: string, values: StoredValues, now: number): Promise<StoredContact> {
  const { contact, lists } = contactRow(columns, workspaceId, id, values);
  const inserted = await tx.insertInto('contacts').values({
    workspace_id: workspaceId, id, attributes: contact.attributes, created_ms: now, updated_ms: now,
    ...slotValues(columns, contact.slots),
  } as never).returning('pk').executeTakeFirstOrThrow();
  const pk = Number(inserted.pk);
  if (lists.length > 0) await tx.insertInto('contact_list_values').values(lists.map((l) => ({ workspace_id: workspaceId, contact_pk: pk, ...l }))).execute();
  return { pk, id, values, version: 1, createdMs: now, updatedMs: now };
}

export async function updateContact(tx: Tx, columns: ColumnLayout, workspaceId: string, existing: StoredContact, values: StoredValues, now: number): Promise<StoredContact> {
  const { contact, lists } = contactRow(columns, workspaceId, existing.id, values);
  await tx.updateTable('contacts').set({
    attributes: contact.attributes, updated_ms: now, version: existing.version + 1,
    ...slotValues(columns, contact.slots),
  } as never).where('pk', '=', existing.pk).execute();
  await tx.deleteFrom('contact_list_values').where('contact_pk', '=', existing.pk).execute();
  if (lists.length > 0) await tx.insertInto('contact_list_values').values(lists.map((l) => ({ workspace_id: workspaceId, contact_pk: existing.pk, ...l }))).execute();
  return { ...existing, values, version: existing.version + 1, updatedMs: now };
}

export async function deleteContactRow(tx: Tx, pk: number): Promise<void> {
  await tx.deleteFrom('contact_list_values').where('contact_pk', '=', pk).execute();
  await tx.deleteFrom('contacts').where('pk', '=', pk).execute();
}
