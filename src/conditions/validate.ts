// Validation is the only gate: it returns every problem with its path, or a typed `Condition` that
// the compilers accept and cover in full. Nothing invalid reaches a compiler.
import { fold, unstorableText } from './fold.js';
import { LIMITS } from './limits.js';
import { OPERATORS, SEGMENT_MEMBERSHIP_OPERATORS, TIME_UNITS, isOperator, operatorsFor } from './operators.js';
import type { OperandShape } from './operators.js';
import { SEGMENTS_FIELD, indexSchema } from './schema.js';
import { parseConditionInstant, parseDay, spanMs } from './time.js';
import type {
  AttributeDef, Condition, DatePoint, Operand, Operator, Schema, TimeUnit, ValidationIssue,
} from './types.js';

export interface ValidateOptions {
  /** Keys of disabled attributes the definition's previous version used: an edit may keep them. */
  readonly previouslyUsed?: ReadonlySet<string>;
  /**
   * How `segments` (membership as a list field) is read:
   * - 'list': an ordinary list attribute given with each contact (a standalone document);
   * - 'segment': in a segment's own condition — contains, not_contains, in, not_in only;
   * - 'conversation': in a rule over conversations — all list operators.
   * With 'segment' and 'conversation' each value must name a segment the author may see.
   */
  readonly segments?: 'list' | 'segment' | 'conversation';
  readonly isKnownSegment?: (id: string) => boolean;
  /**
   * With `segments: 'segment'` for another reason than a segment's own condition (a filter of an
   * agent from whom segments are hidden): that reason, given when an operator is refused.
   */
  readonly membershipOperatorsBecause?: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly condition: Condition }
  | { readonly ok: false; readonly issues: readonly ValidationIssue[] };

/** Thrown where a caller needs a valid condition and was given an invalid one. */
export class InvalidCondition extends Error {
  readonly code = 'invalid_condition';
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(`invalid condition: ${issues.map((i) => `${i.path || '(condition)'}: ${i.message}`).join('; ')}`);
  }
}

const SEGMENTS_DEF: AttributeDef = { key: SEGMENTS_FIELD, type: 'list' };
const GROUP_KEYS = ['all', 'any', 'not'] as const;
const RULE_KEYS = new Set(['attr', 'op', 'value']);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) => {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
};

export function validate(schema: Schema, input: unknown, options: ValidateOptions = {}): ValidationResult {
  const issues: ValidationIssue[] = [];
  const size = jsonSize(input);
  if (size > LIMITS.jsonBytes) {
    return { ok: false, issues: [{ path: '', message: `the condition is ${size} bytes as JSON; the limit is ${LIMITS.jsonBytes} (1 MiB)` }] };
  }
  const v = new Validator(schema, options, issues);
  const condition = v.node(input, '', 0);
  return issues.length === 0 && condition ? { ok: true, condition } : { ok: false, issues };
}

/** `validate`, throwing `InvalidCondition` with every issue when the input is not valid. */
export function validateOrThrow(schema: Schema, input: unknown, options: ValidateOptions = {}): Condition {
  const result = validate(schema, input, options);
  if (!result.ok) throw new InvalidCondition(result.issues);
  return result.condition;
}

function jsonSize(input: unknown): number {
  try {
    const text = JSON.stringify(input);
    return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  } catch {
    return 0; // a cycle or a BigInt: the walk below reports the bad node
  }
}

class Validator {
  private readonly attributes: ReadonlyMap<string, AttributeDef>;
  private rules = 0;
  private readonly open = new Set<object>();

  constructor(schema: Schema, private readonly options: ValidateOptions, private readonly issues: ValidationIssue[]) {
    this.attributes = indexSchema(schema);
  }

  private issue(path: string, message: string): null {
    this.issues.push({ path, message });
    return null;
  }

  node(input: unknown, path: string, depth: number): Condition | null {
    if (!isObject(input)) {
      return this.issue(path, `expected a condition — a group {"all": [...]}, {"any": [...]}, {"not": {...}} or a rule {"attr", "op", "value"} — not ${describe(input)}`);
    }
    // Only a JavaScript caller can build a cycle; JSON cannot. Guard the walk against it.
    if (this.open.has(input)) return this.issue(path, 'the condition contains itself');
    this.open.add(input);
    try {
      return this.nodeBody(input, path, depth);
    } finally {
      this.open.delete(input);
    }
  }

