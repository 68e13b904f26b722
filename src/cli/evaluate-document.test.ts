import { describe, expect, it } from 'vitest';
import { readDocument } from './evaluate-document.js';

const issuesOf = (input: unknown) => {
  const r = readDocument(input, () => 0);
  if (r.ok) throw new Error('expected the document to be refused');
  return r.issues;
};
const paths = (input: unknown) => issuesOf(input).map((i) => i.path);
const everyone = { all: [] };

describe('readDocument', () => {
  it('always has the standard attributes; the schema adds custom ones', () => {
    const r = readDocument({ schema: [{ key: 'mrr', type: 'number' }], condition: { attr: 'vip', op: 'eq', value: true } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.document.schema.map((a) => a.key)).toEqual(expect.arrayContaining(['email', 'tags', 'vip', 'segments', 'mrr']));
  });

  it('takes a restated standard attribute as the document writes it', () => {
    const r = readDocument({
      schema: [{ key: 'platform', type: 'enum', options: ['whatsapp', 'telegram'] }],
      condition: { attr: 'platform', op: 'eq', value: 'telegram' },
    });
    expect(r.ok).toBe(true);
    // Its type is the contract's.
    expect(paths({ schema: [{ key: 'tags', type: 'text' }, { key: 'name', type: 'number' }, { key: 'vip', type: 'boolean', enabled: false }], condition: everyone }))
      .toEqual(['schema[0].type', 'schema[1].type']);
  });

  it('defaults: time zone UTC, now from the clock, no contacts; null is not given', () => {
    const r = readDocument({ condition: everyone }, () => 42);
    expect(r.ok && r.document).toMatchObject({ timeZone: 'UTC', now: 42, contacts: [] });
    const n = readDocument({ condition: everyone, timezone: null, now: null, schema: null, contacts: null }, () => 42);
    expect(n.ok && n.document).toMatchObject({ timeZone: 'UTC', now: 42, contacts: [] });
    expect(paths({ condition: null })).toEqual(['condition']);
  });

  it('refuses unknown fields, bad zones and bad instants, with their paths', () => {
    expect(paths({ condition: everyone, extra: 1 })).toEqual(['extra']);
    expect(paths({ condition: everyone, timezone: 'Mars/Base' })).toEqual(['timezone']);
    expect(paths({ condition: everyone, timezone: '+04:00' })).toEqual(['timezone']);
    expect(paths({ condition: everyone, now: '2025-11-03T14:30:00' })).toEqual(['now']);
    expect(paths({ condition: everyone, now: 1762180200000 })).toEqual(['now']);
    expect(paths({})).toEqual(['condition']);
    expect(paths([])).toEqual(['']);
  });

  it('checks schema entries: shape, duplicates, reserved keys', () => {
    expect(paths({
      condition: everyone,
      schema: [
        { key: 'Plan', type: 'text' },
        { key: 'tier', type: 'enum', options: ['Gold', 'gold'] },
        { key: 'mrr', type: 'money' },
        { key: 'mrr2', type: 'number', options: ['x'] },
        { key: 'status', type: 'text' },
        { key: 'seats', type: 'number' },
        { key: 'seats', type: 'number' },
        { key: 'segments', type: 'text' },
        { key: 'x', type: 'text', colour: 'red' },
      ],
    })).toEqual([
      'schema[0].key', 'schema[1].options[1]', 'schema[2].type', 'schema[3].options', 'schema[4].key',
      'schema[6].key', 'schema[7].type', 'schema[8].colour',
    ]);
  });

  it('reads contact values as ingest does and names each bad one', () => {
    const r = readDocument({
      schema: [{ key: 'mrr', type: 'number' }],
      timezone: 'America/New_York',
      contacts: [{ id: 'a', mrr: '12', vip: 'yes', created_at: '2025-01-02', tags: ['x'] }],
      condition: everyone,
    });
    expect(r.ok && r.document.contacts[0].values).toEqual({ mrr: 12, vip: true, created_at: Date.UTC(2025, 0, 2, 5), tags: ['x'] });
    expect(paths({
      contacts: [{ id: 'a', mrr: 1 }, { id: '' }, { mrr: 2 }, { id: 'a' }, 'c5', { id: 'f', vip: 'perhaps', colour: 'red' }, { id: 'g\u0000' }, { id: '\ud800' }],
      condition: everyone,
    })).toEqual(['contacts[0].mrr', 'contacts[1].id', 'contacts[2].id', 'contacts[3].id', 'contacts[4]', 'contacts[5].vip', 'contacts[5].colour', 'contacts[6].id', 'contacts[7].id']);
  });

  it('writes condition paths from the document root', () => {
    const issues = issuesOf({ condition: { any: [{ attr: 'name', op: 'eq', value: 'x' }, { all: [{ attr: 'vip', op: 'gt', value: 1 }] }] } });
    expect(issues.map((i) => i.path)).toEqual(['condition.any[1].all[0].op']);
    expect(paths({ condition: 'everyone' })).toEqual(['condition']);
  });

  it('reads segments as an ordinary list given with each contact', () => {
    const r = readDocument({ contacts: [{ id: 'a', segments: ['seg_1'] }], condition: { attr: 'segments', op: 'is_empty' } });
    expect(r.ok).toBe(true);
  });
});
