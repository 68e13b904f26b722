// Rows of semantics (fixture, condition, expected ids) that sql-evaluate.test.ts runs through the
// predicate, SQL on SQLite and SQL on PostgreSQL. The expected ids are written by hand from the
// contract, not computed by any evaluator.
import type { StoredValues } from '../../conditions/contact-values.js';
import { STANDARD_ATTRIBUTES } from '../../conditions/schema.js';
import type { Schema } from '../../conditions/types.js';

export interface Fixture {
  readonly name: string;
  readonly schema: Schema;
  readonly timeZone: string;
  readonly now: number;
  readonly contacts: readonly { readonly id: string; readonly values: StoredValues }[];
  readonly cases: readonly Case[];
}

export interface Case {
  readonly name: string;
  readonly condition: unknown;
  readonly expected: readonly string[];
}

const ms = (iso: string) => Date.parse(iso);
const NOW = ms('2025-03-10T12:00:00Z');
const DAY = 86_400_000;

const schema: Schema = [
  ...STANDARD_ATTRIBUTES,
  { key: 'plan', type: 'enum', options: ['Free', 'Pro'] },
  { key: 'mrr', type: 'number' },
  { key: 'renews_at', type: 'date' },
];

// A double beyond 2^53 whose shortest spelling looks like an exact 64-bit integer.
const BIG = -242789625973616930;

