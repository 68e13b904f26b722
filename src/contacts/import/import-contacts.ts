// Bulk import of contacts from CSV or JSON Lines: read as a stream (row-sources.ts has the rules of
// each format), written in batches (one transaction each, through a ContactSink), every row
// accounted for in a ledger. A bad row is rejected with its row number, column and reason; the
// other rows go in. Rows for the same contact are written in file order: the later row wins.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { BatchRow, ContactSink, RowBatch, RowOutcome } from './contact-sink.js';
import { LedgerBuilder, ledgerAddsUp } from './import-ledger.js';
import type { ImportCounts, ImportLedger, Rejection } from './import-ledger.js';
import { FileText, ImportRefused, rejection, rowRecord, rowSource } from './row-sources.js';
import type { ImportFormat, RowSource } from './row-sources.js';

export { ImportRefused } from './row-sources.js';
export type { ImportFormat, RefusalProblem } from './row-sources.js';

export interface ImportProgress extends ImportCounts {
  readonly bytesRead: number;
}

export interface ImportOptions {
  readonly format: ImportFormat;
  /** Rows per `writeBatch` (one transaction). Default 1,000. */
  readonly batchSize?: number;
  /** Called after each batch is written and once at the end, with the rows settled so far. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Called with every rejection, in row order, as rows are settled (the ledger keeps only the first ones). */
  readonly onRejection?: (rejection: Rejection) => void;
  /** How many rejections the ledger keeps. Default 1,000. */
  readonly keepRejections?: number;
  /** The longest row (CSV) or line (JSON Lines) read, in characters; a longer one is rejected. Default 16 Mi. */
  readonly maxRowChars?: number;
  /**
   * A file given by its path is read in a worker thread beside the writer when the sink can: by
   * default when the file has at least `READ_IN_WORKER_FROM_BYTES` (the thread takes ~100 ms to
   * start); true: always; false: never. The outcome is the same either way.
   */
  readonly readInWorker?: boolean;
}

export const DEFAULT_BATCH_SIZE = 1000;
/** About 1,500 rows of 700 bytes. */
export const READ_IN_WORKER_FROM_BYTES = 1024 * 1024;
export const MAX_BATCH_SIZE = 100_000;

/**
 * Writing failed part-way (the database, the disk). Every batch before the failing one is committed:
 * `ledger` counts exactly those rows, and importing the same file again completes the import.
 */
export class ImportStopped extends Error {
  readonly code = 'import_stopped';
  constructor(readonly ledger: ImportLedger, cause: unknown) {
    super(`the import stopped after ${ledger.rowsRead} rows: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The format a file name says: `.csv`, or `.jsonl` / `.ndjson`; null when it says neither. */
export function formatOfFileName(fileName: string): ImportFormat | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return null;
}

/** What to import: a file by its path, or any stream of its bytes. */
export type ImportSource = { readonly path: string } | AsyncIterable<Uint8Array | string>;

/**
 * Imports a CSV or JSON Lines file (read as UTF-8) into a workspace.
 * Throws `ImportRefused` (nothing written) or `ImportStopped` (the sink failed); otherwise returns a
 * ledger that adds up.
 */
export async function importContacts(
  sink: ContactSink,
  workspaceId: string,
  source: ImportSource,
  options: ImportOptions,
): Promise<ImportLedger> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new RangeError(`batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  }
  const ledger = new LedgerBuilder(options.format, options.keepRejections ?? 1000, options.onRejection);
  let reported = '';
  const progress = () => {
    const report = { ...ledger.counts(), bytesRead: ledger.bytesRead };
    const key = JSON.stringify(report);
    if (key !== reported) options.onProgress?.(report); // not the same report twice (the last batch, then the end)
    reported = key;
  };

  const write = async (batch: RowBatch) => {
    const toWrite = batch.rows.filter((r): r is Exclude<BatchRow, { problems: unknown }> => !('problems' in r));
    let outcomes: RowOutcome[] = [];
    if (toWrite.length > 0) {
      try {
        outcomes = await sink.writeBatch(workspaceId, toWrite.map((r) => ('data' in r ? r.data : rowRecord(r))), batch.now === undefined ? undefined : { now: batch.now });
      } catch (error) {
        throw new ImportStopped(ledger.ledger(), error);
      }
      if (!Array.isArray(outcomes) || outcomes.length !== toWrite.length) {
        throw new ImportStopped(ledger.ledger(), new Error(`the store returned ${outcomes?.length} outcomes for ${toWrite.length} rows`));
      }
    }
    let next = 0;
    for (const read of batch.rows) {
      if ('problems' in read) {
        ledger.reject(read.problems);
        continue;
      }
      const outcome = outcomes[next++];
      if (outcome.status === 'rejected') {
        const problems = outcome.errors.length > 0 ? outcome.errors : [{ path: '', message: 'rejected by the store' }];
        ledger.reject(problems.map((e) => rejection(read, e.path || undefined, e.message)));
      } else {
        ledger.settle(outcome.status);
        if (outcome.status === 'created' && !read.identified) ledger.createdWithoutKey++;
      }
    }
    ledger.bytesRead = batch.bytesRead;
    progress();
  };

  try {
    const read = { format: options.format, batchSize, maxRowChars: options.maxRowChars };
    const inWorker = 'path' in source && sink.readInWorker !== undefined
      && (options.readInWorker === true || (options.readInWorker === undefined && (await stat(source.path)).size >= READ_IN_WORKER_FROM_BYTES));
    const batches = inWorker && sink.readInWorker
      ? sink.readInWorker(workspaceId, source.path, read)
      : readBatches('path' in source ? createReadStream(source.path, { highWaterMark: 256 * 1024 }) : source,
        rowSource(options.format, new Map((await sink.schema(workspaceId)).map((def) => [def.key, def])), options.maxRowChars), batchSize);
    for await (const batch of batches) await write(batch);
    progress(); // a file of no rows is reported too
  } catch (error) {
    // Reading failed part-way (an I/O error): what was written stays, and the ledger says how much.
    if (error instanceof ImportRefused || error instanceof ImportStopped) throw error;
    throw new ImportStopped(ledger.ledger(), error);
  }

  const result = ledger.ledger();
  if (!ledgerAddsUp(result)) throw new Error(`import ledger does not add up: ${JSON.stringify(result)}`);
  return result;
}

/** Reads the whole source through `rows` in this thread, in batches of `batchSize` rows in file order. */
export async function* readBatches(source: AsyncIterable<Uint8Array | string>, rows: RowSource, batchSize: number): AsyncGenerator<RowBatch> {
  const text = new FileText();
  let batch: BatchRow[] = [];
  for await (const chunk of source) {
    for (const read of rows.write(text.decode(chunk))) {
      batch.push(read);
      if (batch.length >= batchSize) { yield { rows: batch, bytesRead: text.bytesRead }; batch = []; }
    }
  }
  for (const read of [...rows.write(text.end()), ...rows.end()]) {
    batch.push(read);
    if (batch.length >= batchSize) { yield { rows: batch, bytesRead: text.bytesRead }; batch = []; }
  }
  yield { rows: batch, bytesRead: text.bytesRead }; // the last rows, or none: the bytes read in all
}
