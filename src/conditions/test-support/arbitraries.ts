// fast-check arbitraries for the condition language, shared by every property test (the predicate's
// and the SQL agreement tests): schemas, stored contacts, valid condition JSON and whole documents.
//
// Everything is drawn from fast-check's random source, so a run is reproduced by its seed. Values
// are drawn from a small per-document pool (texts, numbers, instants, days, spans) so that
// conditions and contacts meet: `eq` finds its text, `within_last` its boundary.
//
// Texts never hold U+0000 or a lone surrogate: a database cannot store them (PostgreSQL refuses
// NUL; UTF-8 cannot encode a lone surrogate), and validation refuses them in conditions.
import fc from 'fast-check';
import type { StoredValue, StoredValues } from '../contact-values.js';
import { STANDARD_ATTRIBUTES } from '../schema.js';
import type { AttributeDef, AttributeType, ConditionJson, Operator, Schema } from '../types.js';
import { CONTRACT_LIMITS, OPERATORS_BY_TYPE, TYPES, UNIT_MS, contractFold } from './contract.js';
import { localDate, nextDayText, referenceDayStart } from './reference.js';

// ---- documents --------------------------------------------------------------------------------

export const TIME_ZONES = [
  'UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kathmandu',
] as const;

export interface StoredContact {
  readonly id: string;
  /** As ingest leaves them: text as given, enum option, number, date as UTC ms, boolean, list. */
  readonly values: StoredValues;
}

export interface ConditionDocument {
  readonly schema: Schema;
  readonly timeZone: string;
  /** UTC ms, a whole number. */
  readonly now: number;
  readonly contacts: readonly StoredContact[];
  /** Valid for `schema` (validate with the default options: `segments` as a list). */
  readonly condition: ConditionJson;
}

export interface Span { readonly amount: number; readonly unit: keyof typeof UNIT_MS }

/** The values one document draws from, so that its conditions and contacts meet. */
export interface ValuePool {
  readonly timeZone: string;
  readonly now: number;
  readonly texts: readonly string[];
  readonly numbers: readonly number[];
  readonly spans: readonly Span[];
  /** Days (`YYYY-MM-DD`) near `now` and days of a DST change in the zone. */
  readonly days: readonly string[];
  /** Instants (UTC ms): `now`, `now ± span` and the days' first and last instants, each ± 1 ms, and a few others. */
  readonly instants: readonly number[];
}

export interface DocumentOptions {
  readonly timeZones?: readonly string[];
  readonly maxContacts?: number;
  readonly maxDepth?: number;
  /** Use `segments` as an ordinary list attribute in contacts and conditions (a standalone document). */
  readonly segments?: boolean;
}

export function arbitraryDocument(options: DocumentOptions = {}): fc.Arbitrary<ConditionDocument> {
  return arbitraryPool(options.timeZones).chain((pool) =>
    arbitrarySchema({ segments: options.segments }).chain((schema) =>
      fc.record({
        contacts: arbitraryContacts(schema, pool, { maxLength: options.maxContacts }),
        condition: arbitraryCondition(schema, pool, { maxDepth: options.maxDepth }),
      }).map(({ contacts, condition }) => ({ schema, timeZone: pool.timeZone, now: pool.now, contacts, condition }))));
}

// ---- time -------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const iso = (text: string) => Date.parse(text);
const YEAR_1 = iso('0001-01-01T00:00:00Z');
const YEAR_9999 = iso('9999-01-01T00:00:00Z');

/** Instants where a zone's offset changes (and the skipped midnight of Santiago 2022-09-11). */
export const DST_CHANGES: Readonly<Record<string, readonly string[]>> = {
  'America/New_York': ['2025-03-09T07:00:00Z', '2025-11-02T06:00:00Z'],
  'Australia/Lord_Howe': ['2025-04-05T15:00:00Z', '2025-10-04T15:30:00Z'],
  'America/Santiago': ['2022-09-11T04:00:00Z', '2025-04-06T03:00:00Z'],
  'Asia/Kathmandu': ['1985-12-31T18:30:00Z'],
};

export const arbitraryTimeZone = (zones: readonly string[] = TIME_ZONES) => fc.constantFrom(...zones);

