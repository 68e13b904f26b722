// The attribute schema of a workspace: the standard attributes plus custom ones, each given a
// storage slot once and keeping it. Adding an attribute writes a row, never DDL.
import { compileSql } from '../conditions/compile-sql.js';
import { fold } from '../conditions/fold.js';
import { RESERVED_KEYS, SEGMENTS_FIELD, STANDARD_ATTRIBUTES, isStandardAttribute, validateAttributeDef } from '../conditions/schema.js';
import { SLOT_COLUMN } from '../conditions/sql-layout.js';
import type { AttributeStorage } from '../conditions/sql-layout.js';
import type { AttributeDef, AttributeType, Schema, ValidationIssue } from '../conditions/types.js';
import { validate } from '../conditions/validate.js';
import { SLOT_COUNTS } from '../db/tables.js';
import type { SlotLetter } from '../db/tables.js';
import type { Tx } from '../db/write-transaction.js';
import { dialectOf } from '../db/write-transaction.js';
import { sql } from 'kysely';
import { Conflict, InvalidInput, NotFound } from '../errors.js';
import { bumpConfigVersion } from '../workspaces/config-version.js';
import { assignColumns, TooManyAttributes } from './contact-columns.js';
import type { ColumnLayout } from './contact-columns.js';

const LETTER: Readonly<Record<Exclude<AttributeType, 'list'>, SlotLetter>> = { text: 't', enum: 't', number: 'n', date: 'd', boolean: 'b' };

/** The standard attributes' storage is fixed (email is t1, external_id t5): upserts look them up by index. */
const STANDARD_STORAGE = assignColumns(STANDARD_ATTRIBUTES).storage;
export const EMAIL_COLUMN = 't1';
export const EXTERNAL_ID_COLUMN = 't5';

export interface WorkspaceSchema {
  /** Standard attributes first, then custom ones in the order they were created. */
  readonly schema: Schema;
  /** Where each attribute lives; `segments` is the membership table. */
  readonly columns: ColumnLayout;
}

export async function seedStandardAttributes(tx: Tx, workspaceId: string, now: number): Promise<void> {
  await tx.insertInto('attributes').values(STANDARD_ATTRIBUTES.map((a) => ({
    workspace_id: workspaceId, key: a.key, type: a.type, label: a.label ?? null,
    options: a.options ? JSON.stringify(a.options) : null, enabled: 1, standard: 1,
    storage: storageText(STANDARD_STORAGE.get(a.key)!), created_ms: now,
  }))).execute();
}

function storageText(storage: AttributeStorage): string {
  return storage.kind === 'column' ? storage.column : 'list';
}

export async function loadSchema(db: Tx, workspaceId: string): Promise<WorkspaceSchema> {
  const rows = await db.selectFrom('attributes').selectAll().where('workspace_id', '=', workspaceId)
    .orderBy('standard', 'desc').orderBy('created_ms').orderBy('key').execute();
  const schema: AttributeDef[] = rows.map((r) => ({
    key: r.key, type: r.type as AttributeType,
    ...(r.options !== null ? { options: JSON.parse(r.options) as string[] } : {}),
    ...(r.label !== null ? { label: r.label } : {}),
    enabled: r.enabled === 1,
  }));
  const storage = new Map<string, AttributeStorage>();
  for (const r of rows) {
    if (r.storage !== 'list' && !SLOT_COLUMN.test(r.storage)) throw new Error(`attribute "${r.key}" has a corrupt storage ${JSON.stringify(r.storage)}`);
    storage.set(r.key, r.storage === 'list' ? { kind: 'list' } : { kind: 'column', column: r.storage });
  }
  storage.set(SEGMENTS_FIELD, { kind: 'membership' });
  return { schema, columns: { attributes: [...schema, { key: SEGMENTS_FIELD, type: 'list' }], storage } };
}

