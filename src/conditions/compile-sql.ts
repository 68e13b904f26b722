// The SQL compiler: a validated condition becomes one boolean Kysely expression over `contacts`
// (aliased `c`), for SQLite and PostgreSQL. It must agree with compile-predicate.ts on every input,
// so it reads the same catalogue and the same date intervals. Pure: it only builds expressions.
//
// Every rule compiles to a TWO-VALUED expression (never NULL: `c.t3 IS NOT NULL AND c.t3 = ?`),
// so a negative operator, compiled as `NOT (positive twin)`, and `not` are exact complements.
// Every value is a bound parameter; column names come from the layout and are checked.
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import { dateInterval } from './date-interval.js';
import { OPERATORS } from './operators.js';
import { SQL_DIALECTS } from './sql-dialect.js';
import type { SqlDialect, SqlFragment } from './sql-dialect.js';
import { LIST_VALUES_TABLE, MEMBERS_PENDING_TABLE, MEMBERS_TABLE, MEMBER_ORDER_TABLE, SLOT_COLUMN } from './sql-layout.js';
import type { AttributeStorage, SqlColumnLayout, SqlDialectName } from './sql-layout.js';
import type { AttributeType, Condition, ConditionKind, RuleNode } from './types.js';

export interface SqlCompileContext {
  readonly dialect: SqlDialectName;
  readonly columns: SqlColumnLayout;
  /** IANA time zone that day values are read in. */
  readonly timeZone: string;
  /** The moment of evaluation (UTC ms), for relative dates. */
  readonly now: number;
  /** The alias `contacts` has in the enclosing query; `c` unless given. */
  readonly contactAlias?: string;
  /** Scopes list lookups; the caller scopes `contacts` itself (`c.workspace_id = ?`). */
  readonly workspaceId: string;
}

export type SqlCondition = RawBuilder<SqlBool>;

interface State {
  readonly ctx: SqlCompileContext;
  readonly d: SqlDialect;
  readonly alias: string;
}

const ALIAS = /^[a-z_][a-z0-9_]{0,62}$/;
/** The alias of `contact_list_values` inside list subqueries; the contacts alias may not take it. */
const LIST_ALIAS = 'lv';

/** Compiles a validated condition into an expression for `.where(...)` over `contacts as <alias>`. */
export function compileSql(condition: Condition, ctx: SqlCompileContext): SqlCondition {
  const alias = ctx.contactAlias ?? 'c';
  if (!ALIAS.test(alias) || alias === LIST_ALIAS || alias === 'j') {
    throw new Error(`compileSql: contactAlias ${JSON.stringify(alias)} is not a plain lower-case name other than "${LIST_ALIAS}" and "j"`);
  }
  const d = SQL_DIALECTS[ctx.dialect];
  if (!d) throw new Error(`compileSql: unknown dialect ${JSON.stringify(ctx.dialect)}`);
  return compileNode(condition, { ctx, d, alias }) as SqlCondition;
}

// Every node compiles to a parenthesised expression, so nesting never depends on precedence.
const TRUE = sql`(1 = 1)`;
const FALSE = sql`(1 = 0)`;

const NODES: { [K in ConditionKind]: (node: Extract<Condition, { kind: K }>, s: State) => SqlFragment } = {
  // An empty "all" matches everyone; an empty "any" matches no one.
  all: (node, s) => (node.children.length === 0 ? TRUE : sql`(${sql.join(node.children.map((c) => compileNode(c, s)), sql` AND `)})`),
  any: (node, s) => (node.children.length === 0 ? FALSE : sql`(${sql.join(node.children.map((c) => compileNode(c, s)), sql` OR `)})`),
  not: (node, s) => sql`(NOT ${compileNode(node.child, s)})`,
  rule: (node, s) => compileRule(node, s),
};

function compileNode(node: Condition, s: State): SqlFragment {
  return (NODES[node.kind] as (n: Condition, s: State) => SqlFragment)(node, s);
}

/** A negative operator is exactly NOT its positive twin, which is two-valued. */
function compileRule(rule: RuleNode, s: State): SqlFragment {
  const twin = OPERATORS[rule.op].complementOf;
  if (twin) return sql`(NOT ${compilePositive({ ...rule, op: twin }, s)})`;
  return compilePositive(rule, s);
}