  private nodeBody(input: Record<string, unknown>, path: string, depth: number): Condition | null {
    const keys = Object.keys(input);
    // With two group keys, the first one written is the group and the second is the error.
    const groupKey = keys.find((k): k is (typeof GROUP_KEYS)[number] => (GROUP_KEYS as readonly string[]).includes(k));
    if (groupKey) {
      for (const k of keys) {
        if (k !== groupKey) this.issue(join(path, k), `unexpected field "${k}": a group has exactly one key, "${groupKey}" here`);
      }
      return this.group(groupKey, input[groupKey], path, depth + 1);
    }
    if ('attr' in input || 'op' in input) return this.rule(input, path);
    for (const k of keys) this.issue(join(path, k), `unknown field "${k}"`);
    return this.issue(path, 'expected a group (all, any or not) or a rule (attr, op, value)');
  }

  private group(kind: 'all' | 'any' | 'not', body: unknown, parent: string, depth: number): Condition | null {
    const path = join(parent, kind);
    if (depth > LIMITS.depth) {
      return this.issue(parent, `groups are nested ${depth} deep here; the limit is ${LIMITS.depth}`);
    }
    if (kind === 'not') {
      const child = this.node(body, path, depth);
      return child && { kind, path: parent, child };
    }
    if (!Array.isArray(body)) return this.issue(path, `expected an array of conditions, not ${describe(body)}`);
    const children: Condition[] = [];
    // An index loop, not forEach: a hole in a JavaScript array is reported like any missing node.
    for (let i = 0; i < body.length; i++) {
      const child = this.node(body[i], `${path}[${i}]`, depth);
      if (child) children.push(child);
    }
    return children.length === body.length ? { kind, path: parent, children } : null;
  }

  private rule(input: Record<string, unknown>, path: string): Condition | null {
    const before = this.issues.length;
    this.rules += 1;
    if (this.rules === LIMITS.rules + 1) this.issue(path, `more than ${LIMITS.rules} rules in one condition`);
    for (const k of Object.keys(input)) {
      if (!RULE_KEYS.has(k)) this.issue(join(path, k), `unknown field "${k}": a rule has attr, op and value`);
    }
    const attrPath = join(path, 'attr'), opPath = join(path, 'op'), valuePath = join(path, 'value');

    const attribute = this.attribute(input.attr, attrPath);
    const op = input.op;
    if (!isOperator(op)) {
      if (op === undefined) return this.issue(opPath, 'a rule needs an operator');
      const named = typeof op === 'string' ? JSON.stringify(op.length > 40 ? `${op.slice(0, 40)}…` : op) : describe(op);
      const takes = !attribute ? [] : attribute.key === SEGMENTS_FIELD && this.options.segments === 'segment' ? SEGMENT_MEMBERSHIP_OPERATORS : operatorsFor(attribute.type);
      return this.issue(opPath, `unknown operator ${named}${attribute ? `; ${attribute.key === SEGMENTS_FIELD ? '"segments"' : `a ${attribute.type} attribute`} takes ${takes.join(', ')}` : ''}`);
    }
    if (!attribute) return null;
    const spec = OPERATORS[op];
    const shape = spec.shapes[attribute.type];
    if (attribute.key === SEGMENTS_FIELD && this.options.segments === 'segment' && !SEGMENT_MEMBERSHIP_OPERATORS.includes(op)) {
      const because = this.options.membershipOperatorsBecause;
      const takes = `"segments" takes ${SEGMENT_MEMBERSHIP_OPERATORS.join(', ')} only`;
      return this.issue(opPath, because === undefined ? `in a segment's condition ${takes}` : `${takes} here: ${because}`);
    }
    if (!shape) {
      return this.issue(opPath, `"${op}" does not apply to a ${attribute.type} attribute; use one of ${operatorsFor(attribute.type).join(', ')}`);
    }
    const hasValue = 'value' in input && input.value !== undefined;
    let operand: Operand | null;
    if (shape === 'none') {
      if (hasValue && input.value !== null) return this.issue(valuePath, `"${op}" takes no value`);
      operand = { shape: 'none' };
    } else if (!hasValue || input.value === null) {
      return this.issue(valuePath, `"${op}" needs a value: ${SHAPE_WORDS[shape]}`);
    } else {
      operand = this.operand(shape, input.value, valuePath, attribute, op);
    }
    if (!operand || this.issues.length > before) return null;
    return { kind: 'rule', path, attr: attribute.key, type: attribute.type, op, operand };
  }

