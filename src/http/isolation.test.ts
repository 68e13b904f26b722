// Workspace isolation and access control through the HTTP API, on SQLite and PostgreSQL, with a
// real server (test-support/server.ts):
// - no request reads or writes another workspace's data: ws2's admin tries every route with ws1's
//   ids and keys, and gets 404s (or ws2's own, separate data), and ws1 is intact afterwards;
// - roles: an agent token reads, every write and admin-only read is a 403 problem; no token, a
//   garbage token or a revoked one is a 401 problem;
// - hidden segments: to an agent they are hidden from, they do not exist (not listed, 404 by id,
//   absent from a contact's segments, an unknown segment in a condition); admins and other agents
//   see them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { startTestServer } from './test-support/server.js';
import type { Reply, TestServer } from './test-support/server.js';

const pgUrl = await postgresTestUrl();

/** An RFC 9457 problem with this status. */
function expectProblem(reply: Reply, status: number): void {
  expect({ status: reply.status, body: reply.body }).toMatchObject({ status, body: { status } });
  expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(typeof reply.body.type).toBe('string');
  expect(typeof reply.body.title).toBe('string');
}

/** A problem as a made-up id would get it: the id in the text replaced, so two ids compare equal. */
function normalised(body: unknown, id: string): unknown {
  return JSON.parse(JSON.stringify(body).split(id).join('<id>'));
}

const UNKNOWN_ID = 'seg_doesnotexist0000';

