// EXPERIMENT, not the engine: compilePredicate's closure tree with fewer calls per check, and no
// code generation. Each rule is ONE closure that reads its slot and tests (the engine has three:
// the slot reader, the `not` of a negative operator, the operator); a relative date compares with
// `now - span` instead of allocating an interval per call; `all`/`any` of 2 or 3 children are
// unrolled. Verified against compilePredicate before it is timed.
import type { ContactLayout, PreparedContact } from '../../src/conditions/contact-values.js';
import { dateInterval } from '../../src/conditions/date-interval.js';
import { OPERATORS } from '../../src/conditions/operators.js';
import type { Condition, RuleNode } from '../../src/conditions/types.js';

type Test = (c: PreparedContact, now: number) => boolean;
type Value = PreparedContact[number];

export function fusePredicate(node: Condition, layout: ContactLayout, timeZone: string): Test {
  switch (node.kind) {
    case 'all': {
      const p = node.children.map((c) => fusePredicate(c, layout, timeZone));
      if (p.length === 0) return () => true;
      if (p.length === 1) return p[0];
      if (p.length === 2) { const [a, b] = p; return (c, now) => a(c, now) && b(c, now); }
      if (p.length === 3) { const [a, b, d] = p; return (c, now) => a(c, now) && b(c, now) && d(c, now); }
      return (c, now) => { for (let i = 0; i < p.length; i++) if (!p[i](c, now)) return false; return true; };
    }
    case 'any': {
      const p = node.children.map((c) => fusePredicate(c, layout, timeZone));
      if (p.length === 0) return () => false;
      if (p.length === 1) return p[0];
      if (p.length === 2) { const [a, b] = p; return (c, now) => a(c, now) || b(c, now); }
      if (p.length === 3) { const [a, b, d] = p; return (c, now) => a(c, now) || b(c, now) || d(c, now); }
      return (c, now) => { for (let i = 0; i < p.length; i++) if (p[i](c, now)) return true; return false; };
    }
    case 'not': {
      const inner = fusePredicate(node.child, layout, timeZone);
      return (c, now) => !inner(c, now);
    }
    case 'rule': return fuseRule(node, layout, timeZone);
  }
}

function fuseRule(rule: RuleNode, layout: ContactLayout, timeZone: string): Test {
  const at = layout.index.get(rule.attr)!;
  const twin = OPERATORS[rule.op].complementOf;
  const positive = twin ? { ...rule, op: twin } : rule;
  return twin ? negative(positive, at, timeZone) : affirmative(positive, at, timeZone);
}

/** The positive operators, one closure each, reading their own slot. */
function affirmative(rule: RuleNode, at: number, timeZone: string): Test {
  const { operand, type, op } = rule;
  if (op === 'is_empty') return (c) => c[at] === undefined;
  if (type === 'date') {
    if (operand.shape === 'span') {
      const span = operand.ms;
      if (op === 'within_last') return (c, now) => { const v = c[at] as number; return v !== undefined && v >= now - span && v <= now; };
      if (op === 'older_than') return (c, now) => { const v = c[at] as number; return v !== undefined && v < now - span; };
      return (c, now) => { const v = c[at] as number; return v !== undefined && v >= now && v <= now + span; };
    }
    const { low, high } = dateInterval(rule, timeZone, 0);
    return (c) => { const v = c[at] as number; return v !== undefined && v >= low && v <= high; };
  }
  switch (operand.shape) {
    case 'text': {
      const f = operand.folded;
      if (type === 'list') return (c) => { const v = c[at] as string[]; return v !== undefined && v.includes(f); };
      if (op === 'eq') return (c) => c[at] === f;
      if (op === 'contains') return (c) => { const v = c[at] as string; return v !== undefined && v.includes(f); };
      if (op === 'starts_with') return (c) => { const v = c[at] as string; return v !== undefined && v.startsWith(f); };
      return (c) => { const v = c[at] as string; return v !== undefined && v.endsWith(f); };
    }
    case 'texts': {
      const set = new Set(operand.folded);
      if (type === 'list') return (c) => anyIn(set, c[at]);
      return (c) => set.has(c[at] as string);
    }
    case 'numbers': { const set = new Set(operand.values); return (c) => set.has(c[at] as number); }
    case 'number': {
      const n = operand.value;
      switch (op) {
        case 'eq': return (c) => c[at] === n;
        case 'gt': return (c) => { const v = c[at] as number; return v !== undefined && v > n; };
        case 'gte': return (c) => { const v = c[at] as number; return v !== undefined && v >= n; };
        case 'lt': return (c) => { const v = c[at] as number; return v !== undefined && v < n; };
        default: return (c) => { const v = c[at] as number; return v !== undefined && v <= n; };
      }
    }
    case 'numberRange': { const { low, high } = operand; return (c) => { const v = c[at] as number; return v !== undefined && v >= low && v <= high; }; }
    case 'boolean': { const b = operand.value; return (c) => c[at] === b; }
  }
  throw new Error(`fused-predicate: no test for ${op} on ${type}`);
}

/** The negative operators (neq, not_contains, not_in, is_not_empty), fused with their `not`. */
function negative(twin: RuleNode, at: number, timeZone: string): Test {
  const { operand, type, op } = twin;
  if (op === 'is_empty') return (c) => c[at] !== undefined;
  if (operand.shape === 'text' && (type === 'list' || op === 'contains')) {
    const f = operand.folded;
    return (c) => { const v = c[at] as string; return v === undefined || !v.includes(f); };
  }
  if (operand.shape === 'text' || operand.shape === 'number' || operand.shape === 'boolean') {
    if (op === 'eq') { const x = operand.shape === 'text' ? operand.folded : operand.value; return (c) => c[at] !== x; }
  }
  if (operand.shape === 'texts') {
    const set = new Set(operand.folded);
    if (type === 'list') return (c) => !anyIn(set, c[at]);
    return (c) => !set.has(c[at] as string);
  }
  if (operand.shape === 'numbers') { const set = new Set(operand.values); return (c) => !set.has(c[at] as number); }
  const positive = affirmative(twin, at, timeZone); // date neq: rare enough to keep the wrapper
  return (c, now) => !positive(c, now);
}

function anyIn(set: ReadonlySet<string>, v: Value): boolean {
  if (v === undefined) return false;
  const items = v as readonly string[];
  for (let i = 0; i < items.length; i++) if (set.has(items[i])) return true;
  return false;
}
