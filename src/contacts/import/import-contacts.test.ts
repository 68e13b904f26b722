import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Schema } from '../../conditions/types.js';
import type { ContactSink, RowOutcome } from './contact-sink.js';
import { formatOfFileName, importContacts, ImportRefused, ImportStopped } from './import-contacts.js';
import type { ImportOptions, ImportProgress } from './import-contacts.js';
import { ledgerAddsUp } from './import-ledger.js';
import type { ImportLedger, Rejection } from './import-ledger.js';
import { MemorySink } from './test-support/memory-sink.js';

// V8's gc(), without starting the test runner with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const CUSTOM: Schema = [
  { key: 'mrr', type: 'number' },
  { key: 'plan', type: 'enum', options: ['Free', 'Pro'] },
  { key: 'constructor', type: 'text' },
];
const WS = 'w1';

/** The bytes of `text`, delivered in pieces of `size` bytes (so a UTF-8 character can be cut). */
function bytes(text: string | Buffer, size = 64 * 1024): Readable {
  const all = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const pieces: Buffer[] = [];
  for (let i = 0; i < all.length; i += size) pieces.push(all.subarray(i, i + size));
  return Readable.from(pieces);
}

async function importText(sink: ContactSink, text: string | Buffer, options: Partial<ImportOptions> & { chunk?: number } = {}): Promise<ImportLedger> {
  const ledger = await importContacts(sink, WS, bytes(text, options.chunk), { format: 'csv', ...options });
  expect(ledgerAddsUp(ledger)).toBe(true);
  return ledger;
}

const counts = (l: ImportLedger) => ({ rowsRead: l.rowsRead, created: l.created, updated: l.updated, unchanged: l.unchanged, rejected: l.rejected });

