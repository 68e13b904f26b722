// The predicate compiler's code generator: a validated condition becomes one straight-line
// JavaScript function over the prepared contact array, instead of a tree of closures (measured
// about 1.5-2x faster per check in bench:eval, which is what lets it beat its peers by 10x).
// Safety: the generated source holds only operators, slot numbers and indices into K; every value
// from the condition (texts, sets, bounds) stays data in K and is never spliced into the source,
// so no condition text can become code.
import type { ContactLayout, PreparedContact } from './contact-values.js';
import { dateInterval } from './date-interval.js';
import { OPERATORS } from './operators.js';
import type { Condition, RuleNode } from './types.js';

export type GeneratedTest = (contact: PreparedContact, now: number) => boolean;

function anyIn(set: ReadonlySet<string>, items: readonly string[] | undefined): boolean {
  if (items === undefined) return false;
  for (let i = 0; i < items.length; i++) if (set.has(items[i])) return true;
  return false;
}

class Emitter {
  readonly constants: unknown[] = [];
  constructor(private readonly layout: ContactLayout, private readonly timeZone: string) {}

  private k(value: unknown): string {
    this.constants.push(value);
    return `K[${this.constants.length - 1}]`;
  }

  node(node: Condition): string {
    switch (node.kind) {
      case 'all': return node.children.length === 0 ? 'true' : `(${node.children.map((c) => this.node(c)).join(' && ')})`;
      case 'any': return node.children.length === 0 ? 'false' : `(${node.children.map((c) => this.node(c)).join(' || ')})`;
      case 'not': return `!${this.node(node.child)}`;
      case 'rule': {
        const twin = OPERATORS[node.op].complementOf;
        return twin ? `!${this.positive({ ...node, op: twin })}` : this.positive(node);
      }
    }
  }

  private positive(rule: RuleNode): string {
    const at = this.layout.index.get(rule.attr);
    if (at === undefined) throw new Error(`compilePredicate: attribute "${rule.attr}" is not in the layout`);
    const v = `c[${at}]`;
    const present = (test: string) => `((v = ${v}) !== undefined && ${test})`;
    const { operand, type, op } = rule;
    if (op === 'is_empty') return `(${v} === undefined)`;
    if (type === 'date') {
      if (operand.shape === 'span') {
        const span = this.k(operand.ms);
        // The intervals of date-interval.ts, with `now` a variable: within_last [now − span, now];
        // older_than [−∞, now − span − 1] (dates are whole ms, so `<`); within_next [now, now + span].
        if (op === 'within_last') return present(`v >= now - ${span} && v <= now`);
        if (op === 'older_than') return present(`v < now - ${span}`);
        return present(`v >= now && v <= now + ${span}`);
      }
      // Day bounds depend on the zone only: computed once, here.
      const { low, high } = dateInterval(rule, this.timeZone, 0);
      const parts = [low === -Infinity ? '' : `v >= ${this.k(low)}`, high === Infinity ? '' : `v <= ${this.k(high)}`].filter(Boolean);
      return present(parts.join(' && '));
    }
    switch (operand.shape) {
      case 'text': {
        const f = this.k(operand.folded);
        if (type === 'list' || op === 'contains') return present(`v.includes(${f})`);
        if (op === 'eq') return `(${v} === ${f})`;
        return present(op === 'starts_with' ? `v.startsWith(${f})` : `v.endsWith(${f})`);
      }
      case 'texts': {
        const set = this.k(new Set(operand.folded));
        return type === 'list' ? `anyIn(${set}, ${v})` : `${set}.has(${v})`;
      }
      case 'numbers': return `${this.k(new Set(operand.values))}.has(${v})`;
      case 'number': {
        const n = this.k(operand.value);
        if (op === 'eq') return `(${v} === ${n})`;
        const cmp = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op as 'gt'];
        return present(`v ${cmp} ${n}`);
      }
      case 'numberRange': return present(`v >= ${this.k(operand.low)} && v <= ${this.k(operand.high)}`);
      case 'boolean': return `(${v} === ${operand.value ? 'true' : 'false'})`;
    }
    throw new Error(`compilePredicate: no test for ${op} on ${type}`);
  }
}

/** The condition as one generated function of (contact, now); `source` is for tests and debugging. */
export function generateTest(condition: Condition, layout: ContactLayout, timeZone: string): { test: GeneratedTest; source: string } {
  const emitter = new Emitter(layout, timeZone);
  const body = emitter.node(condition);
  const source = `return function generatedPredicate(c, now) { let v; return ${body}; };`;
  const test = new Function('K', 'anyIn', source)(emitter.constants, anyIn) as GeneratedTest;
  return { test, source };
}