/** A whole-millisecond `now`: any moment from 1990 to 2035, or within days of a DST change. */
export function arbitraryNow(timeZone: string): fc.Arbitrary<number> {
  const changes = [...(DST_CHANGES[timeZone] ?? []), '2025-03-09T07:00:00Z'].map(iso);
  return fc.oneof(
    fc.integer({ min: iso('1990-01-01T00:00:00Z'), max: iso('2035-01-01T00:00:00Z') }),
    fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS })).map(([c, d]) => c + d),
    fc.constantFrom(...changes),
  );
}

// ---- texts ------------------------------------------------------------------------------------

/**
 * Texts that trip a careless comparison: case, NFKC (ligatures, full-width letters, ohm, roman
 * numerals), Turkish dotted and dotless i, ß and capital ẞ, decomposed accents, the characters
 * LIKE, GLOB and regular expressions treat as patterns, and white space inside a text.
 */
export const TEXT_TRAPS: readonly string[] = [
  'Platinum', 'platinum', 'PLATINUM', 'ÉLODIE', 'élodie', 'e\u0301lodie', 'Élodie', 'elodie',
  'ﬁle', 'FILE', 'ＡＢＣ', 'abc', 'Ω', '\u2126', 'Ⅻ', 'xii', 'ǅ',
  'İstanbul', 'istanbul', 'ISTANBUL', 'ıstanbul', 'i\u0307stanbul',
  'Straße', 'STRASSE', 'strasse', 'STRAẞE',
  '%', '_', '\\', '*', '.', '?', '[a]', '^$', 'a%b', 'a_b', 'axb', 'a.b', 'a*b', 'a\\b', '100%', "o'brien",
  ' x', 'x ', 'x y', 'x\ty', '😀', 'vip', 'VIP', 'lead',
];

/** Blank texts: empty after JavaScript's `trim` (so missing), but not empty. */
export const BLANK_TEXTS: readonly string[] = ['', ' ', '   ', '\t\n', '\u00a0', '\u3000', '\ufeff', '\u2028', ' \r\n '];

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A text a database can store: no NUL, no lone surrogate. */
export const isStorable = (s: string): boolean => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

/** Any text worth comparing: traps, traps joined, and short random Unicode. */
export const arbitraryText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TEXT_TRAPS) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...TEXT_TRAPS), { minLength: 2, maxLength: 3 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
).filter((s) => isStorable(s) && s.length <= 200);

const swapAsciiCase = (s: string) => s.replace(/[a-z]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));

/** Spellings of `s`: itself, upper and lower case, NFKC and NFKD forms, ASCII case swapped. Not all fold equal to `s`. */
export function spellings(s: string): string[] {
  const all = [s, s.toUpperCase(), s.toLowerCase(), s.normalize('NFKC'), s.normalize('NFKD'), swapAsciiCase(s)];
  return [...new Set(all)].filter((v) => isStorable(v) && v.length <= CONTRACT_LIMITS.textLength);
}

/** Spellings of `s` that the contract says compare equal to it (same `fold`). */
export function foldEqualSpellings(s: string): string[] {
  return spellings(s).filter((v) => contractFold(v) === contractFold(s));
}

const arbitrarySpelling = (texts: readonly string[]) => fc.constantFrom(...texts).chain((t) => fc.constantFrom(...spellings(t)));

/** A non-empty piece of one of `texts` (whole code points), in one of its spellings: what `contains` looks for. */
function arbitraryPiece(texts: readonly string[]): fc.Arbitrary<string> {
  const pieces = fc.constantFrom(...texts).chain((t) => {
    const points = Array.from(t); // whole code points: no lone surrogates
    if (points.length === 0) return fc.constant('x');
    return fc.tuple(fc.nat(points.length - 1), fc.nat(points.length - 1)).chain(([a, b]) => {
      const piece = points.slice(Math.min(a, b), Math.max(a, b) + 1).join('');
      return fc.constantFrom(...spellings(piece).filter((p) => p.length > 0), piece);
    });
  });
  return fc.oneof({ weight: 4, arbitrary: pieces }, { weight: 1, arbitrary: fc.constantFrom('%', '_', '\\', '*', '.', ' ') });
}

// ---- pool -------------------------------------------------------------------------------------

const arbitraryNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(0, 1, -1, 0.1, 0.2, 0.30000000000000004, 0.3, 999.99, 1e15, -(2 ** 53), 2 ** 53, 1e-7),
  fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
);

const arbitrarySpan: fc.Arbitrary<Span> = fc.record({
  amount: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(1, 7, 30, 90, CONTRACT_LIMITS.relativeAmount)),
  unit: fc.constantFrom('minutes', 'hours', 'days', 'weeks'),
});

const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function arbitraryPool(zones: readonly string[] = TIME_ZONES): fc.Arbitrary<ValuePool> {
  return arbitraryTimeZone(zones).chain((timeZone) => arbitraryNow(timeZone).chain((now) => fc.record({
    texts: fc.uniqueArray(arbitraryText, { minLength: 2, maxLength: 6 }),
    numbers: fc.uniqueArray(arbitraryNumber, { minLength: 2, maxLength: 6 }),
    spans: fc.uniqueArray(arbitrarySpan, { minLength: 1, maxLength: 3, selector: (s) => `${s.amount} ${s.unit}` }),
    nearDays: fc.uniqueArray(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 3 }),
    farDays: fc.array(fc.integer({ min: -400, max: 400 }), { maxLength: 2 }),
    others: fc.array(fc.integer({ min: -2 * 365 * DAY_MS, max: 2 * 365 * DAY_MS }), { maxLength: 3 }),
  }).map((r): ValuePool => {
    const today = localDate(now, timeZone);
    const dstDays = (DST_CHANGES[timeZone] ?? []).map((c) => localDate(iso(c), timeZone));
    const days = [...new Set([
      ...r.nearDays.map((k) => dayText(iso(`${today}T00:00:00Z`) + k * DAY_MS)),
      ...r.farDays.map((k) => dayText(now + k * DAY_MS)),
      ...dstDays,
    ])];
    const points = [now, ...r.spans.flatMap((s) => [now - s.amount * UNIT_MS[s.unit], now + s.amount * UNIT_MS[s.unit]])];
    const edges = days.flatMap((d) => [referenceDayStart(d, timeZone), referenceDayStart(nextDayText(d), timeZone)]);
    const instants = [...new Set([...points, ...edges].flatMap((t) => [t - 1, t, t + 1]).concat(r.others.map((o) => now + o)))]
      .filter((t) => t >= YEAR_1 && t < YEAR_9999);
    return { timeZone, now, texts: r.texts, numbers: r.numbers, spans: r.spans, days, instants };
  })));
}

// ---- schemas ----------------------------------------------------------------------------------

const RESERVED = new Set(['id', 'segments', 'channel', 'topic', 'inbox', 'priority', 'status', 'team', 'assignee']);
const TAKEN = new Set([...RESERVED, ...STANDARD_ATTRIBUTES.map((a) => a.key)]);

// `constructor` is a valid key that every plain object already has (from Object.prototype).
const arbitraryKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,63}$/) },
  { weight: 1, arbitrary: fc.constantFrom('constructor', 'a', 'z'.repeat(64)) },
).filter((k) => !TAKEN.has(k));

const arbitraryOption: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('Free', 'Pro', 'Enterprise', 'ÉLITE', 'Gold', 'ﬁne', 'Straße', 'İstanbul', 'a_b', '100%', ' padded '),
  arbitraryText,
).filter((s) => s.trim() !== '');

/** One custom attribute of the given type (enum with 1–5 options, distinct after `fold`). */
export function arbitraryAttribute(type: AttributeType): fc.Arbitrary<AttributeDef> {
  const options = type === 'enum'
    ? fc.uniqueArray(arbitraryOption, { minLength: 1, maxLength: 5, selector: contractFold }).map((o) => ({ options: o }))
    : fc.constant({});
  return fc.record({ key: arbitraryKey, options, enabled: fc.constantFrom(undefined, true) })
    .map(({ key, options: o, enabled }) => ({ key, type, ...o, ...(enabled === undefined ? {} : { enabled }) }));
}

