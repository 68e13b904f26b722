// "Why is this contact in (or not in) VIP?": the condition tree annotated with each node's result
// and, at each rule, the contact's value beside the rule's.
import { compileRule } from './compile-predicate.js';
import type { CompileOptions } from './compile-predicate.js';
import { prepareValue, storedValue } from './contact-values.js';
import type { ContactLayout, StoredValue, StoredValues } from './contact-values.js';
import { dateInterval } from './date-interval.js';
import { OPERATORS } from './operators.js';
import { formatInstant } from './time.js';
import type { Condition, Operand, RuleNode } from './types.js';

export type Explanation =
  | { readonly kind: 'all' | 'any'; readonly path: string; readonly result: boolean; readonly children: readonly Explanation[] }
  | { readonly kind: 'not'; readonly path: string; readonly result: boolean; readonly child: Explanation }
  | {
      readonly kind: 'rule'; readonly path: string; readonly result: boolean;
      readonly attr: string; readonly op: string; readonly label: string;
      /** The rule's value as written (null for is_empty / is_not_empty). */
      readonly value: unknown;
      /** The contact's stored value, dates as ISO instants; null when missing. */
      readonly contactValue: unknown;
      readonly missing: boolean;
      /** For date rules: the instants the rule selects at `now`, inclusive. */
      readonly interval?: { readonly from: string | null; readonly to: string | null };
    };

export function explain(condition: Condition, layout: ContactLayout, contact: StoredValues, now: number, options: CompileOptions): Explanation {
  switch (condition.kind) {
    case 'all':
    case 'any': {
      const children = condition.children.map((c) => explain(c, layout, contact, now, options));
      const result = condition.kind === 'all' ? children.every((c) => c.result) : children.some((c) => c.result);
      return { kind: condition.kind, path: condition.path, result, children };
    }
    case 'not': {
      const child = explain(condition.child, layout, contact, now, options);
      return { kind: 'not', path: condition.path, result: !child.result, child };
    }
    case 'rule':
      return explainRule(condition, contact, now, options);
  }
}

function explainRule(rule: RuleNode, contact: StoredValues, now: number, options: CompileOptions): Explanation {
  const stored = storedValue(contact, rule.attr);
  const prepared = prepareValue(rule.type, stored);
  const result = compileRule(rule, options)(prepared, now);
  const interval = rule.type === 'date' && rule.operand.shape !== 'none' ? dateInterval(rule, options.timeZone, now) : undefined;
  return {
    kind: 'rule', path: rule.path, result,
    attr: rule.attr, op: rule.op, label: OPERATORS[rule.op].label,
    value: operandAsWritten(rule.operand),
    contactValue: display(rule, stored),
    missing: prepared === undefined,
    ...(interval && {
      interval: {
        from: Number.isFinite(interval.low) ? formatInstant(interval.low) : null,
        to: Number.isFinite(interval.high) ? formatInstant(interval.high) : null,
      },
    }),
  };
}

function display(rule: RuleNode, value: StoredValue | null | undefined): unknown {
  if (value === undefined || value === null) return null;
  return rule.type === 'date' ? formatInstant(value as number) : value;
}

function operandAsWritten(operand: Operand): unknown {
  switch (operand.shape) {
    case 'none': return null;
    case 'text': case 'texts': return operand.raw;
    case 'number': case 'boolean': return operand.value;
    case 'numbers': return operand.values;
    case 'numberRange': return [operand.low, operand.high];
    case 'date': return operand.point.text;
    case 'dateRange': return [operand.low.text, operand.high.text];
    case 'span': return { amount: operand.amount, unit: operand.unit };
  }
}

/** The explanation as indented lines a person can read. */
export function renderExplanation(e: Explanation, indent = ''): string[] {
  const mark = e.result ? '✓' : '✗';
  switch (e.kind) {
    case 'all':
    case 'any': {
      const head = `${indent}${mark} ${e.kind === 'all' ? 'all of' : 'any of'}${e.children.length === 0 ? (e.kind === 'all' ? ' (empty: matches everyone)' : ' (empty: matches no one)') : ''}`;
      return [head, ...e.children.flatMap((c) => renderExplanation(c, `${indent}  `))];
    }
    case 'not':
      return [`${indent}${mark} not`, ...renderExplanation(e.child, `${indent}  `)];
    case 'rule': {
      const value = e.value === null ? '' : ` ${isSpan(e.value) ? `${e.value.amount} ${e.value.unit}` : JSON.stringify(e.value)}`;
      const has = e.missing ? (e.contactValue === null ? 'missing' : `${JSON.stringify(e.contactValue)} (missing)`) : JSON.stringify(e.contactValue);
      const window = e.interval ? `  [selects ${e.interval.from ?? '−∞'} … ${e.interval.to ?? '+∞'}]` : '';
      return [`${indent}${mark} ${e.attr} ${e.label}${value}  — contact has ${has}${window}`];
    }
  }
}

function isSpan(v: unknown): v is { amount: number; unit: string } {
  return typeof v === 'object' && v !== null && 'amount' in v && 'unit' in v;
}
