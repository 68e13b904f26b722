// The time horizons a backfill stores for a definition with relative dates. The horizon is the
// predicate's own `nextChange`, which reads nothing but the dates of the relative rules: so each
// range reads only those date slot columns, only for the contacts whose horizon can be finite,
// and never the contacts' documents.
import { sql } from 'kysely';
import type { CompiledPredicate } from '../conditions/compile-predicate.js';
import type { PreparedContact } from '../conditions/contact-values.js';
import { isRelative } from '../conditions/date-interval.js';
import type { Condition, RuleNode } from '../conditions/types.js';
import { unindexed } from '../db/unindexed.js';
import { dialectOf } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import type { WorkspaceState } from './workspace-state.js';

/** The rules whose result moves with the clock (their operand is a span). */
export function relativeRules(condition: Condition): RuleNode[] {
  if (condition.kind === 'rule') return isRelative(condition) ? [condition] : [];
  if (condition.kind === 'not') return relativeRules(condition.child);
  return condition.children.flatMap(relativeRules);
}

/** A relative rule's date: where it sits in a prepared contact and in which slot column. */
interface RelativeDate {
  readonly position: number;
  readonly column: string;
  /**
   * No date earlier than this has a finite horizon for the rule at `now`: within_last and
   * older_than flip for the last time at t + span + 1, within_next at t + 1, so a date with
   * t + span < now never flips again (dates are whole milliseconds).
   */
  readonly earliest: number;
}

function relativeDates(state: WorkspaceState, rules: readonly RuleNode[], now: number): RelativeDate[] {
  return rules.map((rule) => {
    const storage = state.columns.storage.get(rule.attr);
    const position = state.layout.index.get(rule.attr);
    if (storage?.kind !== 'column' || position === undefined || rule.operand.shape !== 'span') {
      throw new Error(`backfill: relative rule on "${rule.attr}" has no date column`);
    }
    return { position, column: storage.column, earliest: Math.floor(now - rule.operand.ms) };
  });
}

/**
 * Lowers the stored horizon (`contacts.next_change_ms`) of the workspace's contacts with pk in
 * (fromPk, toPk] to the definition's horizon at `now` where that is earlier, exactly as a write
 * evaluating the predicate would.
 */
export async function lowerHorizonsInRange(tx: Tx, state: WorkspaceState, condition: Condition, predicate: CompiledPredicate, fromPk: number, toPk: number, now: number): Promise<void> {
  const dates = relativeDates(state, relativeRules(condition), now);
  if (dates.length === 0) return;
  const columns = [...new Set(dates.map((d) => d.column))];
  const rows = await tx.selectFrom('contacts as c')
    .select(['c.pk', 'c.next_change_ms', ...columns.map((column) => sql.ref(`c.${column}`).as(column))])
    .where(unindexed(dialectOf(tx), 'c.workspace_id'), '=', state.workspaceId).where('c.pk', '>', fromPk).where('c.pk', '<=', toPk)
    .where((eb) => eb.or(dates.map((d) => eb(sql.ref(`c.${d.column}`), '>=', d.earliest))))
    .execute() as unknown as Array<Record<string, number | string | null>>;
  // nextChange reads only the relative rules' dates: a contact prepared with those alone has the
  // horizon of the whole contact.
  const prepared: PreparedContact = new Array(state.layout.attributes.length).fill(undefined);
  const lower: number[][] = [];
  for (const row of rows) {
    for (const d of dates) prepared[d.position] = row[d.column] === null ? undefined : Number(row[d.column]);
    const horizon = predicate.nextChange(prepared, now);
    // Only the horizons that move are sent back (the update compares again, in the same transaction).
    const stored = row.next_change_ms;
    if (Number.isFinite(horizon) && (stored === null || Number(stored) > horizon)) lower.push([Number(row.pk), horizon]);
  }
  await lowerHorizons(tx, lower);
}

/** Lowers each contact's stored horizon to the given instant where that is earlier: one statement per 1,000 contacts. */
async function lowerHorizons(tx: Tx, horizons: readonly number[][]): Promise<void> {
  for (let i = 0; i < horizons.length; i += 1_000) {
    const chunk = horizons.slice(i, i + 1_000);
    const values = sql.join(chunk.map(([pk, h]) => sql`(cast(${pk} as bigint), cast(${h} as bigint))`));
    await sql`update contacts set next_change_ms = v.column2 from (values ${values}) as v
      where contacts.pk = v.column1 and (contacts.next_change_ms is null or contacts.next_change_ms > v.column2)`.execute(tx);
  }
}