const people: Fixture = {
  name: 'people',
  schema,
  timeZone: 'UTC',
  now: NOW,
  contacts: [
    { id: 'a', values: { name: 'Ann', email: 'ann@example.com', company: '50% off_sale\\', tags: ['VIP', 'beta'], mrr: 100, vip: true, plan: 'Pro', renews_at: NOW - DAY } },
    { id: 'b', values: { name: 'bob', email: '', company: 'ACME', tags: [], mrr: 0, vip: false, plan: 'Free', renews_at: NOW - DAY - 1 } },
    { id: 'c', values: { name: '   ', company: null, tags: ['vip'], mrr: -3.5, renews_at: NOW + 7 * DAY } },
    { id: 'd', values: {} },
    { id: 'e', values: { name: 'ÉLODIE', company: '50X off', tags: ['%', '_'], mrr: 1e21, vip: false, segments: ['s1'] } },
    { id: 'f', values: { name: 'ﬁona', company: 'Straße', mrr: BIG, renews_at: NOW } },
  ],
  cases: [
    { name: 'text eq folds both sides', condition: { attr: 'name', op: 'eq', value: 'ANN' }, expected: ['a'] },
    { name: 'text eq folds accents by case only', condition: { attr: 'name', op: 'eq', value: 'élodie' }, expected: ['e'] },
    { name: 'text eq folds NFKC (the fi ligature)', condition: { attr: 'name', op: 'eq', value: 'FIONA' }, expected: ['f'] },
    { name: 'neq is true on missing values (blank, absent)', condition: { attr: 'name', op: 'neq', value: 'ann' }, expected: ['b', 'c', 'd', 'e', 'f'] },
    { name: 'contains % is plain text', condition: { attr: 'company', op: 'contains', value: '%' }, expected: ['a'] },
    { name: 'contains _ is plain text', condition: { attr: 'company', op: 'contains', value: '50_ off' }, expected: [] },
    { name: 'contains a text with % and _', condition: { attr: 'company', op: 'contains', value: '% OFF_' }, expected: ['a'] },
    { name: 'starts_with %', condition: { attr: 'company', op: 'starts_with', value: '50%' }, expected: ['a'] },
    { name: 'ends_with a backslash', condition: { attr: 'company', op: 'ends_with', value: '\\' }, expected: ['a'] },
    { name: 'ends_with longer than every value', condition: { attr: 'company', op: 'ends_with', value: 'a much longer text than any company' }, expected: [] },
    { name: 'starts_with a multi-byte text', condition: { attr: 'company', op: 'starts_with', value: 'STRAß' }, expected: ['f'] },
    { name: 'ends_with a multi-byte text', condition: { attr: 'name', op: 'ends_with', value: 'Die' }, expected: ['e'] },
    { name: 'ß is not folded to ss', condition: { attr: 'company', op: 'eq', value: 'strasse' }, expected: [] },
    { name: 'not_contains is true on missing values', condition: { attr: 'company', op: 'not_contains', value: '%' }, expected: ['b', 'c', 'd', 'e', 'f'] },
    { name: 'text in', condition: { attr: 'name', op: 'in', value: ['ANN', 'Bob', 'zed'] }, expected: ['a', 'b'] },
    { name: 'text not_in', condition: { attr: 'name', op: 'not_in', value: ['ann'] }, expected: ['b', 'c', 'd', 'e', 'f'] },
    { name: 'is_empty: blank, null and absent texts', condition: { attr: 'name', op: 'is_empty' }, expected: ['c', 'd'] },
    { name: 'is_not_empty: an empty text is missing', condition: { attr: 'email', op: 'is_not_empty' }, expected: ['a'] },
    { name: 'eq "" matches no one', condition: { attr: 'email', op: 'eq', value: '' }, expected: [] },
    { name: 'enum eq', condition: { attr: 'plan', op: 'eq', value: 'PRO' }, expected: ['a'] },
    { name: 'enum in', condition: { attr: 'plan', op: 'in', value: ['free'] }, expected: ['b'] },
    { name: 'number eq 0', condition: { attr: 'mrr', op: 'eq', value: 0 }, expected: ['b'] },
    { name: 'number neq is true on missing', condition: { attr: 'mrr', op: 'neq', value: 0 }, expected: ['a', 'c', 'd', 'e', 'f'] },
    { name: 'number gt', condition: { attr: 'mrr', op: 'gt', value: 0 }, expected: ['a', 'e'] },
    { name: 'number lte', condition: { attr: 'mrr', op: 'lte', value: 0 }, expected: ['b', 'c', 'f'] },
    { name: 'number between is inclusive', condition: { attr: 'mrr', op: 'between', value: [-3.5, 100] }, expected: ['a', 'b', 'c'] },
    { name: 'number in, with a double past 2^53', condition: { attr: 'mrr', op: 'in', value: [100, 1e21, BIG] }, expected: ['a', 'e', 'f'] },
    { name: 'number not_in', condition: { attr: 'mrr', op: 'not_in', value: [100] }, expected: ['b', 'c', 'd', 'e', 'f'] },
    { name: 'boolean eq false: missing is neither', condition: { attr: 'vip', op: 'eq', value: false }, expected: ['b', 'e'] },
    { name: 'boolean neq true is true on missing', condition: { attr: 'vip', op: 'neq', value: true }, expected: ['b', 'c', 'd', 'e', 'f'] },
    { name: 'boolean is_empty', condition: { attr: 'vip', op: 'is_empty' }, expected: ['c', 'd', 'f'] },
    { name: 'list contains folds', condition: { attr: 'tags', op: 'contains', value: 'Vip' }, expected: ['a', 'c'] },
    { name: 'list not_contains is true on an empty list', condition: { attr: 'tags', op: 'not_contains', value: 'vip' }, expected: ['b', 'd', 'e', 'f'] },
    { name: 'list contains _ is plain text', condition: { attr: 'tags', op: 'contains', value: '_' }, expected: ['e'] },
    { name: 'list in', condition: { attr: 'tags', op: 'in', value: ['BETA', '%'] }, expected: ['a', 'e'] },
    { name: 'list not_in', condition: { attr: 'tags', op: 'not_in', value: ['beta', '%'] }, expected: ['b', 'c', 'd', 'f'] },
    { name: 'list is_empty: empty and absent', condition: { attr: 'tags', op: 'is_empty' }, expected: ['b', 'd', 'f'] },
    { name: 'segments as a list given with the contact', condition: { attr: 'segments', op: 'contains', value: 's1' }, expected: ['e'] },
    { name: 'relative: within_last includes now − span', condition: { attr: 'renews_at', op: 'within_last', value: { amount: 1, unit: 'days' } }, expected: ['a', 'f'] },
    { name: 'relative: older_than is strictly before now − span', condition: { attr: 'renews_at', op: 'older_than', value: { amount: 24, unit: 'hours' } }, expected: ['b'] },
    { name: 'relative: within_next includes now + span', condition: { attr: 'renews_at', op: 'within_next', value: { amount: 1, unit: 'weeks' } }, expected: ['c', 'f'] },
    { name: 'inactive or never seen', condition: { any: [{ attr: 'renews_at', op: 'older_than', value: { amount: 1, unit: 'days' } }, { attr: 'renews_at', op: 'is_empty' }] }, expected: ['b', 'd', 'e'] },
    { name: 'an empty all matches everyone', condition: { all: [] }, expected: ['a', 'b', 'c', 'd', 'e', 'f'] },
    { name: 'an empty any matches no one', condition: { any: [] }, expected: [] },
    { name: 'not of an empty any', condition: { not: { any: [] } }, expected: ['a', 'b', 'c', 'd', 'e', 'f'] },
    {
      name: 'nested groups with negatives over missing values',
      condition: { all: [{ not: { attr: 'vip', op: 'eq', value: true } }, { any: [{ attr: 'mrr', op: 'lt', value: 0 }, { attr: 'tags', op: 'is_empty' }] }] },
      expected: ['b', 'c', 'd', 'f'],
    },
  ],
};

