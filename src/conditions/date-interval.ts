// Every date operator is an inclusive interval of UTC milliseconds. Stored dates are whole
// milliseconds, so `> t` is `≥ t + 1`, and a day is [its first instant, the next day's first − 1].
// Both compilers read dates through this one function, so they cannot disagree on a boundary.
import { dayBounds } from './time.js';
import type { DatePoint, RuleNode } from './types.js';

export interface DateInterval {
  /** Inclusive; -Infinity when unbounded. */
  readonly low: number;
  /** Inclusive; Infinity when unbounded. */
  readonly high: number;
}

function bounds(point: DatePoint, timeZone: string): readonly [number, number] {
  return point.kind === 'instant' ? [point.ms, point.ms] : dayBounds(point, timeZone);
}

/** Whether a date rule's interval depends on `now` (it must then be recomputed at each evaluation). */
export function isRelative(rule: RuleNode): boolean {
  return rule.operand.shape === 'span';
}

/** The interval a date rule (eq gt gte lt lte between within_last older_than within_next) selects. */
export function dateInterval(rule: RuleNode, timeZone: string, now: number): DateInterval {
  const { operand } = rule;
  if (operand.shape === 'span') {
    switch (rule.op) {
      case 'within_last': return { low: now - operand.ms, high: now };
      case 'older_than': return { low: -Infinity, high: now - operand.ms - 1 };
      case 'within_next': return { low: now, high: now + operand.ms };
    }
  }
  if (operand.shape === 'dateRange') {
    return { low: bounds(operand.low, timeZone)[0], high: bounds(operand.high, timeZone)[1] };
  }
  if (operand.shape === 'date') {
    const [first, last] = bounds(operand.point, timeZone);
    switch (rule.op) {
      case 'eq': case 'neq': return { low: first, high: last };
      case 'gt': return { low: last + 1, high: Infinity };
      case 'gte': return { low: first, high: Infinity };
      case 'lt': return { low: -Infinity, high: first - 1 };
      case 'lte': return { low: -Infinity, high: last };
    }
  }
  throw new Error(`dateInterval: ${rule.op} on ${operand.shape} is not a date rule`);
}

/**
 * The first instant after `now` at which a relative rule's result for the date `t` flips, or
 * Infinity when it never will. Exact, from the intervals above: within_last holds for
 * now ∈ [t, t + span]; older_than for now ≥ t + span + 1; within_next for now ∈ [t − span, t].
 */
export function relativeFlip(op: string, spanMs: number, t: number, now: number): number {
  switch (op) {
    case 'within_last':
      if (now < t) return t;
      return now <= t + spanMs ? t + spanMs + 1 : Infinity;
    case 'older_than':
      return now < t + spanMs + 1 ? t + spanMs + 1 : Infinity;
    case 'within_next':
      if (now < t - spanMs) return t - spanMs;
      return now <= t ? t + 1 : Infinity;
    default:
      return Infinity;
  }
}
