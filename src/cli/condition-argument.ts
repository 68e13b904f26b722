// A condition given on the command line as JSON text, validated against the workspace's schema;
// a refusal is a DomainError (exit status 2) listing every issue with its path.
import type { Condition } from '../conditions/types.js';
import { validate } from '../conditions/validate.js';
import type { ValidateOptions } from '../conditions/validate.js';
import { DomainError, InvalidInput } from '../errors.js';
import type { WorkspaceState } from '../segments/workspace-state.js';

export function readConditionArgument(state: WorkspaceState, text: string, what: string, options: ValidateOptions): Condition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DomainError('invalid_json', `${what} is not JSON: ${(error as Error).message}`);
  }
  const result = validate(state.schema, parsed, options);
  if (!result.ok) throw new InvalidInput('invalid condition', result.issues);
  return result.condition;
}
