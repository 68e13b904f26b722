import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonLinesReader } from './json-lines-reader.js';
import type { JsonLineItem, JsonLinesReaderOptions } from './json-lines-reader.js';

function read(pieces: string[], options?: JsonLinesReaderOptions): JsonLineItem[] {
  const reader = new JsonLinesReader(options);
  return [...pieces.flatMap((p) => reader.write(p)), ...reader.end()];
}

describe('JsonLinesReader', () => {
  it('reads one object a line, LF or CRLF, with or without a last line break; blank lines are no rows', () => {
    const items = read(['{"email":"a@x"}\r\n\n  \n{"email":', '"b@x","tags":["x"]}\n{"n":null}']);
    expect(items).toEqual([
      { kind: 'object', line: 1, keys: ['email'], values: ['a@x'], text: '{"email":"a@x"}' },
      { kind: 'object', line: 4, keys: ['email', 'tags'], values: ['b@x', ['x']], text: '{"email":"b@x","tags":["x"]}' },
      { kind: 'object', line: 5, keys: ['n'], values: [null], text: '{"n":null}' },
    ]);
  });

  it('a line that is not JSON, or JSON but not an object, is malformed; the next lines are read', () => {
    const items = read(['{"a":1}\n{oops}\n[1]\nnull\n"x"\n42\n{"b":2}\n']);
    expect(items.map((i) => [i.kind, i.line])).toEqual([
      ['object', 1], ['malformed', 2], ['malformed', 3], ['malformed', 4], ['malformed', 5], ['malformed', 6], ['object', 7],
    ]);
    expect(items[1]).toMatchObject({ reason: expect.stringMatching(/^not JSON/) });
    expect(items[2]).toMatchObject({ reason: 'expected a JSON object ({"email": …}), got an array' });
    expect(items[3]).toMatchObject({ reason: expect.stringMatching(/got null/) });
  });

  it('reads a line that JSON.parse must read (a repeated key, an escape, a nested value) as JSON.parse does', () => {
    const items = read(['{"a":1,"b":2,"a":"three"}\n{"name":"O\\"Brien"}\n{"a":1,"b":2}\n{"x":{"y":1},"z":[1]}\n']);
    expect(items).toEqual([
      { kind: 'object', line: 1, keys: ['a', 'b'], values: ['three', 2], text: '{"a":1,"b":2,"a":"three"}' },
      { kind: 'object', line: 2, keys: ['name'], values: ['O"Brien'], text: '{"name":"O\\"Brien"}' },
      { kind: 'object', line: 3, keys: ['a', 'b'], values: [1, 2], text: '{"a":1,"b":2}' },
      { kind: 'object', line: 4, keys: ['x', 'z'], values: [{ y: 1 }, [1]], text: '{"x":{"y":1},"z":[1]}' },
    ]);
  });

  it('a line past maxLineChars is reported once and skipped to its end', () => {
    const items = read(['{"a":1}\n{"b":"', 'x'.repeat(30), 'y'.repeat(30), '"}\n{"c":3}'], { maxLineChars: 40 });
    expect(items.map((i) => [i.kind, i.line])).toEqual([['object', 1], ['malformed', 2], ['object', 3]]);
    expect(items[1]).toMatchObject({ reason: 'the line is longer than 40 characters' });
  });

  it('gives the same items however the input is cut', () => {
    const line = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null))).map((o) => JSON.stringify(o)),
      fc.string({ unit: fc.constantFrom('{', '}', '"', 'a', ' ', '\r'), maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n'), fc.array(fc.nat(), { maxLength: 5 }), (lines, eol, cuts) => {
        const text = lines.join(eol);
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...points].map((p, i, all) => text.slice(p, all[i + 1] ?? text.length));
        expect(read(pieces, { maxLineChars: 30 })).toEqual(read([text], { maxLineChars: 30 }));
      }),
    );
  });
});
