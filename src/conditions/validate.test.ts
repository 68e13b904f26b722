import { describe, expect, it } from 'vitest';
import { STANDARD_ATTRIBUTES } from './schema.js';
import { ALL_OPERATORS, CONTRACT_LIMITS, OPERATORS_BY_TYPE, TYPES } from './test-support/contract.js';
import type { AttributeType, Operator, Schema } from './types.js';
import { usesDayValues, validate } from './validate.js';
import type { ValidateOptions } from './validate.js';

const schema: Schema = [
  ...STANDARD_ATTRIBUTES,
  { key: 'plan', type: 'enum', options: ['Free', 'Pro', 'ÉLITE'] },
  { key: 'mrr', type: 'number' },
  { key: 'renews_at', type: 'date' },
  { key: 'legacy_score', type: 'number', enabled: false },
];

/** The paths of the issues, or [] when the condition is valid. */
function paths(input: unknown, options?: ValidateOptions): string[] {
  const result = validate(schema, input, options);
  if (!result.ok) expect(result.issues.length, 'an invalid condition has at least one issue').toBeGreaterThan(0);
  return result.ok ? [] : result.issues.map((i) => i.path);
}

const rule = (attr: string, op: string, value?: unknown) => (value === undefined ? { attr, op } : { attr, op, value });
const date = (value: unknown, op = 'eq') => rule('renews_at', op, value);

describe('paths', () => {
  it.each([
    ['a rule at the root', rule('colour', 'eq', 'red'), 'attr'],
    ['a rule inside any and all', { any: [rule('name', 'eq', 'x'), { all: [rule('mrr', 'gt', 'ten')] }] }, 'any[1].all[0].value'],
    ['a rule inside not', { not: rule('colour', 'eq', 'x') }, 'not.attr'],
    ['an element of an in array', { all: [rule('mrr', 'in', [1, 2, '3'])] }, 'all[0].value[2]'],
    ['a bound of between', { all: [{ all: [rule('mrr', 'between', [1, '2'])] }] }, 'all[0].all[0].value[1]'],
    ['a field of a relative date', { not: { any: [date({ amount: 0, unit: 'days' }, 'within_last')] } }, 'not.any[0].value.amount'],
  ])('names %s', (_, input, path) => {
    expect(paths(input)).toEqual([path]);
  });

  it('reports every problem, each at its path', () => {
    expect(paths({ all: [rule('colour', 'eq', 'x'), rule('mrr', 'gt', 'x'), rule('name', 'equals', 'x')] }))
      .toEqual(['all[0].attr', 'all[1].value', 'all[2].op']);
  });

  it('keeps the path on each node of a valid condition', () => {
    const result = validate(schema, { any: [rule('name', 'eq', 'x'), { all: [rule('mrr', 'gt', 1)] }] });
    expect(result).toMatchObject({ ok: true, condition: { path: '', children: [{ path: 'any[0]' }, { path: 'any[1]', children: [{ path: 'any[1].all[0]' }] }] } });
  });
});

describe('attributes', () => {
  it.each([
    ['an unknown attribute', rule('colour', 'eq', 'red')],
    ['a key with an upper-case letter', rule('Name', 'eq', 'x')],
    ['the reserved key id', rule('id', 'eq', 'x')],
    ['a conversation field outside a conversation schema', rule('channel', 'eq', 'x')],
    ['a number for an attribute', rule(5 as unknown as string, 'eq', 'x')],
  ])('refuses %s at attr', (_, input) => {
    expect(paths(input)).toEqual(['attr']);
  });

  it('refuses a rule with no attr', () => {
    expect(paths({ op: 'eq', value: 1 })).toEqual(['attr']);
  });

  it('refuses a disabled attribute in a new definition', () => {
    expect(paths({ all: [rule('name', 'eq', 'x'), rule('legacy_score', 'gt', 1)] })).toEqual(['all[1].attr']);
    expect(paths(rule('legacy_score', 'gt', 1), { previouslyUsed: new Set(['mrr']) })).toEqual(['attr']);
  });

  it('keeps a disabled attribute that the previous version used', () => {
    expect(paths({ all: [rule('name', 'eq', 'x'), rule('legacy_score', 'gt', 1)] }, { previouslyUsed: new Set(['legacy_score']) })).toEqual([]);
  });
});

