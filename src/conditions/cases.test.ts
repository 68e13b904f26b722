import { describe, expect, it } from 'vitest';
import { CASES, CASE_SCHEMA } from './cases.js';
import type { Case } from './cases.js';
import { OPERATORS_BY_TYPE, TYPES } from './test-support/contract.js';
import { isMissing, referenceEvaluate } from './test-support/reference.js';
import { caseInput, evaluateWithPredicate, runCases } from './test-support/run-cases.js';
import type { AttributeType } from './types.js';

runCases('the predicate', evaluateWithPredicate);

// The rows' expectations are written by hand; the reference reading of the contract checks them.
runCases('the reference reading', (input) => referenceEvaluate(input, input.json));

interface Use { readonly type: AttributeType; readonly op: string; readonly missing: boolean; readonly present: boolean }

/** Every rule of a row, with whether the row's contacts hold a missing and a present value for it. */
function uses(row: Case): Use[] {
  const input = caseInput(row);
  const schema = row.schema ?? CASE_SCHEMA;
  const out: Use[] = [];
  const walk = (node: unknown): void => {
    const n = node as Record<string, unknown>;
    const group = n.all ?? n.any;
    if (Array.isArray(group)) group.forEach(walk);
    else if (n.not) walk(n.not);
    else {
      const type = schema.find((a) => a.key === n.attr)?.type ?? 'list';
      const missing = input.contacts.map((c) => isMissing(type, Object.hasOwn(c.values, n.attr as string) ? c.values[n.attr as string] : undefined));
      out.push({ type, op: n.op as string, missing: missing.includes(true), present: missing.includes(false) });
    }
  };
  walk(row.condition);
  return out;
}

describe('the rows', () => {
  const all = CASES.flatMap(uses);

  it('have unique descriptions', () => {
    const seen = new Set<string>();
    expect(CASES.map((c) => c.description).filter((d) => seen.size === seen.add(d).size)).toEqual([]);
  });

  it('expect only ids of their own contacts', () => {
    for (const row of CASES) {
      const ids = new Set(row.contacts.map((c) => c.id));
      expect(row.expected.filter((id) => !ids.has(id)), row.description).toEqual([]);
      expect(ids.size, row.description).toBe(row.contacts.length);
    }
  });

  it.each(TYPES)('cover every operator on %s, on present and on missing values', (type) => {
    for (const op of OPERATORS_BY_TYPE[type]) {
      const here = all.filter((u) => u.type === type && u.op === op);
      expect(here.some((u) => u.present), `${op} on a present ${type}`).toBe(true);
      expect(here.some((u) => u.missing), `${op} on a missing ${type}`).toBe(true);
    }
  });

  it('read days in zones other than UTC, including days of a DST change', () => {
    const zones = new Set(CASES.filter((c) => JSON.stringify(c.condition).match(/"\d{4}-\d{2}-\d{2}"/)).map((c) => c.timeZone ?? 'UTC'));
    expect([...zones]).toEqual(expect.arrayContaining(['UTC', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe']));
  });
});
