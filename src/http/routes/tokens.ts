// /v1/tokens: the workspace's API tokens (admin only). A new token is shown once, in the response
// that creates it; lists show its prefix.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { createToken, listTokens, revokeToken } from '../../access/tokens.js';
import type { TokenRecord } from '../../access/tokens.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { principalOf } from '../auth.js';
import type { TokenCache } from '../auth.js';
import { IdParams, iso, problems } from '../schemas.js';

const TokenSchema = Type.Object({
  id: Type.String(), name: Type.String(), role: Type.Union([Type.Literal('admin'), Type.Literal('agent')]),
  agent_id: Type.Union([Type.String(), Type.Null()]), teams: Type.Array(Type.String()), prefix: Type.String(),
  created_at: Type.String(), revoked_at: Type.Union([Type.String(), Type.Null()]),
});
const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  role: Type.Union([Type.Literal('admin'), Type.Literal('agent')]),
  agent_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], { description: 'the agent this token acts as (segments hidden from the agent are hidden from the token)' })),
  teams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100, description: 'the agent\'s teams' })),
}, { additionalProperties: false });

const view = (t: TokenRecord) => ({
  id: t.id, name: t.name, role: t.role, agent_id: t.agentId, teams: [...t.teams], prefix: t.prefix, created_at: iso(t.createdMs)!, revoked_at: iso(t.revokedMs),
});

export async function tokenRoutes(v1: FastifyInstance, app: App, cache: TokenCache): Promise<void> {
  v1.get('/tokens', {
    schema: { tags: ['tokens'], summary: 'The workspace\'s API tokens', response: { 200: Type.Object({ data: Type.Array(TokenSchema) }), ...problems(401, 403) } },
  }, async (request) => ({ data: (await listTokens(app.database.db, principalOf(request).workspaceId)).map(view) }));

  v1.post<{ Body: Static<typeof CreateBody> }>('/tokens', {
    schema: {
      tags: ['tokens'], summary: 'Create a token (shown once, in this response)', body: CreateBody,
      response: { 201: Type.Object({ token: Type.String(), data: TokenSchema }), ...problems(400, 401, 403) },
    },
  }, async (request, reply) => {
    const { token, record } = await writeTransaction(app.database, (tx) => createToken(tx, principalOf(request).workspaceId, request.body));
    return reply.code(201).send({ token, data: view(record) });
  });

  v1.delete<{ Params: Static<typeof IdParams> }>('/tokens/:id', {
    schema: { tags: ['tokens'], summary: 'Revoke a token', params: IdParams, response: { 200: Type.Object({ data: TokenSchema }), ...problems(401, 403, 404) } },
  }, async (request) => {
    const revoked = await writeTransaction(app.database, (tx) => revokeToken(tx, principalOf(request).workspaceId, request.params.id));
    cache.forget();
    return { data: view(revoked) };
  });
}
