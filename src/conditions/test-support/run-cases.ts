// One runner for the rows of cases.ts, whatever evaluates them: the predicate here, the SQL
// compilers elsewhere (`runCases('sql on sqlite', evaluateWithSqlite)`). An implementation that must
// skip a row names the row and the reason.
import { describe, expect, it } from 'vitest';
import { CASES, CASE_SCHEMA } from '../cases.js';
import type { Case } from '../cases.js';
import { compilePredicate } from '../compile-predicate.js';
import { createLayout, prepareContact } from '../contact-values.js';
import type { StoredValue } from '../contact-values.js';
import type { Condition, ConditionJson, Schema } from '../types.js';
import { validate } from '../validate.js';
import type { StoredContact } from './arbitraries.js';

/** A row made ready for an implementation: dates as UTC ms, the condition validated. */
export interface CaseInput {
  readonly description: string;
  readonly schema: Schema;
  readonly timeZone: string;
  /** UTC ms. */
  readonly now: number;
  readonly contacts: readonly StoredContact[];
  readonly condition: Condition;
  /** The condition as the row writes it. */
  readonly json: ConditionJson;
}

/** The ids an implementation selects, in any order. */
export type CaseEvaluator = (input: CaseInput) => readonly string[] | Promise<readonly string[]>;

export interface RunCasesOptions {
  /** Rows this implementation cannot run: description → the reason, shown in the skipped test's name. */
  readonly skip?: Readonly<Record<string, string>>;
  /** Defaults to every row of cases.ts. */
  readonly cases?: readonly Case[];
}

const OFFSET = /(?:Z|[+-]\d{2}:\d{2})$/;

function instant(text: string, where: string): number {
  const ms = Date.parse(text);
  if (!OFFSET.test(text) || Number.isNaN(ms)) throw new Error(`${where}: ${JSON.stringify(text)} is not an instant with Z or an offset`);
  return ms;
}

export function caseInput(row: Case): CaseInput {
  const schema = row.schema ?? CASE_SCHEMA;
  const types = new Map(createLayout(schema).attributes.map((a) => [a.key, a.type]));
  const contacts = row.contacts.map(({ id, ...raw }): StoredContact => {
    const values: Record<string, StoredValue | null> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (!types.has(key)) throw new Error(`${row.description}: contact ${id} has "${key}", which the schema does not`);
      values[key] = types.get(key) === 'date' && typeof value === 'string' ? instant(value, `${row.description}, contact ${id}`) : value;
    }
    return { id, values };
  });
  const result = validate(schema, row.condition);
  if (!result.ok) throw new Error(`${row.description}: the condition is invalid: ${JSON.stringify(result.issues)}`);
  return {
    description: row.description, schema, timeZone: row.timeZone ?? 'UTC', now: instant(row.now, row.description),
    contacts, condition: result.condition, json: row.condition,
  };
}

const sorted = (ids: readonly string[]) => [...ids].sort();

export function runCases(name: string, evaluate: CaseEvaluator, options: RunCasesOptions = {}): void {
  const cases = options.cases ?? CASES;
  const skip = options.skip ?? {};
  describe(name, () => {
    it('names only rows that exist among the skipped', () => {
      const descriptions = new Set(cases.map((c) => c.description));
      expect(Object.keys(skip).filter((d) => !descriptions.has(d))).toEqual([]);
    });
    for (const row of cases) {
      const reason = skip[row.description];
      if (reason !== undefined) {
        it.skip(`${row.description} — skipped: ${reason}`, () => {});
        continue;
      }
      it(row.description, async () => {
        const ids = await evaluate(caseInput(row));
        expect(sorted(ids)).toEqual(sorted(row.expected));
      });
    }
  });
}

/** The predicate compiler as a case evaluator (also used by the property tests). */
export function evaluateWithPredicate(input: Pick<CaseInput, 'schema' | 'timeZone' | 'now' | 'contacts' | 'condition'>): string[] {
  const layout = createLayout(input.schema);
  const predicate = compilePredicate(input.condition, layout, { timeZone: input.timeZone });
  return input.contacts.filter((c) => predicate.test(prepareContact(layout, c.values), input.now)).map((c) => c.id);
}
