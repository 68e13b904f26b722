// The fixtures every benchmark uses: the BENCH workspace (schema, time zone, a fixed `now`), a
// deterministic generator of raw contacts, the 60 segment conditions (validated at load, with the
// operator coverage checked), and the steps from raw JSON to what the predicates read.
import { createLayout } from '../src/conditions/contact-values.js';
import type { ContactLayout, PreparedContact, StoredValue, StoredValues } from '../src/conditions/contact-values.js';
import { OPERATORS } from '../src/conditions/operators.js';
import type { AttributeType, Condition, Operator } from '../src/conditions/types.js';
import { validate } from '../src/conditions/validate.js';
import { readContactRecord } from '../src/contacts/contact-input.js';
import { CONDITION_JSON } from './fixtures/conditions.js';
import type { RawContact } from './fixtures/contacts.js';
import { BENCH_NOW, BENCH_SCHEMA, BENCH_SEED, BENCH_TIME_ZONE } from './fixtures/schema.js';

export { BENCH_NOW, BENCH_SCHEMA, BENCH_SEED, BENCH_TIME_ZONE };
export { contactStream, generateContacts } from './fixtures/contacts.js';
export type { RawContact };

export interface BenchCondition {
  readonly id: string;
  readonly description: string;
  /** As the user wrote it. */
  readonly json: unknown;
  readonly condition: Condition;
}

export const BENCH_CONDITION_COUNT = 60;

function loadConditions(): BenchCondition[] {
  const out: BenchCondition[] = [];
  const ids = new Set<string>();
  for (const { id, description, json } of CONDITION_JSON) {
    if (ids.has(id)) throw new Error(`bench fixtures: condition id "${id}" repeats`);
    ids.add(id);
    const result = validate(BENCH_SCHEMA, json, { segments: 'list' });
    if (!result.ok) {
      throw new Error(`bench fixtures: condition "${id}" is invalid: ${result.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    }
    out.push({ id, description, json, condition: result.condition });
  }
  if (out.length !== BENCH_CONDITION_COUNT) throw new Error(`bench fixtures: ${out.length} conditions, expected exactly ${BENCH_CONDITION_COUNT}`);
  const missing = uncovered(out.map((c) => c.condition));
  if (missing.length > 0) throw new Error(`bench fixtures: no condition covers ${missing.join(', ')}`);
  return out;
}

/** What the conditions must exercise: each operator on each type it applies to, dates by operand kind. */
function requiredCases(): Set<string> {
  const cases = new Set<string>();
  for (const op of Object.keys(OPERATORS) as Operator[]) {
    for (const type of Object.keys(OPERATORS[op].shapes) as AttributeType[]) {
      if (type === 'date' && ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'].includes(op)) {
        cases.add(`date ${op} day`).add(`date ${op} instant`);
      } else if (type === 'boolean' && (op === 'eq' || op === 'neq')) {
        cases.add(`boolean ${op} true`).add(`boolean ${op} false`);
      } else {
        cases.add(`${type} ${op}`);
      }
    }
  }
  for (const unit of ['minutes', 'hours', 'days', 'weeks']) cases.add(`span ${unit}`);
  for (const bounds of ['day-day', 'day-instant', 'instant-instant']) cases.add(`date between ${bounds}`);
  cases.add('group not').add('depth 3');
  return cases;
}

function casesOf(node: Condition, depth: number, into: Set<string>): void {
  if (node.kind !== 'rule') {
    into.add(`group ${node.kind}`);
    if (depth >= 3) into.add('depth 3');
    const children = node.kind === 'not' ? [node.child] : node.children;
    for (const child of children) casesOf(child, depth + 1, into);
    return;
  }
  const { type, op, operand } = node;
  if (operand.shape === 'date') into.add(`date ${op} ${operand.point.kind}`);
  else if (operand.shape === 'boolean') into.add(`boolean ${op} ${operand.value}`);
  else into.add(`${type} ${op}`);
  if (operand.shape === 'span') into.add(`span ${operand.unit}`);
  if (operand.shape === 'dateRange') into.add(`date between ${[operand.low.kind, operand.high.kind].sort().join('-')}`);
}

function uncovered(conditions: readonly Condition[]): string[] {
  const seen = new Set<string>();
  for (const c of conditions) casesOf(c, 1, seen);
  return [...requiredCases()].filter((c) => !seen.has(c));
}

/** The 60 conditions, validated; loading this module throws if one is invalid or a case is uncovered. */
export const BENCH_CONDITIONS: readonly BenchCondition[] = loadConditions();

export const BENCH_LAYOUT: ContactLayout = createLayout(BENCH_SCHEMA);

/** Raw JSON → what the write path reads from it in one pass: stored values and the prepared contact. Throws on a bad value. */
export function readRaw(raw: RawContact, layout: ContactLayout = BENCH_LAYOUT, timeZone = BENCH_TIME_ZONE): { values: StoredValues; prepared: PreparedContact } {
  const { keys, values, prepared, errors } = readContactRecord(layout, raw, timeZone);
  if (errors.length > 0) throw new Error(`bench fixtures: ${raw.id}.${errors[0].path}: ${errors[0].message}`);
  return { values: Object.fromEntries(keys.map((key, i) => [key, values[i]])) as StoredValues, prepared };
}

/** Raw JSON → stored values, as the write path coerces them; removals (null) dropped. */
export function coerceContact(raw: RawContact): StoredValues {
  const values = readRaw(raw).values as Record<string, StoredValue | null>;
  for (const key of Object.keys(values)) if (values[key] === null) delete values[key];
  return values as StoredValues;
}

/** Raw JSON → prepared: what a write pays once for every segment. */
export function prepareRaw(raw: RawContact, layout: ContactLayout = BENCH_LAYOUT): PreparedContact {
  return readRaw(raw, layout).prepared;
}

/** Throws unless every condition selects some but not all contacts. */
export function assertNonTrivialShares(counts: readonly number[], total: number): void {
  const bad = BENCH_CONDITIONS.filter((_, i) => counts[i] === 0 || counts[i] === total);
  if (bad.length > 0) {
    throw new Error(`bench fixtures: these conditions select ${bad.map((c) => `${c.id} (${counts[BENCH_CONDITIONS.indexOf(c)]})`).join(', ')} of ${total}: not a non-trivial share`);
  }
}

/** The share table: one line per condition, with its count and share of `total`. */
export function formatShareTable(counts: readonly number[], total: number): string {
  const lines = [`share of ${total.toLocaleString('en-US')} contacts selected by each condition:`];
  const width = Math.max(...BENCH_CONDITIONS.map((c) => c.id.length));
  BENCH_CONDITIONS.forEach((c, i) => {
    const share = (100 * counts[i]) / total;
    lines.push(`  ${String(i + 1).padStart(2)} ${c.id.padEnd(width)} ${String(counts[i]).padStart(8)}  ${share.toFixed(share < 1 ? 3 : 1).padStart(6)}%  ${c.description}`);
  });
  return lines.join('\n');
}