describe('operators', () => {
  const attrOf: Record<AttributeType, string> = { text: 'name', enum: 'plan', number: 'mrr', date: 'renews_at', boolean: 'vip', list: 'tags' };
  const valueFor = (type: AttributeType, op: Operator): unknown => {
    if (op === 'is_empty' || op === 'is_not_empty') return undefined;
    if (op === 'in' || op === 'not_in') return type === 'number' ? [1] : ['Pro'];
    if (op === 'between') return type === 'number' ? [1, 2] : ['2025-01-01', '2025-02-01'];
    if (op === 'within_last' || op === 'older_than' || op === 'within_next') return { amount: 1, unit: 'days' };
    if (op === 'contains' || op === 'not_contains' || op === 'starts_with' || op === 'ends_with') return 'Pro';
    return { text: 'x', enum: 'Pro', number: 1, date: '2025-01-01', boolean: true, list: 'x' }[type];
  };

  it.each(TYPES)('on %s: exactly the operators of the contract\'s table', (type) => {
    for (const op of ALL_OPERATORS) {
      const found = paths(rule(attrOf[type], op, valueFor(type, op)));
      expect(found, `${op} on ${type}`).toEqual(OPERATORS_BY_TYPE[type].includes(op) ? [] : ['op']);
    }
  });

  it.each([
    ['an unknown operator', rule('name', 'equals', 'x')],
    ['an operator in upper case', rule('name', 'EQ', 'x')],
    ['no operator', { attr: 'name', value: 'x' }],
    ['an operator that is not a text', rule('name', 1 as unknown as string, 'x')],
  ])('refuses %s at op', (_, input) => {
    expect(paths(input)).toEqual(['op']);
  });

  it('names an unknown operator as written, and the operators the attribute takes', () => {
    const result = validate(schema, rule('vip', 'is_true'));
    expect(result.ok ? [] : result.issues).toEqual([{ path: 'op', message: 'unknown operator "is_true"; a boolean attribute takes eq, neq, is_empty, is_not_empty' }]);
    const unknownAttribute = validate(schema, rule('colour', 'is_red'));
    expect(unknownAttribute.ok ? [] : unknownAttribute.issues.map((i) => i.message)).toEqual(['unknown attribute "colour"', 'unknown operator "is_red"']);
  });
});

