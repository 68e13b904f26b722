// A streaming CSV tokenizer (RFC 4180: `,` between cells, `"` around a cell that holds `,`, `"` or a
// line break, `""` for a quote inside it; lines end in LF, CRLF or CR) that survives malformed rows.
//
// Why not csv-parse: with `skip_records_with_error` it reports the first malformed row, but an invalid
// closing quote (`"ab"c`) leaves it inside the quote, so every later row becomes part of one bad
// cell, and after a row over `max_record_size` it emits nothing more at all: the rest of the file is
// lost without a word. An import promises that a bad row is reported and the rest go in, so the
// recovery is ours and tested (csv-tokenizer.test.ts also checks agreement with csv-parse on
// well-formed input):
// - a quote inside an unquoted cell, or text after a closing quote: the row is malformed; reading
//   goes on at the next line;
// - a quote that is never closed (at the end of the file, or past `maxRecordChars`): the row is
//   malformed, and reading goes on at the line after the one where the quote opened, so a stray
//   quote costs one row, never the rest of the file;
// - a row longer than `maxRecordChars` (which bounds memory) is malformed; reading goes on at the next line.

/** One row of the file, or one that could not be read. `line` is where the row starts (1-based). */
export type CsvItem =
  | { readonly kind: 'record'; readonly line: number; readonly cells: string[] }
  | { readonly kind: 'malformed'; readonly line: number; readonly reason: string; readonly cell?: number };

export interface CsvTokenizerOptions {
  /** The longest row accepted, in UTF-16 code units (a JavaScript string's `length`). Default 16 Mi. */
  readonly maxRecordChars?: number;
}

export const DEFAULT_MAX_RECORD_CHARS = 16 * 1024 * 1024;

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

const enum State {
  /** At the start of a cell. */
  CellStart,
  /** Inside a cell that did not start with a quote. */
  Unquoted,
  /** Inside a quoted cell. */
  Quoted,
  /** Just after a quote inside a quoted cell: `""` (an escaped quote) or the closing quote. */
  AfterQuote,
  /** After a malformed row: skipping to the end of the line. */
  SkipLine,
}

export class CsvTokenizer {
  private readonly maxRecordChars: number;
  private state = State.CellStart;
  /** The current physical line (1-based). */
  private line = 1;
  /** The line where the current row started. */
  private recordLine = 1;
  /** The last character was a CR: an LF now completes a CRLF (one line break, not two). */
  private afterCR = false;
  private cells: string[] = [];
  private cell = '';
  private recordChars = 0;
  /** Where the open quote of the current cell was, and the text after it, to read again if it never closes. */
  private quoteLine = 0;
  private quoteRaw: string[] = [];
  private out: CsvItem[] = [];
  /** Text still to read: the input, and after a recovery the text read again. */
  private queue: string[] = [];

  constructor(options: CsvTokenizerOptions = {}) {
    this.maxRecordChars = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  }

  /** Reads the next piece of text; returns the rows it completed. */
  write(text: string): CsvItem[] {
    this.queue.push(text);
    while (this.queue.length > 0) this.run(this.queue.shift()!);
    return this.take();
  }

  /** The end of the input: returns the last rows. */
  end(): CsvItem[] {
    for (;;) {
      if (this.state === State.Quoted) {
        // A quote still open at the end: reject the row and read the lines after the quote's line again.
        const rest = this.recoverUnclosedQuote(`a quote opened in this cell on line ${this.quoteLine} is never closed`, '');
        if (rest !== null) {
          this.run(rest);
          while (this.queue.length > 0) this.run(this.queue.shift()!);
          continue;
        }
      } else if (this.state === State.Unquoted || this.state === State.AfterQuote || (this.state === State.CellStart && this.cells.length > 0)) {
        this.endRecord();
      }
      this.state = State.CellStart;
      return this.take();
    }
  }

