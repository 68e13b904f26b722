import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePredicate } from './compile-predicate.js';
import { createLayout, prepareContact } from './contact-values.js';
import { arbitraryContacts, arbitraryDocument, arbitraryPool, arbitrarySchema, arbitraryText, foldEqualSpellings } from './test-support/arbitraries.js';
import type { ConditionDocument, StoredContact } from './test-support/arbitraries.js';
import { ALL_OPERATORS, NEGATIVE_TWINS, RELATIVE_OPERATORS, UNIT_MS, contractFold } from './test-support/contract.js';
import { referenceEvaluate } from './test-support/reference.js';
import { evaluateWithPredicate } from './test-support/run-cases.js';
import type { ConditionJson, Schema } from './types.js';
import { validate } from './validate.js';

// Failing seeds are kept as rows in cases.ts ("regressions found by the property tests").
const RUNS = { numRuns: 1000 };

function compile(doc: Pick<ConditionDocument, 'schema' | 'timeZone'>, condition: unknown) {
  const result = validate(doc.schema, condition);
  if (!result.ok) throw new Error(`invalid: ${JSON.stringify(result.issues)} in ${JSON.stringify(condition)}`);
  const layout = createLayout(doc.schema);
  const predicate = compilePredicate(result.condition, layout, { timeZone: doc.timeZone });
  return {
    test: (c: StoredContact, now: number) => predicate.test(prepareContact(layout, c.values), now),
    nextChange: (c: StoredContact, now: number) => predicate.nextChange(prepareContact(layout, c.values), now),
  };
}

const ids = (doc: Pick<ConditionDocument, 'schema' | 'timeZone' | 'now' | 'contacts'>, condition: unknown) => {
  const result = validate(doc.schema, condition);
  if (!result.ok) throw new Error(`invalid: ${JSON.stringify(result.issues)} in ${JSON.stringify(condition)}`);
  return evaluateWithPredicate({ ...doc, condition: result.condition });
};

/** Rewrites every rule of a condition. */
function mapRules(c: ConditionJson, f: (rule: Extract<ConditionJson, { attr: string }>) => ConditionJson): ConditionJson {
  if ('all' in c) return { all: c.all.map((x) => mapRules(x, f)) };
  if ('any' in c) return { any: c.any.map((x) => mapRules(x, f)) };
  if ('not' in c) return { not: mapRules(c.not, f) };
  return f(c);
}

describe('the predicate', () => {
  it('agrees with the reference reading of the contract', () => {
    fc.assert(fc.property(arbitraryDocument(), (doc) => {
      expect(ids(doc, doc.condition)).toEqual(referenceEvaluate(doc, doc.condition));
    }), { numRuns: 2000 });
  });

  // Wrapping in `not` adds a level: these draw conditions one level short of the limit.
  const shallower = arbitraryDocument({ maxDepth: 7 });

  it('splits the contacts between a condition and its not', () => {
    fc.assert(fc.property(shallower, (doc) => {
      const inside = new Set(ids(doc, doc.condition));
      const outside = ids(doc, { not: doc.condition });
      expect(outside.filter((id) => inside.has(id))).toEqual([]);
      expect(inside.size + outside.length).toBe(doc.contacts.length);
    }), RUNS);
  });

  it('reads neq, not_contains, not_in and is_not_empty as not of their twins, and the twins as not of them', () => {
    const TWINS = Object.fromEntries(Object.entries(NEGATIVE_TWINS).flatMap(([neg, pos]) => [[neg, pos], [pos, neg]])) as Record<string, string>;
    fc.assert(fc.property(shallower, (doc) => {
      const flipped = mapRules(doc.condition, (r) => (TWINS[r.op] ? { not: { ...r, op: TWINS[r.op] } as ConditionJson } : r));
      expect(ids(doc, flipped)).toEqual(ids(doc, doc.condition));
    }), RUNS);
  });

  it('gives the same answer for texts that fold equal, in contacts and in conditions', () => {
    fc.assert(fc.property(arbitraryDocument(), fc.integer(), (doc, seed) => {
      const pick = choose(seed);
      const respell = (s: string) => pick(foldEqualSpellings(s));
      const types = new Map(createLayout(doc.schema).attributes.map((a) => [a.key, a.type]));
      const contacts = doc.contacts.map((c) => ({
        id: c.id,
        values: Object.fromEntries(Object.entries(c.values).map(([k, v]) => [k,
          types.get(k) === 'text' && typeof v === 'string' ? respell(v) : types.get(k) === 'list' && Array.isArray(v) ? v.map(respell) : v])),
      }));
      const condition = mapRules(doc.condition, (r) => {
        const type = types.get(r.attr);
        if (type !== 'text' && type !== 'enum' && type !== 'list') return r;
        const value = typeof r.value === 'string' ? respell(r.value) : Array.isArray(r.value) ? r.value.map((v: string) => respell(v)) : r.value;
        return { ...r, value } as ConditionJson;
      });
      expect(ids({ ...doc, contacts }, condition)).toEqual(ids(doc, doc.condition));
    }), RUNS);
  });
});