describe('values: no coercion', () => {
  it.each([
    ['"5" for a number', rule('mrr', 'eq', '5')],
    ['a boolean for a number', rule('mrr', 'gt', true)],
    ['"true" for a boolean', rule('vip', 'eq', 'true')],
    ['1 for a boolean', rule('vip', 'eq', 1)],
    ['a number for a text', rule('name', 'eq', 5)],
    ['an array for a text', rule('name', 'eq', ['x'])],
    ['an object for a text', rule('name', 'contains', { text: 'x' })],
    ['milliseconds for a date', date(1741082400000)],
    ['a Date-like object for a date', date({ year: 2025 })],
    ['an array for list contains', rule('tags', 'contains', ['a'])],
    ['a text for in', rule('name', 'in', 'a')],
    ['a number for enum eq', rule('plan', 'eq', 1)],
    ['one number for between', rule('mrr', 'between', [1])],
    ['three numbers for between', rule('mrr', 'between', [1, 2, 3])],
    ['a text for between', rule('mrr', 'between', '1..2')],
    ['a text for a relative date', date('30 days', 'within_last')],
    ['a number for a relative date', date(30, 'older_than')],
    ['NaN', rule('mrr', 'eq', NaN)],
    ['Infinity', rule('mrr', 'gt', Infinity)],
    ['-Infinity', rule('mrr', 'lt', -Infinity)],
    ['eq with no value', rule('name', 'eq')],
    ['eq with a null value', rule('name', 'eq', null)],
    ['an empty in array', rule('name', 'in', [])],
    ['an empty not_in array of numbers', rule('mrr', 'not_in', [])],
    ['an empty in array on a list', rule('tags', 'in', [])],
    ['contains ""', rule('name', 'contains', '')],
    ['not_contains ""', rule('name', 'not_contains', '')],
    ['starts_with ""', rule('name', 'starts_with', '')],
    ['ends_with ""', rule('name', 'ends_with', '')],
    ['list contains ""', rule('tags', 'contains', '')],
    ['numbers between low > high', rule('mrr', 'between', [5, 1])],
    ['an enum value that is not an option', rule('plan', 'eq', 'Gold')],
    ['an enum value with a space the option does not have', rule('plan', 'eq', ' Pro')],
    ['a text with NUL (a database cannot store it)', rule('name', 'eq', 'a\u0000b')],
    ['a text with a lone surrogate', rule('name', 'contains', 'a\ud800')],
    ['is_empty with a value', rule('name', 'is_empty', 'x')],
    ['is_empty with false', rule('vip', 'is_empty', false)],
    ['is_empty with ""', rule('name', 'is_empty', '')],
    ['is_not_empty with []', rule('tags', 'is_not_empty', [])],
  ])('refuses %s at value', (_, input) => {
    expect(paths(input)).toEqual(['value']);
  });

  it.each([
    ['an element of a number in', rule('mrr', 'in', [1, '2']), 'value[1]'],
    ['NaN in an in array', rule('mrr', 'in', [1, NaN]), 'value[1]'],
    ['Infinity as a between bound', rule('mrr', 'between', [0, Infinity]), 'value[1]'],
    ['an enum in element that is not an option', rule('plan', 'in', ['pro', 'Gold']), 'value[1]'],
    ['a date between bound', date(['2025-01-01', 5], 'between'), 'value[1]'],
  ])('refuses %s at its element', (_, input, path) => {
    expect(paths(input)).toEqual([path]);
  });

  it.each([
    ['eq "" on text (it matches no one)', rule('name', 'eq', '')],
    ['contains " " (white space counts)', rule('name', 'contains', ' ')],
    ['is_empty with "value": null', rule('name', 'is_empty', null)],
    ['is_not_empty with "value": null', rule('mrr', 'is_not_empty', null)],
    ['numbers between low = high', rule('mrr', 'between', [1, 1])],
    ['negative zero', rule('mrr', 'eq', -0)],
    ['an enum value compared folded', rule('plan', 'in', ['élite', 'PRO', 'free'])],
    ['a date between whose from is after its to', date(['2025-03-05', '2025-03-04'], 'between')],
    ['a date between of instants, from after to', date(['2025-03-05T00:00:00Z', '2025-03-04T00:00:00Z'], 'between')],
    ['a date between mixing a day and an instant', date(['2025-03-04', '2025-03-04T10:00:00+04:00'], 'between')],
  ])('accepts %s', (_, input) => {
    expect(paths(input)).toEqual([]);
  });
});

describe('dates', () => {
  it.each([
    '2025-02-30', '2023-02-29', '1900-02-29', '2025-13-01', '2025-00-10', '2025-04-31', '2025-01-00',
    '2025-03-04T10:00:00', '2025-03-04T10:00', '2025-03-04T10:00:00.1234Z', '2025-03-04T10:00:00.Z',
    '2025-02-30T10:00:00Z', '2025-03-04T24:00:00Z', '2025-03-04T10:60:00Z', '2025-03-04T10:00:60Z',
    'March 4, 2025', '2025-3-4', '20250304', '', ' 2025-03-04', '2025-03-04 ', '+002025-03-04',
  ])('refuses %j', (value) => {
    expect(paths(date(value))).toEqual(['value']);
  });

  it.each([
    '2024-02-29', '2000-02-29', '0001-01-01', '0099-12-31', '9999-12-31',
    '2025-03-04T10:00:00Z', '2025-03-04T10:00Z', '2025-03-04T10:00:00.1Z', '2025-03-04T10:00:00.12Z',
    '2025-03-04T10:00:00.123Z', '2025-03-04T14:00:00+04:00', '2025-03-04T05:15:00-03:30', '2025-03-04T10:00:00.999+05:45',
    '0050-06-01T12:00:00Z',
  ])('accepts %j', (value) => {
    expect(paths(date(value))).toEqual([]);
  });
});

