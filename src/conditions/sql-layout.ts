// How attributes are stored in SQL, as the SQL compiler needs to know it. src/contacts produces
// it (`assignColumns`); the compiler takes it as data, so src/conditions holds no storage code.

/** The SQL dialects the compiler writes. */
export type SqlDialectName = 'sqlite' | 'postgres';

/**
 * Where one attribute's values live.
 * - `column`: a typed slot column of `contacts` (`t3` folded text, `n1` number, `d2` UTC ms,
 *   `b1` 0/1); NULL is missing.
 * - `list`: one row per distinct folded element in `contact_list_values`; no row is missing.
 * - `membership`: `segments`, read from the stored membership (`segment_members`, and in segment
 *   order `segment_member_order`).
 */
export type AttributeStorage =
  | { readonly kind: 'column'; readonly column: string }
  | { readonly kind: 'list' }
  | { readonly kind: 'membership' };

export interface SqlColumnLayout {
  /** Storage by attribute key. A Map, so a key such as `constructor` is never an inherited property. */
  readonly storage: ReadonlyMap<string, AttributeStorage>;
}

/**
 * A slot column name: a type letter and a slot number. Only names of this form ever become SQL
 * text, and they come from the layout's own numbering, never from user input.
 */
export const SLOT_COLUMN = /^[tndb][0-9]{1,2}$/;

/** The table that holds list elements (created by src/db's first migration). */
export const LIST_VALUES_TABLE = 'contact_list_values';

/** The stored membership: one row per (segment, member contact), keyed by contact. */
export const MEMBERS_TABLE = 'segment_members';

/**
 * The same rows keyed by segment: on SQLite a copy, behind for the contacts in MEMBERS_PENDING_TABLE
 * (segments/member-order.ts), and a view of blocks of pks, with the block of each row (`block`).
 */
export const MEMBER_ORDER_TABLE = 'segment_member_order';
export const MEMBERS_PENDING_TABLE = 'segment_members_pending';