  private take(): CsvItem[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private run(text: string): void {
    const n = text.length;
    let i = 0;
    // In Unquoted and Quoted: where the cell's text not yet added to `this.cell` starts.
    let sliceStart = 0;
    // In Quoted and AfterQuote: where the raw text after the open quote starts in `text`.
    let rawStart = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      const crlfTail = c === LF && this.afterCR;
      if (c === CR) {
        this.line++;
        this.afterCR = true;
      } else {
        if (c === LF && !crlfTail) this.line++;
        this.afterCR = false;
      }
      if (this.state !== State.SkipLine && ++this.recordChars > this.maxRecordChars) {
        if (this.state === State.Quoted || this.state === State.AfterQuote) {
          const rest = this.recoverUnclosedQuote(
            `a quote opened in this cell on line ${this.quoteLine} is not closed within ${this.maxRecordChars} characters`,
            text.slice(rawStart, i),
          );
          if (rest !== null) {
            this.queue.unshift(rest + text.slice(i));
            return;
          }
        } else {
          this.malformed(`the row is longer than ${this.maxRecordChars} characters`);
        }
        // Either way the rest of this line is skipped; the current character may end it.
        if (c !== CR && c !== LF) {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case State.CellStart:
          if (c === QUOTE) {
            this.state = State.Quoted;
            this.quoteLine = this.line;
            this.quoteRaw = [];
            rawStart = sliceStart = i + 1;
          } else if (c === COMMA) {
            this.cells.push('');
          } else if (c === CR || c === LF) {
            if (crlfTail) {
              this.recordChars--; // the LF of a CRLF that ended the previous row
            } else if (this.cells.length > 0) {
              this.endRecord();
            } else {
              this.startRecord(); // a blank line: no row
            }
          } else {
            this.state = State.Unquoted;
            sliceStart = i;
          }
          break;
        case State.Unquoted:
          if (c === COMMA) {
            this.cells.push(this.cell + text.slice(sliceStart, i));
            this.cell = '';
            this.state = State.CellStart;
          } else if (c === CR || c === LF) {
            this.cell += text.slice(sliceStart, i);
            this.endRecord();
          } else if (c === QUOTE) {
            this.malformed(`a quote (") inside a cell that does not start with one: put the whole cell in quotes and double the quotes inside it`);
          }
          break;
        case State.Quoted:
          if (c === QUOTE) {
            this.cell += text.slice(sliceStart, i);
            this.state = State.AfterQuote;
          }
          break;
        case State.AfterQuote:
          if (c === QUOTE) {
            this.cell += '"';
            sliceStart = i + 1;
            this.state = State.Quoted;
          } else if (c === COMMA) {
            this.cells.push(this.cell);
            this.cell = '';
            this.state = State.CellStart;
          } else if (c === CR || c === LF) {
            this.endRecord();
          } else {
            this.malformed(`text after the closing quote of a cell: a quoted cell ends at its closing quote`);
          }
          break;
        case State.SkipLine:
          if ((c === CR || c === LF) && !crlfTail) this.startRecord();
          break;
      }
      i++;
    }
    if (this.state === State.Unquoted || this.state === State.Quoted) this.cell += text.slice(sliceStart);
    if (this.state === State.Quoted || this.state === State.AfterQuote) this.quoteRaw.push(text.slice(rawStart));
  }

  private startRecord(): void {
    this.state = State.CellStart;
    this.cells = [];
    this.cell = '';
    this.recordChars = 0;
    this.quoteRaw = [];
    this.recordLine = this.line;
  }

  private endRecord(): void {
    this.cells.push(this.cell);
    this.out.push({ kind: 'record', line: this.recordLine, cells: this.cells });
    this.startRecord();
  }

  /** Reports the current row as malformed and skips the rest of its line. */
  private malformed(reason: string): void {
    this.out.push({ kind: 'malformed', line: this.recordLine, reason, cell: this.cells.length });
    const line = this.line;
    this.startRecord();
    this.recordLine = line; // corrected when the skipped line ends
    this.state = State.SkipLine;
  }

  /**
   * Reports the current row as malformed because of an open quote, and returns the text after the
   * line break that follows the quote (to be read again as new rows), or null when the quote's line
   * has not ended yet (then the rest of that line is skipped).
   */
  private recoverUnclosedQuote(reason: string, tail: string): string | null {
    const raw = this.quoteRaw.join('') + tail;
    const quoteLine = this.quoteLine;
    this.malformed(reason);
    const cr = raw.indexOf('\r');
    const lf = raw.indexOf('\n');
    const at = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
    if (at === -1) return null;
    this.startRecord();
    this.line = this.recordLine = quoteLine + 1;
    this.afterCR = false;
    return raw.slice(raw.startsWith('\r\n', at) ? at + 2 : at + 1);
  }
}

/** Reads CSV rows from decoded text, for tests and small inputs; an import drives `CsvTokenizer` itself. */
export async function* readCsv(texts: AsyncIterable<string> | Iterable<string>, options?: CsvTokenizerOptions): AsyncGenerator<CsvItem> {
  const tokenizer = new CsvTokenizer(options);
  for await (const text of texts) yield* tokenizer.write(text);
  yield* tokenizer.end();
}
