// /v1/contacts: create or upsert (by id, else external_id, else email), read with its segments (the
// contact profile), patch, delete, list filtered by a condition (keyset pages, sortable), export CSV.
// A contact is `{ "id", "attributes": {...} }`; a flat body (attributes at the top, as an import row
// has them) is read the same way.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import type { Principal } from '../../access/tokens.js';
import { hiddenSegments } from '../../access/visibility.js';
import { attributesView, contactsCsv } from '../../contacts/contact-csv.js';
import { contactPages, listContacts, listContext } from '../../contacts/contact-list.js';
import type { StoredContact } from '../../contacts/contact-store.js';
import type { ContactListQuery } from '../../contacts/contact-list.js';
import { InvalidInput, NotFound } from '../../errors.js';
import { readContactProfile } from '../../segments/contact-profile.js';
import type { WorkspaceState } from '../../segments/workspace-state.js';
import { principalOf } from '../auth.js';
import { IdParams, iso, pageLimit, problems } from '../schemas.js';
import { readCondition } from './conditions.js';

const ContactSchema = Type.Object({
  id: Type.String(),
  attributes: Type.Record(Type.String(), Type.Unknown(), { description: 'values by attribute key; dates as ISO 8601 instants' }),
  segments: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), since: Type.String() })),
  version: Type.Integer(), created_at: Type.String(), updated_at: Type.String(),
});
const WriteBody = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'values by attribute key; null removes one' })),
}, { additionalProperties: true, description: '{"id", "attributes": {...}}, or the attributes at the top level' });
const ListQuery = Type.Object({
  condition: Type.Optional(Type.String({ maxLength: 1_000_000, description: 'a condition as JSON' })),
  sort: Type.Optional(Type.String({ maxLength: 64, description: 'created (default), updated, id, or an attribute key' })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Optional(Type.String({ maxLength: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });
const SearchBody = Type.Object({
  condition: Type.Optional(Type.Unknown()),
  sort: Type.Optional(Type.String({ maxLength: 64 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  cursor: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });
const ExportQuery = Type.Object({
  condition: Type.Optional(Type.String({ maxLength: 1_000_000 })),
}, { additionalProperties: false });
const PageSchema = Type.Object({ data: Type.Array(ContactSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) });

/** A write body as the store's row: `id` plus the attributes; error paths say where each value was. */
function readWriteBody(body: Record<string, unknown>, id?: string): { row: Record<string, unknown>; prefix: string } {
  const refuse = (path: string, message: string) => new InvalidInput('invalid contact', [{ path, message }]);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('', 'expected an object');
  if (id !== undefined && body.id !== undefined && body.id !== id) throw refuse('id', 'differs from the id in the URL');
  if (!Object.prototype.hasOwnProperty.call(body, 'attributes')) return { row: id === undefined ? { ...body } : { ...body, id }, prefix: '' };
  const extra = Object.keys(body).filter((k) => k !== 'id' && k !== 'attributes');
  if (extra.length > 0) throw new InvalidInput('invalid contact', extra.map((k) => ({ path: k, message: 'unknown field: a contact is {"id", "attributes"}' })));
  const attributes = body.attributes;
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) throw refuse('attributes', 'expected an object of values by attribute key');
  if (Object.prototype.hasOwnProperty.call(attributes, 'id')) throw refuse('attributes.id', 'the id is given beside the attributes, not among them');
  const given = id ?? body.id;
  return { row: given === undefined ? { ...attributes } : { ...attributes, id: given }, prefix: 'attributes.' };
}

/** A contact as the API shows it: values, and the segments the principal may see, by name. */
function contactView(state: WorkspaceState, hidden: ReadonlySet<string>, c: StoredContact, memberships: Iterable<readonly [string, number]>) {
  const segments = [...memberships].filter(([sid]) => !hidden.has(sid) && state.byId.has(sid))
    .map(([sid, since]) => ({ id: sid, name: state.byId.get(sid)!.name, since: iso(since)! }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { id: c.id, attributes: attributesView(state.schema, c.values), segments, version: c.version, created_at: iso(c.createdMs)!, updated_at: iso(c.updatedMs)! };
}

export async function contactRoutes(v1: FastifyInstance, app: App): Promise<void> {
  const { database, states, contacts } = app;

  async function profile(principal: Principal, id: string) {
    const state = await states.get(database.db, principal.workspaceId);
    const contact = await readContactProfile(database.db, principal.workspaceId, id);
    if (!contact) throw new NotFound('contact', id);
    return contactView(state, await hiddenSegments(database.db, principal, state.segments), contact, contact.memberships);
  }

  /** With `id` (PATCH), the contact must exist; without, an upsert. */
  async function write(principal: Principal, body: Record<string, unknown>, id?: string) {
    const { row, prefix } = readWriteBody(body, id);
    const outcome = id === undefined ? await contacts.writeOne(principal.workspaceId, row) : await contacts.patch(principal.workspaceId, { ...row, id });
    if (outcome.status === 'rejected') throw new InvalidInput('invalid contact', outcome.errors.map((e) => ({ path: e.path === 'id' || e.path === '' ? e.path : prefix + e.path, message: e.message })));
    return outcome;
  }

  async function page(principal: Principal, query: Omit<ContactListQuery, 'condition'> & { condition: unknown }, conditionPath: string) {
    const state = await states.get(database.db, principal.workspaceId);
    const condition = query.condition === undefined ? null : await readCondition(database.db, principal, state, query.condition, conditionPath, 'filter');
    const hidden = await hiddenSegments(database.db, principal, state.segments);
    const result = await listContacts(database.db, listContext(state), { ...query, condition });
    const members = await membershipsOf(principal, result.contacts.map((c) => c.pk));
    return { data: result.contacts.map((c) => contactView(state, hidden, c, members.get(c.pk) ?? [])), next_cursor: result.next };
  }

  async function membershipsOf(principal: Principal, pks: readonly number[]) {
    const out = new Map<number, Array<[string, number]>>();
    if (pks.length === 0) return out;
    const rows = await database.db.selectFrom('segment_members').select(['contact_pk', 'segment_id', 'since_ms'])
      .where('workspace_id', '=', principal.workspaceId).where('contact_pk', 'in', [...pks]).execute();
    for (const r of rows) {
      const list = out.get(Number(r.contact_pk)) ?? [];
      list.push([r.segment_id, Number(r.since_ms)]);
      out.set(Number(r.contact_pk), list);
    }
    return out;
  }

  v1.post<{ Body: Static<typeof WriteBody> }>('/contacts', {
    schema: {
      tags: ['contacts'], summary: 'Create a contact, or update the one its id, else external_id, else email names (values merge; null removes one)',
      body: WriteBody, response: { 200: ContactSchema, 201: ContactSchema, ...problems(400, 401, 403) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const outcome = await write(principal, request.body as Record<string, unknown>);
    return reply.code(outcome.status === 'created' ? 201 : 200).send(await profile(principal, outcome.id));
  });

  v1.get<{ Querystring: Static<typeof ListQuery> }>('/contacts', {
    config: { access: 'read' },
    schema: { tags: ['contacts'], summary: 'Contacts, filtered by a condition (JSON in `condition`), sorted, a page at a time', querystring: ListQuery, response: { 200: PageSchema, ...problems(400, 401) } },
  }, async (request) => {
    const { condition, sort, order, limit, cursor } = request.query;
    let parsed: unknown;
    if (condition !== undefined) {
      try { parsed = JSON.parse(condition); } catch { throw new InvalidInput('invalid condition', [{ path: 'condition', message: 'expected a condition as JSON' }]); }
    }
    return page(principalOf(request), { condition: parsed, sort, order, limit: pageLimit(limit), cursor }, 'condition');
  });

  v1.post<{ Body: Static<typeof SearchBody> }>('/contacts/search', {
    config: { access: 'read' },
    schema: { tags: ['contacts'], summary: 'The contact list, with the condition in the body (for large conditions)', body: SearchBody, response: { 200: PageSchema, ...problems(400, 401) } },
  }, async (request) => {
    const { condition, sort, order, limit, cursor } = request.body;
    return page(principalOf(request), { condition, sort, order, limit: limit ?? 100, cursor }, 'condition');
  });

  v1.get<{ Querystring: Static<typeof ExportQuery> }>('/contacts/export', {
    schema: { tags: ['contacts'], summary: 'Contacts as CSV (id and every attribute; formula-like cells escaped)', querystring: ExportQuery, produces: ['text/csv'], response: { ...problems(400, 401, 403) } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const state = await states.get(database.db, principal.workspaceId);
    let parsed: unknown;
    if (request.query.condition !== undefined) {
      try { parsed = JSON.parse(request.query.condition); } catch { throw new InvalidInput('invalid condition', [{ path: 'condition', message: 'expected a condition as JSON' }]); }
    }
    const condition = parsed === undefined ? null : await readCondition(database.db, principal, state, parsed, 'condition', 'filter');
    const pages = contactPages(database.db, listContext(state), condition);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="contacts.csv"').send(Readable.from(contactsCsv(state.schema, pages)));
  });

  v1.get<{ Params: Static<typeof IdParams> }>('/contacts/:id', {
    config: { access: 'read' },
    schema: { tags: ['contacts'], summary: 'A contact with its segments (the contact profile)', params: IdParams, response: { 200: ContactSchema, ...problems(401, 404) } },
  }, async (request) => profile(principalOf(request), request.params.id));

  v1.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof WriteBody> }>('/contacts/:id', {
    schema: {
      tags: ['contacts'], summary: 'Change some of a contact\'s values (null removes one); the rest are kept', params: IdParams, body: WriteBody,
      response: { 200: ContactSchema, ...problems(400, 401, 403, 404) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const outcome = await write(principal, request.body as Record<string, unknown>, request.params.id);
    return profile(principal, outcome.id);
  });

  v1.delete<{ Params: Static<typeof IdParams> }>('/contacts/:id', {
    schema: { tags: ['contacts'], summary: 'Delete a contact (it leaves every segment it was in)', params: IdParams, response: { 204: Type.Null(), ...problems(401, 403, 404) } },
  }, async (request, reply) => {
    await contacts.delete(principalOf(request).workspaceId, request.params.id);
    return reply.code(204).send();
  });
}
