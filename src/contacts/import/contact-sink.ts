// What an import writes into: the contact store implements it (src/segments/contact-writes.ts).
import type { Schema } from '../../conditions/types.js';

export interface ContactSink {
  /** The workspace's attribute schema (standard + custom), to know list columns and refuse unknown ones. */
  schema(workspaceId: string): Promise<Schema>;
  /**
   * Writes one batch in ONE transaction. Each row is a flat object: optional `id`, and attribute keys
   * (including the identity attributes `external_id` and `email`) with raw values as the file gave them.
   * Upsert: by `id` if given, else `external_id`, else `email`; otherwise a new contact.
   * Returns one outcome per row, in order.
   */
  writeBatch(workspaceId: string, rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Promise<RowOutcome[]>;
}

export type RowOutcome =
  | { status: 'created' | 'updated' | 'unchanged'; id: string }
  | { status: 'rejected'; errors: { path: string; message: string }[] };
