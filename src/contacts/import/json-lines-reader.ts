// JSON Lines: one JSON object per line (LF or CRLF). Blank lines are not rows. A line that is not
// JSON, or is JSON but not an object, is a malformed row; the lines after it are read as usual.
//
// Lines are split here rather than by node:readline, which keeps a whole line in memory however
// long it is: a 1 GiB file with no line break would be read whole. Past `maxLineChars` a line is
// reported and skipped to its end, so memory stays bounded.
//
// A line is read by a FlatReader (flat-json.ts), or by JSON.parse when it is not a flat object:
// the same keys and values either way, the first much cheaper on an import's varied rows.
import { FlatReader } from './flat-json.js';

export type JsonLineItem =
  | {
    readonly kind: 'object'; readonly line: number;
    /** The object's keys in order (Object.keys), and their values. */
    readonly keys: readonly string[]; readonly values: readonly unknown[];
    /** The line as read. */ readonly text: string;
  }
  | { readonly kind: 'malformed'; readonly line: number; readonly reason: string };

export interface JsonLinesReaderOptions {
  /** The longest line accepted, in UTF-16 code units. Default 16 Mi. */
  readonly maxLineChars?: number;
}

export const DEFAULT_MAX_LINE_CHARS = 16 * 1024 * 1024;

export class JsonLinesReader {
  private readonly maxLineChars: number;
  private readonly flat = new FlatReader();
  private line = 1;
  private parts: string[] = [];
  private length = 0;
  /** The current line passed the limit: it was reported; its text is dropped until it ends. */
  private skipping = false;

  constructor(options: JsonLinesReaderOptions = {}) {
    this.maxLineChars = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  }

  write(text: string): JsonLineItem[] {
    const out: JsonLineItem[] = [];
    let start = 0;
    for (;;) {
      const lf = text.indexOf('\n', start);
      if (lf === -1) {
        this.append(text.slice(start), out);
        return out;
      }
      this.append(text.slice(start, lf), out);
      this.endLine(out);
      start = lf + 1;
    }
  }

  end(): JsonLineItem[] {
    const out: JsonLineItem[] = [];
    if (this.length > 0 || this.skipping) this.endLine(out);
    return out;
  }

  private append(piece: string, out: JsonLineItem[]): void {
    if (this.skipping || piece.length === 0) return;
    this.length += piece.length;
    if (this.length > this.maxLineChars) {
      out.push({ kind: 'malformed', line: this.line, reason: `the line is longer than ${this.maxLineChars} characters` });
      this.skipping = true;
      this.parts = [];
      return;
    }
    this.parts.push(piece);
  }

  private endLine(out: JsonLineItem[]): void {
    if (!this.skipping) {
      let text = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() !== '') out.push(parseLine(this.flat, text, this.line));
    }
    this.parts = [];
    this.length = 0;
    this.skipping = false;
    this.line++;
  }
}

function parseLine(flatReader: FlatReader, text: string, line: number): JsonLineItem {
  const flat = flatReader.read(text);
  if (flat !== undefined) return { kind: 'object', line, keys: flat.keys, values: flat.values, text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'malformed', line, reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { kind: 'malformed', line, reason: `expected a JSON object ({"email": …}), got ${got}` };
  }
  const keys = Object.keys(value);
  return { kind: 'object', line, keys, values: keys.map((key) => (value as Record<string, unknown>)[key]), text };
}

/** Reads JSON Lines from decoded text, for tests and small inputs; an import drives `JsonLinesReader` itself. */
export async function* readJsonLines(texts: AsyncIterable<string> | Iterable<string>, options?: JsonLinesReaderOptions): AsyncGenerator<JsonLineItem> {
  const reader = new JsonLinesReader(options);
  for await (const text of texts) yield* reader.write(text);
  yield* reader.end();
}
