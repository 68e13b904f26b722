// Reading an import file into rows: bytes decoded as UTF-8, CSV records or JSON lines read into row
// objects for the sink, each checked against the workspace's schema; a row that cannot be read is
// a rejection with its row number, line, column and reason. Pure (no I/O): the import runs it in
// process, or in a worker thread beside the writer (src/segments/drafting-reader.ts).
//
// Rules (CONDITION_LANGUAGE.md, "Ingest: values as they are written"):
// - CSV: a header row names the columns; `id` or a key of the workspace's schema. Any other column
//   refuses the whole file before anything is written (a typo never drops a column silently).
// - CSV: an empty cell leaves the stored value as it is, so a partial file never erases data. So
//   does a blank cell (white space only) of a type where blank means missing: number, boolean, date,
//   enum, and a list cell with no texts between its `;`. A text cell is stored as given, never trimmed.
// - CSV: a list cell holds texts separated by `;`.
// - CSV: a cell of an apostrophe before = + - @, a tab or a carriage return loses the apostrophe, the
//   formula escape an export adds (src/contacts/contact-csv.ts), as a spreadsheet reads it.
// - JSON Lines: each line is an object of `id` and attribute keys with JSON values; `null` removes a
//   value. An unknown key rejects that row (there is no header to refuse).
import { isBlank, fold } from '../../conditions/fold.js';
import { SEGMENTS_FIELD } from '../../conditions/schema.js';
import type { AttributeDef } from '../../conditions/types.js';
import { splitListCell } from '../coerce.js';
import { unescapeCsvCell } from '../contact-csv.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import type { CsvItem } from './csv-tokenizer.js';
import { JsonLinesReader } from './json-lines-reader.js';
import type { JsonLineItem } from './json-lines-reader.js';
import type { Rejection } from './import-ledger.js';

export type ImportFormat = 'csv' | 'jsonl';

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

const IDENTITY_KEYS = ['id', 'external_id', 'email'] as const;
const REPLACEMENT_CHARACTER = '\uFFFD';
const NOT_UTF8 = 'has the character U+FFFD (�), which stands for bytes that were not UTF-8: save the file as UTF-8';

export type Row = Record<string, unknown>;
/**
 * A row read: its keys in order and their values, side by side (and whether it names an id,
 * external id or e-mail), or the problems that rejected it already.
 */
export type ReadRow =
  | {
    readonly row: number; readonly line: number; readonly keys: readonly string[]; readonly values: readonly unknown[]; readonly identified: boolean;
    /** JSON Lines: the text the values were read from. */
    readonly json?: string;
  }
  | { readonly row: number; readonly line: number; readonly problems: Rejection[] };

/** A row's values as a record (null-prototype: keys are data), as a sink takes them. */
export function rowRecord({ keys, values }: { readonly keys: readonly string[]; readonly values: readonly unknown[] }): Row {
  const record = Object.create(null) as Row;
  for (let i = 0; i < keys.length; i++) record[keys[i]] = values[i];
  return record;
}

/** The bytes of a file as text: UTF-8 (a byte order mark dropped), a UTF-16 file refused, the bytes counted. */
export class FileText {
  private readonly decoder = new TextDecoder('utf-8');
  private first = true;
  bytesRead = 0;