describe('relative dates', () => {
  const within = (value: unknown) => date(value, 'within_last');
  it.each([
    [{ amount: 0, unit: 'days' }, 'value.amount'],
    [{ amount: -1, unit: 'days' }, 'value.amount'],
    [{ amount: 1.5, unit: 'days' }, 'value.amount'],
    [{ amount: CONTRACT_LIMITS.relativeAmount + 1, unit: 'minutes' }, 'value.amount'],
    [{ amount: '30', unit: 'days' }, 'value.amount'],
    [{ amount: NaN, unit: 'days' }, 'value.amount'],
    [{ unit: 'days' }, 'value.amount'],
    [{ amount: 1, unit: 'months' }, 'value.unit'],
    [{ amount: 1, unit: 'Days' }, 'value.unit'],
    [{ amount: 1, unit: 'day' }, 'value.unit'],
    [{ amount: 1 }, 'value.unit'],
    [{ amount: 1, unit: 'days', from: 'now' }, 'value.from'],
  ])('refuses %j at %s', (value, path) => {
    expect(paths(within(value))).toEqual([path]);
  });

  it.each([
    { amount: 1, unit: 'minutes' }, { amount: CONTRACT_LIMITS.relativeAmount, unit: 'weeks' }, { amount: 30, unit: 'hours' },
    { amount: 2.0, unit: 'days' },
  ])('accepts %j', (value) => {
    expect(paths(within(value))).toEqual([]);
  });
});

describe('shape', () => {
  it.each([
    ['an extra key on a rule', { ...rule('name', 'eq', 'x'), extra: 1 }, 'extra'],
    ['an extra key on a nested rule', { all: [{ ...rule('name', 'eq', 'x'), note: 'hi' }] }, 'all[0].note'],
    ['an extra key on a rule without a value', { attr: 'name', op: 'is_empty', negate: true }, 'negate'],
    ['an extra key on a group', { all: [], label: 'x' }, 'label'],
    ['an extra key on a nested group', { any: [{ all: [], x: 1 }] }, 'any[0].x'],
    ['an extra key on not', { not: rule('name', 'eq', 'x'), x: 1 }, 'x'],
    ['a group with all and any', { all: [], any: [] }, 'any'],
    ['a group with any and all: the second key (docs/condition-language.md)', { any: [], all: [] }, 'all'],
    ['a group with all and not', { all: [], not: { all: [] } }, 'not'],
    ['a group that is also a rule', { all: [], attr: 'name' }, 'attr'],
    ['an empty object', {}, ''],
    ['null', null, ''],
    ['an array at the root', [], ''],
    ['a text at the root', 'name eq x', ''],
    ['null in a group', { all: [null] }, 'all[0]'],
    ['an object for all', { all: {} }, 'all'],
    ['a text for any', { any: 'x' }, 'any'],
    ['an array for not', { not: [] }, 'not'],
    ['null for not', { not: null }, 'not'],
  ])('refuses %s at its path', (_, input, path) => {
    expect(paths(input)).toContain(path);
    expect(new Set(paths(input))).toEqual(new Set([path]));
  });

  it('reports a hole in a JavaScript array (not JSON, but validate takes any value) at its path', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(paths({ any: [rule('name', 'eq', 'x'), , rule('name', 'eq', 'y')] })).toEqual(['any[1]']);
  });

  it.each([
    ['an empty all', { all: [] }],
    ['an empty any', { any: [] }],
    ['not of an empty group', { not: { any: [] } }],
  ])('accepts %s', (_, input) => {
    expect(paths(input)).toEqual([]);
  });
});

