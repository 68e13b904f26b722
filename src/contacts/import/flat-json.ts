// A JSON Lines row is nearly always a flat object: keys to strings, numbers, booleans, null and
// lists of strings. `FlatReader` reads exactly that shape, and gives up (undefined) on anything
// else — an escape sequence, a control character, a nested object, a list of non-strings, a number
// outside JSON's grammar, a repeated key, text after the object — so the caller hands that line to
// JSON.parse, which reads it or says why not. Where it does answer, the answer is JSON.parse's:
// the same keys in the same order, the same values (a property test checks both on random lines).
//
// Why not JSON.parse for every line: it gives each object a hidden class from the sequence of its
// keys, and the rows of an import omit keys freely, so nearly every line makes new hidden classes
// (V8 map transitions). Parsing 431k lines of the bench file: 21 µs a line the first time they are
// seen, 10 µs when parsed again (the classes exist then); this reader took 6 µs, building
// dictionaries, which make no class at all. It was 25% of the import's reading thread.

// Character codes.
const TAB = 9, LINE_FEED = 10, RETURN = 13, SPACE = 32, QUOTE = 34, PLUS = 43, COMMA = 44, MINUS = 45, DOT = 46;
const ZERO = 48, NINE = 57, COLON = 58, UPPER_E = 69, LEFT_BRACKET = 91, BACKSLASH = 92, RIGHT_BRACKET = 93;
const LOWER_E = 101, LOWER_F = 102, LOWER_N = 110, LOWER_T = 116, LEFT_BRACE = 123, RIGHT_BRACE = 125;

/** JSON's number grammar: what `+text` reads but JSON does not (`0x1f`, `.5`, `1.`, `+1`, `01`, `Infinity`) is not a number here. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export type FlatValue = string | number | boolean | null | string[];

/** A flat object read: its keys in order (what Object.keys would list) and their values, side by side. */
export interface FlatObject {
  readonly keys: readonly string[];
  readonly values: readonly FlatValue[];
}

/** Slots of the table of keys seen (a power of two), the slots a key may take from its hash, the longest key kept. */
const KEY_SLOTS = 256;
const KEY_PROBES = 4;
const LONGEST_KEPT_KEY = 64;

/**
 * Reads lines of flat objects (see above). Each line's keys and values come as two arrays, not as
 * an object: keyed writes into a dictionary, and the keyed reads of it by the row's checks and its
 * coercion, were 15% of an import's reading thread. A key repeated in a line — where JSON.parse
 * keeps the first place and the last value — is found through a table of the keys seen on earlier
 * lines (the same few keys, line after line), each marked with the last line it was read in; that
 * line goes to JSON.parse.
 */
export class FlatReader {
  private readonly known: string[] = new Array<string>(KEY_SLOTS).fill('');
  private readonly lastRead = new Float64Array(KEY_SLOTS);
  private lines = 0;

  /** The line's keys and values when it is a flat object with no key repeated; undefined when JSON.parse must read it. */
  read(text: string): FlatObject | undefined {
    const line = ++this.lines;
    const length = text.length;
    let i = skipSpace(text, 0);
    if (text.charCodeAt(i) !== LEFT_BRACE) return undefined;
    i = skipSpace(text, i + 1);
    const keys: string[] = [];
    const values: FlatValue[] = [];
    if (text.charCodeAt(i) === RIGHT_BRACE) return skipSpace(text, i + 1) === length ? { keys, values } : undefined;
    for (;;) {
      const keyEnd = stringEnd(text, i);
      if (keyEnd < 0) return undefined;
      // A key that is an array index ("0", "12") comes first in Object.keys, in numeric order, and
      // an own "__proto__" is an oddity of JSON.parse: no attribute is named so; leave them to it.
      const first = text.charCodeAt(i + 1);
      if (first >= ZERO && first <= NINE) return undefined;
      const key = this.key(text, i + 1, keyEnd, line, keys);
      if (key === undefined || key === '__proto__') return undefined;
      i = skipSpace(text, keyEnd + 1);
      if (text.charCodeAt(i) !== COLON) return undefined;
      i = skipSpace(text, i + 1);

      let value: FlatValue;
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (end < 0) return undefined;
        value = text.slice(i + 1, end);
        i = end + 1;
      } else if (c === LEFT_BRACKET) {
        const list: string[] = [];
        i = skipSpace(text, i + 1);
        if (text.charCodeAt(i) === RIGHT_BRACKET) i++;
        else {
          for (;;) {
            const end = stringEnd(text, i);
            if (end < 0) return undefined;
            list.push(text.slice(i + 1, end));
            i = skipSpace(text, end + 1);
            const next = text.charCodeAt(i);
            if (next === RIGHT_BRACKET) { i++; break; }
            if (next !== COMMA) return undefined;
            i = skipSpace(text, i + 1);
          }
        }
        value = list;
      } else if (c === LOWER_T && text.startsWith('true', i)) { value = true; i += 4; }
      else if (c === LOWER_F && text.startsWith('false', i)) { value = false; i += 5; }
      else if (c === LOWER_N && text.startsWith('null', i)) { value = null; i += 4; }
      else {
        let end = i;
        for (let d = c; end < length && isNumberChar(d); d = text.charCodeAt(++end));
        const number = text.slice(i, end);
        if (!JSON_NUMBER.test(number)) return undefined;
        value = Number(number);
        i = end;
      }
      keys.push(key);
      values.push(value);

      i = skipSpace(text, i);
      const next = text.charCodeAt(i);
      if (next === RIGHT_BRACE) return skipSpace(text, i + 1) === length ? { keys, values } : undefined;
      if (next !== COMMA) return undefined;
      i = skipSpace(text, i + 1);
    }
  }

  /**
   * The key between `start` and `end`, the same string each line it is read (sliced once); undefined
   * when the line has read it already. `keys`: the line's keys so far, searched for a key the
   * table has no room for.
   */
  private key(text: string, start: number, end: number, line: number, keys: readonly string[]): string | undefined {
    const length = end - start;
    if (length > 0 && length <= LONGEST_KEPT_KEY) {
      const hash = length * 31 + text.charCodeAt(start) * 17 + text.charCodeAt(end - 1) * 7 + text.charCodeAt(start + (length >> 1));
      for (let probe = 0; probe < KEY_PROBES; probe++) {
        const slot = (hash + probe) & (KEY_SLOTS - 1);
        const known = this.known[slot];
        if (known === '') {
          const key = text.slice(start, end);
          this.known[slot] = key;
          this.lastRead[slot] = line;
          return key;
        }
        if (known.length === length && text.startsWith(known, start)) {
          if (this.lastRead[slot] === line) return undefined;
          this.lastRead[slot] = line;
          return known;
        }
      }
    }
    const key = text.slice(start, end);
    return keys.includes(key) ? undefined : key;
  }
}

/** JSON's white space: space, tab, line feed, carriage return. */
function skipSpace(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === SPACE || c === TAB || c === LINE_FEED || c === RETURN; c = text.charCodeAt(++i));
  return i;
}

/** The index of the closing quote of the string opening at `i`; -1 if there is none, or an escape or control character comes first. */
function stringEnd(text: string, i: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1;
  const length = text.length;
  for (let j = i + 1; j < length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j;
    if (c === BACKSLASH || c < SPACE) return -1;
  }
  return -1;
}

function isNumberChar(c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === MINUS || c === PLUS || c === DOT || c === LOWER_E || c === UPPER_E;
}
