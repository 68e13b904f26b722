// The predicate compiler: a validated condition becomes a closure over a prepared contact, built
// once per definition and reused for every contact (the write path, auto-apply, routing, bots).
import type { ContactLayout, PreparedContact, PreparedValue } from './contact-values.js';
import { dateInterval, isRelative, relativeFlip } from './date-interval.js';
import { OPERATORS } from './operators.js';
import type { Condition, ConditionKind, RuleNode } from './types.js';

/** Does the value (prepared) satisfy the rule at `now`? */
type ValueTest = (value: PreparedValue, now: number) => boolean;
export type ContactTest = (contact: PreparedContact, now: number) => boolean;
export type ContactHorizon = (contact: PreparedContact, now: number) => number;

export interface CompiledPredicate {
  /** Whether the contact matches at `now` (UTC ms). */
  readonly test: ContactTest;
  /**
   * The earliest instant after `now` at which `test` may give another answer with no write, or
   * Infinity when it never will. Exact for a rule; for a group the earliest of its children (never
   * later than a real change).
   */
  readonly nextChange: ContactHorizon;
}

export interface CompileOptions {
  /** IANA time zone that day values are read in. */
  readonly timeZone: string;
}

export function compilePredicate(condition: Condition, layout: ContactLayout, options: CompileOptions): CompiledPredicate {
  return { test: compileTest(condition, layout, options), nextChange: compileHorizon(condition, layout) };
}

// ---- test -------------------------------------------------------------------------------------

const TESTS: { [K in ConditionKind]: (node: Extract<Condition, { kind: K }>, layout: ContactLayout, o: CompileOptions) => ContactTest } = {
  all(node, layout, o) {
    const parts = node.children.map((c) => compileTest(c, layout, o));
    if (parts.length === 0) return () => true; // an empty "all" matches everyone
    if (parts.length === 1) return parts[0];
    if (parts.length === 2) { const [a, b] = parts; return (c, now) => a(c, now) && b(c, now); }
    return (c, now) => {
      for (let i = 0; i < parts.length; i++) if (!parts[i](c, now)) return false;
      return true;
    };
  },
  any(node, layout, o) {
    const parts = node.children.map((c) => compileTest(c, layout, o));
    if (parts.length === 0) return () => false; // an empty "any" matches no one
    if (parts.length === 1) return parts[0];
    if (parts.length === 2) { const [a, b] = parts; return (c, now) => a(c, now) || b(c, now); }
    return (c, now) => {
      for (let i = 0; i < parts.length; i++) if (parts[i](c, now)) return true;
      return false;
    };
  },
  not(node, layout, o) {
    const inner = compileTest(node.child, layout, o);
    return (c, now) => !inner(c, now);
  },
  rule(node, layout, o) {
    const at = slot(layout, node);
    const test = compileRule(node, o);
    return (c, now) => test(c[at], now);
  },
};

export function compileTest(node: Condition, layout: ContactLayout, o: CompileOptions): ContactTest {
  return (TESTS[node.kind] as (n: Condition, l: ContactLayout, o: CompileOptions) => ContactTest)(node, layout, o);
}

function slot(layout: ContactLayout, node: RuleNode): number {
  const at = layout.index.get(node.attr);
  if (at === undefined) throw new Error(`compilePredicate: attribute "${node.attr}" is not in the layout`);
  return at;
}

/** A rule as a test of one prepared value. A negative operator is exactly `not` its positive twin. */
export function compileRule(rule: RuleNode, o: CompileOptions): ValueTest {
  const twin = OPERATORS[rule.op].complementOf;
  if (twin) {
    const positive = compilePositive({ ...rule, op: twin }, o);
    return (v, now) => !positive(v, now);
  }
  return compilePositive(rule, o);
}

function compilePositive(rule: RuleNode, o: CompileOptions): ValueTest {
  const { operand, type } = rule;
  if (rule.op === 'is_empty') return (v) => v === undefined;
  if (type === 'date') return compileDate(rule, o);
  switch (operand.shape) {
    case 'text': {
      const f = operand.folded;
      if (type === 'list') return (v) => v !== undefined && (v as readonly string[]).includes(f);
      switch (rule.op) {
        case 'eq': return (v) => v === f;
        case 'contains': return (v) => v !== undefined && (v as string).includes(f);
        case 'starts_with': return (v) => v !== undefined && (v as string).startsWith(f);
        case 'ends_with': return (v) => v !== undefined && (v as string).endsWith(f);
      }
      break;
    }
    case 'texts': {
      const set = new Set(operand.folded);
      if (type === 'list') {
        return (v) => {
          if (v === undefined) return false;
          const items = v as readonly string[];
          for (let i = 0; i < items.length; i++) if (set.has(items[i])) return true;
          return false;
        };
      }
      return (v) => set.has(v as string);
    }
    case 'number': {
      const n = operand.value;
      switch (rule.op) {
        case 'eq': return (v) => v === n;
        case 'gt': return (v) => v !== undefined && (v as number) > n;
        case 'gte': return (v) => v !== undefined && (v as number) >= n;
        case 'lt': return (v) => v !== undefined && (v as number) < n;
        case 'lte': return (v) => v !== undefined && (v as number) <= n;
      }
      break;
    }
    case 'numbers': {
      const set = new Set(operand.values);
      return (v) => set.has(v as number);
    }
    case 'numberRange': {
      const { low, high } = operand;
      return (v) => v !== undefined && (v as number) >= low && (v as number) <= high;
    }
    case 'boolean': {
      const b = operand.value;
      return (v) => v === b;
    }
  }
  throw new Error(`compilePredicate: no test for ${rule.op} on ${type}`);
}

function compileDate(rule: RuleNode, o: CompileOptions): ValueTest {
  if (isRelative(rule)) {
    return (v, now) => {
      if (v === undefined) return false;
      const { low, high } = dateInterval(rule, o.timeZone, now);
      return (v as number) >= low && (v as number) <= high;
    };
  }
  // Day bounds depend on the zone only: computed once, here.
  const { low, high } = dateInterval(rule, o.timeZone, 0);
  return (v) => v !== undefined && (v as number) >= low && (v as number) <= high;
}

// ---- horizon ----------------------------------------------------------------------------------

const NEVER: ContactHorizon = () => Infinity;

export function compileHorizon(node: Condition, layout: ContactLayout): ContactHorizon {
  switch (node.kind) {
    case 'rule': {
      if (node.operand.shape !== 'span') return NEVER;
      const at = slot(layout, node);
      const { op } = node, span = node.operand.ms;
      return (c, now) => {
        const t = c[at];
        return t === undefined ? Infinity : relativeFlip(op, span, t as number, now);
      };
    }
    case 'not':
      return compileHorizon(node.child, layout);
    case 'all':
    case 'any': {
      const parts = node.children.map((c) => compileHorizon(c, layout)).filter((h) => h !== NEVER);
      if (parts.length === 0) return NEVER;
      if (parts.length === 1) return parts[0];
      return (c, now) => {
        let earliest = Infinity;
        for (let i = 0; i < parts.length; i++) {
          const h = parts[i](c, now);
          if (h < earliest) earliest = h;
        }
        return earliest;
      };
    }
  }
}
