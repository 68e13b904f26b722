// Bulk import of contacts from CSV or JSON Lines: read as a stream, written in batches (one
// transaction each, through a ContactSink), every row accounted for in a ledger.
//
// Rules (CONDITION_LANGUAGE.md, "Ingest: values as they are written"):
// - CSV: a header row names the columns; `id` or a key of the workspace's schema. Any other column
//   refuses the whole file before anything is written (a typo never drops a column silently).
// - CSV: an empty cell leaves the stored value as it is, so a partial file never erases data. So
//   does a blank cell (white space only) of a type where blank means missing: number, boolean, date,
//   enum, and a list cell with no texts between its `;`. A text cell is stored as given, never trimmed.
// - CSV: a list cell holds texts separated by `;`.
// - JSON Lines: each line is an object of `id` and attribute keys with JSON values; `null` removes a
//   value. An unknown key rejects that row (there is no header to refuse).
// - A row whose values cannot be read is rejected with its row number, column and reason; the
//   other rows go in. Rows for the same contact are written in file order: the later row wins.
import { isBlank, fold } from '../../conditions/fold.js';
import { SEGMENTS_FIELD } from '../../conditions/schema.js';
import type { AttributeDef } from '../../conditions/types.js';
import { splitListCell } from '../coerce.js';
import type { ContactSink, RowOutcome } from './contact-sink.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import type { CsvItem } from './csv-tokenizer.js';
import { JsonLinesReader } from './json-lines-reader.js';
import type { JsonLineItem } from './json-lines-reader.js';
import { LedgerBuilder, ledgerAddsUp } from './import-ledger.js';
import type { ImportCounts, ImportLedger, Rejection } from './import-ledger.js';

export type ImportFormat = 'csv' | 'jsonl';

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
}

export const DEFAULT_BATCH_SIZE = 1000;
export const MAX_BATCH_SIZE = 100_000;

/** One reason a file was refused whole. */
export interface RefusalProblem {
  readonly column?: string;
  readonly message: string;
}

/** The file was refused before anything was written: no header, an unknown or repeated column, UTF-16. */
export class ImportRefused extends Error {
  readonly code = 'import_refused';
  constructor(readonly problems: readonly RefusalProblem[]) {
    super(`the file was refused: ${problems.map((p) => p.message).join('; ')}`);
  }
}

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

const IDENTITY_KEYS = ['id', 'external_id', 'email'] as const;
const REPLACEMENT_CHARACTER = '\uFFFD';
const NOT_UTF8 = 'has the character U+FFFD (�), which stands for bytes that were not UTF-8: save the file as UTF-8';

type Row = Record<string, unknown>;
/** A row read and waiting for its batch: data for the sink, or the problems that rejected it already. */
type Pending = { readonly row: number; readonly line: number; readonly data: Row } | { readonly row: number; readonly line: number; readonly problems: Rejection[] };

/**
 * Imports a CSV or JSON Lines file (any stream of its bytes, read as UTF-8) into a workspace.
 * Throws `ImportRefused` (nothing written) or `ImportStopped` (the sink failed); otherwise returns a
 * ledger that adds up.
 */
