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

/** A preValidation hook: a 400 problem naming each unstorable text (from the body's root, as the contract writes paths). */
export async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  const issues: ProblemIssue[] = [];
  walk(request.params, '', issues);
  walk(request.query, '', issues);
  walk(request.body, '', issues);
  if (issues.length > 0) throw new HttpProblem(400, 'invalid_input', 'The request is not valid', undefined, issues);
}

function walk(value: unknown, path: string, issues: ProblemIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  if (typeof value === 'string') {
    const problem = unstorableText(value);
    if (problem) issues.push({ path, message: problem });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, issues);
    return;
  }
  // Objects as the JSON, query and route parsers make them (the route's params are not plain
  // objects, so no prototype test); never a stream or bytes.
  if (typeof value !== 'object' || value === null || value instanceof Readable || ArrayBuffer.isView(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    const problem = unstorableText(key);
    if (problem) { issues.push({ path: at, message: `the field name: ${problem}` }); continue; }
    walk(item, at, issues);
  }
}
