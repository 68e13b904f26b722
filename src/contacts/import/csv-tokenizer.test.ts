import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvTokenizer } from './csv-tokenizer.js';
import type { CsvItem, CsvTokenizerOptions } from './csv-tokenizer.js';

/** Tokenizes `text` cut into the given pieces. */
function tokenize(pieces: string | string[], options?: CsvTokenizerOptions): CsvItem[] {
  const tokenizer = new CsvTokenizer(options);
  const out: CsvItem[] = [];
  for (const piece of typeof pieces === 'string' ? [pieces] : pieces) out.push(...tokenizer.write(piece));
  out.push(...tokenizer.end());
  return out;
}

/** Every way of cutting `text` into two pieces, and one character at a time, give the same items. */
function tokenizeEverySplit(text: string, options?: CsvTokenizerOptions): CsvItem[] {
  const whole = tokenize(text, options);
  for (let i = 1; i < text.length; i++) expect(tokenize([text.slice(0, i), text.slice(i)], options), `split at ${i}`).toEqual(whole);
  expect(tokenize([...text], options), 'one character at a time').toEqual(whole);
  return whole;
}

const records = (items: CsvItem[]) => items.map((item) => (item.kind === 'record' ? item.cells : item));
const lines = (items: CsvItem[]) => items.map((item) => item.line);

describe('CsvTokenizer on well-formed CSV', () => {
  it('reads cells, quoted cells with commas and doubled quotes, and an empty last cell', () => {
    const items = tokenizeEverySplit('a,b,c\n1,"x, y","say ""hi"""\n2,,\n');
    expect(records(items)).toEqual([['a', 'b', 'c'], ['1', 'x, y', 'say "hi"'], ['2', '', '']]);
    expect(lines(items)).toEqual([1, 2, 3]);
  });

  it('ends lines in LF, CRLF or CR, and the last line needs no line break', () => {
    for (const text of ['a,b\n1,2\n3,4', 'a,b\r\n1,2\r\n3,4\r\n', 'a,b\r1,2\r3,4', 'a,b\r\n1,2\n3,4\r']) {
      const items = tokenizeEverySplit(text);
      expect(records(items), JSON.stringify(text)).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
      expect(lines(items)).toEqual([1, 2, 3]);
    }
  });

  it('keeps line breaks inside a quoted cell as written, and counts the lines they take', () => {
    const items = tokenizeEverySplit('name,note\r\n"Ana","line one\r\nline two\nline three"\r\nBo,x\r\n');
    expect(records(items)).toEqual([['name', 'note'], ['Ana', 'line one\r\nline two\nline three'], ['Bo', 'x']]);
    expect(lines(items)).toEqual([1, 2, 5]);
  });

  it('skips blank lines but counts them; a row of empty cells is still a row (the import drops it)', () => {
    const items = tokenizeEverySplit('a,b\n\n\r\n1,2\n,\n""\n');
    expect(records(items)).toEqual([['a', 'b'], ['1', '2'], ['', ''], ['']]);
    expect(lines(items)).toEqual([1, 4, 5, 6]);
  });

  it('keeps white space in cells, a quote-only cell and a one-column file', () => {
    expect(records(tokenizeEverySplit(' a , b \n"""",""\n'))).toEqual([[' a ', ' b '], ['"', '']]);
    expect(records(tokenizeEverySplit('email\nx@y.z\n'))).toEqual([['email'], ['x@y.z']]);
  });

  it('gives nothing for an empty input', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(['', '\n', ''])).toEqual([]);
  });
});

