// Every error leaves as an RFC 9457 problem (application/problem+json): a stable `type` (and the
// same `code`), a `title`, the `status`, a `detail`, and `errors: [{path, message}]` with each path
// written as the contract writes it, from the body's root: `condition.any[1].all[0].value`.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ImportRefused } from '../contacts/import/import-contacts.js';
import { Conflict, DomainError } from '../errors.js';

export interface ProblemIssue {
  readonly path: string;
  readonly message: string;
}

export interface Problem {
  readonly type: string;
  readonly code: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: readonly ProblemIssue[];
}

const TYPE_BASE = 'https://segments.dev/problems/';

/** An error a route raises on purpose, with its HTTP status. */
export class HttpProblem extends Error {
  constructor(readonly status: number, readonly code: string, readonly title: string, detail?: string, readonly errors?: readonly ProblemIssue[]) {
    super(detail ?? title);
  }
}

const TITLES: Readonly<Record<string, [number, string]>> = {
  invalid_input: [400, 'The request is not valid'],
  invalid_json: [400, 'The body is not valid JSON'],
  not_found: [404, 'Not found'],
  attribute_exists: [409, 'The attribute exists'],
  attribute_in_use: [409, 'The attribute is in use'],
  option_in_use: [409, 'The option is held by contacts'],
  attribute_standard: [409, 'Standard attributes cannot be changed this way'],
  too_many_attributes: [409, 'The workspace has no storage slot left for this attribute type'],
  segment_cycle: [409, 'The definition would make a cycle'],
  segment_in_use: [409, 'The segment is in use'],
  segment_name_taken: [409, 'The name is taken'],
  segment_not_manual: [409, 'The segment is not manual'],
  segment_version_mismatch: [412, 'The segment changed since it was read'],
  import_refused: [400, 'The file was refused'],
};

export function problemOf(error: unknown): Problem {
  if (error instanceof HttpProblem) return make(error.status, error.code, error.title, error.message === error.title ? undefined : error.message, error.errors);
  if (error instanceof ImportRefused) {
    return make(400, 'import_refused', TITLES.import_refused[1], error.message, error.problems.map((p) => ({ path: p.column ?? '', message: p.message })));
  }
  const coded = error as { code?: unknown; message?: string };
  if (error instanceof DomainError || (typeof coded.code === 'string' && coded.code in TITLES)) {
    const code = coded.code as string;
    const [status, title] = TITLES[code] ?? [400, 'The request was refused'];
    const issues = error instanceof Conflict && error.path !== undefined ? [{ path: error.path, message: error.message }]
      : error instanceof DomainError ? error.issues : [];
    return make(status, code, title, error instanceof DomainError && !(error instanceof Conflict) && issues.length > 0 ? undefined : coded.message, issues);
  }
  const fastify = error as FastifyError;
  if (fastify.validation) return make(400, 'invalid_input', TITLES.invalid_input[1], undefined, validationIssues(fastify));
  switch (fastify.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return make(413, 'body_too_large', 'The body is too large', fastify.message);
    // Only the import takes another type than JSON, and it answers its own 415.
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return make(415, 'unsupported_media_type', 'The content type is not accepted', `${fastify.message}: send the body as application/json`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return make(400, 'invalid_json', TITLES.invalid_json[1], 'the body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return make(400, 'invalid_json', TITLES.invalid_json[1], fastify.message);
    default: break;
  }
  if (error instanceof SyntaxError || fastify.statusCode === 400) return make(400, 'invalid_json', TITLES.invalid_json[1], fastify.message);
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return make(fastify.statusCode, 'bad_request', 'The request was refused', fastify.message);
  }
  return make(500, 'internal', 'Internal server error', 'the error was logged');
}

function make(status: number, code: string, title: string, detail?: string, errors?: readonly ProblemIssue[]): Problem {
  return { type: TYPE_BASE + code, code, title, status, ...(detail ? { detail } : {}), ...(errors && errors.length > 0 ? { errors } : {}) };
}

/**
 * Ajv's `/condition/any/1` becomes `condition.any[1]`; a missing or unknown property is named; a
 * value that fits no alternative of a union (`kind`, `order`, a text or null) is one issue naming
 * the alternatives, not one per alternative and "must match a schema in anyOf".
 */
function validationIssues(error: FastifyError): ProblemIssue[] {
  const where = error.validationContext === 'body' ? '' : `${error.validationContext ?? ''}`;
  const errors = error.validation ?? [];
  // What each union's alternatives expected, from their errors at the union's own path.
  const alternatives = new Map<string, string[]>();
  for (const v of errors) {
    const params = v.params as { allowedValue?: unknown; type?: unknown };
    const expected = v.keyword === 'const' ? JSON.stringify(params.allowedValue) : v.keyword === 'type' ? String(params.type) : undefined;
    if (expected === undefined) continue;
    const list = alternatives.get(v.instancePath) ?? [];
    list.push(expected);
    alternatives.set(v.instancePath, list);
  }
  const unions = new Set(errors.filter((v) => v.keyword === 'anyOf' && alternatives.has(v.instancePath)).map((v) => v.instancePath));
  const issues: ProblemIssue[] = [];
  for (const v of errors) {
    const segments = v.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = v.params as { additionalProperty?: string; missingProperty?: string; allowedValue?: unknown; allowedValues?: unknown[] };
    let message = v.message ?? 'is not valid';
    if (v.keyword === 'additionalProperties' && params.additionalProperty) { segments.push(params.additionalProperty); message = 'unknown field'; }
    if (v.keyword === 'required' && params.missingProperty) { segments.push(params.missingProperty); message = 'is required'; }
    if (unions.has(v.instancePath) && (v.keyword === 'const' || v.keyword === 'type')) continue;
    if (unions.has(v.instancePath) && v.keyword === 'anyOf') message = `expected ${oneOf(alternatives.get(v.instancePath)!)}`;
    else if (v.keyword === 'const') message = `expected ${JSON.stringify(params.allowedValue)}`;
    else if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) message = `expected ${oneOf(params.allowedValues.map((c) => JSON.stringify(c)))}`;
    const path = segments.reduce((p, s) => (/^\d+$/.test(s) ? `${p}[${s}]` : p === '' ? s : `${p}.${s}`), where === 'querystring' || where === 'params' || where === 'headers' ? '' : where);
    if (!issues.some((i) => i.path === path && i.message === message)) issues.push({ path, message });
  }
  return issues;
}

/** `a`, `a or b`, `a, b or c`. */
function oneOf(items: readonly string[]): string {
  const distinct = [...new Set(items)];
  return distinct.length <= 1 ? distinct.join('') : `${distinct.slice(0, -1).join(', ')} or ${distinct[distinct.length - 1]}`;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = problemOf(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, problem);
}
