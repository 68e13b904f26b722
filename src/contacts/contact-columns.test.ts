import { describe, expect, it } from 'vitest';
import { STANDARD_ATTRIBUTES } from '../conditions/schema.js';
import { SLOT_COLUMN } from '../conditions/sql-layout.js';
import type { AttributeDef, Schema } from '../conditions/types.js';
import { InvalidStoredValue, TooManyAttributes, assignColumns, contactRow } from './contact-columns.js';

const schema: Schema = [
  ...STANDARD_ATTRIBUTES,
  { key: 'plan', type: 'enum', options: ['Free', 'Pro'] },
  { key: 'mrr', type: 'number' },
  { key: 'renews_at', type: 'date' },
  { key: 'beta', type: 'boolean' },
  { key: 'skills', type: 'list' },
  { key: 'constructor', type: 'text' },
];

describe('assignColumns', () => {
  const layout = assignColumns(schema);
  const storage = Object.fromEntries(layout.storage);

  it('gives each type its slots in schema order; text and enum share the t slots', () => {
    expect(storage).toEqual({
      email: { kind: 'column', column: 't1' }, name: { kind: 'column', column: 't2' }, company: { kind: 'column', column: 't3' },
      phone: { kind: 'column', column: 't4' }, external_id: { kind: 'column', column: 't5' }, country: { kind: 'column', column: 't6' },
      language: { kind: 'column', column: 't7' }, platform: { kind: 'column', column: 't8' }, tags: { kind: 'list' },
      created_at: { kind: 'column', column: 'd1' }, last_interaction_at: { kind: 'column', column: 'd2' },
      marketing_opt_out: { kind: 'column', column: 'b1' }, vip: { kind: 'column', column: 'b2' },
      plan: { kind: 'column', column: 't9' }, mrr: { kind: 'column', column: 'n1' }, renews_at: { kind: 'column', column: 'd3' },
      beta: { kind: 'column', column: 'b3' }, skills: { kind: 'list' }, constructor: { kind: 'column', column: 't10' },
      segments: { kind: 'list' },
    });
  });

  it('adds `segments` as a list, as the predicate layout does', () => {
    expect(layout.attributes.at(-1)).toEqual({ key: 'segments', type: 'list' });
    expect(assignColumns([{ key: 'segments', type: 'list' }]).attributes).toHaveLength(1);
  });

  it('produces only slot names of the form letter + number', () => {
    for (const s of layout.storage.values()) if (s.kind === 'column') expect(s.column).toMatch(SLOT_COLUMN);
  });

  it('names the attribute that is one too many', () => {
    const numbers: AttributeDef[] = Array.from({ length: 33 }, (_, i) => ({ key: `n_${i}`, type: 'number' }));
    expect(() => assignColumns(numbers)).toThrow(TooManyAttributes);
    expect(() => assignColumns(numbers)).toThrow(/"n_32".*at most 32 number attributes/);
    const texts: AttributeDef[] = Array.from({ length: 64 }, (_, i) => ({ key: `t_${i}`, type: i % 2 ? 'text' : 'enum', options: i % 2 ? undefined : ['a'] }));
    expect(() => assignColumns(texts)).not.toThrow();
    expect(() => assignColumns([...texts, { key: 'one_more', type: 'text' }])).toThrow(/"one_more".*64 text and enum/);
  });
});

describe('contactRow', () => {
  const layout = assignColumns(schema);

  it('stores folded text, numbers, dates, booleans as 0/1; a missing value has no slot', () => {
    const values = {
      name: 'ÉLODIE', email: '   ', company: null, plan: 'Pro', mrr: 12.5, renews_at: 1_741_046_400_000, vip: false, beta: true,
      unknown_key: 'no slot: not in the layout',
    };
    const { contact, lists } = contactRow(layout, 'w1', 'c1', values);
    expect(contact).toEqual({
      workspace_id: 'w1', id: 'c1',
      slots: { t2: 'élodie', t9: 'pro', n1: 12.5, d3: 1_741_046_400_000, b2: 0, b3: 1 },
    });
    expect(lists).toEqual([]);
  });

  it('writes one row per distinct folded list element; an empty list has none', () => {
    const { lists } = contactRow(layout, 'w1', 'c1', { tags: ['VIP', 'vip', 'Beta', ''], skills: [], segments: ['s1'] });
    expect(lists).toEqual([
      { attr: 'tags', value: 'vip' }, { attr: 'tags', value: 'beta' }, { attr: 'tags', value: '' }, { attr: 'segments', value: 's1' },
    ]);
  });

  it('refuses a value of the wrong shape, naming the contact and the attribute', () => {
    expect(() => contactRow(layout, 'w1', 'c1', { mrr: '12' })).toThrow(InvalidStoredValue);
    expect(() => contactRow(layout, 'w1', 'c1', { renews_at: 1.5 })).toThrow(/contact "c1", attribute "renews_at": expected a date as whole UTC milliseconds/);
    expect(() => contactRow(layout, 'w1', 'c1', { tags: 'vip' })).toThrow(/attribute "tags": expected an array of texts/);
    expect(() => contactRow(layout, 'w1', 'c1', { vip: 1 })).toThrow(/expected true or false/);
  });

  it('refuses texts a database cannot store exactly: NUL and lone surrogates', () => {
    expect(() => contactRow(layout, 'w1', 'c1', { name: 'a\u0000b' })).toThrow(/attribute "name".*NUL/);
    expect(() => contactRow(layout, 'w1', 'c1', { tags: ['ok', '\ud800'] })).toThrow(/attribute "tags".*surrogate/);
    expect(() => contactRow(layout, 'w1', 'c\u0000', {})).toThrow(/attribute "id".*NUL/);
  });
});
