// The operator catalogue: one table that validation, both compilers, explain and the docs read.
import type { AttributeType, Operand, Operator } from './types.js';

export type OperandShape = Operand['shape'];

export interface OperatorSpec {
  readonly op: Operator;
  /** The value shape this operator takes, per attribute type it applies to. */
  readonly shapes: Partial<Record<AttributeType, OperandShape>>;
  /**
   * A negative operator is the exact complement of its positive twin (`neq` ≡ not `eq`), so it is
   * true on a missing value. Compilers evaluate it as `not twin`, which makes the complement exact
   * by construction.
   */
  readonly complementOf?: Operator;
  /** What the operator says about a missing value (absent, null, blank text, empty list). */
  readonly onMissing: boolean;
  /** Depends on the moment of evaluation (`now`). */
  readonly relative?: boolean;
  /** A text operand must be at least one character long. */
  readonly nonEmptyText?: boolean;
  /** Words for explain output and the UI's operator picker. */
  readonly label: string;
}

const equality = { text: 'text', enum: 'text', number: 'number', date: 'date', boolean: 'boolean' } as const;
const ordering = { number: 'number', date: 'date' } as const;
const membership = { text: 'texts', enum: 'texts', list: 'texts', number: 'numbers' } as const;
const presence = { text: 'none', enum: 'none', number: 'none', date: 'none', boolean: 'none', list: 'none' } as const;
const relativeDate = { date: 'span' } as const;

export const OPERATORS: Readonly<Record<Operator, OperatorSpec>> = {
  eq: { op: 'eq', shapes: equality, onMissing: false, label: 'is' },
  neq: { op: 'neq', shapes: equality, complementOf: 'eq', onMissing: true, label: 'is not' },
  contains: { op: 'contains', shapes: { text: 'text', list: 'text' }, onMissing: false, nonEmptyText: true, label: 'contains' },
  not_contains: {
    op: 'not_contains', shapes: { text: 'text', list: 'text' }, complementOf: 'contains', onMissing: true,
    nonEmptyText: true, label: 'does not contain',
  },
  starts_with: { op: 'starts_with', shapes: { text: 'text' }, onMissing: false, nonEmptyText: true, label: 'starts with' },
  ends_with: { op: 'ends_with', shapes: { text: 'text' }, onMissing: false, nonEmptyText: true, label: 'ends with' },
  in: { op: 'in', shapes: membership, onMissing: false, label: 'is any of' },
  not_in: { op: 'not_in', shapes: membership, complementOf: 'in', onMissing: true, label: 'is none of' },
  gt: { op: 'gt', shapes: ordering, onMissing: false, label: 'is greater than' },
  gte: { op: 'gte', shapes: ordering, onMissing: false, label: 'is at least' },
  lt: { op: 'lt', shapes: ordering, onMissing: false, label: 'is less than' },
  lte: { op: 'lte', shapes: ordering, onMissing: false, label: 'is at most' },
  between: { op: 'between', shapes: { number: 'numberRange', date: 'dateRange' }, onMissing: false, label: 'is between' },
  within_last: { op: 'within_last', shapes: relativeDate, onMissing: false, relative: true, label: 'is within the last' },
  older_than: { op: 'older_than', shapes: relativeDate, onMissing: false, relative: true, label: 'is older than' },
  within_next: { op: 'within_next', shapes: relativeDate, onMissing: false, relative: true, label: 'is within the next' },
  is_empty: { op: 'is_empty', shapes: presence, onMissing: true, label: 'is empty' },
  is_not_empty: { op: 'is_not_empty', shapes: presence, complementOf: 'is_empty', onMissing: false, label: 'is not empty' },
};

export const OPERATOR_NAMES = Object.keys(OPERATORS) as Operator[];

export function isOperator(op: unknown): op is Operator {
  return typeof op === 'string' && Object.prototype.hasOwnProperty.call(OPERATORS, op);
}

/** Operators that apply to a type, in catalogue order (what the builder's picker lists). */
export function operatorsFor(type: AttributeType): Operator[] {
  return OPERATOR_NAMES.filter((op) => OPERATORS[op].shapes[type] !== undefined);
}

/** `segments` in a segment's own condition: only these, so a segment never depends on every segment. */
export const SEGMENT_MEMBERSHIP_OPERATORS: readonly Operator[] = ['contains', 'not_contains', 'in', 'not_in'];

export const TIME_UNITS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 } as const;