describe('fold', () => {
  it('matches an upper-cased text with its lower-cased spelling wherever the two fold equal', () => {
    const schema: Schema = [{ key: 't', type: 'text' }, { key: 'l', type: 'list' }];
    const cases = fc.tuple(arbitraryText, fc.constantFrom('eq', 'contains', 'starts_with', 'ends_with', 'in'), fc.boolean());
    fc.assert(fc.property(cases, ([s, op, upperInContact]) => {
      const [upper, lower] = [s.toUpperCase(), s.toLowerCase()];
      fc.pre(contractFold(upper) === contractFold(lower) && lower.length > 0 && upper.length <= 1000);
      const [stored, written] = upperInContact ? [upper, lower] : [lower, upper];
      const doc = { schema, timeZone: 'UTC', now: 0, contacts: [{ id: 'c', values: { t: stored, l: [stored] } }] };
      const expected = stored.trim() === '' ? [] : ['c'];
      expect(ids(doc, { attr: 't', op, value: op === 'in' ? [written] : written } as ConditionJson)).toEqual(expected);
      if (op === 'eq' || op === 'in') expect(ids(doc, { attr: 'l', op: op === 'eq' ? 'contains' : 'in', value: op === 'in' ? [written] : written } as ConditionJson)).toEqual(['c']);
    }), { numRuns: 1000 });
  });
});

/** A deterministic choice from a seed (mulberry32), so fast-check's seed reproduces a run. */
function choose(seed: number) {
  let a = seed >>> 0;
  return <T>(items: readonly T[]): T => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return items[(((t ^ (t >>> 14)) >>> 0) % items.length)];
  };
}

describe('nextChange', () => {
  /**
   * A contact's result can only change where a relative rule flips: at t − span, t, t + 1 or
   * t + span + 1 for one of its dates t and one of the condition's spans. Checking every such
   * instant finds the real first change exactly.
   */
  function firstRealChange(doc: ConditionDocument, test: (c: StoredContact, now: number) => boolean, contact: StoredContact): number {
    const spans = new Set<number>([0]);
    JSON.stringify(doc.condition, (_, v) => {
      if (v && typeof v === 'object' && typeof v.amount === 'number' && typeof v.unit === 'string') spans.add(v.amount * UNIT_MS[v.unit as keyof typeof UNIT_MS]);
      return v;
    });
    const dates = Object.values(contact.values).filter((v): v is number => typeof v === 'number');
    const candidates = [...new Set(dates.flatMap((t) => [...spans].flatMap((s) => [t - s, t - s + 1, t, t + 1, t + s, t + s + 1])))]
      .filter((p) => p > doc.now).sort((x, y) => x - y);
    const before = test(contact, doc.now);
    return candidates.find((p) => test(contact, p) !== before) ?? Infinity;
  }

  it('is never later than the first real change (any condition)', () => {
    fc.assert(fc.property(arbitraryDocument(), (doc) => {
      const { test, nextChange } = compile(doc, doc.condition);
      for (const contact of doc.contacts) {
        const h = nextChange(contact, doc.now);
        expect(h).toBeGreaterThan(doc.now);
        expect(h).toBeLessThanOrEqual(firstRealChange(doc, test, contact));
        if (Number.isFinite(h)) expect(test(contact, h - 1)).toBe(test(contact, doc.now));
      }
    }), { numRuns: 1000 });
  });

  const relativeRule = arbitraryPool().chain((pool) => arbitrarySchema().chain((schema) => fc.record({
    contacts: arbitraryContacts(schema, pool),
    attr: fc.constantFrom(...schema.filter((a) => a.type === 'date').map((a) => a.key)),
    op: fc.constantFrom(...RELATIVE_OPERATORS),
    span: fc.constantFrom(...pool.spans),
    negate: fc.boolean(),
  }).map((r): ConditionDocument => {
    const rule = { attr: r.attr, op: r.op, value: r.span } as ConditionJson;
    return { schema, timeZone: pool.timeZone, now: pool.now, contacts: r.contacts, condition: r.negate ? { not: rule } : rule };
  })));

  it('is exactly the instant a single relative rule flips (and the result does flip there)', () => {
    fc.assert(fc.property(relativeRule, (doc) => {
      const { test, nextChange } = compile(doc, doc.condition);
      for (const contact of doc.contacts) {
        const h = nextChange(contact, doc.now);
        expect(h).toBe(firstRealChange(doc, test, contact));
        if (Number.isFinite(h)) {
          expect(test(contact, h - 1)).toBe(test(contact, doc.now));
          expect(test(contact, h)).not.toBe(test(contact, doc.now));
        }
      }
    }), { numRuns: 1000 });
  });

  it('flips within_last 30 days at t + 30 days + 1 ms (the contract\'s example)', () => {
    const schema: Schema = [{ key: 'seen', type: 'date' }];
    const t = Date.parse('2025-10-01T12:00:00Z');
    const doc = { schema, timeZone: 'UTC' };
    const { test, nextChange } = compile(doc, { attr: 'seen', op: 'within_last', value: { amount: 30, unit: 'days' } });
    const contact = { id: 'a', values: { seen: t } };
    const flip = t + 30 * 86_400_000 + 1;
    expect(nextChange(contact, t - 5)).toBe(t); // not yet within: it enters at t
    expect(nextChange(contact, t)).toBe(flip);
    expect([test(contact, flip - 1), test(contact, flip)]).toEqual([true, false]);
    expect(nextChange(contact, flip)).toBe(Infinity);
    expect(nextChange({ id: 'b', values: {} }, t)).toBe(Infinity); // a missing date never flips
  });
});

