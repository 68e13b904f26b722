// Finding contacts by e-mail or external id (folded), and, on SQLite, keeping the two tiers those
// keys live in (migration 0012): triggers put every new key in contact_keys_recent, which stays
// small, so an import's batch writes its keys on few pages; once MERGE_AFTER new contacts were
// written in this process, a write merges that tier into contact_keys in one sorted pass. On
// PostgreSQL the keys are the indexed slot columns themselves.
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import type { Dialect } from '../db/database.js';
import { KEY_KIND } from '../db/migrations/0012-contact-key-tiers.js';
import { unindexed } from '../db/unindexed.js';
import { dialectOf } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { EMAIL_COLUMN, EXTERNAL_ID_COLUMN } from './attribute-store.js';

export type IdentityColumn = typeof EMAIL_COLUMN | typeof EXTERNAL_ID_COLUMN;

const KEYS = [[KEY_KIND.email, EMAIL_COLUMN], [KEY_KIND.external_id, EXTERNAL_ID_COLUMN]] as const;
const KIND_OF = Object.fromEntries(KEYS.map(([kind, column]) => [column, kind])) as Readonly<Record<IdentityColumn, number>>;

/**
 * The recent tier is merged once this many contacts were created since the last merge (in this
 * process): ~64,000 keys, a few hundred leaves. A merge then writes each leaf of contact_keys it
 * meets once; merging more often writes the same leaves more often, less often lets every batch
 * scatter over a larger recent tier (see bench:import in docs/architecture.md).
 */
export const MERGE_AFTER = 32_000;

/**
 * The condition "contact `alias` is of workspace `ws` and has one of `values` (folded) as its
 * `column`", for a where clause. SQLite reads both tiers by their key (the union's filter is pushed
 * into each side), then the contacts by pk: the workspace is checked on the rows found, not used
 * to walk the (workspace_id, id) index, which the planner otherwise prefers.
 */
export function hasIdentityKey(dialect: Dialect, alias: string, ws: string, column: IdentityColumn, values: readonly string[]): RawBuilder<SqlBool> {
  const list = sql.join(values);
  if (dialect === 'postgres') return sql<SqlBool>`(${sql.ref(`${alias}.workspace_id`)} = ${ws} and ${sql.ref(`${alias}.${column}`)} in (${list}))`;
  return sql<SqlBool>`(${unindexed(dialect, `${alias}.workspace_id`)} = ${ws} and ${sql.ref(`${alias}.pk`)} in (
    select k.contact_pk from (select * from contact_keys union all select * from contact_keys_recent) as k
    where k.workspace_id = ${ws} and k.kind = ${sql.lit(KIND_OF[column])} and k.key in (${list})))`;
}

/**
 * Which of the contacts whose `key` (e-mail or external id) folds to the one a write gives it names
 * (`candidates` in creation order): the first whose key is exactly `text`, else the first. Keys are
 * not unique, and external ids from other systems are often case-sensitive (Salesforce's `…AbCdE`
 * and `…abcde` are two records). `valuesOf` gives a candidate's stored values.
 */
export function contactNamedBy<T>(candidates: readonly T[], key: 'email' | 'external_id', text: string, valuesOf: (candidate: T) => Readonly<Record<string, unknown>>): T | undefined {
  return (candidates.length > 1 ? candidates.find((c) => valuesOf(c)[key] === text) : undefined) ?? candidates[0];
}

/** Contacts created since the last merge, per workspace, in this process (no entry: not counted yet). */
const createdSinceMerge = new Map<string, number>();

/**
 * SQLite: notes `created` new contacts of the workspace, and merges its recent tier once
 * MERGE_AFTER have been. The first call in a process counts the tier as it finds it (a process
 * killed before its merge leaves its keys there). PostgreSQL: nothing to do.
 */
export async function noteCreatedContacts(tx: Tx, ws: string, created: number): Promise<void> {
  if (dialectOf(tx) === 'postgres' || created === 0) return;
  let count = createdSinceMerge.get(ws);
  if (count === undefined) {
    // Two keys a contact at most: the tier's size over two counts the contacts whose keys it holds.
    const [{ n }] = await tx.selectFrom('contact_keys_recent').select((eb) => eb.fn.countAll().as('n')).where('workspace_id', '=', ws).execute();
    count = Math.ceil(Number(n) / 2);
  } else {
    count += created;
  }
  createdSinceMerge.set(ws, count);
  if (count >= MERGE_AFTER) await mergeContactKeys(tx, ws);
}

/** SQLite: moves the workspace's recent keys into contact_keys (they arrive there in key order). PostgreSQL: nothing to do. */
export async function mergeContactKeys(tx: Tx, ws: string): Promise<void> {
  if (dialectOf(tx) === 'postgres') return;
  createdSinceMerge.set(ws, 0);
  await sql`insert or fail into contact_keys select * from contact_keys_recent where workspace_id = ${ws}`.execute(tx);
  await tx.deleteFrom('contact_keys_recent').where('workspace_id', '=', ws).execute();
}

/** A key the tiers lack (`missing`), or hold though the contact does not have it (`stale`). */
export interface KeyDifference {
  readonly contactPk: number;
  /** The contact's id; null for a key of a contact that does not exist. */
  readonly contactId: string | null;
  readonly attribute: 'email' | 'external_id';
  readonly key: string;
  readonly problem: 'missing' | 'stale';
}

/**
 * SQLite (`segments verify`): the keys of the workspace's contacts against both tiers, each way.
 * PostgreSQL: none (its lookups are the contacts' own indexed columns).
 */
export async function keyDifferences(tx: Tx, ws: string): Promise<KeyDifference[]> {
  if (dialectOf(tx) === 'postgres') return [];
  const kinds = sql.join(KEYS.map(([kind, column]) => sql`select c.workspace_id, ${sql.lit(kind)} as kind, ${sql.ref(`c.${column}`)} as key, c.pk as contact_pk
    from contacts c where ${unindexed('sqlite', 'c.workspace_id')} = ${ws} and ${sql.ref(`c.${column}`)} is not null`), sql` union all `);
  const tiers = sql`select * from contact_keys where workspace_id = ${ws} union all select * from contact_keys_recent where workspace_id = ${ws}`;
  const { rows } = await sql<{ contact_pk: number; contact_id: string | null; kind: number; key: string; problem: 'missing' | 'stale' }>`
    select d.contact_pk, c.id as contact_id, d.kind, d.key, d.problem from (
      select *, 'missing' as problem from (select * from (${kinds}) except select * from (${tiers}))
      union all select *, 'stale' as problem from (select * from (${tiers}) except select * from (${kinds}))) as d
    left join contacts c on c.pk = d.contact_pk order by d.contact_pk, d.kind`.execute(tx);
  return rows.map((r) => ({
    contactPk: Number(r.contact_pk), contactId: r.contact_id, attribute: r.kind === KEY_KIND.email ? 'email' : 'external_id', key: r.key, problem: r.problem,
  }));
}