export async function importContacts(
  sink: ContactSink,
  workspaceId: string,
  source: AsyncIterable<Uint8Array | string>,
  options: ImportOptions,
): Promise<ImportLedger> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new RangeError(`batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  }
  const schema = new Map((await sink.schema(workspaceId)).map((def) => [def.key, def]));
  const ledger = new LedgerBuilder(options.format, options.keepRejections ?? 1000, options.onRejection);
  const rows = options.format === 'csv' ? new CsvRows(schema, options.maxRowChars) : new JsonRows(schema, options.maxRowChars);
  let batch: Pending[] = [];

  const flush = async () => {
    const toWrite = batch.filter((p): p is Extract<Pending, { data: Row }> => 'data' in p);
    let outcomes: RowOutcome[] = [];
    if (toWrite.length > 0) {
      try {
        outcomes = await sink.writeBatch(workspaceId, toWrite.map((p) => p.data));
      } catch (error) {
        throw new ImportStopped(ledger.ledger(), error);
      }
      if (!Array.isArray(outcomes) || outcomes.length !== toWrite.length) {
        throw new ImportStopped(ledger.ledger(), new Error(`the store returned ${outcomes?.length} outcomes for ${toWrite.length} rows`));
      }
    }
    let next = 0;
    for (const pending of batch) {
      if ('problems' in pending) {
        ledger.reject(pending.problems);
        continue;
      }
      const outcome = outcomes[next++];
      if (outcome.status === 'rejected') {
        const problems = outcome.errors.length > 0 ? outcome.errors : [{ path: '', message: 'rejected by the store' }];
        ledger.reject(problems.map((e) => rejection(pending, e.path || undefined, e.message)));
      } else {
        ledger.settle(outcome.status);
        if (outcome.status === 'created' && !hasIdentity(pending.data)) ledger.createdWithoutKey++;
      }
    }
    batch = [];
    options.onProgress?.({ ...ledger.counts(), bytesRead: ledger.bytesRead });
  };

  try {
    await readAll(source, rows, ledger, async (pending) => {
      batch.push(pending);
      if (batch.length >= batchSize) await flush();
    });
    await flush(); // the last rows, and the last progress report
  } catch (error) {
    // Reading failed part-way (an I/O error): what was written stays, and the ledger says how much.
    if (error instanceof ImportRefused || error instanceof ImportStopped) throw error;
    throw new ImportStopped(ledger.ledger(), error);
  }

  const result = ledger.ledger();
  if (!ledgerAddsUp(result)) throw new Error(`import ledger does not add up: ${JSON.stringify(result)}`);
  return result;
}

/** Reads the whole source through `rows`, handing each row to `take` in file order. */
async function readAll(source: AsyncIterable<Uint8Array | string>, rows: RowSource, ledger: LedgerBuilder, take: (pending: Pending) => Promise<void>): Promise<void> {
  const decoder = new TextDecoder('utf-8'); // drops a UTF-8 byte order mark
  let first = true;
  for await (const chunk of source) {
    let text: string;
    if (typeof chunk === 'string') {
      ledger.bytesRead += Buffer.byteLength(chunk);
      text = chunk;
    } else {
      if (first) refuseUtf16(chunk);
      ledger.bytesRead += chunk.byteLength;
      text = decoder.decode(chunk, { stream: true });
    }
    first = false;
    for (const pending of rows.write(text)) await take(pending);
  }
  for (const pending of rows.write(decoder.decode())) await take(pending);
  for (const pending of rows.end()) await take(pending);
}

function refuseUtf16(chunk: Uint8Array): void {
  if (chunk.byteLength >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
    throw new ImportRefused([{ message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8' }]);
  }
}

function rejection(at: { row: number; line: number }, column: string | undefined, reason: string): Rejection {
  return column === undefined ? { row: at.row, line: at.line, reason } : { row: at.row, line: at.line, column, reason };
}

function hasIdentity(data: Row): boolean {
  return IDENTITY_KEYS.some((key) => {
    const value = data[key];
    return typeof value === 'string' ? !isBlank(value) : value !== undefined && value !== null;
  });
}

interface RowSource {
  write(text: string): Pending[];
  end(): Pending[];
}

/** How a CSV column's cells become values. */
type Column = { readonly name: string; readonly kind: 'id' | 'text' | 'list' | 'blankIsMissing' };

class CsvRows implements RowSource {
  private readonly tokenizer: CsvTokenizer;
  private columns: Column[] | null = null;
  private rowNumber = 0;

  constructor(private readonly schema: ReadonlyMap<string, AttributeDef>, maxRowChars?: number) {
    this.tokenizer = new CsvTokenizer({ maxRecordChars: maxRowChars });
  }

  write(text: string): Pending[] {
    return this.read(this.tokenizer.write(text));
  }

  end(): Pending[] {
    const out = this.read(this.tokenizer.end());
    if (this.columns === null) throw new ImportRefused([{ message: 'the file is empty: a CSV import needs a header row naming its columns' }]);
    return out;
  }

  private read(items: CsvItem[]): Pending[] {
    const out: Pending[] = [];
    for (const item of items) {
      if (this.columns === null) {
        this.columns = this.header(item);
        continue;
      }
      if (item.kind === 'record' && item.cells.every((cell) => cell === '')) continue; // a row of empty cells is no row
      const at = { row: ++this.rowNumber, line: item.line };
      if (item.kind === 'malformed') {
        const column = item.cell !== undefined ? this.columns[item.cell]?.name : undefined;
        out.push({ ...at, problems: [rejection(at, column, `malformed CSV: ${item.reason}`)] });
        continue;
      }
      if (item.cells.length !== this.columns.length) {
        const reason = `the row has ${item.cells.length} cells and the header ${this.columns.length} columns`;
        out.push({ ...at, problems: [rejection(at, undefined, reason)] });
        continue;
      }
      out.push(this.row(at, item.cells));
    }
    return out;
  }

  private row(at: { row: number; line: number }, cells: string[]): Pending {
    const data: Row = {};
    const problems: Rejection[] = [];
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (cell === '') continue;
      const column = this.columns![i];
      if (cell.includes(REPLACEMENT_CHARACTER)) {
        problems.push(rejection(at, column.name, NOT_UTF8));
        continue;
      }
      switch (column.kind) {
        case 'id':
        case 'text':
          data[column.name] = cell;
          break;
        case 'list': {
          const items = splitListCell(cell);
          if (items.length > 0) data[column.name] = items;
          break;
        }
        case 'blankIsMissing':
          if (!isBlank(cell)) data[column.name] = cell;
          break;
      }
    }
    return problems.length > 0 ? { ...at, problems } : { ...at, data };
  }

  private header(item: CsvItem): Column[] {
    if (item.kind === 'malformed') throw new ImportRefused([{ message: `the header row (line ${item.line}) is malformed CSV: ${item.reason}` }]);
    const problems: RefusalProblem[] = [];
    const seen = new Set<string>();
    const unknown: string[] = [];
    const columns = item.cells.map((name, i): Column => {
      if (name === '') problems.push({ message: `column ${i + 1} of the header has no name` });
      else if (seen.has(name)) problems.push({ column: name, message: `the column ${JSON.stringify(name)} appears twice in the header` });
      seen.add(name);
      if (name === 'id') return { name, kind: 'id' };
      const def = this.schema.get(name);
      if (def) return { name, kind: def.type === 'text' ? 'text' : def.type === 'list' ? 'list' : 'blankIsMissing' };
      if (name === SEGMENTS_FIELD) problems.push({ column: name, message: 'the column "segments" cannot be imported: membership is computed from the segments\' conditions' });
      else if (name !== '') unknown.push(name);
      return { name, kind: 'text' };
    });
    for (const name of unknown) {
      const hint = this.closeKey(name);
      problems.push({
        column: name,
        message: `unknown column ${JSON.stringify(name)}: not an attribute of this workspace${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
      });
    }
    if (problems.length > 0) throw new ImportRefused(problems);
    return columns;
  }

  /** A schema key the column name matches up to case and surrounding white space. */
  private closeKey(name: string): string | undefined {
    const wanted = fold(name.trim());
    if (wanted === 'id') return 'id';
    for (const key of this.schema.keys()) if (key === wanted) return key;
    return undefined;
  }
}