export async function createAttribute(tx: Tx, workspaceId: string, input: unknown, now = Date.now()): Promise<AttributeDef> {
  const issues: ValidationIssue[] = [];
  const def = validateAttributeDef(input, '', issues);
  if (!def) throw new InvalidInput('invalid attribute', issues.map((i) => ({ ...i, path: i.path.replace(/^\./, '') })));
  if (RESERVED_KEYS.has(def.key)) throw new InvalidInput('invalid attribute', [{ path: 'key', message: `"${def.key}" is reserved` }]);
  const { schema, columns } = await loadSchema(tx, workspaceId);
  if (schema.some((a) => a.key === def.key)) {
    throw new Conflict('attribute_exists', `attribute "${def.key}" already exists${isStandardAttribute(def.key) ? ' (a standard attribute)' : ''}`, 'key');
  }
  const storage = def.type === 'list' ? 'list' : freeSlot(columns, def);
  await tx.insertInto('attributes').values({
    workspace_id: workspaceId, key: def.key, type: def.type, label: def.label ?? null,
    options: def.options ? JSON.stringify(def.options) : null, enabled: def.enabled === false ? 0 : 1, standard: 0,
    storage, created_ms: now,
  }).execute();
  await bumpConfigVersion(tx, workspaceId);
  return def;
}

function freeSlot(columns: ColumnLayout, def: AttributeDef): string {
  const letter = LETTER[def.type as Exclude<AttributeType, 'list'>];
  const taken = new Set([...columns.storage.values()].flatMap((s) => (s.kind === 'column' ? [s.column] : [])));
  for (let i = 1; i <= SLOT_COUNTS[letter]; i++) if (!taken.has(`${letter}${i}`)) return `${letter}${i}`;
  throw new TooManyAttributes(def.key, def.type, SLOT_COUNTS[letter]);
}

/** An attribute as the API shows it: its definition, whether it is standard, and its version (the ETag). */
export interface AttributeRecord extends AttributeDef {
  readonly standard: boolean;
  readonly version: number;
}

/** An attribute as the API and the CLI show it. */
export function attributeView(a: AttributeRecord) {
  return { key: a.key, type: a.type, label: a.label ?? null, options: a.options ? [...a.options] : null, enabled: a.enabled !== false, standard: a.standard, version: a.version };
}

export async function listAttributes(db: Tx, workspaceId: string): Promise<AttributeRecord[]> {
  const rows = await db.selectFrom('attributes').select(['key', 'version', 'standard']).where('workspace_id', '=', workspaceId).execute();
  const meta = new Map(rows.map((r) => [r.key, r]));
  return (await loadSchema(db, workspaceId)).schema.map((def) => ({ ...def, enabled: def.enabled !== false, standard: meta.get(def.key)!.standard === 1, version: Number(meta.get(def.key)!.version) }));
}

export async function getAttribute(db: Tx, workspaceId: string, key: string): Promise<AttributeRecord> {
  const found = (await listAttributes(db, workspaceId)).find((a) => a.key === key);
  if (!found) throw new NotFound('attribute', key);
  return found;
}

/**
 * Label, enum options and enabled may change; key and type never do. An enum option cannot be
 * removed while a segment uses the attribute (`usedBy` names those segments), nor while contacts
 * hold it.
 */