  private attribute(attr: unknown, path: string): AttributeDef | null {
    if (typeof attr !== 'string') return this.issue(path, attr === undefined ? 'a rule needs an attribute' : `expected an attribute key, not ${describe(attr)}`);
    const def = this.attributes.get(attr) ?? (attr === SEGMENTS_FIELD && !this.attributes.has(attr) ? SEGMENTS_DEF : undefined);
    if (!def) return this.issue(path, `unknown attribute "${attr.length > 80 ? `${attr.slice(0, 80)}…` : attr}"`);
    if (def.enabled === false && !this.options.previouslyUsed?.has(def.key)) {
      return this.issue(path, `attribute "${attr}" is disabled: existing definitions keep it, new ones may not use it`);
    }
    return def;
  }

  private operand(shape: OperandShape, value: unknown, path: string, attribute: AttributeDef, op: Operator): Operand | null {
    switch (shape) {
      case 'text': {
        const raw = this.text(value, path, attribute, OPERATORS[op].nonEmptyText === true);
        return raw === null ? null : { shape, raw, folded: fold(raw) };
      }
      case 'texts': {
        const raw = this.list(value, path, (item, p) => this.text(item, p, attribute, false));
        return raw === null ? null : { shape, raw, folded: raw.map(fold) };
      }
      case 'number': {
        const n = this.number(value, path);
        return n === null ? null : { shape, value: n };
      }
      case 'numbers': {
        const values = this.list(value, path, (item, p) => this.number(item, p));
        return values === null ? null : { shape, values };
      }
      case 'numberRange': {
        const pair = this.pair(value, path, (item, p) => this.number(item, p));
        if (!pair) return null;
        if (pair[0] > pair[1]) return this.issue(path, `between takes [low, high] with low ≤ high; ${pair[0]} > ${pair[1]}`);
        return { shape, low: pair[0], high: pair[1] };
      }
      case 'boolean':
        return typeof value === 'boolean' ? { shape, value } : this.issue(path, `expected true or false, not ${describe(value)}`);
      case 'date': {
        const point = this.date(value, path);
        return point && { shape, point };
      }
      case 'dateRange': {
        // A from after its to is not an error: with day bounds it depends on the time zone. It matches no one.
        const pair = this.pair(value, path, (item, p) => this.date(item, p));
        return pair && { shape, low: pair[0], high: pair[1] };
      }
      case 'span':
        return this.span(value, path);
      case 'none':
        return { shape };
    }
  }

  private text(value: unknown, path: string, attribute: AttributeDef, nonEmpty: boolean): string | null {
    if (typeof value !== 'string') return this.issue(path, `expected a text, not ${describe(value)}`);
    if (value.length > LIMITS.textLength) return this.issue(path, `a text value is at most ${LIMITS.textLength} characters; this one has ${value.length}`);
    if (nonEmpty && value.length === 0) return this.issue(path, 'expected a text of at least one character');
    const unstorable = unstorableText(value);
    if (unstorable) return this.issue(path, unstorable);
    if (attribute.type === 'enum') {
      const options = attribute.options ?? [];
      const folded = fold(value);
      if (!options.some((o) => fold(o) === folded)) return this.issue(path, `${describe(value)} is not an option of "${attribute.key}": ${options.join(', ')}`);
    }
    if (attribute.key === SEGMENTS_FIELD && this.options.segments !== 'list' && this.options.segments !== undefined) {
      if (!this.options.isKnownSegment?.(value)) return this.issue(path, `no segment with id ${JSON.stringify(value)}`);
    }
    return value;
  }

  private number(value: unknown, path: string): number | null {
    if (typeof value !== 'number') return this.issue(path, `expected a number, not ${describe(value)}`);
    if (!Number.isFinite(value)) return this.issue(path, `expected a finite number, not ${String(value)}`);
    return value;
  }