describe('validate', () => {
  const schema = fc.sample(arbitrarySchema(), { numRuns: 1, seed: 7 })[0];
  const pool = fc.sample(arbitraryPool(), { numRuns: 1, seed: 7 })[0];
  const contacts = fc.sample(arbitraryContacts(schema, pool, { minLength: 8, maxLength: 8 }), { numRuns: 1, seed: 7 })[0];
  const layout = createLayout(schema);
  const prepared = contacts.map((c) => prepareContact(layout, c.values));

  /** Validation never throws; what it accepts compiles and evaluates without throwing. */
  function check(input: unknown) {
    const result = validate(schema, input);
    if (result.ok) {
      const predicate = compilePredicate(result.condition, layout, { timeZone: pool.timeZone });
      for (const c of prepared) {
        expect(typeof predicate.test(c, pool.now)).toBe('boolean');
        expect(predicate.nextChange(c, pool.now)).toBeGreaterThan(pool.now);
      }
    } else {
      expect(result.issues.length).toBeGreaterThan(0);
      for (const issue of result.issues) expect(typeof issue.path).toBe('string');
    }
  }

  it('never throws on any JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 1000 });
  });

  it('never throws on any JavaScript value', () => {
    fc.assert(fc.property(fc.anything({
      withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true,
      withObjectString: true, withTypedArray: true, withSparseArray: true,
    }), check), { numRuns: 1000 });
  });

  const keys = [...schema.map((a) => a.key), 'segments', 'colour'];
  const rules = fc.record({
    attr: fc.constantFrom(...keys), op: fc.constantFrom(...ALL_OPERATORS, 'equals'),
    value: fc.oneof(fc.jsonValue(), fc.constantFrom(...pool.days), fc.constantFrom(...pool.spans)),
  }, { requiredKeys: ['attr', 'op'] });

  it('never throws on rules with any value, and evaluates the ones it accepts', () => {
    fc.assert(fc.property(fc.oneof(rules, fc.array(rules).map((all) => ({ all }))), check), { numRuns: 2000 });
  });

  it('never throws on a valid condition with one part replaced', () => {
    const part = fc.oneof(fc.jsonValue(), rules, fc.constantFrom(undefined, null, [], {}, 'all', { all: [] }));
    fc.assert(fc.property(arbitraryDocument(), fc.nat(), part, (doc, at, replacement) => {
      check(replaceOne(doc.condition, at, replacement));
    }), { numRuns: 1000 });
  });

  it('accepts every condition the arbitraries make (they stay within the contract)', () => {
    fc.assert(fc.property(arbitraryDocument(), (doc) => {
      expect(validate(doc.schema, doc.condition)).toMatchObject({ ok: true });
    }), RUNS);
  });
});

/** A copy of `json` with its `at`-th node (counting every object, array and value, depth first) replaced. */
function replaceOne(json: unknown, at: number, replacement: unknown): unknown {
  let count = 0;
  let target = -1;
  const size = (v: unknown): number => 1 + (v && typeof v === 'object' ? Object.values(v).reduce((n: number, x) => n + size(x), 0) : 0);
  target = at % size(json);
  const walk = (v: unknown): unknown => {
    if (count++ === target) return replacement;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(json);
}
