import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttributeDef } from '../conditions/types.js';
import { coerceValue, listCell, splitListCell } from './coerce.js';

const def = (type: AttributeDef['type'], options?: string[]): AttributeDef => ({ key: 'x', type, ...(options && { options }) });
const value = (d: AttributeDef, v: unknown, zone = 'UTC') => {
  const r = coerceValue(d, v, zone);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const error = (d: AttributeDef, v: unknown) => {
  const r = coerceValue(d, v, 'UTC');
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(v)}, got ${JSON.stringify(r.value)}`);
  return r.message;
};

describe('coerceValue', () => {
  it('null removes a value, whatever the type', () => {
    for (const t of ['text', 'number', 'date', 'boolean', 'list'] as const) expect(value(def(t), null)).toBeNull();
    expect(value(def('enum', ['a']), null)).toBeNull();
  });

  it('text is stored as given, never trimmed; a finite number becomes its decimal text', () => {
    expect(value(def('text'), '  Ana ')).toBe('  Ana ');
    expect(value(def('text'), '   ')).toBe('   ');
    expect(value(def('text'), 12345)).toBe('12345');
    expect(error(def('text'), true)).toMatch(/expected a text/);
    expect(error(def('text'), 'a\u0000b')).toMatch(/NUL/);
    expect(error(def('text'), 'a\ud800')).toMatch(/surrogate/);
  });

  it('enum values must be an option (compared folded) and are stored as the option', () => {
    const plan = def('enum', ['Free', 'Pro']);
    expect(value(plan, 'PRO')).toBe('Pro');
    expect(value(plan, 'free')).toBe('Free');
    expect(value(plan, '  ')).toBeNull();
    expect(error(plan, 'gold')).toMatch(/"gold" is not one of Free, Pro/);
  });

  it('numbers: JSON numbers or decimal texts; "" is missing, never 0', () => {
    const n = def('number');
    expect(value(n, 120)).toBe(120);
    expect(value(n, '120')).toBe(120);
    expect(value(n, '-3.5')).toBe(-3.5);
    expect(value(n, '1e3')).toBe(1000);
    expect(value(n, ' 42 ')).toBe(42);
    expect(value(n, '.5')).toBe(0.5);
    expect(value(n, '')).toBeNull();
    for (const bad of ['abc', '0x10', 'NaN', 'Infinity', '1e999', '1,5', '12abc', true, [1]]) {
      expect(error(n, bad)).toMatch(/number/);
    }
    expect(error(n, Number.NaN)).toMatch(/finite/);
  });

  it('booleans: true/false, the texts true false yes no 1 0 in any case, and the numbers 1 and 0', () => {
    const b = def('boolean');
    expect(value(b, true)).toBe(true);
    expect(value(b, 'YES')).toBe(true);
    expect(value(b, 'No')).toBe(false);
    expect(value(b, '1')).toBe(true);
    expect(value(b, '0')).toBe(false);
    expect(value(b, 1)).toBe(true);
    expect(value(b, 0)).toBe(false);
    expect(value(b, '')).toBeNull();
    expect(error(b, 'maybe')).toMatch(/yes, no/);
    expect(error(b, 2)).toBe('expected true, false, yes, no, 1 or 0, got 2');
  });

  it('dates: an instant with Z or an offset, or a day read as its first instant in the zone', () => {
    const d = def('date');
    expect(value(d, '2025-03-04T10:00:00Z')).toBe(Date.UTC(2025, 2, 4, 10));
    expect(value(d, '2025-03-04T14:00:00+04:00')).toBe(Date.UTC(2025, 2, 4, 10));
    expect(value(d, '2025-03-04T14:00:00+0400')).toBe(Date.UTC(2025, 2, 4, 10));
    expect(value(d, '2025-03-04T10:00:00.123456Z')).toBe(Date.UTC(2025, 2, 4, 10, 0, 0, 123));
    expect(value(d, '2025-03-04')).toBe(Date.UTC(2025, 2, 4));
    expect(value(d, '2025-03-04', 'America/New_York')).toBe(Date.UTC(2025, 2, 4, 5));
    expect(value(d, '2025-03-04', 'Asia/Kolkata')).toBe(Date.UTC(2025, 2, 3, 18, 30));
    expect(value(d, '')).toBeNull();
    for (const bad of ['March 4, 2025', '2025-03-04T10:00:00', '2025-02-30', '2025-13-01', 1741082400000, '2025-03-04T25:00:00Z']) {
      expect(error(d, bad)).toMatch(/ISO-8601/);
    }
  });

  it('lists: an array of texts kept as given', () => {
    const l = def('list');
    expect(value(l, ['VIP', 'lead'])).toEqual(['VIP', 'lead']);
    expect(value(l, [])).toEqual([]);
    expect(error(l, 'vip')).toMatch(/array of texts/);
    expect(error(l, ['a', 3])).toMatch(/element \[1\]/);
  });

  it('a CSV list cell is split on ";" and blank pieces are dropped', () => {
    expect(splitListCell('vip; lead;;')).toEqual(['vip', ' lead']);
    expect(splitListCell('')).toEqual([]);
    // A JSON array of texts is read as one; what only looks like one is split as texts.
    expect(splitListCell('["Tier;Gold","vip"]')).toEqual(['Tier;Gold', 'vip']);
    expect(splitListCell('[urgent]')).toEqual(['[urgent]']);
    expect(splitListCell('[1,2]')).toEqual(['[1,2]']);
    expect(splitListCell('["a";"b"]')).toEqual(['["a"', '"b"]']);
  });

  it('a list written as a CSV cell reads back as the same texts, whatever they hold', () => {
    expect(listCell(['vip', ' lead'])).toBe('vip; lead');
    expect(listCell(['Tier;Gold'])).toBe('["Tier;Gold"]');
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(';', '[', ']', '[x]', ' ', '"', 'a;b', '[]'))), (items) => {
      const kept = items.filter((item) => item.length > 0);
      const cell = listCell(kept);
      const back = splitListCell(cell);
      // Blank texts survive only in the JSON form, which is chosen whenever one is there.
      expect(back).toEqual(kept);
    }), { numRuns: 2000 });
  });
});