  decode(chunk: Uint8Array | string): string {
    if (typeof chunk === 'string') {
      this.bytesRead += Buffer.byteLength(chunk);
      this.first = false;
      return chunk;
    }
    if (this.first && chunk.byteLength >= 2 && ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))) {
      throw new ImportRefused([{ message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8' }]);
    }
    this.first = false;
    this.bytesRead += chunk.byteLength;
    return this.decoder.decode(chunk, { stream: true });
  }

  end(): string {
    return this.decoder.decode();
  }
}

/** Reads rows from decoded text in pieces: `write` returns the rows each piece completes, `end` the rest. */
export interface RowSource {
  write(text: string): ReadRow[];
  end(): ReadRow[];
}

export function rowSource(format: ImportFormat, schema: ReadonlyMap<string, AttributeDef>, maxRowChars?: number): RowSource {
  return format === 'csv' ? new CsvRows(schema, maxRowChars) : new JsonRows(schema, maxRowChars);
}

/** A rejection of the row at `at`, naming its column when there is one. */
export function rejection(at: { row: number; line: number }, column: string | undefined, reason: string): Rejection {
  return column === undefined ? { row: at.row, line: at.line, reason } : { row: at.row, line: at.line, column, reason };
}

/** Whether the row names an id, an external id or an e-mail: a value that is not blank text or null. */
function hasIdentity(keys: readonly string[], values: readonly unknown[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    if (!(IDENTITY_KEYS as readonly string[]).includes(keys[i])) continue;
    const value = values[i];
    if (typeof value === 'string' ? !isBlank(value) : value !== undefined && value !== null) return true;
  }
  return false;
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

  write(text: string): ReadRow[] {
    return this.read(this.tokenizer.write(text));
  }

  end(): ReadRow[] {
    const out = this.read(this.tokenizer.end());
    if (this.columns === null) throw new ImportRefused([{ message: 'the file is empty: a CSV import needs a header row naming its columns' }]);
    return out;
  }

  private read(items: CsvItem[]): ReadRow[] {
    const out: ReadRow[] = [];
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

  private row(at: { row: number; line: number }, cells: string[]): ReadRow {
    const keys: string[] = [];
    const values: unknown[] = [];
    const problems: Rejection[] = [];
    for (let i = 0; i < cells.length; i++) {
      const cell = unescapeCsvCell(cells[i]);
      if (cell === '') continue;
      const column = this.columns![i];
      if (cell.includes(REPLACEMENT_CHARACTER)) {
        problems.push(rejection(at, column.name, NOT_UTF8));
        continue;
      }
      let value: string | string[] | undefined;
      switch (column.kind) {
        case 'id':
        case 'text':
          value = cell;
          break;
        case 'list': {
          const items = splitListCell(cell);
          if (items.length > 0) value = items;
          break;
        }
        case 'blankIsMissing':
          if (!isBlank(cell)) value = cell;
          break;
      }
      if (value !== undefined) { keys.push(column.name); values.push(value); }
    }
    return problems.length > 0
      ? { row: at.row, line: at.line, problems }
      : { row: at.row, line: at.line, keys, values, identified: hasIdentity(keys, values) };
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

  write(text: string): ReadRow[] {
    return this.reader.write(text).map((item) => this.row(item));
  }

  end(): ReadRow[] {
    return this.reader.end().map((item) => this.row(item));
  }

  private row(item: JsonLineItem): ReadRow {
    const at = { row: ++this.rowNumber, line: item.line };
    if (item.kind === 'malformed') return { row: at.row, line: at.line, problems: [rejection(at, undefined, item.reason)] };
    const flat = flattenApiShape(item.keys, item.values);
    const { keys, values } = flat ?? item;
    // U+FFFD is looked for in the line once; in its values only when the line has one, or an
    // escape (\ufffd) that JSON.parse turned into one.
    const notUtf8 = item.text.includes(REPLACEMENT_CHARACTER) || item.text.includes('\\u');
    let problems: Rejection[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      let reason: string | undefined;
      if (key === SEGMENTS_FIELD) reason = '"segments" cannot be written: membership is computed from the segments\' conditions';
      else if (key !== 'id' && !this.schema.has(key)) reason = `unknown attribute ${JSON.stringify(key)}: not in this workspace's schema`;
      else if (notUtf8 && hasReplacementCharacter(values[i])) reason = NOT_UTF8;
      if (reason !== undefined) (problems ??= []).push(rejection(at, key, reason));
    }
    if (keys.length === 0) (problems ??= []).push(rejection(at, undefined, 'the object is empty: give an id, external_id or email, and attributes'));
    if (problems) return { row: at.row, line: at.line, problems };
    return { row: at.row, line: at.line, keys, values, identified: hasIdentity(keys, values), json: flat ? undefined : item.text };
  }
}

/**
 * A line in the API's shape of a contact — `{"id"?, "attributes": {…}}`, what POST /v1/contacts
 * takes — as the flat row it stands for; null for any other line (read as it is). No attribute
 * takes an object as its value, so a line whose `attributes` is one cannot mean anything else.
 */
function flattenApiShape(keys: readonly string[], values: readonly unknown[]): { keys: string[]; values: unknown[] } | null {
  const at = keys.indexOf('attributes');
  if (at < 0 || !keys.every((k) => k === 'attributes' || k === 'id')) return null;
  const attributes = values[at];
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes) || 'id' in attributes) return null;
  const id = keys.indexOf('id');
  const flatKeys = id < 0 ? [] : ['id'];
  const flatValues = id < 0 ? [] : [values[id]];
  for (const [key, value] of Object.entries(attributes)) { flatKeys.push(key); flatValues.push(value); }
  return { keys: flatKeys, values: flatValues };
}

function hasReplacementCharacter(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(REPLACEMENT_CHARACTER);
  return Array.isArray(value) && value.some((v) => typeof v === 'string' && v.includes(REPLACEMENT_CHARACTER));
}
