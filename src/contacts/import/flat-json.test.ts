import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlatReader } from './flat-json.js';

/** One reader for every line of a test, as an import reads its lines: its table of keys seen carries over. */
let reader = new FlatReader();
const readFlat = (text: string) => reader.read(text);

/** The object a FlatReader reads (its keys and values as an object), undefined where it leaves the line to JSON.parse. */
function readFlatObject(text: string): Record<string, unknown> | undefined {
  const read = readFlat(text);
  if (read === undefined) return undefined;
  expect(read.values.length).toBe(read.keys.length);
  return Object.fromEntries(read.keys.map((key, i) => [key, read.values[i]]));
}

/** JSON.parse's verdict: the value, or that it throws. */
function parsed(text: string): { value: unknown } | 'throws' {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return 'throws';
  }
}

/**
 * Where readFlat answers, its answer is JSON.parse's: the same keys in the same order, the same
 * values (-0 included); and the keys it gives are those keys.
 */
function expectAgreement(text: string): void {
  const read = readFlat(text);
  if (read === undefined) return;
  const reference = parsed(text);
  expect(reference, `JSON.parse throws on ${JSON.stringify(text)}, which the reader read`).not.toBe('throws');
  const value = (reference as { value: Record<string, unknown> }).value;
  expect(read.keys).toEqual(Object.keys(value));
  expect(read.values.length).toBe(read.keys.length);
  for (const [i, key] of read.keys.entries()) {
    const a = read.values[i], b = value[key];
    if (Array.isArray(b)) expect(a).toEqual(b);
    else expect(Object.is(a, b), `${key}: ${String(a)} against ${String(b)}`).toBe(true);
  }
}

const space = fc.string({ unit: fc.constantFrom(' ', '\t', '\r', '\n'), maxLength: 2 });
const key = fc.oneof(
  fc.constantFrom('id', 'email', 'name', 'tags', 'mrr', '', '0', '12', '__proto__', 'constructor', 'toString', 'a b', 'é', '"q"', 'back\\slash'),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('O\'Brien', 'tab\there', 'new\nline', '\u2028', '\ud800', '\\', '"'));
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 0.1, 123456789012345680000));
const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(text, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), scalar, { maxKeys: 2 }) },
);

