// What an import writes into: the contact store implements it (src/segments/contact-writes.ts).
import type { Schema } from '../../conditions/types.js';
import type { ImportFormat, ReadRow } from './row-sources.js';

/**
 * A row read and prepared in a worker thread (the sink's `readInWorker`): the JSON text of its
 * values, and the worker's draft of it as a new contact's write, which only the sink reads.
 */
export class DraftedRow {
  constructor(readonly json: string, readonly draft: unknown) {}
}

/** A row as the sink receives it: its values as the file gave them, or drafted in a worker. */
export type SinkRow = Readonly<Record<string, unknown>> | DraftedRow;

/** A row's values as the file gave them. */
export function rowValues(row: SinkRow): Readonly<Record<string, unknown>> {
  return row instanceof DraftedRow ? (JSON.parse(row.json) as Record<string, unknown>) : row;
}

/** A row of a batch: read (its data for the sink), or rejected already by the reading. */
export type BatchRow = ReadRow | { readonly row: number; readonly line: number; readonly data: DraftedRow; readonly identified: boolean };

/** Rows read from a file, in file order, with the bytes read so far. */
export interface RowBatch {
  readonly rows: readonly BatchRow[];
  readonly bytesRead: number;
  /** The instant the batch is to be written at: its rows were drafted at it. */
  readonly now?: number;
}

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
   * Returns one outcome per row, in order. `now`: the instant to write at (a batch read in a worker).
   */
  writeBatch(workspaceId: string, rows: ReadonlyArray<SinkRow>, options?: { readonly now?: number }): Promise<RowOutcome[]>;
  /**
   * Optional: reads the file in a worker thread, which also drafts each row as a new contact's
   * write, so this thread mostly writes; batches of `batchSize` rows, in file order.
   */
  readInWorker?(workspaceId: string, path: string, options: { readonly format: ImportFormat; readonly batchSize: number; readonly maxRowChars?: number }): AsyncIterable<RowBatch>;
}

export type RowOutcome =
  | { status: 'created' | 'updated' | 'unchanged'; id: string }
  | { status: 'rejected'; errors: { path: string; message: string }[] };