describe('importContacts: CSV', () => {
  it('reads quoted cells, CRLF, a byte order mark, multi-line cells and list cells; values are coerced by the store', async () => {
    const sink = new MemorySink(CUSTOM);
    const text = '\uFEFFexternal_id,name,mrr,tags,vip,constructor\r\n' +
      'e1,"Ana, ""the boss""",120,vip; beta ;;,yes,"two\r\nlines"\r\n' +
      'e2,Bo,-3.5,,no,\r\n';
    for (const chunk of [1, 3, 64 * 1024]) {
      const s = new MemorySink(CUSTOM);
      const ledger = await importText(s, text, { chunk });
      expect(counts(ledger)).toEqual({ rowsRead: 2, created: 2, updated: 0, unchanged: 0, rejected: 0 });
      expect(Object.values(s.state())).toEqual<Record<string, unknown>[]>([
        { external_id: 'e1', name: 'Ana, "the boss"', mrr: 120, tags: ['vip', ' beta '], vip: true, constructor: 'two\r\nlines' },
        { external_id: 'e2', name: 'Bo', mrr: -3.5, vip: false },
      ]);
    }
    expect((await importText(sink, text)).bytesRead).toBe(Buffer.byteLength(text));
  });

  it('an empty cell leaves the stored value; so does a blank cell of a number, enum, boolean, date or list; a text cell is stored as given', async () => {
    const sink = new MemorySink(CUSTOM);
    await importText(sink, 'email,name,mrr,plan,vip,created_at,tags\na@x.io,Ana,10,pro,true,2025-03-04,x;y\n');
    const ledger = await importText(sink, 'email,name,mrr,plan,vip,created_at,tags\na@x.io,,  , ,\t, ,;\nb@x.io,"  ",,,,,\n');
    expect(counts(ledger)).toEqual({ rowsRead: 2, created: 1, updated: 0, unchanged: 1, rejected: 0 });
    expect(Object.values(sink.state())).toEqual([
      { email: 'a@x.io', name: 'Ana', mrr: 10, plan: 'Pro', vip: true, created_at: Date.UTC(2025, 2, 4), tags: ['x', 'y'] },
      { email: 'b@x.io', name: '  ' },
    ]);
  });

  it('an unknown column refuses the whole file before anything is written, naming every such column', async () => {
    const sink = new MemorySink(CUSTOM);
    const refused = await importContacts(sink, WS, bytes('email,Name,mrr,plann,segments\na@x,A,1,p,\n'), { format: 'csv' }).catch((e) => e);
    expect(refused).toBeInstanceOf(ImportRefused);
    expect(refused.problems).toEqual([
      { column: 'segments', message: expect.stringMatching(/"segments" cannot be imported/) },
      { column: 'Name', message: 'unknown column "Name": not an attribute of this workspace (did you mean "name"?)' },
      { column: 'plann', message: 'unknown column "plann": not an attribute of this workspace' },
    ]);
    expect(sink.batches).toEqual([]);
  });

  it('refuses a file with no header, a repeated or nameless column, a malformed header, or UTF-16', async () => {
    const refusal = async (input: string | Buffer) => {
      const sink = new MemorySink();
      const error = await importContacts(sink, WS, bytes(input), { format: 'csv' }).catch((e) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(ImportRefused);
      expect(sink.batches).toEqual([]);
      return (error as ImportRefused).problems.map((p) => p.message);
    };
    expect(await refusal('')).toEqual([expect.stringMatching(/empty: a CSV import needs a header row/)]);
    expect(await refusal('\n\n')).toEqual([expect.stringMatching(/empty/)]);
    expect(await refusal('email,name,email\n')).toEqual(['the column "email" appears twice in the header']);
    expect(await refusal('email,,name\n')).toEqual(['column 2 of the header has no name']);
    expect(await refusal('email,"name\n')).toEqual([expect.stringMatching(/header row \(line 1\) is malformed CSV/)]);
    expect(await refusal(Buffer.from('\uFEFFemail\n', 'utf16le'))).toEqual([expect.stringMatching(/UTF-16/)]);
  });

  it('a malformed row is rejected with its row, line and column; the rest go in', async () => {
    const sink = new MemorySink(CUSTOM);
    const text = 'email,name,mrr\n' + // line 1
      'a@x,Ana,1\n' + // row 1
      'b@x,Bo"b,2\n' + // row 2: a quote in an unquoted cell
      'c@x,"Cy"x,3\n' + // row 3: text after a closing quote
      'd@x,Di\n' + // row 4: too few cells
      'e@x,Ed,abc\n' + // row 5: the store refuses the number
      '\n,,\n' + // a blank line and a row of empty cells: no rows
      'f@x,"Fa\nmulti",6\n' + // row 6, lines 9-10
      'g@x,"Gu,7\n' + // row 7: a quote never closed; the line after it is read again
      'h@x,Ha,8'; // row 8, line 12
    const ledger = await importText(sink, text);
    expect(counts(ledger)).toEqual({ rowsRead: 8, created: 3, updated: 0, unchanged: 0, rejected: 5 });
    expect(ledger.rejections).toEqual([
      { row: 2, line: 3, column: 'name', reason: expect.stringMatching(/^malformed CSV: a quote/) },
      { row: 3, line: 4, column: 'name', reason: expect.stringMatching(/^malformed CSV: text after the closing quote/) },
      { row: 4, line: 5, reason: 'the row has 2 cells and the header 3 columns' },
      { row: 5, line: 6, column: 'mrr', reason: 'expected a number, got "abc"' },
      { row: 7, line: 11, column: 'name', reason: expect.stringMatching(/quote opened in this cell on line 11 is never closed/) },
    ]);
    expect(Object.values(sink.state()).map((c) => c.email)).toEqual(['a@x', 'f@x', 'h@x']);
  });

  it('a cell with U+FFFD (bytes that were not UTF-8) rejects its row', async () => {
    const sink = new MemorySink();
    const text = Buffer.concat([Buffer.from('email,name\na@x,Ana\nb@x,Jos'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const ledger = await importText(sink, text);
    expect(ledger.rejections).toEqual([{ row: 2, line: 3, column: 'name', reason: expect.stringMatching(/not UTF-8/) }]);
  });

  it('a store rejection with several problems is one rejected row with a rejection for each', async () => {
    const ledger = await importText(new MemorySink(CUSTOM), 'id,mrr,plan\n,x,gold\n');
    expect(ledger.rejected).toBe(1);
    expect(ledger.rejections.map((r) => r.column)).toEqual(['mrr', 'plan']);
  });
});

describe('importContacts: JSON Lines', () => {
  it('takes JSON values as they are; null removes a value; unknown keys, segments, bad lines and {} reject their row', async () => {
    const sink = new MemorySink(CUSTOM);
    await importContacts(sink, WS, bytes('{"email":"a@x","mrr":5,"tags":["x"],"name":"Ana"}\n'), { format: 'jsonl' });
    const text = [
      '{"email":"a@x","mrr":null,"tags":["x","y"]}', // row 1: updated
      '{"email":"b@x","mmr":3,"Email":"c"}', // row 2: two unknown keys
      '{"email":"c@x","segments":["s1"]}', // row 3
      'not json', // row 4
      '', // a blank line: no row
      '[{"email":"d@x"}]', // row 5
      '{}', // row 6
      '{"id":"c9","mrr":"12","vip":"yes"}', // row 7: created with its id
      '{"email":"e@x","mrr":true}', // row 8: the store refuses
    ].join('\r\n');
    const ledger = await importContacts(sink, WS, bytes(text, 5), { format: 'jsonl' });
    expect(ledgerAddsUp(ledger)).toBe(true);
    expect(counts(ledger)).toEqual({ rowsRead: 8, created: 1, updated: 1, unchanged: 0, rejected: 6 });
    expect(ledger.rejections).toEqual([
      { row: 2, line: 2, column: 'mmr', reason: 'unknown attribute "mmr": not in this workspace\'s schema' },
      { row: 2, line: 2, column: 'Email', reason: 'unknown attribute "Email": not in this workspace\'s schema' },
      { row: 3, line: 3, column: 'segments', reason: expect.stringMatching(/cannot be written/) },
      { row: 4, line: 4, reason: expect.stringMatching(/^not JSON/) },
      { row: 5, line: 6, reason: expect.stringMatching(/got an array/) },
      { row: 6, line: 7, reason: expect.stringMatching(/object is empty/) },
      { row: 8, line: 9, column: 'mrr', reason: expect.stringMatching(/expected a number/) },
    ]);
    expect(sink.state()).toEqual({
      c9: { mrr: 12, vip: true },
      n1: { email: 'a@x', tags: ['x', 'y'], name: 'Ana' },
    });
  });

  it('reads a line in the API\'s shape of a contact ({"id", "attributes"}) as the flat row it stands for', async () => {
    const sink = new MemorySink(CUSTOM);
    const text = [
      '{"id":"c1","attributes":{"mrr":"12","tags":["x"]}}', // row 1: created, as {"id":"c1","mrr":"12","tags":["x"]}
      '{"attributes":{"email":"a@x","name":"Ana"}}', // row 2: created, found by its e-mail next
      '{"email":"a@x","mrr":3}', // row 3: the flat row updates it
      '{"id":"c1","attributes":{"mrr":12,"tags":["x"]}}', // row 4: unchanged
      '{"id":"c2","attributes":{"mmr":1}}', // row 5: the attribute is still checked
      '{"id":"c3","attributes":"x"}', // row 6: not an object: an unknown attribute "attributes"
      '{"id":"c4","attributes":{"mrr":1},"name":"B"}', // row 7: beside another key: read as it is
    ].join('\n');
    const ledger = await importContacts(sink, WS, bytes(text), { format: 'jsonl' });
    expect(ledgerAddsUp(ledger)).toBe(true);
    expect(counts(ledger)).toEqual({ rowsRead: 7, created: 2, updated: 1, unchanged: 1, rejected: 3 });
    expect(ledger.rejections.map((r) => [r.row, r.column])).toEqual([[5, 'mmr'], [6, 'attributes'], [7, 'attributes']]);
    expect(sink.state()).toEqual({ c1: { mrr: 12, tags: ['x'] }, n1: { email: 'a@x', name: 'Ana', mrr: 3 } });
  });

  it('a JSON value with U+FFFD rejects its row: bytes that were not UTF-8, in a text or a list, or the character written as an escape', async () => {
    const sink = new MemorySink(CUSTOM);
    const text = Buffer.concat([
      Buffer.from('{"email":"a@x","name":"Ana"}\n{"email":"b@x","name":"Jos'), Buffer.from([0xe9]), Buffer.from('"}\n'), // row 2
      Buffer.from('{"email":"c@x","tags":["ok","x'), Buffer.from([0xff]), Buffer.from('"]}\n'), // row 3
      Buffer.from('{"email":"d@x","name":"Jos\\ufffd"}\n'), // row 4: the escape, read by JSON.parse
      Buffer.from('{"attributes":{"email":"e@x","name":"\\uFFFD"}}\n'), // row 5: the API's shape
      Buffer.from('{"email":"f@x","name":"caf\\u00e9"}\n'), // row 6: another escape, read
    ]);
    const ledger = await importContacts(sink, WS, bytes(text), { format: 'jsonl' });
    expect(ledger.rejections).toEqual([2, 3, 4, 5].map((row) => ({ row, line: row, column: row === 3 ? 'tags' : 'name', reason: expect.stringMatching(/not UTF-8/) })));
    expect(Object.values(sink.state()).map((c) => [c.email, c.name])).toEqual([['a@x', 'Ana'], ['f@x', 'café']]);
  });
});

describe('importContacts: the ledger and running twice', () => {
  const file = 'external_id,email,name,mrr,tags\n' +
    Array.from({ length: 250 }, (_, i) => `e${i},u${i}@x.io,"User ${i}",${i % 7 === 0 ? 'bad' : i},t${i % 3};all`).join('\n');

  it('the same file twice leaves the same state, and the second run finds every row unchanged', async () => {
    const sink = new MemorySink(CUSTOM);
    const first = await importText(sink, file, { batchSize: 64 });
    const state = structuredClone(sink.state());
    const second = await importText(sink, file, { batchSize: 100 });
    expect(sink.state()).toEqual(state);
    expect(counts(first)).toEqual({ rowsRead: 250, created: 214, updated: 0, unchanged: 0, rejected: 36 });
    expect(counts(second)).toEqual({ rowsRead: 250, created: 0, updated: 0, unchanged: 214, rejected: 36 });
    expect(second.rejections).toEqual(first.rejections);
  });

  it('rows for the same contact in one file (and in one batch) are written in order: the later row wins, each row is counted', async () => {
    for (const batchSize of [1, 2, 10]) {
      const sink = new MemorySink(CUSTOM);
      const ledger = await importText(sink, 'email,mrr,name\na@x,1,Ana\na@x,2,\na@x,2,\nb@x,,Bo\n', { batchSize });
      expect(counts(ledger)).toEqual({ rowsRead: 4, created: 2, updated: 1, unchanged: 1, rejected: 0 });
      expect(Object.values(sink.state())).toEqual([{ email: 'a@x', mrr: 2, name: 'Ana' }, { email: 'b@x', name: 'Bo' }]);
    }
  });

  it('counts contacts created from rows with no id, external_id or email (a second run would create them again)', async () => {
    const ledger = await importText(new MemorySink(), 'name,email\nAna,\nBo,b@x\n');
    expect(ledger.createdWithoutKey).toBe(1);
  });

  it('adds up for any mix of good, bad and malformed rows, any batch size and any cut of the bytes', async () => {
    const cell = fc.constantFrom('1', '2', 'x', '', ' ', '"q"', '"a""b"', 'bad"', '"open', '"c"d', '7;8', 'é');
    const row = fc.tuple(fc.constantFrom('', 'k1', 'k2', 'k3'), cell, cell).map(([k, a, b]) => `${k},${a},${b}`);
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 30 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), async (rows, batchSize, chunk) => {
        const sink = new MemorySink(CUSTOM);
        const text = `external_id,mrr,name\n${rows.join('\n')}`;
        const seen: Rejection[] = [];
        const ledger = await importText(sink, text, { batchSize, chunk, onRejection: (r) => seen.push(r) });
        expect(seen).toEqual(ledger.rejections);
        expect(new Set(seen.map((r) => r.row)).size).toBe(ledger.rejected);
        expect(sink.batches.every((n) => n <= batchSize)).toBe(true);
        // Cut differently, the same file gives the same ledger.
        const again = await importText(new MemorySink(CUSTOM), text, { batchSize: 3, chunk: 1000 });
        expect(again.rejections).toEqual(ledger.rejections);
        expect(again.rowsRead).toBe(ledger.rowsRead);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the first rejections and counts the rest; onRejection gets every one', async () => {
    const seen: Rejection[] = [];
    const ledger = await importText(new MemorySink(CUSTOM), 'mrr\nx\ny\nz\n1\n', { keepRejections: 2, onRejection: (r) => seen.push(r) });
    expect(ledger.rejections.map((r) => r.row)).toEqual([1, 2]);
    expect(ledger.rejectionsOmitted).toBe(1);
    expect(seen.map((r) => r.row)).toEqual([1, 2, 3]);
  });
});

describe('importContacts: batches, progress and failures', () => {
  it('writes in batches of batchSize and reports progress after each, ending with the ledger', async () => {
    const sink = new MemorySink();
    const progress: ImportProgress[] = [];
    const text = 'email\n' + Array.from({ length: 25 }, (_, i) => `u${i}@x`).join('\n') + '\n';
    const ledger = await importText(sink, text, { batchSize: 10, chunk: 7, onProgress: (p) => progress.push(p) });
    expect(sink.batches).toEqual([10, 10, 5]);
    expect(progress.map((p) => p.rowsRead)).toEqual([10, 20, 25]);
    expect(progress.at(-1)).toEqual({ ...counts(ledger), bytesRead: Buffer.byteLength(text) });
    for (let i = 1; i < progress.length; i++) expect(progress[i].bytesRead).toBeGreaterThanOrEqual(progress[i - 1].bytesRead);
  });

  it('a failing store stops the import with a ledger of the committed rows', async () => {
    const inner = new MemorySink();
    let calls = 0;
    const sink: ContactSink = {
      schema: () => inner.schema(),
      writeBatch: async (ws, rows) => {
        if (++calls === 2) throw new Error('disk full');
        return inner.writeBatch(ws, rows);
      },
    };
    const error = await importContacts(sink, WS, bytes('email\na\nb\nc\nd\n'), { format: 'csv', batchSize: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportStopped);
    expect(error.message).toBe('the import stopped after 2 rows: disk full');
    expect(counts(error.ledger)).toEqual({ rowsRead: 2, created: 2, updated: 0, unchanged: 0, rejected: 0 });
  });

  it('a store that answers with the wrong number of outcomes stops the import', async () => {
    const sink: ContactSink = { schema: async () => [{ key: 'email', type: 'text' }], writeBatch: async () => [] as RowOutcome[] };
    await expect(importContacts(sink, WS, bytes('email\na\n'), { format: 'csv' })).rejects.toThrow(/returned 0 outcomes for 1 rows/);
  });

  it('refuses a batch size that is not a whole number from 1 to 100,000', async () => {
    for (const batchSize of [0, 1.5, 100_001]) {
      await expect(importContacts(new MemorySink(), WS, bytes('email\n'), { format: 'csv', batchSize })).rejects.toThrow(RangeError);
    }
  });

  it('streams: 200,000 generated rows are written as they are read, never far behind the reader', async () => {
    const total = 200_000;
    let generated = 0;
    let written = 0;
    let maxLead = 0;
    async function* generate() {
      yield Buffer.from('external_id,email,mrr,tags\n');
      for (let i = 0; i < total; i += 500) {
        let chunk = '';
        for (let j = i; j < i + 500; j++) chunk += `e${j},u${j}@example.com,${j},a;b\n`;
        generated += 500;
        yield Buffer.from(chunk);
      }
    }
    const sink: ContactSink = {
      schema: async () => new MemorySink(CUSTOM).schema(),
      writeBatch: async (_ws, rows) => {
        written += rows.length;
        maxLead = Math.max(maxLead, generated - written);
        return rows.map((_, i) => ({ status: 'created' as const, id: String(written + i) }));
      },
    };
    // The live heap, after a full collection: heapUsed alone counts garbage not yet collected, which
    // depends on when V8 collects (CI once saw 68 MB of it).
    const liveHeap = () => { collectGarbage(); return process.memoryUsage().heapUsed; };
    const heapBefore = liveHeap();
    let heapPeak = heapBefore;
    let batches = 0;
    const ledger = await importContacts(sink, WS, Readable.from(generate()), {
      format: 'csv', onProgress: () => { if (++batches % 10 === 0) heapPeak = Math.max(heapPeak, liveHeap()); },
    });
    expect(ledger.created).toBe(total);
    expect(batches).toBeGreaterThanOrEqual(100);
    // The reader runs at most one batch and one chunk ahead of the writes.
    expect(maxLead).toBeLessThanOrEqual(1000 + 500);
    // The file is ~9 MB as text (~18 MB as a JavaScript string); rows never pile up.
    expect(heapPeak - heapBefore).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('formatOfFileName', () => {
  it('reads .csv, .jsonl and .ndjson in any case', () => {
    expect(['a.csv', 'B.CSV', 'c.jsonl', 'd.NDJSON', 'e.json', 'f'].map(formatOfFileName)).toEqual(['csv', 'csv', 'jsonl', 'jsonl', null, null]);
  });
});

describe('importContacts: a source that fails part-way', () => {
  it('stops with a ledger of the rows written before the failure', async () => {
    async function* failing() {
      yield Buffer.from('email\na\nb\nc\n');
      throw new Error('EIO: i/o error, read');
    }
    const error = await importContacts(new MemorySink(), WS, failing(), { format: 'csv', batchSize: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(ImportStopped);
    expect(error.message).toBe('the import stopped after 2 rows: EIO: i/o error, read');
    expect(error.ledger.created).toBe(2);
  });
});
