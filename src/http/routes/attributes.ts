// /v1/attributes: the workspace's schema. Standard attributes are listed with the custom ones; a
// custom attribute can be created, changed (label, enum options, enabled) and deleted, the last
// refused with the names of the segments that use it. Updates honour If-Match (the ETag).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { attributeView, createAttribute, deleteAttribute, getAttribute, listAttributes, updateAttribute } from '../../contacts/attribute-store.js';
import type { AttributeRecord } from '../../contacts/attribute-store.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { segmentsUsingAttribute } from '../../segments/segment-store.js';
import { principalOf } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { ifMatch, problems, setEtag } from '../schemas.js';

const TYPES = ['text', 'number', 'boolean', 'date', 'enum', 'list'] as const;
const AttributeSchema = Type.Object({
  key: Type.String(), type: Type.String(), label: Type.Union([Type.String(), Type.Null()]), options: Type.Union([Type.Array(Type.String()), Type.Null()]),
  enabled: Type.Boolean(), standard: Type.Boolean(), version: Type.Integer(),
});
const KeyParams = Type.Object({ key: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const CreateBody = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 64, description: 'lower-case letters, digits and _, starting with a letter' }),
  type: Type.Union(TYPES.map((t) => Type.Literal(t))),
  label: Type.Optional(Type.String({ maxLength: 1000 })),
  options: Type.Optional(Type.Array(Type.String(), { description: 'enum only' })),
  enabled: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
const PatchBody = Type.Object({
  label: Type.Optional(Type.String({ maxLength: 1000 })),
  options: Type.Optional(Type.Array(Type.String())),
  enabled: Type.Optional(Type.Boolean({ description: 'a disabled attribute keeps existing segments working and stays out of new definitions' })),
}, { additionalProperties: false });

const etagOf = (a: AttributeRecord) => `a${a.version}`;

export async function attributeRoutes(v1: FastifyInstance, app: App): Promise<void> {

  v1.get('/attributes', {
    config: { access: 'read' },
    schema: { tags: ['attributes'], summary: 'The attribute schema: standard and custom attributes', response: { 200: Type.Object({ data: Type.Array(AttributeSchema) }), ...problems(401) } },
  }, async (request) => ({ data: (await listAttributes(app.database.db, principalOf(request).workspaceId)).map(attributeView) }));

  v1.get<{ Params: Static<typeof KeyParams> }>('/attributes/:key', {
    config: { access: 'read' },
    schema: { tags: ['attributes'], summary: 'One attribute', params: KeyParams, response: { 200: AttributeSchema, ...problems(401, 404) } },
  }, async (request, reply) => {
    const a = await getAttribute(app.database.db, principalOf(request).workspaceId, request.params.key);
    setEtag(reply, etagOf(a));
    return attributeView(a);
  });

  v1.post<{ Body: Static<typeof CreateBody> }>('/attributes', {
    schema: { tags: ['attributes'], summary: 'Create a custom attribute', body: CreateBody, response: { 201: AttributeSchema, ...problems(400, 401, 403, 409) } },
  }, async (request, reply) => {
    const ws = principalOf(request).workspaceId;
    const a = await writeTransaction(app.database, async (tx) => {
      await createAttribute(tx, ws, request.body);
      return getAttribute(tx, ws, request.body.key);
    });
    setEtag(reply, etagOf(a));
    return reply.code(201).send(attributeView(a));
  });

  v1.patch<{ Params: Static<typeof KeyParams>; Body: Static<typeof PatchBody> }>('/attributes/:key', {
    schema: {
      tags: ['attributes'], summary: 'Change an attribute\'s label, enum options or enabled (If-Match: its ETag)', params: KeyParams, body: PatchBody,
      response: { 200: AttributeSchema, ...problems(400, 401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    const ws = principalOf(request).workspaceId;
    const expected = ifMatch(request.headers['if-match']);
    const a = await writeTransaction(app.database, async (tx) => {
      const current = await getAttribute(tx, ws, request.params.key);
      if (expected !== null && expected !== etagOf(current)) {
        throw new HttpProblem(412, 'attribute_version_mismatch', 'The attribute changed since it was read', `its ETag is "${etagOf(current)}", not "${expected}": reload and edit again`);
      }
      await updateAttribute(tx, ws, request.params.key, request.body, segmentsUsingAttribute(tx, ws));
      return getAttribute(tx, ws, request.params.key);
    });
    setEtag(reply, etagOf(a));
    return attributeView(a);
  });

  v1.delete<{ Params: Static<typeof KeyParams> }>('/attributes/:key', {
    schema: { tags: ['attributes'], summary: 'Delete a custom attribute (refused while a segment uses it)', params: KeyParams, response: { 204: Type.Null(), ...problems(401, 403, 404, 409) } },
  }, async (request, reply) => {
    const ws = principalOf(request).workspaceId;
    await writeTransaction(app.database, (tx) => deleteAttribute(tx, ws, request.params.key, segmentsUsingAttribute(tx, ws)));
    return reply.code(204).send();
  });
}