/** The standard attributes, one custom attribute of every type, and up to three more. */
export function arbitrarySchema(options: { segments?: boolean } = {}): fc.Arbitrary<Schema> {
  return fc.tuple(
    fc.tuple(...TYPES.map(arbitraryAttribute)),
    fc.array(fc.constantFrom(...TYPES).chain(arbitraryAttribute), { maxLength: 3 }),
  ).map(([each, more]) => {
    const custom = new Map<string, AttributeDef>();
    for (const a of [...each, ...more]) if (!custom.has(a.key)) custom.set(a.key, a);
    const segments: AttributeDef[] = options.segments ? [{ key: 'segments', type: 'list' }] : [];
    return [...STANDARD_ATTRIBUTES, ...custom.values(), ...segments];
  });
}

const usable = (schema: Schema) => schema.filter((a) => a.enabled !== false);

// ---- contacts ---------------------------------------------------------------------------------

/** A stored value of one attribute: present, `null`, or (texts) blank; `undefined` stands for absent. */
export function arbitraryStoredValue(def: AttributeDef, pool: ValuePool): fc.Arbitrary<StoredValue | null | undefined> {
  const missing = fc.constantFrom(undefined, null);
  const present: fc.Arbitrary<StoredValue> = (() => {
    switch (def.type) {
      case 'text': return fc.oneof({ weight: 4, arbitrary: arbitrarySpelling(pool.texts) }, { weight: 1, arbitrary: fc.constantFrom(...BLANK_TEXTS) });
      case 'enum': return fc.constantFrom(...(def.options ?? ['x']));
      case 'number': return fc.constantFrom(...pool.numbers);
      case 'date': return fc.constantFrom(...pool.instants);
      case 'boolean': return fc.boolean();
      case 'list': return fc.oneof(
        { weight: 4, arbitrary: fc.array(arbitrarySpelling(pool.texts), { maxLength: 4 }) }, // [] is missing
        { weight: 1, arbitrary: fc.constantFrom([' '], ['', 'vip']) }, // a blank element is still an element
      );
    }
  })();
  return fc.oneof({ weight: 4, arbitrary: present }, { weight: 1, arbitrary: missing });
}

export function arbitraryContact(schema: Schema, pool: ValuePool, id: string): fc.Arbitrary<StoredContact> {
  const fields = Object.fromEntries(schema.map((a) => [a.key, arbitraryStoredValue(a, pool)]));
  return fc.record(fields).map((all) => {
    const values: Record<string, StoredValue | null> = {};
    for (const [k, v] of Object.entries(all)) if (v !== undefined) values[k] = v; // undefined: the key is absent
    return { id, values };
  });
}

/** Contacts `c0`, `c1`, … */
export function arbitraryContacts(schema: Schema, pool: ValuePool, options: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<StoredContact[]> {
  return fc.integer({ min: options.minLength ?? 1, max: options.maxLength ?? 8 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbitraryContact(schema, pool, `c${i}`))));
}

// ---- conditions -------------------------------------------------------------------------------

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/**
 * An instant as a condition writes it: with `Z` or an offset, with seconds and milliseconds only
 * when needed (or always), e.g. `2025-03-04T10:00Z`, `2025-03-04T15:45:00.000+05:45`.
 */