describe.each<Dialect>(['sqlite', 'postgres'])('workspace isolation and access control over HTTP on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null;
  let t: TestServer;

  beforeAll(async () => {
    if (!skip) t = await startTestServer(dialect, pgUrl);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe.skipIf(skip)('another workspace\'s ids', () => {
    const ws1 = { contact: '', dynamic: '', manual: '', token: '', tokenSecret: '', importId: '', contactEtag: '' };

    /** What ws1 holds, read with ws1's admin token: compared before and after ws2's attempts. */
    async function snapshot() {
      const get = async (path: string) => {
        const r = await t.request('GET', path);
        expect(r.status, `GET ${path}`).toBe(200);
        return r.body;
      };
      const segments = (await get('/v1/segments')).data.map((s: Record<string, unknown>) => ({ ...s, build: null }));
      return {
        contact: await get(`/v1/contacts/${ws1.contact}`),
        contacts: await get('/v1/contacts?limit=1000'),
        segments,
        attribute: await get('/v1/attributes/plan'),
        attributes: await get('/v1/attributes'),
        dynamicMembers: await get(`/v1/segments/${ws1.dynamic}/members`),
        manualMembers: await get(`/v1/segments/${ws1.manual}/members`),
        tokens: await get('/v1/tokens'),
        importJob: await get(`/v1/imports/${ws1.importId}`),
        workspace: await get('/v1/workspace'),
      };
    }

    beforeAll(async () => {
      const admin = { token: t.tokens.admin };
      expect((await t.request('POST', '/v1/attributes', { ...admin, json: { key: 'plan', type: 'enum', options: ['free', 'pro'] } })).status).toBe(201);
      expect((await t.request('POST', '/v1/attributes', { ...admin, json: { key: 'mrr', type: 'number' } })).status).toBe(201);
      const contact = await t.request('POST', '/v1/contacts', {
        ...admin, json: { id: 'c-ws1', attributes: { email: 'ana@acme.test', external_id: 'ext-1', plan: 'pro', mrr: 90, tags: ['vip'] } },
      });
      expect(contact.status).toBe(201);
      ws1.contact = contact.body.id;
      expect((await t.request('POST', '/v1/contacts', { ...admin, json: { id: 'c-ws1-b', attributes: { plan: 'free', mrr: 0 } } })).status).toBe(201);
      const dynamic = await t.request('POST', '/v1/segments', { ...admin, json: { name: 'Pro', condition: { attr: 'plan', op: 'eq', value: 'pro' } } });
      expect(dynamic.status).toBe(201);
      ws1.dynamic = dynamic.body.id;
      const manual = await t.request('POST', '/v1/segments', { ...admin, json: { name: 'Hand-picked', kind: 'manual' } });
      expect(manual.status).toBe(201);
      ws1.manual = manual.body.id;
      expect((await t.request('POST', `/v1/segments/${ws1.manual}/members`, { ...admin, json: { contact_ids: [ws1.contact] } })).status).toBe(200);
      const token = await t.request('POST', '/v1/tokens', { ...admin, json: { name: 'integration', role: 'agent', agent_id: 'bot-1' } });
      expect(token.status).toBe(201);
      ws1.token = token.body.data.id;
      ws1.tokenSecret = token.body.token;
      const upload = await t.request('POST', '/v1/contacts/import', {
        ...admin, body: 'id,email,plan,mrr\nc-imp-1,imp1@acme.test,pro,10\nc-imp-2,imp2@acme.test,free,20\n', headers: { 'content-type': 'text/csv' },
      });
      expect(upload.status).toBe(202);
      ws1.importId = upload.body.id;
      // The import runs in the background: wait for it, then for the builds.
      for (let i = 0; i < 200; i++) {
        const job = await t.request('GET', `/v1/imports/${ws1.importId}`);
        if (job.body.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      expect((await t.request('GET', `/v1/imports/${ws1.importId}`)).body).toMatchObject({ status: 'done', ledger: { created: 2 } });
      await t.settle();
      // ws2 has its own data, of the same shape, so "not found" is not merely "empty workspace".
      const other = { token: t.tokens.otherAdmin };
      expect((await t.request('POST', '/v1/attributes', { ...other, json: { key: 'tier', type: 'text' } })).status).toBe(201);
      expect((await t.request('POST', '/v1/contacts', { ...other, json: { id: 'c-ws2', attributes: { email: 'bo@globex.test' } } })).status).toBe(201);
      expect((await t.request('POST', '/v1/segments', { ...other, json: { name: 'Globex manual', kind: 'manual' } })).status).toBe(201);
      await t.settle();
    });

    it('ws2\'s admin cannot read, change or delete any of ws1\'s data by its ids, and ws1 is intact afterwards', async () => {
      const before = await snapshot();
      expect(before.contact.segments.map((s: { id: string }) => s.id).sort()).toEqual([ws1.dynamic, ws1.manual].sort());
      const as2 = (method: string, path: string, json?: unknown) => t.request(method, path, { token: t.tokens.otherAdmin, json });
      const notFound = async (method: string, path: string, json?: unknown) => {
        const r = await as2(method, path, json);
        expectProblem(r, 404);
        return r;
      };

      // Contacts.
      await notFound('GET', `/v1/contacts/${ws1.contact}`);
      await notFound('PATCH', `/v1/contacts/${ws1.contact}`, { attributes: { plan: 'free' } });
      await notFound('PATCH', `/v1/contacts/${ws1.contact}`, { plan: 'free' });
      await notFound('DELETE', `/v1/contacts/${ws1.contact}`);
      await notFound('GET', '/v1/contacts/c-imp-1');
      // Segments.
      for (const id of [ws1.dynamic, ws1.manual]) {
        await notFound('GET', `/v1/segments/${id}`);
        await notFound('PATCH', `/v1/segments/${id}`, { name: 'Hijacked' });
        await notFound('PATCH', `/v1/segments/${id}`, { hidden_from: { agents: ['agent-a'] } });
        await notFound('GET', `/v1/segments/${id}/members`);
        await notFound('POST', `/v1/segments/${id}/members`, { contact_ids: [ws1.contact, 'c-ws1-b'] });
        await notFound('DELETE', `/v1/segments/${id}/members`, { contact_ids: [ws1.contact] });
        await notFound('POST', '/v1/segments/preview', { condition: { all: [] }, segment_id: id });
        await notFound('DELETE', `/v1/segments/${id}`);
      }
      // A condition naming ws1's segment: an unknown segment, exactly as a made-up id is.
      for (const id of [ws1.dynamic, ws1.manual]) {
        const condition = { attr: 'segments', op: 'contains', value: id };
        const made = { attr: 'segments', op: 'contains', value: UNKNOWN_ID };
        const preview = await as2('POST', '/v1/segments/preview', { condition });
        expectProblem(preview, 400);
        expect(normalised(preview.body, id)).toEqual(normalised((await as2('POST', '/v1/segments/preview', { condition: made })).body, UNKNOWN_ID));
        const filter = await as2('GET', `/v1/contacts?condition=${encodeURIComponent(JSON.stringify(condition))}`);
        expectProblem(filter, 400);
        expectProblem(await as2('POST', '/v1/contacts/search', { condition }), 400);
        expectProblem(await as2('GET', `/v1/contacts/export?condition=${encodeURIComponent(JSON.stringify(condition))}`), 400);
        expectProblem(await as2('POST', '/v1/segments', { name: `On ${id}`, condition }), 400);
      }
      // Attributes: ws1's custom attribute is unknown to ws2 (and not usable in its conditions).
      for (const key of ['plan', 'mrr']) {
        await notFound('GET', `/v1/attributes/${key}`);
        await notFound('PATCH', `/v1/attributes/${key}`, { label: 'Hijacked' });
        await notFound('PATCH', `/v1/attributes/${key}`, { enabled: false });
        await notFound('DELETE', `/v1/attributes/${key}`);
      }
      expectProblem(await as2('POST', '/v1/segments/preview', { condition: { attr: 'plan', op: 'eq', value: 'pro' } }), 400);
      expect((await as2('GET', '/v1/attributes')).body.data.map((a: { key: string }) => a.key)).not.toContain('plan');
      // Tokens and imports.
      await notFound('DELETE', `/v1/tokens/${ws1.token}`);
      expect((await as2('GET', '/v1/tokens')).body.data.map((tk: { id: string }) => tk.id)).not.toContain(ws1.token);
      await notFound('GET', `/v1/imports/${ws1.importId}`);
      expect((await as2('GET', '/v1/imports')).body.data.map((j: { id: string }) => j.id)).not.toContain(ws1.importId);
      // The lists, the search, the export and the feed hold none of ws1's data.
      const ws1Ids = ['c-ws1', 'c-ws1-b', 'c-imp-1', 'c-imp-2'];
      const list = await as2('GET', '/v1/contacts?limit=1000');
      expect(list.status).toBe(200);
      expect(list.body.data.map((c: { id: string }) => c.id)).toEqual(['c-ws2']);
      const everyone = encodeURIComponent(JSON.stringify({ all: [] }));
      expect((await as2('GET', `/v1/contacts?condition=${everyone}`)).body.data.map((c: { id: string }) => c.id)).toEqual(['c-ws2']);
      const byEmail = encodeURIComponent(JSON.stringify({ attr: 'email', op: 'eq', value: 'ana@acme.test' }));
      expect((await as2('GET', `/v1/contacts?condition=${byEmail}`)).body.data).toEqual([]);
      expect((await as2('POST', '/v1/contacts/search', { condition: { attr: 'tags', op: 'contains', value: 'vip' } })).body.data).toEqual([]);
      const exported = await as2('GET', '/v1/contacts/export');
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
      for (const needle of [...ws1Ids, 'ana@acme.test', 'imp1@acme.test', 'plan', 'mrr']) expect(exported.body).not.toContain(needle);
      expect(exported.body).toContain('c-ws2');
      const events = await as2('GET', '/v1/events?limit=1000');
      expect(events.status).toBe(200);
      const ws2Segments = new Set((await as2('GET', '/v1/segments')).body.data.map((s: { id: string }) => s.id));
      for (const e of events.body.data) {
        expect(ws2Segments.has(e.data.segment_id)).toBe(true);
        expect(ws1Ids).not.toContain(e.data.contact_id);
      }
      expect(JSON.stringify(events.body)).not.toContain(ws1.dynamic);
      const segments = await as2('GET', '/v1/segments');
      expect(segments.body.data.map((s: { name: string }) => s.name)).toEqual(['Globex manual']);
      expect((await as2('GET', '/v1/workspace')).body).toMatchObject({ id: 'ws2', name: 'Globex' });
      // Writing by ws1's keys creates ws2's own contacts: the id, external_id and email upsert keys are per workspace.
      const created = await as2('POST', '/v1/contacts', { id: ws1.contact, attributes: { name: 'Other Ana' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: ws1.contact, attributes: { name: 'Other Ana' }, segments: [], version: 1 });
      const byExternal = await as2('POST', '/v1/contacts', { attributes: { external_id: 'ext-1', name: 'By external id' } });
      expect(byExternal.status).toBe(201);
      expect(byExternal.body.id).not.toBe(ws1.contact);
      const byEmailWrite = await as2('POST', '/v1/contacts', { email: 'ana@acme.test', name: 'By email' });
      expect(byEmailWrite.status).toBe(201);
      expect(byEmailWrite.body.id).not.toBe(ws1.contact);
      expect(byEmailWrite.body.id).not.toBe(byExternal.body.id);
      // ws2's own manual segment: ws1's contact ids name ws2's contacts (or none), never ws1's.
      const own = (await as2('GET', '/v1/segments')).body.data[0].id as string;
      const added = await as2('POST', `/v1/segments/${own}/members`, { contact_ids: ['c-ws1-b', 'c-imp-1', ws1.contact] });
      expect(added.status).toBe(200);
      expect(added.body).toEqual({ changed: [ws1.contact], unknown: ['c-ws1-b', 'c-imp-1'] });
      // ws2's own segment, by its id, in ws1: not found either way round.
      const r = await t.request('GET', `/v1/segments/${own}`, { token: t.tokens.admin });
      expectProblem(r, 404);
      expectProblem(await t.request('GET', `/v1/segments/${own}/members`, { token: t.tokens.admin }), 404);
      await t.settle();

      // ws1 is exactly as it was (the segments' counts included), and its token still works.
      expect(await snapshot()).toEqual(before);
      expect((await t.request('GET', '/v1/segments', { token: ws1.tokenSecret })).status).toBe(200);
      const ws1Contact = (await t.request('GET', `/v1/contacts/${ws1.contact}`)).body;
      expect(ws1Contact.attributes).toMatchObject({ email: 'ana@acme.test', external_id: 'ext-1', plan: 'pro', mrr: 90 });
      expect(ws1Contact.attributes.name).toBeUndefined();
    });
  });

  describe.skipIf(skip)('roles and tokens', () => {
    let segmentId = '';
    let manualId = '';

    beforeAll(async () => {
      expect((await t.request('POST', '/v1/attributes', { json: { key: 'seats', type: 'number' } })).status).toBe(201);
      expect((await t.request('POST', '/v1/contacts', { json: { id: 'c-role', attributes: { seats: 3 } } })).status).toBe(201);
      const s = await t.request('POST', '/v1/segments', { json: { name: 'Seated', condition: { attr: 'seats', op: 'gt', value: 0 } } });
      expect(s.status).toBe(201);
      segmentId = s.body.id;
      const m = await t.request('POST', '/v1/segments', { json: { name: 'Role manual', kind: 'manual' } });
      manualId = m.body.id;
      await t.settle();
    });

    it('an agent token reads contacts, segments, attributes, members and previews', async () => {
      const as = (method: string, path: string, json?: unknown) => t.request(method, path, { token: t.tokens.agent, json });
      const ok = async (method: string, path: string, json?: unknown) => {
        const r = await as(method, path, json);
        expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(200);
        return r;
      };
      expect((await ok('GET', '/v1/contacts')).body.data.map((c: { id: string }) => c.id)).toContain('c-role');
      expect((await ok('GET', '/v1/contacts/c-role')).body.segments.map((s: { id: string }) => s.id)).toContain(segmentId);
      await ok('POST', '/v1/contacts/search', { condition: { attr: 'seats', op: 'gte', value: 1 } });
      expect((await ok('GET', '/v1/segments')).body.data.map((s: { id: string }) => s.id)).toContain(segmentId);
      expect((await ok('GET', `/v1/segments/${segmentId}`)).body).not.toHaveProperty('hidden_from');
      expect((await ok('GET', `/v1/segments/${segmentId}/members`)).body.data.map((m: { id: string }) => m.id)).toEqual(['c-role']);
      await ok('GET', '/v1/attributes');
      await ok('GET', '/v1/attributes/seats');
      await ok('GET', '/v1/workspace');
      expect((await ok('POST', '/v1/segments/preview', { condition: { attr: 'seats', op: 'gt', value: 0 }, segment_id: segmentId })).body).toMatchObject({ count: 1 });
    });

    it('every write, and the admin-only reads, are 403 problems to an agent, and change nothing', async () => {
      const forbidden: Array<[string, string, unknown?]> = [
        ['POST', '/v1/contacts', { id: 'c-agent', attributes: { seats: 1 } }],
        ['PATCH', '/v1/contacts/c-role', { attributes: { seats: 0 } }],
        ['DELETE', '/v1/contacts/c-role'],
        ['POST', '/v1/segments', { name: 'By agent', condition: { all: [] } }],
        ['PATCH', `/v1/segments/${segmentId}`, { name: 'Renamed by agent' }],
        ['DELETE', `/v1/segments/${segmentId}`],
        ['POST', `/v1/segments/${manualId}/members`, { contact_ids: ['c-role'] }],
        ['DELETE', `/v1/segments/${manualId}/members`, { contact_ids: ['c-role'] }],
        ['POST', '/v1/attributes', { key: 'agent_attr', type: 'text' }],
        ['PATCH', '/v1/attributes/seats', { label: 'By agent' }],
        ['DELETE', '/v1/attributes/seats'],
        ['GET', '/v1/tokens'],
        ['POST', '/v1/tokens', { name: 'escalate', role: 'admin' }],
        ['DELETE', '/v1/tokens/tok_0000000000000000'],
        ['GET', '/v1/imports/imp_0000'],
        ['GET', '/v1/imports'],
        ['PATCH', '/v1/workspace', { name: 'Renamed by agent' }],
        ['GET', '/v1/events'],
        ['GET', '/v1/contacts/export'],
      ];
      for (const [method, path, json] of forbidden) {
        const r = await t.request(method, path, { token: t.tokens.agent, json });
        expect(r.status, `${method} ${path}`).toBe(403);
        expectProblem(r, 403);
      }
      const upload = await t.request('POST', '/v1/contacts/import', { token: t.tokens.agent, body: 'id,seats\nc-agent-imp,5\n', headers: { 'content-type': 'text/csv' } });
      expectProblem(upload, 403);
      // Nothing changed.
      expect((await t.request('GET', '/v1/contacts/c-role')).body.attributes).toMatchObject({ seats: 3 });
      expectProblem(await t.request('GET', '/v1/contacts/c-agent'), 404);
      expectProblem(await t.request('GET', '/v1/contacts/c-agent-imp'), 404);
      expect((await t.request('GET', `/v1/segments/${segmentId}`)).body.name).toBe('Seated');
      expect((await t.request('GET', '/v1/workspace')).body.name).toBe('Acme');
      expect((await t.request('GET', '/v1/tokens')).body.data.map((tk: { name: string }) => tk.name)).not.toContain('escalate');
    });

    it('no token, a malformed or unknown token, and a revoked token are 401 problems', async () => {
      const created = await t.request('POST', '/v1/tokens', { json: { name: 'short-lived', role: 'admin' } });
      expect(created.status).toBe(201);
      expect((await t.request('GET', '/v1/segments', { token: created.body.token })).status).toBe(200);
      expect((await t.request('DELETE', `/v1/tokens/${created.body.data.id}`)).status).toBe(200);
      const cases: Array<[string, Record<string, string>]> = [
        ['none', {}],
        ['garbage', { authorization: 'Bearer garbage' }],
        ['unknown', { authorization: 'Bearer sgt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
        ['not bearer', { authorization: `Basic ${t.tokens.admin}` }],
        ['empty bearer', { authorization: 'Bearer ' }],
        ['revoked', { authorization: `Bearer ${created.body.token}` }],
      ];
      for (const [why, headers] of cases) {
        for (const [method, path, json] of [['GET', '/v1/segments'], ['GET', '/v1/contacts/c-role'], ['POST', '/v1/contacts', { id: 'c-anon' }], ['PATCH', '/v1/workspace', { name: 'x' }]] as const) {
          const r = await t.request(method, path, { token: null, headers, json });
          expect(r.status, `${why}: ${method} ${path}`).toBe(401);
          expectProblem(r, 401);
        }
      }
      expectProblem(await t.request('GET', '/v1/contacts/c-anon'), 404);
    });
  });

  describe.skipIf(skip)('segments hidden from agents and teams', () => {
    const ids = { fromAgent: '', fromTeam: '', visible: '' };
    const contactId = 'c-hidden';
    let otherAgent = '', otherTeam = '', sameTeam = '', noTeams = '', noAgentId = '', teamsOnly = '';

    beforeAll(async () => {
      expect((await t.request('POST', '/v1/contacts', { json: { id: contactId, attributes: { tags: ['secret'] } } })).status).toBe(201);
      const make = async (name: string, hidden_from?: unknown) => {
        const r = await t.request('POST', '/v1/segments', { json: { name, condition: { attr: 'tags', op: 'contains', value: 'secret' }, ...(hidden_from ? { hidden_from } : {}) } });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        return r.body.id as string;
      };
      ids.fromAgent = await make('Hidden from agent-a', { agents: ['agent-a'] });
      ids.fromTeam = await make('Hidden from tier1', { teams: ['tier1'] });
      ids.visible = await make('Visible to all');
      await t.settle();
      const token = async (body: unknown) => {
        const r = await t.request('POST', '/v1/tokens', { json: body });
        expect(r.status).toBe(201);
        return r.body.token as string;
      };
      otherAgent = await token({ name: 'agent b', role: 'agent', agent_id: 'agent-b', teams: ['tier2'] });
      otherTeam = await token({ name: 'agent c', role: 'agent', agent_id: 'agent-c', teams: ['tier2', 'billing'] });
      sameTeam = await token({ name: 'agent d', role: 'agent', agent_id: 'agent-d', teams: ['tier1'] });
      // Tokens without teams, or without an agent id (on PostgreSQL these were once 500s).
      noTeams = await token({ name: 'agent e', role: 'agent', agent_id: 'agent-e' });
      noAgentId = await token({ name: 'integration', role: 'agent' });
      teamsOnly = await token({ name: 'team bot', role: 'agent', agent_id: null, teams: ['tier1'] });
    });

    const hiddenIds = () => [ids.fromAgent, ids.fromTeam];

    it('the admin sees every segment, with hidden_from, and the contact in all three', async () => {
      const list = (await t.request('GET', '/v1/segments')).body.data as Array<{ id: string; hidden_from: unknown; member_count: number }>;
      const byId = new Map(list.map((s) => [s.id, s]));
      expect(byId.get(ids.fromAgent)).toMatchObject({ hidden_from: { agents: ['agent-a'], teams: [] }, member_count: 1 });
      expect(byId.get(ids.fromTeam)).toMatchObject({ hidden_from: { agents: [], teams: ['tier1'] }, member_count: 1 });
      expect(byId.get(ids.visible)).toMatchObject({ hidden_from: { agents: [], teams: [] }, member_count: 1 });
      expect((await t.request('GET', `/v1/segments/${ids.fromAgent}`)).body).toMatchObject({ hidden_from: { agents: ['agent-a'] } });
      const profile = (await t.request('GET', `/v1/contacts/${contactId}`)).body;
      expect(profile.segments.map((s: { id: string }) => s.id).sort()).toEqual([ids.fromAgent, ids.fromTeam, ids.visible].sort());
      const filter = encodeURIComponent(JSON.stringify({ attr: 'segments', op: 'contains', value: ids.fromAgent }));
      expect((await t.request('GET', `/v1/contacts?condition=${filter}`)).body.data.map((c: { id: string }) => c.id)).toEqual([contactId]);
      expect((await t.request('GET', `/v1/segments/${ids.fromTeam}/members`)).body.data.map((m: { id: string }) => m.id)).toEqual([contactId]);
    });

    for (const who of ['agent', 'sameTeam'] as const) {
      it(`to ${who === 'agent' ? 'agent-a (of tier1)' : 'another agent of tier1'}, a segment hidden from it does not exist`, async () => {
        const token = who === 'agent' ? t.tokens.agent : sameTeam;
        // agent-d is of tier1 but is not agent-a: only the team's segment is hidden from it.
        const hidden = who === 'agent' ? hiddenIds() : [ids.fromTeam];
        const shown = who === 'agent' ? [ids.visible] : [ids.fromAgent, ids.visible];
        const as = (method: string, path: string, json?: unknown) => t.request(method, path, { token, json });

        const listed = (await as('GET', '/v1/segments')).body.data as Array<{ id: string }>;
        for (const id of hidden) expect(listed.map((s) => s.id)).not.toContain(id);
        for (const id of shown) expect(listed.map((s) => s.id)).toContain(id);
        expect(JSON.stringify(listed)).not.toContain('hidden_from');

        const missing = await as('GET', `/v1/segments/${UNKNOWN_ID}`);
        expectProblem(missing, 404);
        const missingMembers = await as('GET', `/v1/segments/${UNKNOWN_ID}/members`);
        const missingPreview = await as('POST', '/v1/segments/preview', { condition: { all: [] }, segment_id: UNKNOWN_ID });
        const unknownCondition = { attr: 'segments', op: 'contains', value: UNKNOWN_ID };
        const missingInPreview = await as('POST', '/v1/segments/preview', { condition: unknownCondition });
        const missingInFilter = await as('GET', `/v1/contacts?condition=${encodeURIComponent(JSON.stringify(unknownCondition))}`);
        const missingInSearch = await as('POST', '/v1/contacts/search', { condition: { any: [unknownCondition] } });
        for (const id of hidden) {
          const r = await as('GET', `/v1/segments/${id}`);
          expectProblem(r, 404);
          expect(normalised(r.body, id)).toEqual(normalised(missing.body, UNKNOWN_ID));
          const members = await as('GET', `/v1/segments/${id}/members`);
          expectProblem(members, 404);
          expect(normalised(members.body, id)).toEqual(normalised(missingMembers.body, UNKNOWN_ID));
          const impact = await as('POST', '/v1/segments/preview', { condition: { all: [] }, segment_id: id });
          expectProblem(impact, 404);
          expect(normalised(impact.body, id)).toEqual(normalised(missingPreview.body, UNKNOWN_ID));

          const condition = { attr: 'segments', op: 'contains', value: id };
          const preview = await as('POST', '/v1/segments/preview', { condition });
          expectProblem(preview, 400);
          expect(normalised(preview.body, id)).toEqual(normalised(missingInPreview.body, UNKNOWN_ID));
          for (const op of ['not_contains', 'in', 'not_in']) {
            const value = op === 'in' || op === 'not_in' ? [ids.visible, id] : id;
            expectProblem(await as('POST', '/v1/segments/preview', { condition: { not: { attr: 'segments', op, value } } }), 400);
          }
          const filter = await as('GET', `/v1/contacts?condition=${encodeURIComponent(JSON.stringify(condition))}`);
          expectProblem(filter, 400);
          expect(normalised(filter.body, id)).toEqual(normalised(missingInFilter.body, UNKNOWN_ID));
          const search = await as('POST', '/v1/contacts/search', { condition: { any: [condition] } });
          expectProblem(search, 400);
          expect(normalised(search.body, id)).toEqual(normalised(missingInSearch.body, UNKNOWN_ID));
        }

        const profile = await as('GET', `/v1/contacts/${contactId}`);
        expect(profile.status).toBe(200);
        expect(profile.body.segments.map((s: { id: string }) => s.id).sort()).toEqual([...shown].sort());
        const page = await as('GET', '/v1/contacts?limit=1000');
        const listedContact = page.body.data.find((c: { id: string }) => c.id === contactId);
        expect(listedContact.segments.map((s: { id: string }) => s.id).sort()).toEqual([...shown].sort());
        const searched = await as('POST', '/v1/contacts/search', { condition: { attr: 'segments', op: 'contains', value: ids.visible } });
        expect(searched.status).toBe(200);
        expect(searched.body.data.map((c: { id: string }) => c.id)).toEqual([contactId]);
        expect(searched.body.data[0].segments.map((s: { id: string }) => s.id).sort()).toEqual([...shown].sort());
        for (const id of hidden) expect(JSON.stringify([profile.body, page.body, searched.body])).not.toContain(id);
        // The visible segment still works in a condition and by id.
        expect((await as('GET', `/v1/segments/${ids.visible}`)).status).toBe(200);
        expect((await as('POST', '/v1/segments/preview', { condition: { attr: 'segments', op: 'contains', value: ids.visible } })).body).toMatchObject({ count: 1, members: [contactId] });
      });
    }

    it('an agent of another id and other teams (or none) sees every segment', async () => {
      for (const token of [otherAgent, otherTeam, noTeams, noAgentId]) {
        const as = (method: string, path: string, json?: unknown) => t.request(method, path, { token, json });
        const listed = (await as('GET', '/v1/segments')).body.data.map((s: { id: string }) => s.id);
        for (const id of [...hiddenIds(), ids.visible]) {
          expect(listed).toContain(id);
          const one = await as('GET', `/v1/segments/${id}`);
          expect(one.status).toBe(200);
          expect(one.body).not.toHaveProperty('hidden_from');
          expect((await as('GET', `/v1/segments/${id}/members`)).body.data.map((m: { id: string }) => m.id)).toEqual([contactId]);
          expect((await as('POST', '/v1/segments/preview', { condition: { attr: 'segments', op: 'contains', value: id } })).body).toMatchObject({ count: 1 });
        }
        expect((await as('GET', `/v1/contacts/${contactId}`)).body.segments.map((s: { id: string }) => s.id).sort()).toEqual([...hiddenIds(), ids.visible].sort());
      }
    });

    it('a token of a team and no agent id: the team\'s segments are hidden, the agent\'s are not', async () => {
      const listed = await t.request('GET', '/v1/segments', { token: teamsOnly });
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([ids.fromAgent, ids.visible]));
      expect(listed.body.data.map((s: { id: string }) => s.id)).not.toContain(ids.fromTeam);
      expectProblem(await t.request('GET', `/v1/segments/${ids.fromTeam}`, { token: teamsOnly }), 404);
      expect((await t.request('GET', `/v1/contacts/${contactId}`, { token: teamsOnly })).body.segments.map((s: { id: string }) => s.id).sort())
        .toEqual([ids.fromAgent, ids.visible].sort());
    });

    it('unhiding a segment shows it to the agent at once; hiding it again hides it', async () => {
      expect((await t.request('PATCH', `/v1/segments/${ids.fromAgent}`, { json: { hidden_from: { agents: [] } } })).status).toBe(200);
      expect((await t.request('GET', `/v1/segments/${ids.fromAgent}`, { token: t.tokens.agent })).status).toBe(200);
      expect((await t.request('PATCH', `/v1/segments/${ids.fromAgent}`, { json: { hidden_from: { agents: ['agent-a'] } } })).status).toBe(200);
      expectProblem(await t.request('GET', `/v1/segments/${ids.fromAgent}`, { token: t.tokens.agent }), 404);
    });

    it('a segment built on a hidden one is hidden from the same people: its definition and members would tell', async () => {
      const built = await t.request('POST', '/v1/segments', { json: { name: 'Built on hidden', condition: { attr: 'segments', op: 'contains', value: ids.fromAgent } } });
      const further = await t.request('POST', '/v1/segments', { json: { name: 'Built on that', condition: { attr: 'segments', op: 'not_contains', value: built.body.id } } });
      await t.settle();
      const listed = (await t.request('GET', '/v1/segments', { token: t.tokens.agent })).body.data.map((s: { id: string }) => s.id);
      expect(listed).not.toContain(built.body.id);
      expect(listed).not.toContain(further.body.id);
      expect(JSON.stringify(listed)).not.toContain(ids.fromAgent);
      expectProblem(await t.request('GET', `/v1/segments/${built.body.id}`, { token: t.tokens.agent }), 404);
      expect((await t.request('GET', `/v1/segments/${built.body.id}`, { token: otherAgent })).status).toBe(200);
      expect((await t.request('GET', `/v1/contacts/${contactId}`, { token: t.tokens.agent })).body.segments.map((s: { id: string }) => s.id)).not.toContain(built.body.id);
      for (const id of [further.body.id, built.body.id]) expect((await t.request('DELETE', `/v1/segments/${id}`)).status).toBe(204);
    });
  });
});
