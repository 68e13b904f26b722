// Contact rows: find by id, external_id or email, read, delete. Writes go through
// src/segments/contact-batch.ts, which writes rows and membership in one transaction.
import { randomBytes } from 'node:crypto';
import type { StoredValues } from '../conditions/contact-values.js';
import { fold } from '../conditions/fold.js';
import type { Tx } from '../db/write-transaction.js';
import { dialectOf } from '../db/write-transaction.js';
import { EMAIL_COLUMN, EXTERNAL_ID_COLUMN } from './attribute-store.js';
import { contactNamedBy, hasIdentityKey } from './contact-keys.js';

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
const COLUMNS = ['c.pk', 'c.id', 'd.document as attributes', 'c.version', 'c.created_ms', 'c.updated_ms'] as const;
const contactsWithDocuments = (tx: Tx) => tx.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk');

export function newContactId(): string {
  return `c_${randomBytes(10).toString('hex')}`;
}

/**
 * The contact a write names: by `id`, else by `external_id`, else by `email` — compared folded, and
 * of several contacts with that key the one `contactNamedBy` picks, as the write path does
 * (contact-batch.ts). On PostgreSQL the rows are locked until the
 * transaction ends, so two writers of one contact are serialised and neither merges from a stale read.
 */
export async function findContact(tx: Tx, workspaceId: string, by: { id?: string; externalId?: string; email?: string }): Promise<StoredContact | null> {
  let q = contactsWithDocuments(tx).select(COLUMNS);
  let key: { attribute: 'external_id' | 'email'; text: string } | null = null;
  if (by.id !== undefined) q = q.where('c.workspace_id', '=', workspaceId).where('c.id', '=', by.id);
  else if (by.externalId !== undefined) {
    q = q.where(hasIdentityKey(dialectOf(tx), 'c', workspaceId, EXTERNAL_ID_COLUMN, [fold(by.externalId)]));
    key = { attribute: 'external_id', text: by.externalId };
  } else if (by.email !== undefined) {
    q = q.where(hasIdentityKey(dialectOf(tx), 'c', workspaceId, EMAIL_COLUMN, [fold(by.email)]));
    key = { attribute: 'email', text: by.email };
  } else return null;
  q = q.orderBy('c.pk');
  if (dialectOf(tx) === 'postgres') q = q.forUpdate();
  const contacts = (await q.execute()).map(toContact);
  return (key ? contactNamedBy(contacts, key.attribute, key.text, (c) => c.values) : contacts[0]) ?? null;
}

export async function deleteContactRow(tx: Tx, pk: number): Promise<void> {
  await tx.deleteFrom('contact_list_values').where('contact_pk', '=', pk).execute();
  await tx.deleteFrom('contact_documents').where('contact_pk', '=', pk).execute();
  await tx.deleteFrom('contacts').where('pk', '=', pk).execute();
}
