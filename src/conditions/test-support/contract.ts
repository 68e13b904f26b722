// The contract's tables (shared/CONDITION_LANGUAGE.md), copied here by hand so that the tests do
// not read the code they test: the arbitraries build conditions from these, and the tests hold the
// operator catalogue and the limits to them.
import type { AttributeType, Operator, TimeUnit } from '../types.js';

export const TYPES: readonly AttributeType[] = ['text', 'enum', 'number', 'date', 'boolean', 'list'];

/** "Attributes and their types": the operators each type takes. */
export const OPERATORS_BY_TYPE: Readonly<Record<AttributeType, readonly Operator[]>> = {
  text: ['eq', 'neq', 'contains', 'not_contains', 'starts_with', 'ends_with', 'in', 'not_in', 'is_empty', 'is_not_empty'],
  enum: ['eq', 'neq', 'in', 'not_in', 'is_empty', 'is_not_empty'],
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'not_in', 'is_empty', 'is_not_empty'],
  date: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'within_last', 'older_than', 'within_next', 'is_empty', 'is_not_empty'],
  boolean: ['eq', 'neq', 'is_empty', 'is_not_empty'],
  list: ['contains', 'not_contains', 'in', 'not_in', 'is_empty', 'is_not_empty'],
};

export const ALL_OPERATORS: readonly Operator[] = [
  'eq', 'neq', 'contains', 'not_contains', 'starts_with', 'ends_with', 'in', 'not_in',
  'gt', 'gte', 'lt', 'lte', 'between', 'within_last', 'older_than', 'within_next', 'is_empty', 'is_not_empty',
];

/** "Negative operators are exact complements", and `is_not_empty` is the complement of `is_empty`. */
export const NEGATIVE_TWINS: Readonly<Partial<Record<Operator, Operator>>> = {
  neq: 'eq', not_contains: 'contains', not_in: 'in', is_not_empty: 'is_empty',
};

export const RELATIVE_OPERATORS: readonly Operator[] = ['within_last', 'older_than', 'within_next'];

export const UNIT_MS: Readonly<Record<TimeUnit, number>> = {
  minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000,
};

/** "Limits". */
export const CONTRACT_LIMITS = {
  depth: 8, rules: 200, inElements: 10_000, textLength: 1_000, relativeAmount: 1_000_000, jsonBytes: 1024 * 1024,
} as const;

/** `fold(s) = s.normalize("NFKC").toLowerCase()`, as the contract writes it. */
export const contractFold = (s: string): string => s.normalize('NFKC').toLowerCase();
