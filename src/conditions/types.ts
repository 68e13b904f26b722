// The condition language's types: what a user writes (JSON) and what validation turns it into.
// Contract: ../shared/CONDITION_LANGUAGE.md. Compilers accept only a `Condition` made by `validate`.

export type AttributeType = 'text' | 'enum' | 'number' | 'date' | 'boolean' | 'list';

/** One entry of a workspace's attribute schema. */
export interface AttributeDef {
  readonly key: string;
  readonly type: AttributeType;
  /** Enum only: the allowed values, distinct after `fold`. */
  readonly options?: readonly string[];
  readonly label?: string;
  /** A disabled attribute keeps working in definitions that already use it; new ones may not use it. */
  readonly enabled?: boolean;
}

export type Schema = readonly AttributeDef[];

export type Operator =
  | 'eq' | 'neq'
  | 'contains' | 'not_contains'
  | 'starts_with' | 'ends_with'
  | 'in' | 'not_in'
  | 'gt' | 'gte' | 'lt' | 'lte' | 'between'
  | 'within_last' | 'older_than' | 'within_next'
  | 'is_empty' | 'is_not_empty';

export type TimeUnit = 'minutes' | 'hours' | 'days' | 'weeks';

/** The JSON a user writes. Unvalidated input is `unknown`; this type documents the valid shape. */
export type ConditionJson =
  | { all: ConditionJson[] }
  | { any: ConditionJson[] }
  | { not: ConditionJson }
  | { attr: string; op: Operator; value?: unknown };

/** A date operand: a calendar day (read in the workspace time zone) or an exact instant. */
export type DatePoint =
  | { readonly kind: 'day'; readonly year: number; readonly month: number; readonly day: number; readonly text: string }
  | { readonly kind: 'instant'; readonly ms: number; readonly text: string };

/** A rule's operand after validation, by the shape its operator takes. */
export type Operand =
  | { readonly shape: 'none' }
  | { readonly shape: 'text'; readonly raw: string; readonly folded: string }
  | { readonly shape: 'texts'; readonly raw: readonly string[]; readonly folded: readonly string[] }
  | { readonly shape: 'number'; readonly value: number }
  | { readonly shape: 'numbers'; readonly values: readonly number[] }
  | { readonly shape: 'numberRange'; readonly low: number; readonly high: number }
  | { readonly shape: 'boolean'; readonly value: boolean }
  | { readonly shape: 'date'; readonly point: DatePoint }
  | { readonly shape: 'dateRange'; readonly low: DatePoint; readonly high: DatePoint }
  | { readonly shape: 'span'; readonly amount: number; readonly unit: TimeUnit; readonly ms: number };

export interface AllNode { readonly kind: 'all'; readonly path: string; readonly children: readonly Condition[] }
export interface AnyNode { readonly kind: 'any'; readonly path: string; readonly children: readonly Condition[] }
export interface NotNode { readonly kind: 'not'; readonly path: string; readonly child: Condition }
export interface RuleNode {
  readonly kind: 'rule';
  /** Where this rule sits in the condition, as the contract writes paths (`any[1].all[0]`); '' at the root. */
  readonly path: string;
  readonly attr: string;
  readonly type: AttributeType;
  readonly op: Operator;
  readonly operand: Operand;
}

/** A validated condition: the only input the compilers accept. */
export type Condition = AllNode | AnyNode | NotNode | RuleNode;
export type ConditionKind = Condition['kind'];

/** One validation problem: where (a path inside the condition) and what was expected. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}
