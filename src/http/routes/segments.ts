// /v1/segments: definitions with their live counts and build status, members, manual members, and
// the builder's preview. To an agent a segment hidden from it does not exist (404 by id, absent from
// lists, an unknown segment in a condition). Updates honour If-Match (the ETag).
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import type { Principal } from '../../access/tokens.js';
import { NOBODY, hiddenFromOf, hiddenSegments, readHiddenFrom, setHiddenFrom } from '../../access/visibility.js';
import type { HiddenFrom } from '../../access/visibility.js';
import { dialectOf, writeTransaction } from '../../db/write-transaction.js';
import type { Tx } from '../../db/write-transaction.js';
import { InvalidInput, NotFound } from '../../errors.js';
import { changeManualMembers } from '../../segments/manual-members.js';
import { listMembers } from '../../segments/members.js';
import { listContacts, listContext } from '../../contacts/contact-list.js';
import { previewCount, previewImpact, previewMembers } from '../../segments/preview.js';
import { SegmentListings, pageOfListing } from '../../segments/segment-listing.js';
import { createSegment, deleteSegment, getSegment, readCounts, updateSegment } from '../../segments/segment-store.js';
import type { Segment } from '../../segments/segment-store.js';
import type { WorkspaceStates } from '../../segments/workspace-state.js';
import { principalOf } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { IdParams, PageQuery, ifMatch, iso, pageLimit, problems, setEtag } from '../schemas.js';
import { readCondition } from './conditions.js';

const HiddenFromSchema = Type.Object({
  agents: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 })),
  teams: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 1000 })),
}, { additionalProperties: false, description: 'agents and teams this segment is hidden from' });

const SegmentSchema = Type.Object({
  id: Type.String(), name: Type.String(), description: Type.String(), kind: Type.String(),
  condition: Type.Unknown({ description: 'the definition (dynamic) or the auto-apply rule (manual), or null' }),
  status: Type.String({ description: 'building, ready or failed' }), status_detail: Type.Union([Type.String(), Type.Null()]),
  build: Type.Union([Type.Object({ processed: Type.Integer(), total: Type.Integer() }), Type.Null()]),
  member_count: Type.Integer(), version: Type.Integer(), active_version: Type.Integer(),
  hidden_from: Type.Optional(HiddenFromSchema),
  created_at: Type.String(), updated_at: Type.String(),
});

const CreateBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  kind: Type.Optional(Type.Union([Type.Literal('dynamic'), Type.Literal('manual')])),
  condition: Type.Optional(Type.Unknown({ description: 'a condition (CONDITION_LANGUAGE.md); required for a dynamic segment' })),
  hidden_from: Type.Optional(HiddenFromSchema),
}, { additionalProperties: false });
const PatchBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
  condition: Type.Optional(Type.Unknown()),
  hidden_from: Type.Optional(HiddenFromSchema),
}, { additionalProperties: false });
const MembersBody = Type.Object({ contact_ids: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false });
const PreviewBody = Type.Object({
  condition: Type.Unknown(),
  segment_id: Type.Optional(Type.String({ maxLength: 255, description: 'an existing segment: also count what the condition would add to and remove from it' })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'how many matching contacts to list (default 20)' })),
}, { additionalProperties: false });
const MembersQuery = Type.Object({
  ...PageQuery,
  sort: Type.Optional(Type.String({ maxLength: 64, description: 'created (default: oldest contact first), updated, id, or an attribute key' })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
}, { additionalProperties: false });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ maxLength: 20, description: 'segments per page, 1 to 1000 (default 1000)' })),
  cursor: Type.Optional(Type.String({ maxLength: 600, description: 'the next_cursor of the previous page' })),
}, { additionalProperties: false });

interface Build { processed: number; total: number }

