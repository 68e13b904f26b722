// /v1/webhooks: subscriptions to the membership events (admin). The secret is shown once, when the
// subscription is created; deliveries can be listed and a failed one replayed.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { NotFound } from '../../errors.js';
import { replayDelivery } from '../../webhooks/delivery.js';
import { createSubscription, deleteSubscription, getSubscription, listSubscriptions } from '../../webhooks/subscriptions.js';
import type { Subscription } from '../../webhooks/subscriptions.js';
import { checkWebhookTarget } from '../../webhooks/target-check.js';
import { principalOf } from '../auth.js';
import { eventTypeSchema, readSeqCursor } from './events.js';
import { IdParams, PageQuery, iso, pageLimit, problems } from '../schemas.js';

const SubscriptionSchema = Type.Object({
  id: Type.String(), url: Type.String(), description: Type.String(),
  segment_ids: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'only these segments\' events; null: every segment' }),
  types: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'only events of these types; null: every type' }),
  created_at: Type.String(),
});
const CreateBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s); local and private addresses are refused' }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  segment_ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 100, description: 'deliver only these segments\' events' })),
  types: Type.Optional(Type.Array(eventTypeSchema(), { minItems: 1, maxItems: 3, description: 'deliver only events of these types' })),
}, { additionalProperties: false });
const DeliverySchema = Type.Object({
  id: Type.String({ description: 'the webhook-id header, the same on every attempt' }), event_id: Type.String(), status: Type.String(), attempts: Type.Integer(),
  next_attempt_at: Type.Union([Type.String(), Type.Null()]), last_status: Type.Union([Type.Integer(), Type.Null()]), last_error: Type.Union([Type.String(), Type.Null()]),
  delivered_at: Type.Union([Type.String(), Type.Null()]),
});
const DeliveryParams = Type.Object({ id: Type.String({ maxLength: 255 }), delivery: Type.String({ maxLength: 255 }) }, { additionalProperties: false });
const DeliveriesQuery = Type.Object({ ...PageQuery, status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])) }, { additionalProperties: false });

const view = (s: Subscription) => ({
  id: s.id, url: s.url, description: s.description, segment_ids: s.filter.segmentIds ? [...s.filter.segmentIds] : null, types: s.filter.types ? [...s.filter.types] : null, created_at: iso(s.createdMs)!,
});

export async function webhookRoutes(v1: FastifyInstance, app: App, options: { allowPrivate: boolean }): Promise<void> {
  const { database } = app;

  v1.get('/webhooks', {
    schema: { tags: ['webhooks'], summary: 'The workspace\'s webhook subscriptions', response: { 200: Type.Object({ data: Type.Array(SubscriptionSchema) }), ...problems(401, 403) } },
  }, async (request) => ({ data: (await listSubscriptions(database.db, principalOf(request).workspaceId)).map(view) }));

  v1.post<{ Body: Static<typeof CreateBody> }>('/webhooks', {
    schema: {
      tags: ['webhooks'], summary: 'Subscribe a URL to membership events from now on, optionally of some segments or types (the signing secret is shown once, here)', body: CreateBody,
      response: { 201: Type.Object({ secret: Type.String(), data: SubscriptionSchema }), ...problems(400, 401, 403) },
    },
  }, async (request, reply) => {
    const ws = principalOf(request).workspaceId;
    const url = (await checkWebhookTarget(request.body.url, { allowPrivate: options.allowPrivate })).toString();
    const { segment_ids: segmentIds, types, description } = request.body;
    const filter = { ...(segmentIds && { segmentIds }), ...(types && { types }) };
    const { subscription, secret } = await writeTransaction(database, (tx) => createSubscription(tx, ws, { url, description, filter }));
    return reply.code(201).send({ secret, data: view(subscription) });
  });

  v1.delete<{ Params: Static<typeof IdParams> }>('/webhooks/:id', {
    schema: { tags: ['webhooks'], summary: 'Unsubscribe (pending deliveries are dropped)', params: IdParams, response: { 204: Type.Null(), ...problems(401, 403, 404) } },
  }, async (request, reply) => {
    await writeTransaction(database, (tx) => deleteSubscription(tx, principalOf(request).workspaceId, request.params.id));
    return reply.code(204).send();
  });

  v1.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof DeliveriesQuery> }>('/webhooks/:id/deliveries', {
    schema: {
      tags: ['webhooks'], summary: 'Deliveries of a subscription, newest first', params: IdParams, querystring: DeliveriesQuery,
      response: { 200: Type.Object({ data: Type.Array(DeliverySchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problems(400, 401, 403, 404) },
    },
  }, async (request) => {
    const ws = principalOf(request).workspaceId;
    await getSubscription(database.db, ws, request.params.id);
    const limit = pageLimit(request.query.limit);
    const before = request.query.cursor === undefined ? null : readSeqCursor(request.query.cursor);
    let q = database.db.selectFrom('webhook_deliveries').selectAll().where('workspace_id', '=', ws).where('subscription_id', '=', request.params.id);
    if (request.query.status) q = q.where('status', '=', request.query.status);
    if (before !== null) q = q.where('event_seq', '<', before);
    const rows = await q.orderBy('event_seq', 'desc').limit(limit + 1).execute();
    const page = rows.slice(0, limit);
    return {
      data: page.map((d) => ({
        id: d.id, event_id: String(d.event_seq), status: d.status, attempts: d.attempts,
        next_attempt_at: d.status === 'pending' ? iso(Number(d.next_attempt_ms)) : null, last_status: d.last_status, last_error: d.last_error,
        delivered_at: d.delivered_ms === null ? null : iso(Number(d.delivered_ms)),
      })),
      next_cursor: rows.length > limit ? String(page[page.length - 1].event_seq) : null,
    };
  });

  v1.post<{ Params: Static<typeof DeliveryParams> }>('/webhooks/:id/deliveries/:delivery/replay', {
    schema: { tags: ['webhooks'], summary: 'Send a failed delivery again', params: DeliveryParams, response: { 202: Type.Object({ replayed: Type.Boolean() }), ...problems(401, 403, 404) } },
  }, async (request, reply) => {
    const ws = principalOf(request).workspaceId;
    const replayed = await writeTransaction(database, async (tx) => {
      await getSubscription(tx, ws, request.params.id);
      return replayDelivery(tx, ws, request.params.id, request.params.delivery);
    });
    if (!replayed) throw new NotFound('delivery (not yet delivered)', request.params.delivery);
    return reply.code(202).send({ replayed });
  });
}