const at = (id: string, iso: string) => ({ id, values: { last_interaction_at: ms(iso) } });

/** 9 March 2025 is New York's spring-forward day (23 hours); 2 November its fall-back day (25). */
const newYork: Fixture = {
  name: 'days in America/New_York',
  schema: STANDARD_ATTRIBUTES,
  timeZone: 'America/New_York',
  now: NOW,
  contacts: [
    at('n1', '2025-03-09T04:59:59.999Z'), at('n2', '2025-03-09T05:00:00.000Z'),
    at('n3', '2025-03-10T03:59:59.999Z'), at('n4', '2025-03-10T04:00:00.000Z'),
    at('m1', '2025-11-02T03:59:59.999Z'), at('m2', '2025-11-02T04:00:00.000Z'),
    at('m3', '2025-11-03T04:59:59.999Z'), at('m4', '2025-11-03T05:00:00.000Z'),
    { id: 'none', values: {} },
  ],
  cases: [
    { name: 'eq a 23-hour day', condition: { attr: 'last_interaction_at', op: 'eq', value: '2025-03-09' }, expected: ['n2', 'n3'] },
    { name: 'neq a day is true on missing', condition: { attr: 'last_interaction_at', op: 'neq', value: '2025-03-09' }, expected: ['n1', 'n4', 'm1', 'm2', 'm3', 'm4', 'none'] },
    { name: 'gt: after the day ends', condition: { attr: 'last_interaction_at', op: 'gt', value: '2025-03-09' }, expected: ['n4', 'm1', 'm2', 'm3', 'm4'] },
    { name: 'gte: from the day starts', condition: { attr: 'last_interaction_at', op: 'gte', value: '2025-03-09' }, expected: ['n2', 'n3', 'n4', 'm1', 'm2', 'm3', 'm4'] },
    { name: 'lt: before the day starts', condition: { attr: 'last_interaction_at', op: 'lt', value: '2025-03-09' }, expected: ['n1'] },
    { name: 'lte: until the day ends', condition: { attr: 'last_interaction_at', op: 'lte', value: '2025-03-09' }, expected: ['n1', 'n2', 'n3'] },
    { name: 'eq a 25-hour day', condition: { attr: 'last_interaction_at', op: 'eq', value: '2025-11-02' }, expected: ['m2', 'm3'] },
    { name: 'between two days, inclusive', condition: { attr: 'last_interaction_at', op: 'between', value: ['2025-03-10', '2025-11-02'] }, expected: ['n4', 'm1', 'm2', 'm3'] },
    { name: 'between an instant and a day', condition: { attr: 'last_interaction_at', op: 'between', value: ['2025-03-09T05:00:00Z', '2025-03-09'] }, expected: ['n2', 'n3'] },
    { name: 'between with from after to matches no one', condition: { attr: 'last_interaction_at', op: 'between', value: ['2025-03-10', '2025-03-09'] }, expected: [] },
    { name: 'eq an instant', condition: { attr: 'last_interaction_at', op: 'eq', value: '2025-03-09T00:00:00-05:00' }, expected: ['n2'] },
  ],
};

