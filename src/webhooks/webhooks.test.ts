// Webhooks end to end on SQLite and PostgreSQL: a subscription made over the API, events delivered
// to a real local receiver, signed as Standard Webhooks, retried with the same webhook-id, in order
// per contact, failed after the last retry and replayable; local targets refused without allowance.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appOn } from '../app.js';
import type { Dialect } from '../db/database.js';
import { createDatabase } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { buildServer } from '../http/server.js';
import { startTestServer } from '../http/test-support/server.js';
import type { TestServer } from '../http/test-support/server.js';
import { RETRY_DELAYS_MS, deliverWebhooks } from './delivery.js';
import { checkWebhookTarget, isLocalAddress } from './target-check.js';

const pgUrl = await postgresTestUrl();

describe('webhook targets', () => {
  it('refuses loopback, private, link-local, unspecified and IPv4-mapped local addresses', () => {
    for (const a of ['127.0.0.1', '127.9.9.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '0.0.0.0', '100.64.0.1',
      '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a00:1', '::ffff:192.168.0.1']) expect(isLocalAddress(a), a).toBe(true);
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isLocalAddress(a), a).toBe(false);
  });

  it('checks URLs: scheme, credentials, and the addresses behind the host', async () => {
    for (const url of ['http://127.0.0.1/hook', 'http://localhost:8080/x', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://0x7f000001/', 'http://2130706433/',
      'http://169.254.169.254/latest/meta-data', 'http://0.0.0.0/', 'ftp://example.com/', 'not a url', 'https://user:pw@example.com/']) {
      await expect(checkWebhookTarget(url, { allowPrivate: false }), url).rejects.toMatchObject({ code: 'invalid_input', issues: [{ path: 'url' }] });
    }
    await expect(checkWebhookTarget('https://93.184.216.34/hook', { allowPrivate: false })).resolves.toBeInstanceOf(URL);
    await expect(checkWebhookTarget('http://127.0.0.1/hook', { allowPrivate: true })).resolves.toBeInstanceOf(URL);
  });

  it('is refused over the API by a server without the allowance', async () => {
    const app = await appOn(createDatabase({ dialect: 'sqlite', filename: ':memory:' }));
    const { createWorkspace } = await import('../workspaces/workspace-store.js');
    const { createToken } = await import('../access/tokens.js');
    const { writeTransaction } = await import('../db/write-transaction.js');
    await createWorkspace(app.database, { id: 'ws1' });
    const { token } = await writeTransaction(app.database, (tx) => createToken(tx, 'ws1', { name: 'a', role: 'admin' }));
    const server = await buildServer(app);
    try {
      const r = await server.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${token}` }, payload: { url: 'http://localhost:9/hook' } });
      expect(r.statusCode).toBe(400);
      expect(r.json().errors[0].path).toBe('url');
    } finally {
      await server.close();
      await app.close();
    }
  });
});

interface Received { headers: IncomingHttpHeaders; body: string }

describe.each<Dialect>(['sqlite', 'postgres'])('webhook delivery on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null;
  let t: TestServer;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  const receivedPaths = new WeakMap<Received, string>();
  /** webhook-ids the receiver answers 500 to, once each. */
  const failOnce = new Set<string>();
  let alwaysFail = false;

  beforeAll(async () => {
    if (skip) return;
    t = await startTestServer(dialect, pgUrl);
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => { body += c; });
      request.on('end', () => {
        const id = String(request.headers['webhook-id']);
        const entry = { headers: request.headers, body };
        received.push(entry);
        receivedPaths.set(entry, request.url ?? '');
        const fail = alwaysFail || (request.url === '/flaky' && !failOnce.has(id));
        if (request.url === '/flaky') failOnce.add(id);
        response.statusCode = fail ? 500 : 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  let clock = Date.now();
  const pass = () => deliverWebhooks(t.app.database, { allowPrivate: true, now: () => clock });

  it.skipIf(skip)('delivers signed events from the subscription on, retries with the same id, in order per contact', async () => {
    const segment = await t.request('POST', '/v1/segments', { json: { name: 'Iceland', condition: { attr: 'country', op: 'eq', value: 'IS' } } });
    await t.settle();
    await t.request('POST', '/v1/contacts', { json: { id: 'before', attributes: { country: 'IS' } } });

    const sub = await t.request('POST', '/v1/webhooks', { json: { url: `${receiverUrl}/flaky`, description: 'crm sync' } });
    expect(sub.status).toBe(201);
    expect(sub.body.secret).toMatch(/^whsec_/);
    expect(JSON.stringify((await t.request('GET', '/v1/webhooks')).body)).not.toContain(sub.body.secret);

    await t.request('POST', '/v1/contacts', { json: { id: 'c1', attributes: { country: 'IS' } } });
    await t.request('PATCH', '/v1/contacts/c1', { json: { attributes: { country: 'NO' } } });
    await t.request('POST', '/v1/contacts', { json: { id: 'c2', attributes: { country: 'IS' } } });
    clock = Date.now();

    // First pass: every first attempt fails (500); only the earliest event of each contact is tried.
    const first = await pass();
    expect(first).toMatchObject({ enqueued: 3, delivered: 0 });
    const tried = received.map((r) => JSON.parse(r.body));
    expect(tried.map((e) => [e.type, e.data.contact_id]).sort()).toEqual([['segment.entered', 'c1'], ['segment.entered', 'c2']]);

    // Not yet due; then 5 s later the retries go out, and c1's `left` after its `entered`.
    expect((await pass()).delivered).toBe(0);
    clock += RETRY_DELAYS_MS[0];
    await pass();
    await pass();
    clock += RETRY_DELAYS_MS[0];
    await pass();
    const events = received.map((r) => ({ id: String(r.headers['webhook-id']), ...JSON.parse(r.body) }));
    const c1 = events.filter((e) => e.data.contact_id === 'c1');
    expect(c1.map((e) => e.type)).toEqual(['segment.entered', 'segment.entered', 'segment.left', 'segment.left']);
    expect(c1[0].id).toBe(c1[1].id);
    // Three events, each tried twice (a 500, then the retry), always under its own webhook-id.
    const attemptsById = new Map<string, number>();
    for (const e of events) attemptsById.set(e.id, (attemptsById.get(e.id) ?? 0) + 1);
    expect([...attemptsById.values()]).toEqual([2, 2, 2]);
    expect(events.some((e) => e.data.contact_id === 'before')).toBe(false);
    expect(c1[0]).toMatchObject({ data: { segment_id: segment.body.id, segment_name: 'Iceland', contact_id: 'c1' }, timestamp: expect.any(String) });

    // The signature: HMAC-SHA256 of "id.timestamp.body" with the secret's bytes.
    const key = Buffer.from(sub.body.secret.slice('whsec_'.length), 'base64');
    for (const r of received) {
      const expected = createHmac('sha256', key).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64');
      expect(r.headers['webhook-signature']).toBe(`v1,${expected}`);
    }
    const deliveries = (await t.request('GET', `/v1/webhooks/${sub.body.data.id}/deliveries`)).body.data;
    expect(deliveries.map((d: { status: string }) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(deliveries.every((d: { attempts: number }) => d.attempts === 2)).toBe(true);
    expect((await t.request('DELETE', `/v1/webhooks/${sub.body.data.id}`)).status).toBe(204);
  });

  it.skipIf(skip)('a subscription to some segments or types gets only their events; the filter is checked and shown', async () => {
    const a = await t.request('POST', '/v1/segments', { json: { name: 'Filter A', condition: { attr: 'country', op: 'eq', value: 'FA' } } });
    const b = await t.request('POST', '/v1/segments', { json: { name: 'Filter B', condition: { attr: 'country', op: 'in', value: ['FA', 'FB'] } } });
    await t.settle();
    const onlyA = await t.request('POST', '/v1/webhooks', { json: { url: `${receiverUrl}/only-a`, segment_ids: [a.body.id] } });
    const onlyLeft = await t.request('POST', '/v1/webhooks', { json: { url: `${receiverUrl}/only-left`, segment_ids: [a.body.id, b.body.id], types: ['segment.left'] } });
    expect(onlyA.status).toBe(201);
    expect(onlyA.body.data).toMatchObject({ segment_ids: [a.body.id], types: null });
    expect(onlyLeft.body.data).toMatchObject({ segment_ids: [a.body.id, b.body.id], types: ['segment.left'] });
    const listed = (await t.request('GET', '/v1/webhooks')).body.data.find((w: { id: string }) => w.id === onlyLeft.body.data.id);
    expect(listed).toMatchObject({ segment_ids: [a.body.id, b.body.id], types: ['segment.left'] });

    received.length = 0;
    await t.request('POST', '/v1/contacts', { json: { id: 'f1', attributes: { country: 'FA' } } }); // enters A and B
    await t.request('PATCH', '/v1/contacts/f1', { json: { attributes: { country: 'FB' } } }); // leaves A
    await t.request('PATCH', '/v1/contacts/f1', { json: { attributes: { country: 'NO' } } }); // leaves B
    clock = Date.now();
    for (let i = 0; i < 4; i++) await pass();
    const got = (path: string) => received.filter((r) => r.body.includes('"f1"') && receivedPaths.get(r) === path)
      .map((r) => JSON.parse(r.body)).map((e) => `${e.type} ${e.data.segment_id === a.body.id ? 'A' : e.data.segment_id === b.body.id ? 'B' : '?'}`);
    expect(got('/only-a')).toEqual(['segment.entered A', 'segment.left A']);
    expect(got('/only-left')).toEqual(['segment.left A', 'segment.left B']);

    const bad = await t.request('POST', '/v1/webhooks', { json: { url: `${receiverUrl}/x`, segment_ids: [a.body.id, 'seg_nobody'], types: ['segment.joined'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['types[0]']);
    const unknown = await t.request('POST', '/v1/webhooks', { json: { url: `${receiverUrl}/x`, segment_ids: [a.body.id, 'seg_nobody'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ path: 'segment_ids[1]', message: 'no segment with id "seg_nobody"' }]);
    for (const sub of [onlyA, onlyLeft]) expect((await t.request('DELETE', `/v1/webhooks/${sub.body.data.id}`)).status).toBe(204);
  });

  it.skipIf(skip)('marks a delivery failed after the last retry, and replays it on request', async () => {
    received.length = 0;
    alwaysFail = true;
    const sub = await t.request('POST', '/v1/webhooks', { json: { url: `${receiverUrl}/down` } });
    await t.request('POST', '/v1/contacts', { json: { id: 'c3', attributes: { country: 'IS' } } });
    clock = Date.now();
    await pass();
    for (const delay of RETRY_DELAYS_MS) { clock += delay; await pass(); }
    expect(received.length).toBe(RETRY_DELAYS_MS.length + 1);
    const [failed] = (await t.request('GET', `/v1/webhooks/${sub.body.data.id}/deliveries?status=failed`)).body.data;
    expect(failed).toMatchObject({ status: 'failed', attempts: 8, last_status: 500 });
    clock += 100 * RETRY_DELAYS_MS[6];
    await pass();
    expect(received.length).toBe(RETRY_DELAYS_MS.length + 1);

    alwaysFail = false;
    expect((await t.request('POST', `/v1/webhooks/${sub.body.data.id}/deliveries/${failed.id}/replay`)).status).toBe(202);
    await pass();
    expect(received.length).toBe(RETRY_DELAYS_MS.length + 2);
    expect(received[received.length - 1].headers['webhook-id']).toBe(failed.id);
    expect((await t.request('GET', `/v1/webhooks/${sub.body.data.id}/deliveries`)).body.data[0].status).toBe('delivered');
    const bad = await t.request('GET', `/v1/webhooks/${sub.body.data.id}/deliveries?cursor=abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('cursor');
    expect((await t.request('GET', '/v1/webhooks', { token: t.tokens.otherAdmin })).body.data).toEqual([]);
    expect((await t.request('GET', `/v1/webhooks/${sub.body.data.id}/deliveries`, { token: t.tokens.otherAdmin })).status).toBe(404);
  });
});
