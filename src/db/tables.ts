// Kysely's view of the tables. Each capability adds its tables here as its migrations create them.
import type { ColumnType, Generated } from 'kysely';

/**
 * Typed slot columns per type letter: `t` folded text (text and enum), `n` numbers, `d` dates (UTC
 * ms), `b` booleans (0/1). Attributes map to slots (src/contacts/contact-columns.ts), so adding a
 * custom attribute never runs DDL on the shared table.
 */
export const SLOT_COUNTS = { t: 64, n: 32, d: 32, b: 32 } as const;
export type SlotLetter = keyof typeof SLOT_COUNTS;

/** Every slot column name, in table order (t1..t64, n1..n32, d1..d32, b1..b32). */
export const SLOT_COLUMNS: readonly string[] = (Object.keys(SLOT_COUNTS) as SlotLetter[])
  .flatMap((letter) => Array.from({ length: SLOT_COUNTS[letter] }, (_, i) => `${letter}${i + 1}`));

/** A bigint: pg returns int8 as a string (it may exceed 2^53), SQLite as a number. */
export type Int8 = ColumnType<number | string, number, number>;

type Upto<N extends number, Acc extends number[] = [], Out = never> =
  Acc['length'] extends N ? Out : Upto<N, [...Acc, 0], Out | [...Acc, 0]['length']>;
type Slots<L extends string, N extends number, T> = { [K in `${L}${Upto<N>}`]: ColumnType<T | null, T | null | undefined, T | null> };

export type SlotColumns =
  & Slots<'t', typeof SLOT_COUNTS.t, string>
  & Slots<'n', typeof SLOT_COUNTS.n, number>
  & Slots<'d', typeof SLOT_COUNTS.d, number | string>
  & Slots<'b', typeof SLOT_COUNTS.b, number>;

export type ContactsTable = SlotColumns & {
  /** Generated on insert (SQLite rowid, PostgreSQL identity). */
  pk: ColumnType<number | string, number | undefined, number>;
  workspace_id: string;
  id: string;
  /** The stored values as given (JSON), to read the contact back; the slots are for conditions. */
  attributes: string;
  version: Generated<number>;
  created_ms: Int8;
  updated_ms: Int8;
};

/** One row per distinct folded element of a list attribute; an empty list has no rows. */
export interface ContactListValuesTable {
  workspace_id: string;
  contact_pk: Int8;
  attr: string;
  value: string;
}

export interface Tables {
  contacts: ContactsTable;
  contact_list_values: ContactListValuesTable;
}
