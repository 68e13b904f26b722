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
/** A bigint with a default, so inserts may leave it out. */
export type Int8Default = ColumnType<number | string, number | undefined, number>;

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
  version: Generated<number>;
  created_ms: Int8;
  updated_ms: Int8;
  /** The earliest instant a segment's result may change for this contact with no write; null: never. */
  next_change_ms: ColumnType<number | string | null, number | null | undefined, number | null>;
};

/** A contact's stored values as given (JSON), to read it back; the slots are for conditions. Apart so scans of `contacts` stay narrow. */
export interface ContactDocumentsTable {
  contact_pk: Int8;
  workspace_id: string;
  document: string;
}

/** One row per distinct folded element of a list attribute; an empty list has no rows. */
export interface ContactListValuesTable {
  workspace_id: string;
  contact_pk: Int8;
  attr: string;
  value: string;
}

/**
 * SQLite: a contact's folded e-mail (kind 1) and external id (kind 2), kept from contacts by
 * triggers, in two tiers of this shape, contact_keys and contact_keys_recent (migration 0012).
 */
export interface ContactKeysTable {
  workspace_id: string;
  kind: number;
  key: string;
  contact_pk: Int8;
}

export interface WorkspacesTable {
  id: string;
  name: string;
  time_zone: string;
  config_version: Generated<number>;
  created_ms: Int8;
}

export interface AttributesTable {
  workspace_id: string;
  key: string;
  type: string;
  label: string | null;
  /** JSON array (enum only). */
  options: string | null;
  enabled: number;
  standard: number;
  /** A slot column (`t3`) or 'list'. */
  storage: string;
  version: Generated<number>;
  created_ms: Int8;
}

export interface SegmentsTable {
  workspace_id: string;
  id: string;
  name: string;
  name_folded: string;
  description: string;
  kind: 'dynamic' | 'manual';
  /** JSON: a dynamic segment's definition; a manual segment's auto-apply rule, or null. */
  condition: string | null;
  version: number;
  active_version: number;
  /** The definition whose membership is stored (JSON); differs from `condition` while a backfill builds. */
  active_condition: string | null;
  status: 'building' | 'ready' | 'failed';
  status_detail: string | null;
  created_ms: Int8;
  updated_ms: Int8;
}

export interface SegmentMembersTable {
  workspace_id: string;
  segment_id: string;
  contact_pk: Int8;
  since_ms: Int8;
}

/** segment_members' keys in segment order (SQLite: a view of segment_member_blocks, behind for the pending contacts; PostgreSQL: a view of segment_members). */
export interface SegmentMemberOrderTable {
  workspace_id: string;
  segment_id: string;
  contact_pk: Int8;
}

/** SQLite: the segment order in blocks of contact pks (migration 0013); segment_member_order is a view of it there. */
export interface SegmentMemberBlocksTable {
  workspace_id: string;
  segment_id: string;
  block: number;
  /** JSON array of the members' offsets in the block (pk - block * 256). */
  offsets: string;
}

/** SQLite: contacts whose rows in segment_member_order are behind, with the segments those rows have (JSON array). */
export interface SegmentMembersPendingTable {
  workspace_id: string;
  contact_pk: Int8;
  segments_before: string;
}

export interface SegmentBuildsTable {
  job_id: Int8;
  contact_pk: Int8;
}

/** The event outbox: a transaction's events in blocks (segments/event-feed.ts encodes `events`). */
export interface SegmentEventBlocksTable {
  workspace_id: string;
  /** the number of the block's last event; events are numbered per workspace */
  last_seq: Int8;
  first_seq: Int8;
  at_ms: Int8;
  events: string;
}

export interface SegmentJobsTable {
  id: Generated<number | string>;
  workspace_id: string;
  segment_id: string;
  version: number;
  status: 'pending' | 'done' | 'failed' | 'cancelled';
  cursor_pk: Int8Default;
  processed: Int8Default;
  total: Int8Default;
  detail: string | null;
  created_ms: Int8;
  updated_ms: Int8;
}

export interface ApiTokensTable {
  id: string;
  workspace_id: string;
  name: string;
  role: 'admin' | 'agent';
  agent_id: string | null;
  /** JSON array of team ids. */
  teams: Generated<string>;
  /** SHA-256 of the token, hex. */
  digest: string;
  /** The token's first characters, shown in lists so a person can tell tokens apart. */
  prefix: string;
  created_ms: Int8;
  revoked_ms: Int8 | null;
}

export interface SegmentHiddenFromTable {
  workspace_id: string;
  segment_id: string;
  principal_kind: 'agent' | 'team';
  principal_id: string;
}

export interface ImportJobsTable {
  id: string;
  workspace_id: string;
  status: 'running' | 'done' | 'refused' | 'stopped';
  format: 'csv' | 'jsonl';
  bytes: Int8;
  /** JSON: the ledger so far (counts, rejections kept). */
  ledger: string;
  detail: string | null;
  created_ms: Int8;
  updated_ms: Int8;
}

export interface WebhookSubscriptionsTable {
  id: string;
  workspace_id: string;
  url: string;
  description: Generated<string>;
  /** `whsec_` and the base64 key (Standard Webhooks); shown once, kept to sign. */
  secret: string;
  cursor_seq: Int8;
  created_ms: Int8;
  /** JSON `{"segment_ids"?: [...], "types"?: [...]}`: the events kept; null, every one. */
  filter: string | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  subscription_id: string;
  workspace_id: string;
  event_seq: Int8;
  contact_id: string | null;
  /** The JSON body sent. */
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: Generated<number>;
  next_attempt_ms: Int8;
  last_status: number | null;
  last_error: string | null;
  delivered_ms: Int8 | null;
  created_ms: Int8;
}

/** Each segment's number of stored members, kept by every membership change (a narrow row: see 0006). */
export interface SegmentCountsTable {
  workspace_id: string;
  segment_id: string;
  member_count: Int8;
}

export interface Tables {
  contacts: ContactsTable;
  contact_documents: ContactDocumentsTable;
  contact_list_values: ContactListValuesTable;
  contact_keys: ContactKeysTable;
  contact_keys_recent: ContactKeysTable;
  workspaces: WorkspacesTable;
  attributes: AttributesTable;
  segments: SegmentsTable;
  segment_counts: SegmentCountsTable;
  segment_members: SegmentMembersTable;
  segment_member_order: SegmentMemberOrderTable;
  segment_member_blocks: SegmentMemberBlocksTable;
  segment_members_pending: SegmentMembersPendingTable;
  segment_builds: SegmentBuildsTable;
  segment_event_blocks: SegmentEventBlocksTable;
  segment_jobs: SegmentJobsTable;
  api_tokens: ApiTokensTable;
  segment_hidden_from: SegmentHiddenFromTable;
  import_jobs: ImportJobsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