describe('limits', () => {
  const leaf = rule('name', 'eq', 'x');
  const nest = (kinds: readonly ('all' | 'any' | 'not')[], inner: unknown): unknown =>
    kinds.reduceRight((child, kind) => (kind === 'not' ? { not: child } : { [kind]: [child] }), inner);
  const pathOf = (kinds: readonly string[]) => kinds.map((k) => (k === 'not' ? 'not' : `${k}[0]`)).join('.');

  it.each([
    ['all', Array(8).fill('all')],
    ['not', Array(8).fill('not')],
    ['mixed', ['any', 'all', 'not', 'any', 'not', 'all', 'all', 'not']],
  ])('accepts groups nested 8 deep (%s)', (_, kinds) => {
    expect(paths(nest(kinds, leaf))).toEqual([]);
    expect(paths(nest(kinds, { all: [] }))).not.toEqual([]); // a ninth, empty group
  });

  it.each([
    ['all', Array(9).fill('all')],
    ['not', Array(9).fill('not')],
    ['mixed', ['any', 'all', 'not', 'any', 'not', 'all', 'all', 'not', 'any']],
  ])('refuses groups nested 9 deep (%s) at the ninth group', (_, kinds) => {
    expect(paths(nest(kinds, leaf))).toEqual([pathOf(kinds.slice(0, 8))]);
  });

  it('counts an empty group as a level', () => {
    expect(paths(nest(Array(8).fill('not'), { all: [] }))).toEqual([pathOf(Array(8).fill('not'))]);
  });

  it('accepts 200 rules and refuses 201 at the 201st', () => {
    expect(paths({ all: Array(200).fill(leaf) })).toEqual([]);
    expect(paths({ all: Array(201).fill(leaf) })).toEqual(['all[200]']);
  });

  it('counts rules across groups', () => {
    expect(paths({ any: [{ all: Array(100).fill(leaf) }, { not: { all: Array(100).fill(leaf) } }] })).toEqual([]);
    expect(paths({ any: [{ all: Array(100).fill(leaf) }, { all: Array(101).fill(leaf) }] })).toEqual(['any[1].all[100]']);
  });

  it('counts an in of 10,000 elements as one rule, and refuses 10,001 elements', () => {
    const many = Array.from({ length: CONTRACT_LIMITS.inElements }, (_, i) => `v${i}`);
    expect(paths(rule('name', 'in', many))).toEqual([]);
    expect(paths(rule('name', 'not_in', [...many, 'one more']))).toEqual(['value']);
    expect(paths(rule('mrr', 'in', Array.from({ length: CONTRACT_LIMITS.inElements + 1 }, (_, i) => i)))).toEqual(['value']);
  });

  it('measures a text by its JavaScript length, before fold', () => {
    expect(paths(rule('name', 'eq', 'a'.repeat(1000)))).toEqual([]);
    expect(paths(rule('name', 'eq', 'a'.repeat(1001)))).toEqual(['value']);
    expect(paths(rule('name', 'contains', '😀'.repeat(500)))).toEqual([]); // 1,000 UTF-16 units
    expect(paths(rule('name', 'contains', '😀'.repeat(501)))).toEqual(['value']);
    expect(paths(rule('name', 'eq', 'ﬁ'.repeat(1000)))).toEqual([]); // 2,000 characters once folded
    expect(paths(rule('tags', 'in', ['a', 'b'.repeat(1001)]))).toEqual(['value[1]']);
  });

  it('accepts a condition of exactly 1 MiB as JSON and refuses one byte more at the root', () => {
    const sized = (bytes: number) => {
      const value: string[] = [];
      const size = () => Buffer.byteLength(JSON.stringify(rule('name', 'in', value)));
      while (size() + 1003 <= bytes) value.push('a'.repeat(1000));
      value.push('b'.repeat(bytes - size() - 3)); // a comma and two quotes
      expect(size()).toBe(bytes);
      return rule('name', 'in', value);
    };
    expect(paths(sized(CONTRACT_LIMITS.jsonBytes))).toEqual([]);
    expect(paths(sized(CONTRACT_LIMITS.jsonBytes + 1))).toEqual(['']);
  });
});