function compilePositive(rule: RuleNode, s: State): SqlFragment {
  const storage = s.ctx.columns.storage.get(rule.attr);
  if (!storage) throw new Error(`compileSql: attribute "${rule.attr}" has no storage in the column layout`);
  if (rule.type === 'list') {
    if (storage.kind === 'column') throw new Error(`compileSql: list attribute "${rule.attr}" is stored as ${describeStorage(storage)}`);
    return compileList(rule, s, storage.kind);
  }
  if (storage.kind !== 'column') throw new Error(`compileSql: ${rule.type} attribute "${rule.attr}" is stored as ${describeStorage(storage)}`);
  const column = slotRef(rule, storage.column, s);
  // A missing value is NULL: true for is_empty, false for every other positive operator.
  if (rule.op === 'is_empty') return sql`(${column} IS NULL)`;
  return sql`(${column} IS NOT NULL AND ${COLUMN_TESTS[rule.type](rule, column, s)})`;
}

const SLOT_LETTER: Readonly<Record<Exclude<AttributeType, 'list'>, string>> = { text: 't', enum: 't', number: 'n', date: 'd', boolean: 'b' };

function slotRef(rule: RuleNode, column: string, s: State): SqlFragment {
  const letter = SLOT_LETTER[rule.type as Exclude<AttributeType, 'list'>];
  if (!SLOT_COLUMN.test(column) || column[0] !== letter) {
    throw new Error(`compileSql: column ${JSON.stringify(column)} is not a ${rule.type} slot for "${rule.attr}"`);
  }
  return sql.ref(`${s.alias}.${column}`);
}

function describeStorage(storage: AttributeStorage): string {
  return storage.kind === 'column' ? `column ${storage.column}` : storage.kind;
}

type ColumnTest = (rule: RuleNode, column: SqlFragment, s: State) => SqlFragment;

/** The test of a non-NULL column value, by attribute type. */
const COLUMN_TESTS: Readonly<Record<Exclude<AttributeType, 'list'>, ColumnTest>> = {
  text: textTest,
  enum: textTest,
  number(rule, column, { d }) {
    const { operand } = rule;
    switch (operand.shape) {
      case 'numbers': return d.inNumbers(column, operand.values);
      case 'numberRange': return sql`${column} >= ${d.number(operand.low)} AND ${column} <= ${d.number(operand.high)}`;
      case 'number': return sql`${column} ${comparison(rule)} ${d.number(operand.value)}`;
    }
    return unsupported(rule);
  },
  date(rule, column, { d, ctx }) {
    const { low, high } = dateInterval(rule, ctx.timeZone, ctx.now);
    // Stored dates are whole milliseconds, so fractional bounds round inwards without changing
    // the result (and PostgreSQL's bigint takes only integers). An infinite bound is no bound.
    const parts: SqlFragment[] = [];
    if (low !== -Infinity) parts.push(sql`${column} >= ${d.integer(Math.ceil(low))}`);
    if (high !== Infinity) parts.push(sql`${column} <= ${d.integer(Math.floor(high))}`);
    return parts.length === 0 ? sql`1 = 1` : sql.join(parts, sql` AND `);
  },
  boolean(rule, column, { d }) {
    if (rule.op !== 'eq' || rule.operand.shape !== 'boolean') return unsupported(rule);
    return sql`${column} = ${d.integer(rule.operand.value ? 1 : 0)}`;
  },
};

function textTest(rule: RuleNode, column: SqlFragment, { d }: State): SqlFragment {
  const { operand } = rule;
  if (operand.shape === 'texts' && rule.op === 'in') return d.inTexts(column, operand.folded);
  if (operand.shape === 'text') {
    const f = operand.folded;
    switch (rule.op) {
      case 'eq': return sql`${column} = ${d.text(f)}`;
      case 'contains': return d.contains(column, f);
      case 'starts_with': return d.startsWith(column, f);
      case 'ends_with': return d.endsWith(column, f);
    }
  }
  return unsupported(rule);
}

const COMPARISONS: Partial<Record<RuleNode['op'], SqlFragment>> = {
  eq: sql`=`, gt: sql`>`, gte: sql`>=`, lt: sql`<`, lte: sql`<=`,
};

function comparison(rule: RuleNode): SqlFragment {
  return COMPARISONS[rule.op] ?? unsupported(rule);
}

/**
 * List rules: rows in `contact_list_values` (one per distinct folded element), or for `segments`
 * rows in `segment_members` (one per segment the contact belongs to; segment ids are lower-case,
 * so the folded operand is the id).
 */