describe('CsvTokenizer on malformed rows: the row is reported, the rest are read', () => {
  it('a quote inside an unquoted cell', () => {
    const items = tokenizeEverySplit('a,b\n1,ab"c\n3,4\n');
    expect(items[1]).toMatchObject({ kind: 'malformed', line: 2, cell: 1, reason: expect.stringMatching(/quote/) });
    expect(records(items.slice(2))).toEqual([['3', '4']]);
    expect(lines(items)).toEqual([1, 2, 3]);
  });

  it('text after a closing quote (where csv-parse reads the rest of the file into one cell)', () => {
    const items = tokenizeEverySplit('a,b\r\n1,"ab"c\r\n3,4\r\n5,"x" \r\n6,7\r\n');
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed', 'record', 'malformed', 'record']);
    expect(items[1]).toMatchObject({ line: 2, cell: 1, reason: expect.stringMatching(/closing quote/) });
    expect(items[3]).toMatchObject({ line: 4, cell: 1 });
    expect(records([items[2], items[4]])).toEqual([['3', '4'], ['6', '7']]);
    expect(lines(items)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a quote never closed: the row is rejected and the lines after the quote are read as rows', () => {
    const items = tokenizeEverySplit('a,b\n1,2\n3,"4\n5,6\n7,8\n');
    expect(items.map((i) => i.kind)).toEqual(['record', 'record', 'malformed', 'record', 'record']);
    expect(items[2]).toMatchObject({ line: 3, cell: 1, reason: expect.stringMatching(/line 3 is never closed/) });
    expect(records([items[3], items[4]])).toEqual([['5', '6'], ['7', '8']]);
    expect(lines(items)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a quote never closed after a legitimate multi-line cell: the lines after that quote are read again', () => {
    const items = tokenizeEverySplit('a,b,c\n"x\ny",1,"open\n9,9,9\n');
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['malformed', 2], ['record', 4]]);
    expect(items[1]).toMatchObject({ cell: 2, reason: expect.stringMatching(/line 3/) });
    expect(records([items[2]])).toEqual([['9', '9', '9']]);
  });

  it('a later quote closes an open one: text after it makes the row malformed, to the end of that line', () => {
    const items = tokenizeEverySplit('a,b\n1,"open\n2,"also\n9,9');
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['malformed', 2], ['record', 4]]);
    expect(items[1]).toMatchObject({ reason: expect.stringMatching(/after the closing quote/) });
  });

  it('a row past maxRecordChars (which bounds memory) is rejected and reading goes on at the next line', () => {
    const long = 'x'.repeat(50);
    const items = tokenizeEverySplit(`a,b\n1,${long}\n3,4\n`, { maxRecordChars: 20 });
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['malformed', 2], ['record', 3]]);
    expect(items[1]).toMatchObject({ reason: expect.stringMatching(/longer than 20/) });
  });

  it('a quote open past maxRecordChars is an unclosed quote: the lines after it are read again', () => {
    const items = tokenizeEverySplit(`a,b\n1,"${'y'.repeat(8)}\n3,4\n5,6\n${'z'.repeat(30)}\n7,8`, { maxRecordChars: 20 });
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['malformed', 2], ['record', 3], ['record', 4], ['malformed', 5], ['record', 6]]);
    expect(items[1]).toMatchObject({ reason: expect.stringMatching(/not closed within 20 characters/) });
  });

  it('an open quote on a line longer than maxRecordChars skips to the end of that line', () => {
    const items = tokenizeEverySplit(`a,b\n1,"${'y'.repeat(30)}\n3,4\n`, { maxRecordChars: 20 });
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['malformed', 2], ['record', 3]]);
  });
});

// Random tables written the way spreadsheets write them, read back whole and in random pieces.
const cellText = fc.string({ unit: fc.constantFrom('a', 'B', ' ', ',', '"', '\n', '\r', 'é', '😀', ';', 'x'), maxLength: 6 });
const table = fc.integer({ min: 1, max: 4 }).chain((width) =>
  fc.array(fc.array(cellText, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 }),
);
const needsQuotes = (cell: string) => /[",\r\n]/.test(cell) || cell === '';

function writeCsv(rows: string[][], eol: string, quoteAll: boolean): string {
  return rows.map((row) => row.map((cell) => (quoteAll || needsQuotes(cell) ? `"${cell.replaceAll('"', '""')}"` : cell)).join(',')).join(eol) + eol;
}

function cutAt(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(text.slice(from, p));
    from = p;
  }
  pieces.push(text.slice(from));
  return pieces;
}

describe('CsvTokenizer properties', () => {
  it('reads back any table written as CSV, cut anywhere, and agrees with csv-parse', () => {
    fc.assert(
      fc.property(table, fc.constantFrom('\n', '\r\n'), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (rows, eol, quoteAll, cuts) => {
        const text = writeCsv(rows, eol, quoteAll);
        const items = tokenize(cutAt(text, cuts));
        expect(items.every((i) => i.kind === 'record')).toBe(true);
        expect(records(items)).toEqual(rows);
        expect(records(items)).toEqual(parse(text, { relax_column_count: true, skip_empty_lines: false }));
      }),
      { numRuns: 400 },
    );
  });

  it('on any input, never throws, gives the same items however the input is cut, and lines only grow', () => {
    const anyText = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', '\r', ' '), maxLength: 40 });
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 12 }), (text, cuts, max) => {
        const options = { maxRecordChars: max };
        const whole = tokenize(text, options);
        expect(tokenize(cutAt(text, cuts), options)).toEqual(whole);
        const seen = lines(whole);
        for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
      }),
      { numRuns: 1000 },
    );
  });
});