const kolkata: Fixture = {
  name: 'days in Asia/Kolkata (+05:30)',
  schema: STANDARD_ATTRIBUTES,
  timeZone: 'Asia/Kolkata',
  now: NOW,
  contacts: [
    at('k1', '2025-03-08T18:29:59.999Z'), at('k2', '2025-03-08T18:30:00.000Z'),
    at('k3', '2025-03-09T18:29:59.999Z'), at('k4', '2025-03-09T18:30:00.000Z'),
  ],
  cases: [
    { name: 'eq a day', condition: { attr: 'last_interaction_at', op: 'eq', value: '2025-03-09' }, expected: ['k2', 'k3'] },
    { name: 'gt a day', condition: { attr: 'last_interaction_at', op: 'gt', value: '2025-03-09' }, expected: ['k4'] },
    { name: 'lt a day', condition: { attr: 'last_interaction_at', op: 'lt', value: '2025-03-09' }, expected: ['k1'] },
  ],
};

/** São Paulo moved its clocks at midnight on 4 November 2018: that day began at 01:00 (03:00Z). */
const saoPaulo: Fixture = {
  name: 'a day without a local midnight (America/Sao_Paulo)',
  schema: STANDARD_ATTRIBUTES,
  timeZone: 'America/Sao_Paulo',
  now: NOW,
  contacts: [at('s1', '2018-11-04T02:59:59.999Z'), at('s2', '2018-11-04T03:00:00.000Z'), at('s3', '2018-11-05T01:59:59.999Z'), at('s4', '2018-11-05T02:00:00.000Z')],
  cases: [
    { name: 'eq the day starts at its first instant', condition: { attr: 'last_interaction_at', op: 'eq', value: '2018-11-04' }, expected: ['s2', 's3'] },
    { name: 'eq the day before runs up to it', condition: { attr: 'last_interaction_at', op: 'eq', value: '2018-11-03' }, expected: ['s1'] },
  ],
};

const many = Array.from({ length: 10_000 }, (_, i) => `Member ${i}`);
const manyNumbers = Array.from({ length: 10_000 }, (_, i) => i * 1.5);

const bigIn: Fixture = {
  name: 'in with 10,000 elements',
  schema,
  timeZone: 'UTC',
  now: NOW,
  contacts: [
    { id: 'x1', values: { name: 'member 0', mrr: 3, tags: ['MEMBER 9999'] } },
    { id: 'x2', values: { name: 'MEMBER 9999', mrr: 14_998.5 } },
    { id: 'x3', values: { name: 'member 10000', mrr: 1.25, tags: ['other'] } },
    { id: 'x4', values: {} },
  ],
  cases: [
    { name: 'text in', condition: { attr: 'name', op: 'in', value: many }, expected: ['x1', 'x2'] },
    { name: 'text not_in', condition: { attr: 'name', op: 'not_in', value: many }, expected: ['x3', 'x4'] },
    { name: 'number in', condition: { attr: 'mrr', op: 'in', value: manyNumbers }, expected: ['x1', 'x2'] },
    { name: 'list in', condition: { attr: 'tags', op: 'in', value: many }, expected: ['x1'] },
    { name: 'list not_in', condition: { attr: 'tags', op: 'not_in', value: many }, expected: ['x2', 'x3', 'x4'] },
  ],
};

export const FIXTURES: readonly Fixture[] = [people, newYork, kolkata, saoPaulo, bigIn];
