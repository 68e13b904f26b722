// A JSON Lines row is nearly always a flat object: keys to strings, numbers, booleans, null and
// lists of strings. `readFlat` reads exactly that shape into a null-prototype object, and
// gives up (undefined) on anything else — an escape sequence, a control character, a nested
// object, a list of non-strings, a number outside JSON's grammar, text after the object — so the
// caller hands that line to JSON.parse, which reads it or says why not. Where it does answer, the
// answer is JSON.parse's: the same keys in the same order (a repeated key keeps its first place and
// its last value), the same values (a property test checks both on random lines).
//
// Why not JSON.parse for every line: it gives each object a hidden class from the sequence of its
// keys, and the rows of an import omit keys freely, so nearly every line makes new hidden classes
// (V8 map transitions). Parsing 431k lines of the bench file: 21 µs a line the first time they are
// seen, 10 µs when parsed again (the classes exist then); this reader takes 6 µs, and its objects,
// built as dictionaries, make no class at all. It was 25% of the import's reading thread.

// Character codes.
const TAB = 9, LINE_FEED = 10, RETURN = 13, SPACE = 32, QUOTE = 34, PLUS = 43, COMMA = 44, MINUS = 45, DOT = 46;
const ZERO = 48, NINE = 57, COLON = 58, UPPER_E = 69, LEFT_BRACKET = 91, BACKSLASH = 92, RIGHT_BRACKET = 93;
const LOWER_E = 101, LOWER_F = 102, LOWER_N = 110, LOWER_T = 116, LEFT_BRACE = 123, RIGHT_BRACE = 125;

/** JSON's number grammar: what `+text` reads but JSON does not (`0x1f`, `.5`, `1.`, `+1`, `01`, `Infinity`) is not a number here. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export type FlatValue = string | number | boolean | null | string[];

/** A flat object read, with its keys in order: what Object.keys would list, read without it (see readFlat). */
export interface FlatObject {
  readonly object: Record<string, FlatValue>;
  readonly keys: readonly string[];
}

/**
 * The line's object when it is a flat object (see above), with its keys in order; undefined when
 * JSON.parse must read it. Object.keys of a dictionary sorts its entries by their order of
 * insertion (it was 8% of an import's reading thread, called three times a row); the keys are
 * known here as they are read.
 */
export function readFlat(text: string): FlatObject | undefined {
  const length = text.length;
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== LEFT_BRACE) return undefined;
  i = skipSpace(text, i + 1);
  const object = Object.create(null) as Record<string, FlatValue>;
  const keys: string[] = [];
  // A key that is an array index ("0", "12") comes first in Object.keys, in numeric order: such a
  // line (no attribute is named so) takes its keys from Object.keys.
  let indexKeys = false;
  if (text.charCodeAt(i) === RIGHT_BRACE) return skipSpace(text, i + 1) === length ? { object, keys } : undefined;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return undefined;
    const key = text.slice(i + 1, keyEnd);
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
    // An own "__proto__" is what JSON.parse makes too, but leave that oddity to it.
    if (key === '__proto__') return undefined;
    if (object[key] === undefined) keys.push(key); // a repeated key keeps its first place
    object[key] = value;
    const first = key.charCodeAt(0);
    if (first >= ZERO && first <= NINE) indexKeys = true;

    i = skipSpace(text, i);
    const next = text.charCodeAt(i);
    if (next === RIGHT_BRACE) return skipSpace(text, i + 1) === length ? { object, keys: indexKeys ? Object.keys(object) : keys } : undefined;
    if (next !== COMMA) return undefined;
    i = skipSpace(text, i + 1);
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
