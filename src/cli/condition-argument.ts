// JSON given on the command line, and a condition given so, validated against the workspace's
// schema; a refusal is a DomainError (exit status 2) listing every issue with its path.
import type { Condition } from '../conditions/types.js';
import { validate } from '../conditions/validate.js';
import type { ValidateOptions } from '../conditions/validate.js';
import { DomainError, InvalidInput } from '../errors.js';
import type { WorkspaceState } from '../segments/workspace-state.js';

/** JSON text from the command line; `what` names it in the error (exit status 2). */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DomainError('invalid_json', `${what} is not JSON: ${(error as Error).message}`);
  }
}

export function readConditionArgument(state: WorkspaceState, text: string, what: string, options: ValidateOptions): Condition {
  const result = validate(state.schema, parseJsonArgument(text, what), options);
  if (!result.ok) throw new InvalidInput('invalid condition', result.issues);
  return result.condition;
}