  private date(value: unknown, path: string): DatePoint | null {
    if (typeof value !== 'string') return this.issue(path, `expected a day (2025-03-04) or an instant (2025-03-04T10:00:00Z), not ${describe(value)}`);
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      const day = parseDay(value);
      return day ? { kind: 'day', ...day, text: value } : this.issue(path, `${value} is not a day in the calendar`);
    }
    const ms = parseConditionInstant(value);
    if (ms === null) {
      return this.issue(path, `expected a day (YYYY-MM-DD) or an instant with Z or an offset (2025-03-04T10:00:00Z, 2025-03-04T14:00:00+04:00), not ${describe(value)}`);
    }
    return { kind: 'instant', ms, text: value };
  }

  private span(value: unknown, path: string): Operand | null {
    if (!isObject(value)) return this.issue(path, `expected {"amount": n, "unit": "minutes" | "hours" | "days" | "weeks"}, not ${describe(value)}`);
    const before = this.issues.length;
    for (const k of Object.keys(value)) {
      if (k !== 'amount' && k !== 'unit') this.issue(`${path}.${k}`, `unknown field "${k}": a relative date has amount and unit`);
    }
    const { amount, unit } = value;
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > LIMITS.relativeAmount) {
      this.issue(`${path}.amount`, `expected a whole number from 1 to ${LIMITS.relativeAmount}, not ${describe(amount)}`);
    }
    if (typeof unit !== 'string' || !Object.prototype.hasOwnProperty.call(TIME_UNITS, unit)) {
      this.issue(`${path}.unit`, `expected one of ${Object.keys(TIME_UNITS).join(', ')}, not ${describe(unit)}`);
    }
    if (this.issues.length > before) return null;
    return { shape: 'span', amount: amount as number, unit: unit as TimeUnit, ms: spanMs(amount as number, unit as TimeUnit) };
  }

  private list<T>(value: unknown, path: string, item: (v: unknown, p: string) => T | null): T[] | null {
    if (!Array.isArray(value)) return this.issue(path, `expected a non-empty array, not ${describe(value)}`);
    if (value.length === 0) return this.issue(path, 'expected a non-empty array');
    if (value.length > LIMITS.listElements) return this.issue(path, `an array holds at most ${LIMITS.listElements} values; this one has ${value.length}`);
    const out: T[] = [];
    let ok = true;
    for (let i = 0; i < value.length; i++) {
      const v = item(value[i], `${path}[${i}]`);
      if (v === null) ok = false; else out.push(v);
    }
    return ok ? out : null;
  }

  private pair<T>(value: unknown, path: string, item: (v: unknown, p: string) => T | null): [T, T] | null {
    if (!Array.isArray(value) || value.length !== 2) return this.issue(path, `expected [low, high], not ${describe(value)}`);
    const low = item(value[0], `${path}[0]`), high = item(value[1], `${path}[1]`);
    return low === null || high === null ? null : [low, high];
  }
}

const SHAPE_WORDS: Record<OperandShape, string> = {
  none: 'no value',
  text: 'a text',
  texts: 'a non-empty array of texts',
  number: 'a number',
  numbers: 'a non-empty array of numbers',
  numberRange: '[low, high] numbers',
  boolean: 'true or false',
  date: 'a day (YYYY-MM-DD) or an instant (2025-03-04T10:00:00Z)',
  dateRange: '[from, to] days or instants',
  span: '{"amount": n, "unit": "minutes" | "hours" | "days" | "weeks"}',
};

/**
 * Whether a rule compares a date with a calendar day (`2025-03-04`): days are read in the
 * workspace's time zone, so such a condition's members change with it; instants and relative
 * spans (fixed lengths) do not.
 */
export function usesDayValues(condition: Condition): boolean {
  if (condition.kind === 'rule') {
    const { operand } = condition;
    if (operand.shape === 'date') return operand.point.kind === 'day';
    return operand.shape === 'dateRange' && (operand.low.kind === 'day' || operand.high.kind === 'day');
  }
  if (condition.kind === 'not') return usesDayValues(condition.child);
  return condition.children.some(usesDayValues);
}

/** Every attribute key a validated condition reads (for disabled-attribute and dependency checks). */
export function attributesUsed(condition: Condition): Set<string> {
  const keys = new Set<string>();
  const visit = (c: Condition): void => {
    if (c.kind === 'rule') keys.add(c.attr);
    else if (c.kind === 'not') visit(c.child);
    else c.children.forEach(visit);
  };
  visit(condition);
  return keys;
}