/** A JSON text of the members (keys may repeat), with random white space between tokens. */
const objectText = fc.tuple(fc.array(fc.tuple(key, value, space, space, space, space), { maxLength: 8 }), space, space).map(([members, before, after]) => {
  const body = members.map(([k, v, s1, s2, s3, s4]) => {
    const json = JSON.stringify(v) ?? 'null'; // a number that JSON writes as null (NaN) stays valid
    const spaced = Array.isArray(v) ? json.replace(/,/g, `${s4},${s4}`).replace(/^\[/, `[${s4}`) : json;
    return `${s1}${JSON.stringify(k)}${s2}:${s3}${spaced}${s4}`;
  }).join(',');
  return `${before}{${body}}${after}`;
});

describe('FlatReader', () => {
  it('reads what JSON.parse reads, the same keys in the same order and the same values, on random objects', () => {
    let read = 0;
    fc.assert(fc.property(objectText, (line) => { if (readFlatObject(line) !== undefined) read++; expectAgreement(line); }), { numRuns: 3000 });
    expect(read).toBeGreaterThan(600); // it does answer: most lines without escapes or nesting
  });

  it('never reads a line JSON.parse refuses: random lines cut, doubled or with a character changed', () => {
    const edited = fc.tuple(objectText, fc.nat(), fc.nat(), fc.constantFrom('', ',', '}', '{', '"', ':', '[', ']', '-', '.', 'e', '0', '+', '\\', ' ', 'x', '\u0001', '\v', '\f', '\u00a0', '\ufeff'))
      .map(([line, at, length, insert]) => {
        const i = line.length === 0 ? 0 : at % (line.length + 1);
        return line.slice(0, i) + insert + line.slice(i + (length % 3));
      });
    fc.assert(fc.property(edited, (line) => { expectAgreement(line); }), { numRuns: 5000 });
  });

  it('reads numbers by JSON\'s grammar only, and the values JSON.parse gives them', () => {
    const valid = ['0', '-0', '1', '-1', '10', '1.5', '-0.25', '1e5', '1E5', '1e+5', '1e-5', '1.5e10', '0.1e-7', '1E400', '-1e400', '123456789012345678901234567890', '5e-325'];
    const invalid = ['01', '-01', '1.', '.5', '+1', '-', '1e', '1e+', '0x1f', '1_000', '--1', '1.2.3', '1e5e5', '- 1', '00', '1ee5', '.', 'e5'];
    for (const n of valid) {
      const flat = readFlatObject(`{"n":${n}}`);
      expect(flat, n).toBeDefined();
      expect(Object.is(flat!.n, JSON.parse(n)), n).toBe(true);
    }
    for (const n of invalid) {
      expect(readFlatObject(`{"n":${n}}`), n).toBeUndefined();
      expect(() => JSON.parse(`{"n":${n}}`), n).toThrow();
    }
    for (const word of ['Infinity', 'NaN', 'nul', 'tru', 'fals', 'True', 'undefined']) expect(readFlatObject(`{"n":${word}}`), word).toBeUndefined();
  });

  it('leaves to JSON.parse what is not a flat object of plain strings', () => {
    for (const line of [
      '{"name":"O\\"Brien"}', '{"name":"caf\\u00e9"}', '{"a":"tab\there"}', '{"a":{"b":1}}', '{"a":[1,2]}', '{"a":["x",1]}',
      '{"__proto__":"x"}', '[1]', 'null', '"x"', '42', '', '{', '{"a":1', '{"a":1,}', '{"a" 1}', '{"a":1}}', '{"a":1} x', '{a:1}', "{'a':1}", '\ufeff{"a":1}',
    ]) expect(readFlatObject(line), line).toBeUndefined();
  });

  it('leaves a line with a repeated key to JSON.parse (which keeps its first place and its last value), on any line after any other', () => {
    expect(readFlat('{"a":1,"b":2,"a":"three"}')).toBeUndefined();
    expect(readFlat('{"a":1,"b":2}')).toEqual({ keys: ['a', 'b'], values: [1, 2] }); // the keys seen before are read again
    expect(readFlat('{"b":1,"b":2}')).toBeUndefined();
    expect(readFlat('{"":1,"":2}')).toBeUndefined();
    const long = 'k'.repeat(100);
    expect(readFlat(`{"${long}":1,"${long}":2}`)).toBeUndefined(); // a key too long for the table
    expect(readFlatObject(' { } ')).toEqual({});
    expect(readFlatObject('{"tags":[ ],"x":[ "a" , "b" ]}')).toEqual({ tags: [], x: ['a', 'b'] });
  });

  it('finds a repeated key however full its table is: many keys of one hash, and more keys than it holds', () => {
    reader = new FlatReader();
    // Keys of one length, first, middle and last character: the same slot of the table for all.
    const alike = Array.from({ length: 12 }, (_, i) => `a${String.fromCharCode(98 + i)}${String.fromCharCode(98 + i)}a`.replace(/^(a)(.)(.)(a)$/, (_m, a, b, c, d) => `${a}${b}x${c}${d}`));
    const many = Array.from({ length: 600 }, (_, i) => `key_${i}`);
    for (const keys of [alike, many, [...alike, ...many]]) {
      for (let round = 0; round < 2; round++) {
        const line = `{${keys.map((k, i) => `"${k}":${i}`).join(',')}}`;
        expect(readFlat(line)?.keys).toEqual(keys);
        for (const at of [0, Math.floor(keys.length / 2), keys.length - 1]) {
          expect(readFlat(`{${keys.map((k, i) => `"${k}":${i}`).join(',')},"${keys[at]}":"again"}`), keys[at]).toBeUndefined();
        }
      }
    }
  });

  it('agrees with JSON.parse on lines of few keys, repeated or not, read one after the other by one reader', () => {
    reader = new FlatReader();
    const few = fc.array(fc.tuple(fc.constantFrom('id', 'email', 'name', 'tags', 'a', 'b', 'ab', 'ba', 'k'.repeat(70)), fc.oneof(fc.stringMatching(/^[a-z ]{0,3}$/), fc.integer(), fc.constant(null))), { maxLength: 6 })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
    let read = 0, repeated = 0;
    fc.assert(fc.property(fc.array(few, { minLength: 1, maxLength: 5 }), (lines) => {
      for (const line of lines) {
        const keys = Object.keys(JSON.parse(line) as object);
        const members = (line.match(/":/g) ?? []).length;
        if (keys.length < members) { repeated++; expect(readFlat(line), line).toBeUndefined(); } else { read++; expectAgreement(line); expect(readFlat(line), line).toBeDefined(); }
      }
    }), { numRuns: 1000 });
    expect(read).toBeGreaterThan(500);
    expect(repeated).toBeGreaterThan(200);
  });
});
