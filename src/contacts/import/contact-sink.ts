// What an import writes into: the contact store implements it (src/segments/contact-writes.ts).
import type { Schema } from '../../conditions/types.js';

export interface ContactSink {
  /** The workspace's attribute schema (standard + custom), to know list columns and refuse unknown ones. */
  schema(workspaceId: string): Promise<Schema>;
  /**
   * Writes one batch in ONE transaction. Each row is a flat object: optional `id`, and attribute keys
   * (including the identity attributes `external_id` and `email`) with raw values as the file gave them:
   * from CSV, texts (empty cells dropped, a list cell split into an array of texts at `;`); from
   * JSON Lines, the JSON values (`null` removes a value). Rows are applied in order, so a later row
   * for the same contact in the batch sees the earlier one. A row with any bad value is rejected
   * whole, each error with the attribute key (or `id`) as its path.
   * Upsert: by `id` if given, else `external_id`, else `email`; otherwise a new contact.
   * Returns one outcome per row, in order.
   */
  writeBatch(workspaceId: string, rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<RowOutcome[]>;
}

export type RowOutcome =
  | { status: 'created' | 'updated' | 'unchanged'; id: string }
  | { status: 'rejected'; errors: { path: string; message: string }[] };
