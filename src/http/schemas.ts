// Schemas shared by the routes (TypeBox: the same objects validate requests and write the OpenAPI).
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { HttpProblem } from './problems.js';

export const ProblemSchema = Type.Object({
  type: Type.String(), code: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
}, { $id: 'Problem', description: 'RFC 9457 problem details' });

/** The problem responses a route can give, for the OpenAPI document. */
export function problems(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, { description: 'a problem (application/problem+json)', content: { 'application/problem+json': { schema: ProblemSchema } } }]));
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false });

export const PageQuery = {
  limit: Type.Optional(Type.String({ maxLength: 20, description: 'items per page, 1 to 1000 (default 100)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'the next_cursor of the previous page' })),
};

/**
 * A page size from the query string: digits, 1 to `max`, default `fallback`. Checked here rather
 * than by a pattern in the schema, whose refusal quoted the regular expression.
 */
export function pageLimit(value: string | undefined, fallback = 100, max = 1000): number {
  if (value === undefined) return fallback;
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new HttpProblem(400, 'invalid_input', 'The request is not valid', undefined, [{ path: 'limit', message: `expected a whole number from 1 to ${max}` }]);
  return n;
}

/** `If-Match`, when sent: the ETag the editor read (quotes and a weak prefix tolerated). */
export function ifMatch(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const text = Array.isArray(header) ? header[0] : header;
  if (text.trim() === '*') return null;
  return text.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export function setEtag(reply: FastifyReply, etag: string): void {
  reply.header('etag', `"${etag}"`);
}

/**
 * An instant as ISO 8601 text. Memoised: the segment list alone formats 120 instants a request,
 * nearly all the same as the request before (8% of its time in a profile).
 */
export function iso(ms: number | null): string | null {
  if (ms === null) return null;
  let text = formatted.get(ms);
  if (text === undefined) {
    if (formatted.size >= 4096) formatted.clear();
    text = new Date(ms).toISOString();
    formatted.set(ms, text);
  }
  return text;
}
const formatted = new Map<number, string>();