export async function updateAttribute(tx: Tx, workspaceId: string, key: string, patch: { label?: string; options?: string[]; enabled?: boolean },
  usedBy: (key: string) => Promise<string[]> = async () => []): Promise<AttributeDef> {
  const workspace = await loadSchema(tx, workspaceId);
  const current = workspace.schema.find((a) => a.key === key);
  if (!current) throw new NotFound('attribute', key);
  const issues: ValidationIssue[] = [];
  const next = validateAttributeDef({ ...current, ...patch }, '', issues);
  if (!next) throw new InvalidInput('invalid attribute', issues.map((i) => ({ ...i, path: i.path.replace(/^\./, '') })));
  if (isStandardAttribute(key) && patch.options !== undefined && JSON.stringify(patch.options) !== JSON.stringify(current.options)) {
    throw new Conflict('attribute_standard', `"${key}" is a standard attribute: its options are fixed`);
  }
  // Values match options folded (coerce.ts), so an option written in another case is kept, not removed.
  const kept = new Set((next.options ?? []).map(fold));
  const removed = (current.options ?? []).filter((o) => !kept.has(fold(o)));
  if (removed.length > 0) {
    const named = `${removed.length === 1 ? 'option' : 'options'} ${removed.map((o) => JSON.stringify(o)).join(', ')} of "${key}"`;
    const users = await usedBy(key);
    if (users.length > 0) throw new Conflict('attribute_in_use', `${named} cannot be removed while ${users.join(', ')} ${users.length === 1 ? 'uses' : 'use'} the attribute`);
    const holders = await contactsHolding(tx, workspace, workspaceId, key, removed);
    if (holders > 0) {
      throw new Conflict('option_in_use', `${named} cannot be removed while ${holders === 1 ? '1 contact holds' : `${holders} contacts hold`} ${removed.length === 1 ? 'it' : 'them'}: a value no option names could neither be matched by a condition nor written again (give those contacts another value first)`, 'options');
    }
  }
  await tx.updateTable('attributes').set({
    label: next.label ?? null, options: next.options ? JSON.stringify(next.options) : null, enabled: next.enabled === false ? 0 : 1,
    version: (eb) => eb('version', '+', 1),
  }).where('workspace_id', '=', workspaceId).where('key', '=', key).execute();
  await bumpConfigVersion(tx, workspaceId);
  return next;
}

/** How many contacts of the workspace hold one of these options of an enum attribute (compared folded, as conditions compare). */
async function contactsHolding(tx: Tx, { schema, columns }: WorkspaceSchema, workspaceId: string, key: string, options: readonly string[]): Promise<number> {
  const checked = validate(schema, { attr: key, op: 'in', value: options }, { previouslyUsed: new Set([key]) });
  if (!checked.ok) throw new Error(`contactsHolding: ${JSON.stringify(checked.issues)}`);
  const matches = compileSql(checked.condition, { dialect: dialectOf(tx), columns, timeZone: 'UTC', now: 0, workspaceId });
  const row = await tx.selectFrom('contacts as c').select((eb) => eb.fn.countAll().as('n')).where('c.workspace_id', '=', workspaceId).where(matches).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Deleting an attribute that a definition uses is refused, naming the definitions. Otherwise its
 * values are cleared from every contact, so the slot can be given to another attribute.
 */
export async function deleteAttribute(tx: Tx, workspaceId: string, key: string, usedBy: (key: string) => Promise<string[]>): Promise<void> {
  const { columns } = await loadSchema(tx, workspaceId);
  const storage = columns.storage.get(key);
  if (!storage || key === SEGMENTS_FIELD) throw new NotFound('attribute', key);
  if (isStandardAttribute(key)) throw new Conflict('attribute_standard', `"${key}" is a standard attribute: it can be disabled, not deleted`);
  const users = await usedBy(key);
  if (users.length > 0) throw new Conflict('attribute_in_use', `attribute "${key}" is used by ${users.join(', ')}`);
  if (storage.kind === 'column') {
    if (!SLOT_COLUMN.test(storage.column)) throw new Error(`corrupt storage for "${key}"`);
    await tx.updateTable('contacts').set({ [storage.column]: null } as never).where('workspace_id', '=', workspaceId).execute();
  } else {
    await tx.deleteFrom('contact_list_values').where('workspace_id', '=', workspaceId).where('attr', '=', key).execute();
  }
  // The raw values as written go too, so a contact read back never shows a deleted attribute.
  const path = `$.${key}`; // key matches ^[a-z][a-z0-9_]*$ and is bound, never spliced
  await tx.updateTable('contact_documents').set({
    document: dialectOf(tx) === 'postgres' ? sql<string>`(document::jsonb - ${key}::text)::text` : sql<string>`json_remove(document, ${path})`,
  }).where('workspace_id', '=', workspaceId).execute();
  await tx.deleteFrom('attributes').where('workspace_id', '=', workspaceId).where('key', '=', key).execute();
  await bumpConfigVersion(tx, workspaceId);
}
