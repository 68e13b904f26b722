// Who a /v1 request acts as: `Authorization: Bearer <token>`, looked up by digest. Routes say what
// they need in `config.access`: 'read' (agents and admins) or 'admin' (the default: a route that
// says nothing is closed to agents).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, digestOf } from '../access/tokens.js';
import type { Principal } from '../access/tokens.js';
import type { Database } from '../db/database.js';
import { HttpProblem } from './problems.js';

export type Access = 'read' | 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/** The request's principal, which every /v1 route has (the hook below refused the rest). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new HttpProblem(401, 'unauthorized', 'A valid API token is required');
  return request.principal;
}

/**
 * Principals by token digest, for a few seconds: every request of a busy client paid a lookup. A
 * token revoked through this server is forgotten at once (`forget`); through another process,
 * within TOKEN_CACHE_MS.
 */
const TOKEN_CACHE_MS = 5_000;
const TOKEN_CACHE_SIZE = 10_000;

export class TokenCache {
  private readonly known = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly database: Database) {}

  async principal(token: string): Promise<Principal | null> {
    const key = digestOf(token);
    const hit = this.known.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.principal;
    const principal = await authenticate(this.database.db, token);
    if (principal === null) { this.known.delete(key); return null; }
    if (this.known.size >= TOKEN_CACHE_SIZE) this.known.clear();
    this.known.set(key, { principal, until: now + TOKEN_CACHE_MS });
    return principal;
  }

  forget(): void {
    this.known.clear();
  }
}

export function authHook(tokens: TokenCache) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const access = request.routeOptions.config.access ?? 'admin';
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpProblem(401, 'unauthorized', 'A valid API token is required', 'send Authorization: Bearer <token>');
    }
    const principal = await tokens.principal(match[1]);
    if (principal === null) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new HttpProblem(401, 'unauthorized', 'A valid API token is required', 'the token is unknown or revoked');
    }
    if (access === 'admin' && principal.role !== 'admin') throw new HttpProblem(403, 'forbidden', 'This needs an admin token');
    request.principal = principal;
  };
}
