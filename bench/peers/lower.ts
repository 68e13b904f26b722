// The 60 conditions, lowered once into a few primitive tests that every peer library can express:
// folded operands, dates resolved to inclusive [low, high] ms bounds at BENCH_NOW in the BENCH time
// zone through `dateInterval` (the function both our compilers read), and each negative operator
// as `not` of its positive twin, as the contract defines it. A peer translates these primitives
// into its own language, using its native negations ($ne, $nin, !==) where they mean the same.
import { dateInterval } from '../../src/conditions/date-interval.js';
import { OPERATORS } from '../../src/conditions/operators.js';
import type { Condition, RuleNode } from '../../src/conditions/types.js';

export type Scalar = string | number | boolean;

export type Lowered =
  | { readonly k: 'and'; readonly parts: readonly Lowered[] }
  | { readonly k: 'or'; readonly parts: readonly Lowered[] }
  | { readonly k: 'not'; readonly part: Lowered }
  /** The attribute is absent (peer objects leave missing values out). */
  | { readonly k: 'missing'; readonly attr: string }
  /** A text, enum, number or boolean equals the value (text folded). */
  | { readonly k: 'eq'; readonly attr: string; readonly value: Scalar }
  /** A text, enum or number is one of the values. */
  | { readonly k: 'in'; readonly attr: string; readonly values: readonly Scalar[] }
  /** A list has the element. */
  | { readonly k: 'has'; readonly attr: string; readonly value: string }
  /** A list has any of the elements. */
  | { readonly k: 'hasAny'; readonly attr: string; readonly values: readonly string[] }
  /** A text contains / starts with / ends with the (folded) value, which is plain text, never a pattern. */
  | { readonly k: 'text'; readonly attr: string; readonly how: 'contains' | 'starts' | 'ends'; readonly value: string }
  /** A number or date in a range; each bound optional, `open` bounds exclusive. */
  | { readonly k: 'range'; readonly attr: string; readonly low?: number; readonly lowOpen?: boolean; readonly high?: number; readonly highOpen?: boolean };

export interface LowerOptions {
  readonly timeZone: string;
  /** Relative dates (within_last, …) are resolved to constants at this instant. */
  readonly now: number;
}

export function lower(node: Condition, o: LowerOptions): Lowered {
  switch (node.kind) {
    case 'all': return { k: 'and', parts: node.children.map((c) => lower(c, o)) };
    case 'any': return { k: 'or', parts: node.children.map((c) => lower(c, o)) };
    case 'not': return { k: 'not', part: lower(node.child, o) };
    case 'rule': {
      const twin = OPERATORS[node.op].complementOf;
      return twin ? { k: 'not', part: lowerPositive({ ...node, op: twin }, o) } : lowerPositive(node, o);
    }
  }
}

function lowerPositive(rule: RuleNode, o: LowerOptions): Lowered {
  const { attr, operand, type, op } = rule;
  if (op === 'is_empty') return { k: 'missing', attr };
  if (type === 'date') {
    const { low, high } = dateInterval(rule, o.timeZone, o.now);
    return {
      k: 'range', attr,
      ...(low === -Infinity ? {} : { low }),
      ...(high === Infinity ? {} : { high }),
    };
  }
  switch (operand.shape) {
    case 'text':
      if (type === 'list') return { k: 'has', attr, value: operand.folded };
      if (op === 'eq') return { k: 'eq', attr, value: operand.folded };
      return { k: 'text', attr, how: op === 'contains' ? 'contains' : op === 'starts_with' ? 'starts' : 'ends', value: operand.folded };
    case 'texts':
      return type === 'list' ? { k: 'hasAny', attr, values: operand.folded } : { k: 'in', attr, values: operand.folded };
    case 'number': {
      const n = operand.value;
      switch (op) {
        case 'eq': return { k: 'eq', attr, value: n };
        case 'gt': return { k: 'range', attr, low: n, lowOpen: true };
        case 'gte': return { k: 'range', attr, low: n };
        case 'lt': return { k: 'range', attr, high: n, highOpen: true };
        case 'lte': return { k: 'range', attr, high: n };
      }
      break;
    }
    case 'numbers': return { k: 'in', attr, values: operand.values };
    case 'numberRange': return { k: 'range', attr, low: operand.low, high: operand.high };
    case 'boolean': return { k: 'eq', attr, value: operand.value };
  }
  throw new Error(`lower: no primitive for ${op} on ${type}`);
}

/** A value as a regular expression that matches exactly that text: every metacharacter escaped. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

export function textRegexSource(how: 'contains' | 'starts' | 'ends', value: string): string {
  const body = escapeRegex(value);
  return how === 'starts' ? `^${body}` : how === 'ends' ? `${body}$` : body;
}
