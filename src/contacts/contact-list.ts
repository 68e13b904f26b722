// The contacts page: contacts filtered by a condition (the SQL compiler), sorted, a page at a time.
// Pages are keyset pages over (sort value, pk), so a page costs the same however deep it is; the
// cursor is opaque. Empty values sort last in either order. Text sorts by the first
// SORT_TEXT_CHARS characters of its folded copy (case-insensitive: NFKC and lower case, as conditions
// compare it); texts equal that far are in creation order. The cursor holds the last row's sort
// value, and a text may be 100,000 characters: sorting on a prefix keeps every cursor short
// enough for a URL, and a page exact however long the values are.
import { sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import { compileSql } from '../conditions/compile-sql.js';
import { unstorableText } from '../conditions/fold.js';
import { SLOT_COLUMN } from '../conditions/sql-layout.js';
import type { Condition } from '../conditions/types.js';
import type { Tx } from '../db/write-transaction.js';
import { dialectOf } from '../db/write-transaction.js';
import { InvalidInput } from '../errors.js';
import type { ColumnLayout } from './contact-columns.js';
import type { StoredContact } from './contact-store.js';
import type { StoredValues } from '../conditions/contact-values.js';

export interface ContactListQuery {
  readonly condition: Condition | null;
  /** `created` (default), `updated`, `id`, or the key of a text, enum, number, date or boolean attribute. */
  readonly sort?: string;
  readonly order?: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string | null;
}

export interface ContactListContext {
  readonly workspaceId: string;
  readonly columns: ColumnLayout;
  readonly timeZone: string;
  readonly now: number;
}

/** The context of a list of a workspace's contacts (its compiled state has the rest), at `now`. */
export function listContext(workspace: Omit<ContactListContext, 'now'>, now = Date.now()): ContactListContext {
  return { workspaceId: workspace.workspaceId, columns: workspace.columns, timeZone: workspace.timeZone, now };
}

type SortValue = string | number | null;

/** How much of a text the list sorts on: a cursor holding this much stays under 2,000 characters. */
export const SORT_TEXT_CHARS = 200;

/** The column a sort key reads: a fixed one, or an attribute's slot (checked against the schema and the slot pattern). */
function sortColumn(ctx: ContactListContext, sort: string): string {
  if (sort === 'created') return 'pk';
  if (sort === 'updated') return 'updated_ms';
  if (sort === 'id') return 'id';
  const storage = ctx.columns.storage.get(sort);
  if (!storage || storage.kind !== 'column' || !SLOT_COLUMN.test(storage.column)) {
    throw new InvalidInput('invalid sort', [{ path: 'sort', message: `expected created, updated, id or a text, enum, number, date or boolean attribute, not ${JSON.stringify(sort)}` }]);
  }
  return storage.column;
}

/** Every contact `condition` selects (null: all), a page at a time in creation order: what an export writes. */
export async function* contactPages(db: Tx, ctx: ContactListContext, condition: Condition | null, pageSize = 1000): AsyncGenerator<StoredContact[]> {
  let cursor: string | null = null;
  do {
    const page = await listContacts(db, ctx, { condition, limit: pageSize, cursor });
    yield page.contacts;
    cursor = page.next;
  } while (cursor !== null);
}

export async function listContacts(db: Tx, ctx: ContactListContext, query: ContactListQuery): Promise<{ contacts: StoredContact[]; next: string | null }> {
  const sort = query.sort ?? 'created';
  const column = sortColumn(ctx, sort);
  const desc = query.order === 'desc';
  const value = column.startsWith('t') ? sql`substr(${sql.ref(`c.${column}`)}, 1, ${sql.lit(SORT_TEXT_CHARS)})` : sql.ref(`c.${column}`);
  let q = db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
    .select(['c.pk', 'c.id', 'c.version', 'c.created_ms', 'c.updated_ms', 'd.document', sql<SortValue>`${value}`.as('sort_value')])
    .where('c.workspace_id', '=', ctx.workspaceId);
  if (query.condition) q = q.where(compileSql(query.condition, { dialect: dialectOf(db), columns: ctx.columns, timeZone: ctx.timeZone, now: ctx.now, workspaceId: ctx.workspaceId }));
  if (query.cursor) q = q.where(after(readCursor(query.cursor, sort, column), value, desc));
  const direction = desc ? sql`desc` : sql`asc`;
  const rows = await q.orderBy(sql`(case when ${value} is null then 1 else 0 end)`)
    .orderBy(sql`${value} ${direction}`).orderBy(sql`c.pk ${direction}`).limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    contacts: page.map((r) => ({ pk: Number(r.pk), id: r.id, values: JSON.parse(r.document) as StoredValues, version: r.version, createdMs: Number(r.created_ms), updatedMs: Number(r.updated_ms) })),
    next: rows.length > query.limit ? writeCursor(sort, last.sort_value, Number(last.pk)) : null,
  };
}

/** Rows after the cursor's (value, pk) in the page order, empty values last. */
function after(cursor: { value: SortValue; pk: number }, value: Expression<unknown>, desc: boolean): Expression<SqlBool> {
  const beyond = desc ? sql`<` : sql`>`;
  if (cursor.value === null) return sql<SqlBool>`(${value} is null and c.pk ${beyond} ${cursor.pk})`;
  return sql<SqlBool>`(${value} is null or ${value} ${beyond} ${cursor.value} or (${value} = ${cursor.value} and c.pk ${beyond} ${cursor.pk}))`;
}

function writeCursor(sort: string, value: SortValue, pk: number): string {
  return Buffer.from(JSON.stringify([sort, value, pk])).toString('base64url');
}

function readCursor(cursor: string, sort: string, column: string): { value: SortValue; pk: number } {
  const bad = () => new InvalidInput('invalid page', [{ path: 'cursor', message: 'not a cursor this list returned with this sort' }]);
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw bad();
  let parsed: unknown;
  try { parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString()); } catch { throw bad(); }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== sort || !Number.isSafeInteger(parsed[2])) throw bad();
  const v = parsed[1] as unknown;
  if (v !== null && !fitsColumn(v, column)) throw bad();
  return { value: v as SortValue, pk: parsed[2] as number };
}

/**
 * A cursor's value has its column's type: a forged cursor with a text for a number column (or
 * 0.5 for a bigint, or a NUL in a text) reached PostgreSQL, which refused it with an error (a 500).
 */
function fitsColumn(v: unknown, column: string): boolean {
  if (column === 'id' || column.startsWith('t')) return typeof v === 'string' && unstorableText(v) === null;
  if (column.startsWith('n')) return typeof v === 'number' && Number.isFinite(v);
  if (column.startsWith('b')) return v === 0 || v === 1;
  // pk, updated_ms and date slots: whole numbers (bigint; node-postgres reads a bigint as text, so
  // the cursors it writes hold the text).
  return Number.isSafeInteger(v) || (typeof v === 'string' && /^-?[0-9]{1,16}$/.test(v) && Number.isSafeInteger(Number(v)));
}