class JsonRows implements RowSource {
  private readonly reader: JsonLinesReader;
  private rowNumber = 0;

  constructor(private readonly schema: ReadonlyMap<string, AttributeDef>, maxRowChars?: number) {
    this.reader = new JsonLinesReader({ maxLineChars: maxRowChars });
  }

  write(text: string): Pending[] {
    return this.reader.write(text).map((item) => this.row(item));
  }

  end(): Pending[] {
    return this.reader.end().map((item) => this.row(item));
  }

  private row(item: JsonLineItem): Pending {
    const at = { row: ++this.rowNumber, line: item.line };
    if (item.kind === 'malformed') return { ...at, problems: [rejection(at, undefined, item.reason)] };
    const problems: Rejection[] = [];
    const keys = Object.keys(item.value);
    for (const key of keys) {
      const value = item.value[key];
      if (key === SEGMENTS_FIELD) problems.push(rejection(at, key, '"segments" cannot be written: membership is computed from the segments\' conditions'));
      else if (key !== 'id' && !this.schema.has(key)) problems.push(rejection(at, key, `unknown attribute ${JSON.stringify(key)}: not in this workspace's schema`));
      else if (hasReplacementCharacter(value)) problems.push(rejection(at, key, NOT_UTF8));
    }
    if (keys.length === 0) problems.push(rejection(at, undefined, 'the object is empty: give an id, external_id or email, and attributes'));
    return problems.length > 0 ? { ...at, problems } : { ...at, data: item.value };
  }
}

function hasReplacementCharacter(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(REPLACEMENT_CHARACTER);
  return Array.isArray(value) && value.some((v) => typeof v === 'string' && v.includes(REPLACEMENT_CHARACTER));
}