export function formatConditionInstant(ms: number, offsetMinutes: number, full: boolean): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const [date, time] = [local.slice(0, 10), local.slice(11, 23)];
  let clock = time;
  if (!full) clock = time.endsWith(':00.000') ? time.slice(0, 5) : time.endsWith('.000') ? time.slice(0, 8) : time;
  const zone = offsetMinutes === 0 && !full ? 'Z' : `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
  return `${date}T${clock}${zone}`;
}

const OFFSETS = [0, -300, -240, 330, 345, -180, 630, 840, -720];

function arbitraryDateValue(pool: ValuePool): fc.Arbitrary<string> {
  const instant = fc.tuple(fc.constantFrom(...pool.instants), fc.constantFrom(...OFFSETS), fc.boolean())
    .map(([ms, offset, full]) => formatConditionInstant(ms, offset, full));
  return fc.oneof(fc.constantFrom(...pool.days), instant);
}

/** A value of the shape `op` takes on `def`, drawn from the pool (enum values: options in any spelling). */
export function arbitraryValue(def: AttributeDef, op: Operator, pool: ValuePool): fc.Arbitrary<unknown> {
  const texts = def.type === 'enum'
    ? fc.constantFrom(...(def.options ?? [])).chain((o) => fc.constantFrom(...foldEqualSpellings(o)))
    : fc.oneof({ weight: 5, arbitrary: arbitrarySpelling(pool.texts) }, { weight: 1, arbitrary: fc.constantFrom(...BLANK_TEXTS) });
  const number = fc.constantFrom(...pool.numbers);
  switch (op) {
    case 'is_empty': case 'is_not_empty':
      return fc.constant(undefined);
    case 'contains': case 'not_contains':
      if (def.type === 'list') { // an element, mostly: list contains is element equality
        const element = arbitrarySpelling(pool.texts).filter((t) => t.length > 0);
        return fc.oneof({ weight: 3, arbitrary: element }, { weight: 1, arbitrary: arbitraryPiece(pool.texts) });
      }
      return arbitraryPiece(pool.texts);
    case 'starts_with': case 'ends_with':
      return arbitraryPiece(pool.texts);
    case 'in': case 'not_in':
      return def.type === 'number' ? fc.array(number, { minLength: 1, maxLength: 4 }) : fc.array(texts, { minLength: 1, maxLength: 4 });
    case 'within_last': case 'older_than': case 'within_next':
      return fc.constantFrom(...pool.spans);
    case 'between':
      return def.type === 'number'
        ? fc.tuple(number, number).map(([a, b]) => [Math.min(a, b), Math.max(a, b)])
        : fc.tuple(arbitraryDateValue(pool), arbitraryDateValue(pool)); // from after to is allowed
  }
  switch (def.type) { // eq neq gt gte lt lte
    case 'text': case 'enum': return texts;
    case 'number': return number;
    case 'date': return arbitraryDateValue(pool);
    case 'boolean': return fc.boolean();
    case 'list': throw new Error(`${op} does not apply to a list`);
  }
}

/** A rule on any usable attribute: a type first (so the many standard texts do not crowd out the rest), then an attribute of it. */
export function arbitraryRule(schema: Schema, pool: ValuePool): fc.Arbitrary<ConditionJson> {
  const attributes = usable(schema);
  const types = [...new Set(attributes.map((a) => a.type))];
  const attribute = fc.constantFrom(...types).chain((t) => fc.constantFrom(...attributes.filter((a) => a.type === t)));
  return attribute.chain((def) => fc.constantFrom(...OPERATORS_BY_TYPE[def.type]).chain((op) =>
    fc.tuple(arbitraryValue(def, op, pool), fc.boolean()).map(([value, nullValue]): ConditionJson => {
      if (value !== undefined) return { attr: def.key, op, value };
      return nullValue ? { attr: def.key, op, value: null } : { attr: def.key, op }; // "value": null counts as none
    })));
}

export interface ConditionOptions {
  /** Deepest group nesting (the contract allows 8; the outermost group is depth 1). */
  readonly maxDepth?: number;
}

/**
 * A valid condition: rules, `all` / `any` groups (empty ones too) and `not`, nested up to `maxDepth`.
 * Groups at depth 1–3 hold up to three children, deeper ones at most one, so a condition has at
 * most 27 rules, well within the contract's 200.
 */
export function arbitraryCondition(schema: Schema, pool: ValuePool, options: ConditionOptions = {}): fc.Arbitrary<ConditionJson> {
  const maxDepth = Math.min(options.maxDepth ?? CONTRACT_LIMITS.depth, CONTRACT_LIMITS.depth);
  const rule = arbitraryRule(schema, pool);
  const node = (depth: number): fc.Arbitrary<ConditionJson> => {
    if (depth >= maxDepth) return rule;
    const inner = fc.constant(null).chain(() => node(depth + 1)); // built lazily: recursion
    const children = fc.array(inner, { maxLength: depth < 3 ? 3 : 1 });
    const groupWeight = depth < 3 ? 2 : 1;
    return fc.oneof(
      { weight: 4, arbitrary: rule },
      { weight: groupWeight, arbitrary: children.map((c): ConditionJson => ({ all: c })) },
      { weight: groupWeight, arbitrary: children.map((c): ConditionJson => ({ any: c })) },
      { weight: groupWeight, arbitrary: inner.map((c): ConditionJson => ({ not: c })) },
    );
  };
  return node(0);
}
