// A condition from a request (a filter of contacts, a segment's preview): validated against the workspace's schema, with
// segments hidden from the principal read as unknown ones. Errors carry the path from the body's
// root (`condition.any[1].value`).
import type { Principal } from '../../access/tokens.js';
import { hiddenSegments } from '../../access/visibility.js';
import type { Condition } from '../../conditions/types.js';
import { validate } from '../../conditions/validate.js';
import type { Tx } from '../../db/write-transaction.js';
import { InvalidInput } from '../../errors.js';
import { attributesAnEditKeeps } from '../../segments/preview.js';
import type { WorkspaceState } from '../../segments/workspace-state.js';

/**
 * `use`: a segment's condition (a preview) takes `segments` with contains, not_contains, in and
 * not_in only, as a saved one does; a filter of contacts takes all six operators — "in no segment"
 * is a fair question of a list — except for an agent from whom segments are hidden, where
 * is_empty and is_not_empty would count the segments it cannot see.
 * `editing`: the segment whose edit this previews, which may keep the disabled attributes its
 * definition uses, as the edit itself may.
 */
export async function readCondition(
  db: Tx, principal: Principal, state: WorkspaceState, input: unknown, path: string, use: 'segment' | 'filter', editing?: string,
): Promise<Condition> {
  const hidden = await hiddenSegments(db, principal, state.segments);
  const segments = use === 'filter' && hidden.size === 0 ? 'conversation' : 'segment';
  const result = validate(state.schema, input, {
    segments, isKnownSegment: (id) => state.byId.has(id) && !hidden.has(id), previouslyUsed: attributesAnEditKeeps(state, editing),
    // An agent's filter is read as a segment's condition only because segments are hidden from it.
    membershipOperatorsBecause: use === 'filter' ? 'some segments are hidden from you, and is_empty / is_not_empty would count them' : undefined,
  });
  if (!result.ok) throw new InvalidInput('invalid condition', result.issues.map((i) => ({ path: i.path ? `${path}.${i.path}` : path, message: i.message })));
  return result.condition;
}
