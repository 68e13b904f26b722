// The CSV cells an export writes: quoted where needed, formula-like texts defused, and read back by
// an import's tokenizer and unescape to exactly the text that went out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, unescapeCsvCell } from './contact-csv.js';
import { CsvTokenizer } from './import/csv-tokenizer.js';

function readBack(line: string): string[] {
  const tokenizer = new CsvTokenizer();
  const items = [...tokenizer.write(line), ...tokenizer.end()];
  expect(items).toHaveLength(1);
  const item = items[0]!;
  if (item.kind !== 'record') throw new Error(`malformed: ${JSON.stringify(item)}`);
  return item.cells.map(unescapeCsvCell);
}

describe('csvCell', () => {
  it('quotes what needs quoting and defuses what a spreadsheet would run as a formula', () => {
    expect(['a', 'a,b', 'say "hi"', 'two\nlines', '=1+1', '-2', '@x', '+1 555 0100', '\tx', "'=x", "it's", ''].map(csvCell)).toEqual([
      'a', '"a,b"', '"say ""hi"""', '"two\nlines"', "'=1+1", "'-2", "'@x", "'+1 555 0100", "'\tx", "''=x", "it's", '',
    ]);
    expect(csvCell(-2)).toBe('-2'); // a number is a number, not a formula
  });

  it('an import reads the cell back as the text that was written', () => {
    expect(readBack(csvLine(['+1 555 0100', "'=x", "'plain", '=A1', 'a,"b"']))).toEqual(['+1 555 0100', "'=x", "'plain", '=A1', 'a,"b"']);
    const texts = fc.string({ unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', "'", '"', ',', ';', 'a', ' ', 'é') });
    fc.assert(fc.property(fc.array(texts, { minLength: 2, maxLength: 5 }), (cells) => {
      expect(readBack(csvLine(cells))).toEqual(cells);
    }), { numRuns: 2000 });
  });

  it('an apostrophe a user typed before ordinary text is kept', () => {
    expect(unescapeCsvCell("'hello")).toBe("'hello");
    expect(unescapeCsvCell("'=SUM(A1)")).toBe('=SUM(A1)');
  });
});
