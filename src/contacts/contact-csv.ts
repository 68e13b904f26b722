// Contacts as CSV (RFC 4180), as `GET /v1/contacts/export` and `segments export` write them: a
// header of `id` and every attribute key, a line per contact; dates as ISO instants, lists joined
// with `;` (as an import reads them back). A text cell that a spreadsheet would run as a formula (it
// begins with = + - @, a tab or a carriage return) is escaped with a leading apostrophe (OWASP's CSV
// injection advice); numbers are written as numbers. An import takes the apostrophe off again
// (`unescapeCsvCell`), as a spreadsheet does, so an export re-imports unchanged: `+1 555 0100`
// goes out as `'+1 555 0100` and comes back as it was. A text that itself begins with apostrophes
// before such a character gets one more on the way out, so the pair of functions is exact.
import type { StoredValues } from '../conditions/contact-values.js';
import type { Schema } from '../conditions/types.js';
import type { StoredContact } from './contact-store.js';
import { listCell } from './coerce.js';

const ESCAPE_ON_EXPORT = /^'*[=+\-@\t\r]/;
const ESCAPED_ON_EXPORT = /^'+[=+\-@\t\r]/;

export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = ESCAPE_ON_EXPORT.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A cell an import reads: the export's formula escape undone (see the top of the file). */
export function unescapeCsvCell(cell: string): string {
  return ESCAPED_ON_EXPORT.test(cell) ? cell.slice(1) : cell;
}

export function csvLine(cells: ReadonlyArray<string | number>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Values as the API shows them: dates as ISO instants, the rest as stored. */
export function attributesView(schema: Schema, values: StoredValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const def of schema) {
    const v = Object.prototype.hasOwnProperty.call(values, def.key) ? values[def.key] : undefined;
    if (v === undefined || v === null) continue;
    out[def.key] = def.type === 'date' && typeof v === 'number' ? new Date(v).toISOString() : v;
  }
  return out;
}

/** The CSV text of the contacts `pages` yields, a chunk per page, the header first. */
export async function* contactsCsv(schema: Schema, pages: AsyncIterable<readonly StoredContact[]>): AsyncGenerator<string> {
  const columns = schema.map((a) => a.key);
  yield csvLine(['id', ...columns]);
  for await (const contacts of pages) {
    let chunk = '';
    for (const c of contacts) {
      const view = attributesView(schema, c.values);
      chunk += csvLine([c.id, ...columns.map((k) => { const v = view[k]; return v === undefined ? '' : typeof v === 'number' ? v : Array.isArray(v) ? listCell(v as string[]) : String(v); })]);
    }
    yield chunk;
  }
}
