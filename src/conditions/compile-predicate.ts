// The predicate compiler: a validated condition becomes a function over a prepared contact, built
// once per definition and reused for every contact (the write path, auto-apply, routing, bots),
// with its time horizon beside it.
import type { ContactLayout, PreparedContact, PreparedValue } from './contact-values.js';
import { generateTest } from './compile-generated.js';
import { relativeFlip } from './date-interval.js';
import type { Condition, RuleNode } from './types.js';

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

// ---- test ----------------------------------------------------------------------------------

/** The condition's test: one generated function (compile-generated.ts). */
export function compileTest(node: Condition, layout: ContactLayout, o: CompileOptions): ContactTest {
  return generateTest(node, layout, o.timeZone).test;
}

/** One rule as a test of one prepared value (explain shows each rule's own result). */
export function compileRule(rule: RuleNode, o: CompileOptions): ValueTest {
  const layout: ContactLayout = { attributes: [{ key: rule.attr, type: rule.type }], index: new Map([[rule.attr, 0]]) };
  const test = generateTest(rule, layout, o.timeZone).test;
  return (v, now) => test([v], now);
}

function slot(layout: ContactLayout, node: RuleNode): number {
  const at = layout.index.get(node.attr);
  if (at === undefined) throw new Error(`compilePredicate: attribute "${node.attr}" is not in the layout`);
  return at;
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