function compileList(rule: RuleNode, { ctx, d, alias }: State, kind: 'list' | 'membership'): SqlFragment {
  const pk = sql.ref(`${alias}.pk`);
  const lv = (column: string) => sql.ref(`${LIST_ALIAS}.${column}`);
  const rows = kind === 'list'
    ? sql`${sql.table(LIST_VALUES_TABLE)} AS ${sql.id(LIST_ALIAS)} WHERE ${lv('workspace_id')} = ${d.text(ctx.workspaceId)} AND ${lv('attr')} = ${d.text(rule.attr)}`
    : sql`${sql.table(MEMBERS_TABLE)} AS ${sql.id(LIST_ALIAS)} WHERE ${lv('workspace_id')} = ${d.text(ctx.workspaceId)}`;
  const { operand } = rule;
  // `pk IN (...)` is two-valued: pk is never NULL, and neither is contact_pk.
  if (rule.op === 'is_empty') return sql`(NOT EXISTS (SELECT 1 FROM ${rows} AND ${lv('contact_pk')} = ${pk}))`;
  if (kind === 'membership') {
    // The members of the segments, in segment order: one read of each segment's rows.
    const test = (column: SqlFragment) => rule.op === 'contains' && operand.shape === 'text' ? sql`${column} = ${d.text(operand.folded)}`
      : rule.op === 'in' && operand.shape === 'texts' ? d.inTexts(column, operand.folded) : unsupported(rule);
    return sql`(${pk} IN (${membersOfSegment(d, d.text(ctx.workspaceId), test)}))`;
  }
  if (rule.op === 'contains' && operand.shape === 'text') {
    return sql`(${pk} IN (SELECT ${lv('contact_pk')} FROM ${rows} AND ${lv('value')} = ${d.text(operand.folded)}))`;
  }
  if (rule.op === 'in' && operand.shape === 'texts') {
    return sql`(${pk} IN (SELECT ${lv('contact_pk')} FROM ${rows} AND ${d.inTexts(lv('value'), operand.folded)}))`;
  }
  return unsupported(rule);
}

/** SQLite: a range of segment_member_order's blocks (its `block` column, indexed), `to` included. */
export interface MemberBlocks {
  readonly from: number;
  readonly to?: number;
}

/**
 * The stored members of the segments that `test` admits (`test(segment_id column)`), as rows of
 * contact_pk (a contact in two of them is two rows); with `afterPk`, only contacts above it.
 * segment_members is keyed by contact (a contact's memberships together, which a write changes);
 * a segment's members in order are read from segment_member_order, which on SQLite is behind for
 * the contacts listed in segment_members_pending: for those, their segment_members rows are read
 * instead (segments/member-order.ts). On PostgreSQL both orders are indexes of segment_members.
 * CROSS JOIN keeps SQLite's join order, the listed contacts first (see member-order.ts). On SQLite
 * segment_member_order is a view of blocks of pks: `blocks` limits the read of it to those, by
 * their index (the caller, which knows the blocks' size, says which hold the pks it wants).
 */
export function membersOfSegment(d: SqlDialect, workspaceId: SqlFragment, test: (segmentColumn: SqlFragment) => SqlFragment, afterPk?: number, blocks?: MemberBlocks): SqlFragment {
  const select = (alias: string) => sql.ref(`${alias}.contact_pk`);
  const above = (alias: string) => (afterPk === undefined ? sql`` : sql` AND ${sql.ref(`${alias}.contact_pk`)} > ${d.integer(afterPk)}`);
  if (d.name === 'postgres') {
    return sql`SELECT ${select('m')} FROM ${sql.table(MEMBERS_TABLE)} AS m WHERE m.workspace_id = ${workspaceId} AND ${test(sql.ref('m.segment_id'))}${above('m')}`;
  }
  const inBlocks = blocks === undefined ? sql``
    : sql` AND o.block >= ${d.integer(blocks.from)}${blocks.to === undefined ? sql`` : sql` AND o.block <= ${d.integer(blocks.to)}`}`;
  return sql`SELECT ${select('o')} FROM ${sql.table(MEMBER_ORDER_TABLE)} AS o
      WHERE o.workspace_id = ${workspaceId} AND ${test(sql.ref('o.segment_id'))}${inBlocks}${above('o')}
        AND o.contact_pk NOT IN (SELECT p.contact_pk FROM ${sql.table(MEMBERS_PENDING_TABLE)} AS p WHERE p.workspace_id = ${workspaceId})
    UNION ALL
    SELECT ${select('m')} FROM ${sql.table(MEMBERS_PENDING_TABLE)} AS p
      CROSS JOIN ${sql.table(MEMBERS_TABLE)} AS m ON m.workspace_id = p.workspace_id AND m.contact_pk = p.contact_pk
      WHERE p.workspace_id = ${workspaceId} AND ${test(sql.ref('m.segment_id'))}${above('m')}`;
}

/** Validation admits only catalogue combinations, all handled above; anything else is a bug. */
function unsupported(rule: RuleNode): never {
  throw new Error(`compileSql: no SQL for ${rule.op} on ${rule.type} (${rule.operand.shape}) at ${rule.path || '(condition)'}`);
}