/** What a principal may see of a segment; `hidden` only for admins. The CLI prints segments this way too. */
export function segmentView(s: Segment, build: Build | null, hidden: HiddenFrom | null) {
  return {
    id: s.id, name: s.name, description: s.description, kind: s.kind, condition: s.condition, status: s.status, status_detail: s.statusDetail,
    build, member_count: s.memberCount, version: s.version, active_version: s.activeVersion,
    ...(hidden ? { hidden_from: { agents: [...hidden.agents], teams: [...hidden.teams] } } : {}),
    created_at: iso(s.createdMs)!, updated_at: iso(s.updatedMs)!,
  };
}

/** Changes with every edit of what an admin sets: name, description, definition, who it is hidden from. */
function etagOf(s: Segment, hidden: HiddenFrom): string {
  return createHash('sha256').update(JSON.stringify([s.id, s.version, s.name, s.description, s.updatedMs, hidden.agents, hidden.teams])).digest('base64url').slice(0, 22);
}

async function builds(db: Tx, workspaceId: string, ids: readonly string[]): Promise<Map<string, Build>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('segment_jobs').select(['segment_id', 'processed', 'total'])
    .where('workspace_id', '=', workspaceId).where('status', '=', 'pending').where('segment_id', 'in', [...ids]).execute();
  return new Map(rows.map((r) => [r.segment_id, { processed: Number(r.processed), total: Number(r.total) }]));
}

/** The segment, or 404 when it does not exist or is hidden from the principal. */
async function visibleSegment(db: Tx, states: WorkspaceStates, principal: Principal, id: string): Promise<Segment> {
  const segment = await getSegment(db, principal.workspaceId, id);
  const hidden = await hiddenSegments(db, principal, async () => (await states.get(db, principal.workspaceId)).segments);
  if (hidden.has(id)) throw new NotFound('segment', id);
  return segment;
}

async function present(db: Tx, principal: Principal, s: Segment) {
  const hidden = (await hiddenFromOf(db, principal.workspaceId, [s.id])).get(s.id) ?? NOBODY;
  return { body: segmentView(s, (await builds(db, principal.workspaceId, [s.id])).get(s.id) ?? null, principal.role === 'admin' ? hidden : null), etag: etagOf(s, hidden) };
}

