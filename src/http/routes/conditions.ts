// A condition from a request (a filter, a preview): validated against the workspace's schema, with
// segments hidden from the principal read as unknown ones. Errors carry the path from the body's
// root (`condition.any[1].value`).
import type { Principal } from '../../access/tokens.js';
import { hiddenSegments } from '../../access/visibility.js';
import type { Condition } from '../../conditions/types.js';
import { validate } from '../../conditions/validate.js';
import type { Tx } from '../../db/write-transaction.js';
import { InvalidInput } from '../../errors.js';
import type { WorkspaceState } from '../../segments/workspace-state.js';

export async function readCondition(db: Tx, principal: Principal, state: WorkspaceState, input: unknown, path: string): Promise<Condition> {
  const hidden = await hiddenSegments(db, principal, state.segments);
  const result = validate(state.schema, input, { segments: 'segment', isKnownSegment: (id) => state.byId.has(id) && !hidden.has(id) });
  if (!result.ok) throw new InvalidInput('invalid condition', result.issues.map((i) => ({ path: i.path ? `${path}.${i.path}` : path, message: i.message })));
  return result.condition;
}
