// Texts a database cannot store (a NUL, a lone surrogate) are refused at the door, wherever they
// are in a request: path parameters, the query string, and every key and text of a JSON body. The
// condition validator and contact ingest refuse them in their own fields already; names,
// descriptions, labels, enum options, token names, time zones and ids reached PostgreSQL, which
// refuses NUL ("invalid byte sequence"): a 500 instead of a 400 naming the field.
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { unstorableText } from '../conditions/fold.js';
import { HttpProblem } from './problems.js';
import type { ProblemIssue } from './problems.js';

const MAX_ISSUES = 20;

/**
 * JSON nested deeper than this is refused here (400, at the path where it goes too deep): nothing
 * we take nests past a condition's 8 groups (~20 levels), and every reader of a body after this
 * hook — the schema validator, the condition validator, this walk — recurses, so 20,000 nested
 * arrays made a stack overflow and a 500.
 */
const MAX_DEPTH = 256;

/** A preValidation hook: a 400 problem naming each unstorable text (from the body's root, as the contract writes paths). */
export async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  const issues: ProblemIssue[] = [];
  walk(request.params, '', issues, 0);
  walk(request.query, '', issues, 0);
  walk(request.body, '', issues, 0);
  if (issues.length > 0) throw new HttpProblem(400, 'invalid_input', 'The request is not valid', undefined, issues);
}

function walk(value: unknown, path: string, issues: ProblemIssue[], depth: number): void {
  if (issues.length >= MAX_ISSUES) return;
  if (depth > MAX_DEPTH && typeof value === 'object' && value !== null) {
    issues.push({ path, message: `nested deeper than ${MAX_DEPTH} levels` });
    return;
  }
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    if (problem) issues.push({ path, message: problem });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, issues, depth + 1);
    return;
  }
  // Objects as the JSON, query and route parsers make them (the route's params are not plain
  // objects, so no prototype test); never a stream or bytes.
  if (typeof value !== 'object' || value === null || value instanceof Readable || ArrayBuffer.isView(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    const problem = unstorableText(key);
    if (problem) { issues.push({ path: at, message: `the field name: ${problem}` }); continue; }
    walk(item, at, issues, depth + 1);
  }
}
