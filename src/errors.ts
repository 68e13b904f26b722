// Domain errors with a stable `code`. The HTTP layer (a later issue) maps each code to a problem
// response; the CLI prints the message and the issues.
import type { ValidationIssue } from './conditions/types.js';

export class DomainError extends Error {
  constructor(readonly code: string, message: string, readonly issues: readonly ValidationIssue[] = []) {
    super(issues.length === 0 ? message : `${message}: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
  }
}

/** Input that does not fit: every problem with its path. */
export class InvalidInput extends DomainError {
  constructor(message: string, issues: readonly ValidationIssue[]) {
    super('invalid_input', message, issues);
  }
}

export class NotFound extends DomainError {
  constructor(what: string, id: string) {
    super('not_found', `no ${what} with id ${JSON.stringify(id)}`);
  }
}

/**
 * The request is well-formed but the current state refuses it (a name taken, an attribute in use, a
 * cycle). `path`: the field of the request the conflict is about, when there is one.
 */
export class Conflict extends DomainError {
  constructor(code: string, message: string, readonly path?: string) {
    super(code, message);
  }
}