describe('segments', () => {
  const known = new Set(['vip', 'churn-risk']);
  const inSegment: ValidateOptions = { segments: 'segment', isKnownSegment: (id) => known.has(id) };
  const inConversation: ValidateOptions = { segments: 'conversation', isKnownSegment: (id) => known.has(id) };
  const seg = (op: string, value?: unknown) => rule('segments', op, value);

  it.each([
    [seg('contains', 'vip')], [seg('not_contains', 'vip')], [seg('in', ['vip', 'churn-risk'])], [seg('not_in', ['churn-risk'])],
  ])('accepts %j in a segment\'s condition', (input) => {
    expect(paths(input, inSegment)).toEqual([]);
  });

  it.each([
    [seg('is_empty'), 'op'],
    [seg('is_not_empty'), 'op'],
    [seg('is_empty', null), 'op'],
    [seg('eq', 'vip'), 'op'],
    [seg('contains', 'ghost'), 'value'],
    [seg('in', ['vip', 'ghost']), 'value[1]'],
    [{ all: [seg('not_in', ['ghost'])] }, 'all[0].value[0]'],
  ])('refuses %j in a segment\'s condition at %s', (input, path) => {
    expect(paths(input, inSegment)).toEqual([path]);
  });

  it('names the four operators a segment\'s condition may use on segments, whatever the wrong one', () => {
    const takes = 'contains, not_contains, in, not_in';
    for (const [input, message] of [
      [seg('eq', 'vip'), `in a segment's condition "segments" takes ${takes} only`],
      [seg('is_empty'), `in a segment's condition "segments" takes ${takes} only`],
      [seg('has', 'vip'), `unknown operator "has"; "segments" takes ${takes}`],
    ] as const) {
      const result = validate(schema, input, inSegment);
      expect(result.ok ? [] : result.issues).toEqual([{ path: 'op', message }]);
    }
    // Restricted for another reason (an agent's filter with segments hidden from it): that reason.
    const because = validate(schema, seg('is_empty'), { ...inSegment, membershipOperatorsBecause: 'some are hidden' });
    expect(because.ok ? [] : because.issues).toEqual([{ path: 'op', message: `"segments" takes ${takes} only here: some are hidden` }]);
  });

  it('takes is_empty and is_not_empty in a conversation rule, and still checks the ids', () => {
    expect(paths({ any: [seg('is_empty'), seg('is_not_empty')] }, inConversation)).toEqual([]);
    expect(paths(seg('contains', 'ghost'), inConversation)).toEqual(['value']);
  });

  it('treats segments as an ordinary list in a standalone document', () => {
    expect(paths({ all: [seg('is_empty'), seg('contains', 'anything')] })).toEqual([]);
    expect(paths({ all: [seg('is_empty'), seg('contains', 'anything')] }, { segments: 'list' })).toEqual([]);
  });
});

describe('usesDayValues: what a change of the workspace time zone rebuilds', () => {
  const uses = (input: unknown) => {
    const result = validate(schema, input);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return usesDayValues(result.condition);
  };

  it('is true for a day anywhere a date is compared, a bound of between included, however deep', () => {
    for (const op of ['eq', 'neq', 'gt', 'gte', 'lt', 'lte']) expect(uses(date('2025-03-04', op)), op).toBe(true);
    expect(uses(date(['2025-03-04T00:00:00Z', '2025-03-05'], 'between'))).toBe(true);
    expect(uses(date(['2025-03-04', '2025-03-05T00:00:00Z'], 'between'))).toBe(true);
    expect(uses({ any: [rule('mrr', 'gt', 1), { not: { all: [date('2025-03-04', 'lt')] } }] })).toBe(true);
  });

  it('is false for instants, relative spans, emptiness and other types', () => {
    expect(uses(date('2025-03-04T10:00:00Z'))).toBe(false);
    expect(uses(date(['2025-03-04T00:00:00Z', '2025-03-05T00:00:00+04:00'], 'between'))).toBe(false);
    for (const op of ['within_last', 'older_than', 'within_next']) expect(uses(date({ amount: 3, unit: 'days' }, op)), op).toBe(false);
    expect(uses(rule('renews_at', 'is_empty'))).toBe(false);
    expect(uses({ all: [rule('name', 'eq', '2025-03-04'), rule('mrr', 'gt', 1)] })).toBe(false);
    expect(uses({ all: [] })).toBe(false);
  });
});