export async function segmentRoutes(v1: FastifyInstance, app: App): Promise<void> {
  const { database, states } = app;
  const listings = new SegmentListings();

  v1.get<{ Querystring: Static<typeof ListQuery> }>('/segments', {
    config: { access: 'read' },
    schema: {
      tags: ['segments'], summary: 'The segments the token may see, by name, with their live member counts and status (cursor pages; default and most 1,000 a page)',
      querystring: ListQuery, response: { 200: Type.Object({ data: Type.Array(SegmentSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problems(400, 401) },
    },
  }, async (request, reply) => {
    const limit = pageLimit(request.query.limit, 1000);
    const principal = principalOf(request);
    const ws = principal.workspaceId;
    const state = await states.get(database.db, ws);
    const listing = await listings.get(database.db, ws, state.configVersion);
    const hidden = await hiddenSegments(database.db, principal, state.segments);
    const counts = await readCounts(database.db, ws);
    const { page: shown, next } = pageOfListing(listing.segments.filter((l) => !hidden.has(l.segment.id)), limit, request.query.cursor);
    const building = await builds(database.db, ws, shown.filter((l) => l.segment.status === 'building').map((l) => l.segment.id));
    // Written by hand, each definition spliced in as stored (JSON text): the list is read on every
    // screen, and parsing 60 definitions to serialise them again was a third of its cost.
    const items = shown.map(({ segment, conditionJson, hiddenFrom }) => {
      const { condition: _none, ...fields } = segmentView({ ...segment, memberCount: counts.get(segment.id) ?? 0 }, building.get(segment.id) ?? null, principal.role === 'admin' ? hiddenFrom : null);
      return `${JSON.stringify(fields).slice(0, -1)},"condition":${conditionJson ?? 'null'}}`;
    });
    return reply.type('application/json; charset=utf-8').send(`{"data":[${items.join(',')}],"next_cursor":${JSON.stringify(next)}}`);
  });

  v1.get<{ Params: Static<typeof IdParams> }>('/segments/:id', {
    config: { access: 'read' },
    schema: { tags: ['segments'], summary: 'One segment', params: IdParams, response: { 200: SegmentSchema, ...problems(401, 404) } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const { body, etag } = await present(database.db, principal, await visibleSegment(database.db, states, principal, request.params.id));
    setEtag(reply, etag);
    return body;
  });

  v1.post<{ Body: Static<typeof CreateBody> }>('/segments', {
    schema: {
      tags: ['segments'], summary: 'Create a segment; a dynamic one is built in the background (status building, then ready)', body: CreateBody,
      response: { 201: SegmentSchema, ...problems(400, 401, 403, 409) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const hidden = request.body.hidden_from === undefined ? NOBODY : readHiddenFrom(request.body.hidden_from);
    const { body, etag } = await writeTransaction(database, async (tx) => {
      const created = await createSegment(tx, principal.workspaceId, request.body);
      await setHiddenFrom(tx, principal.workspaceId, created.id, hidden);
      return present(tx, principal, created);
    });
    if (body.status === 'building') app.workerWakeup.request(); // a dynamic segment's build starts now
    setEtag(reply, etag);
    return reply.code(201).header('location', `/v1/segments/${body.id}`).send(body);
  });

  v1.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>('/segments/:id', {
    schema: {
      tags: ['segments'], summary: 'Change a segment (If-Match: its ETag; a stale one gets 412 and changes nothing)', params: IdParams, body: PatchBody,
      response: { 200: SegmentSchema, ...problems(400, 401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const ws = principal.workspaceId, id = request.params.id;
    const expected = ifMatch(request.headers['if-match']);
    const hidden = request.body.hidden_from === undefined ? null : readHiddenFrom(request.body.hidden_from);
    const { body, etag } = await writeTransaction(database, async (tx) => {
      // PostgreSQL: the row is locked before its ETag is compared, so two editors are serialised.
      if (dialectOf(tx) === 'postgres') await tx.selectFrom('segments').select('id').where('workspace_id', '=', ws).where('id', '=', id).forUpdate().execute();
      const current = await present(tx, principal, await getSegment(tx, ws, id));
      if (expected !== null && expected !== current.etag) {
        throw new HttpProblem(412, 'segment_version_mismatch', 'The segment changed since it was read', `its ETag is "${current.etag}", not "${expected}": reload and edit again`);
      }
      const { hidden_from: _ignored, ...input } = request.body;
      const updated = await updateSegment(tx, ws, id, input);
      if (hidden) await setHiddenFrom(tx, ws, id, hidden);
      return present(tx, principal, updated);
    });
    if (body.status === 'building') app.workerWakeup.request(); // an edited condition is rebuilt now
    setEtag(reply, etag);
    return body;
  });

  v1.delete<{ Params: Static<typeof IdParams> }>('/segments/:id', {
    schema: { tags: ['segments'], summary: 'Delete a segment (its contacts are untouched; refused while other segments use it)', params: IdParams, response: { 204: Type.Null(), ...problems(401, 403, 404, 409) } },
  }, async (request, reply) => {
    const ws = principalOf(request).workspaceId;
    await writeTransaction(database, (tx) => deleteSegment(tx, ws, request.params.id));
    return reply.code(204).send();
  });

  v1.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof MembersQuery> }>('/segments/:id/members', {
    config: { access: 'read' },
    schema: {
      tags: ['segments'], summary: 'A page of members (oldest contact first, or by `sort`), from stored membership', params: IdParams, querystring: MembersQuery,
      response: { 200: Type.Object({ data: Type.Array(Type.Object({ id: Type.String(), since: Type.String() })), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problems(400, 401, 404) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const { id } = request.params;
    const { sort, order, cursor } = request.query;
    await visibleSegment(database.db, states, principal, id);
    const limit = pageLimit(request.query.limit);
    if (sort === undefined && order === undefined) {
      // In segment order: one index range a page, however large the segment (members.ts).
      const page = await listMembers(database.db, principal.workspaceId, id, { limit, after: cursor ?? null })
        .catch((error: unknown) => { throw renamePath(error, 'after', 'cursor'); });
      return { data: page.members.map((m) => ({ id: m.id, since: iso(m.since)! })), next_cursor: page.next };
    }
    // Sorted otherwise: the contact list's keyset pages over the segment's stored members (what
    // GET /v1/contacts gives for {"attr": "segments", "op": "contains", "value": id}), read in
    // one transaction with the members' since.
    const state = await states.get(database.db, principal.workspaceId);
    const condition = await readCondition(database.db, principal, state, { attr: 'segments', op: 'contains', value: id }, 'id', 'filter');
    return database.db.transaction().execute(async (tx) => {
      const result = await listContacts(tx, listContext(state), { condition, sort, order, limit, cursor });
      const pks = result.contacts.map((c) => c.pk);
      const since = new Map(pks.length === 0 ? [] : (await tx.selectFrom('segment_members').select(['contact_pk', 'since_ms'])
        .where('workspace_id', '=', state.workspaceId).where('segment_id', '=', id).where('contact_pk', 'in', pks).execute())
        .map((r) => [Number(r.contact_pk), Number(r.since_ms)]));
      return { data: result.contacts.filter((c) => since.has(c.pk)).map((c) => ({ id: c.id, since: iso(since.get(c.pk)!)! })), next_cursor: result.next };
    });
  });

  for (const [method, action] of [['post', 'add'], ['delete', 'remove']] as const) {
    v1.route<{ Params: Static<typeof IdParams>; Body: Static<typeof MembersBody> }>({
      method: method.toUpperCase() as 'POST' | 'DELETE', url: '/segments/:id/members',
      schema: {
        tags: ['segments'], summary: `${action === 'add' ? 'Add' : 'Remove'} members of a manual segment`, params: IdParams, body: MembersBody,
        response: { 200: Type.Object({ changed: Type.Array(Type.String()), unknown: Type.Array(Type.String({ description: 'ids of no contact' })) }), ...problems(400, 401, 403, 404, 409) },
      },
      handler: async (request) => {
        const ws = principalOf(request).workspaceId;
        const result = await changeManualMembers(database, states, ws, request.params.id, request.body.contact_ids, action);
        return { changed: [...result.changed], unknown: [...result.unknown] };
      },
    });
  }

  v1.post<{ Body: Static<typeof PreviewBody> }>('/segments/preview', {
    config: { access: 'read' },
    schema: {
      tags: ['segments'], summary: 'The count and first members of an unsaved condition (what the builder shows as the user types)', body: PreviewBody,
      response: {
        200: Type.Object({
          count: Type.Integer(), members: Type.Array(Type.String()),
          impact: Type.Union([Type.Object({ added: Type.Integer(), removed: Type.Integer() }), Type.Null()], {
            description: 'With segment_id: the contacts saving the condition would add to and remove from it (a manual segment\'s condition is its auto-apply rule, which never changes its members: 0 and 0); null without. An edit that would make a cycle is a 409, as saving it is',
          }),
        }), ...problems(400, 401, 404, 409),
      },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const state = await states.get(database.db, principal.workspaceId);
    const target = request.body.segment_id === undefined ? null : await visibleSegment(database.db, states, principal, request.body.segment_id);
    const condition = await readCondition(database.db, principal, state, request.body.condition, 'condition', 'segment', request.body.segment_id);
    const now = Date.now();
    const [count, members, impact] = await Promise.all([
      previewCount(database, state, condition, now),
      previewMembers(database, state, condition, now, request.body.limit ?? 20),
      target === null ? null : previewImpact(database, state, target.id, condition, now),
    ]);
    return { count, members, impact: impact && { added: impact.added, removed: impact.removed } };
  });
}

/** The store names the cursor `after` (as the CLI does); the API calls it `cursor`. */
function renamePath(error: unknown, from: string, to: string): unknown {
  if (!(error instanceof InvalidInput)) return error;
  return new InvalidInput('invalid page', error.issues.map((i) => (i.path === from ? { ...i, path: to } : i)));
}
