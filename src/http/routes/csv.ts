// One CSV line (RFC 4180). A text cell that a spreadsheet would run as a formula (it begins with
// = + - @, a tab or a carriage return) is escaped with a leading apostrophe (OWASP's CSV injection
// advice); numbers are written as numbers.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: ReadonlyArray<string | number>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
