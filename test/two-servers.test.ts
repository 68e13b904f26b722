// Two `segments serve` processes on one PostgreSQL database, side by side: each takes writes over
// HTTP and runs the background work (backfills, the time refresh, webhook delivery). Builds complete
// once; every membership event reaches the webhook receiver, in order per contact; and when one
// server is killed (SIGKILL) mid-way, the other finishes its work: nothing is lost (a delivery the
// dead server had claimed goes out again when its lease runs out), membership equals a full
// recompute, and the replayed feed equals the stored membership.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/access/tokens.js';
import { createAttribute } from '../src/contacts/attribute-store.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTestSchema, postgresTestUrl } from '../src/db/test-support/postgres.js';
import type { TestSchema } from '../src/db/test-support/postgres.js';
import { writeTransaction } from '../src/db/write-transaction.js';
import { readEvents } from '../src/segments/event-feed.js';
import { ContactWrites } from '../src/segments/contact-writes.js';
import { checkStore } from '../src/segments/test-support/membership-checks.js';
import { WorkspaceStates } from '../src/segments/workspace-state.js';
import { createWorkspace } from '../src/workspaces/workspace-store.js';

const pgUrl = await postgresTestUrl();
const root = fileURLToPath(new URL('..', import.meta.url));
const WS = 'ws1';
const CONTACTS = 400;

interface RunningServer { child: ChildProcess; url: string; stderr: () => string; exited: Promise<number | null> }

function startServer(databaseUrl: string): Promise<RunningServer> {
  const child = spawn(process.execPath, [join(root, 'bin/segments'), 'serve', '--port', '0', '--worker-interval', '1', '--no-demo', '--log-level', 'warn'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, SEGMENTS_ALLOW_PRIVATE_WEBHOOKS: '1', SEGMENTS_WEBHOOK_LEASE_SECONDS: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${stderr}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /running at (http:\/\/\S+)/.exec(stderr);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], stderr: () => stderr, exited }); }
    });
    void exited.then((code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
  });
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

describe.skipIf(pgUrl === null)('two servers on one PostgreSQL database', () => {
  let t: TestSchema;
  let receiver: Server;
  const received: Array<{ id: string; event: { type: string; data: { contact_id: string; event_id: string } } }> = [];
  let token: string;
  let servers: RunningServer[] = [];

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests');
    t = await createTestSchema(pgUrl!);
    await migrateToLatest(t.database);
    await createWorkspace(t.database, { id: WS });
    await writeTransaction(t.database, (tx) => createAttribute(tx, WS, { key: 'score', type: 'number' }));
    const writes = new ContactWrites(t.database, new WorkspaceStates());
    for (let i = 0; i < CONTACTS; i += 100) {
      await writes.writeBatch(WS, Array.from({ length: 100 }, (_, k) => ({ id: `c${i + k}`, score: (i + k) % 100 })));
    }
    token = (await writeTransaction(t.database, (tx) => createToken(tx, WS, { name: 'test', role: 'admin' }))).token;
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c) => { body += c; });
      request.on('end', () => {
        received.push({ id: String(request.headers['webhook-id']), event: JSON.parse(body) });
        response.statusCode = 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await new Promise((resolve) => receiver?.close(resolve));
    await t?.drop();
  });

  it('share backfills and webhook deliveries, and one finishes what a killed one left', async () => {
    const url = new URL(pgUrl!);
    url.searchParams.set('options', `-c search_path=${t.schema}`);
    servers = [await startServer(url.toString()), await startServer(url.toString())];
    const [a, b] = servers;
    const call = async (server: RunningServer, method: string, path: string, json?: unknown) => {
      const r = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${token}`, ...(json ? { 'content-type': 'application/json' } : {}) }, body: json ? JSON.stringify(json) : undefined });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the bodies it expects
      return { status: r.status, body: (await r.json().catch(() => null)) as any };
    };

    const hook = await call(a, 'POST', '/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` });
    expect(hook.status).toBe(201);
    const high = await call(a, 'POST', '/v1/segments', { name: 'High', condition: { attr: 'score', op: 'gte', value: 50 } });
    const low = await call(b, 'POST', '/v1/segments', { name: 'Low', condition: { attr: 'score', op: 'lt', value: 10 } });
    expect(await until(async () => (await call(b, 'GET', '/v1/segments')).body.data.every((s: { status: string }) => s.status === 'ready'), 60_000)).toBe(true);
    const counts = Object.fromEntries((await call(a, 'GET', '/v1/segments')).body.data.map((s: { name: string; member_count: number }) => [s.name, s.member_count]));
    expect(counts).toEqual({ High: CONTACTS / 2, Low: CONTACTS / 10 });

    // Writes through both servers at once, each moving contacts in and out of the segments.
    const writes = Array.from({ length: 120 }, (_, i) => call(i % 2 ? a : b, 'PATCH', `/v1/contacts/c${i}`, { attributes: { score: (i * 37) % 100 } }));
    for (const r of await Promise.all(writes)) expect(r.status).toBe(200);

    // Kill one server while deliveries are under way; the other must deliver everything.
    await until(async () => received.length > 0, 30_000);
    a.child.kill('SIGKILL');
    await a.exited;
    await call(b, 'PATCH', '/v1/contacts/c399', { attributes: { score: 5 } });

    const events = (await readEvents(t.database.db, WS, 0, Number.MAX_SAFE_INTEGER)).filter((e) => [high.body.id, low.body.id].includes(e.segmentId));
    const wanted = new Set(events.map((e) => String(e.seq)));
    const delivered = () => new Set(received.map((r) => r.event.data.event_id));
    const all = await until(async () => [...wanted].every((seq) => delivered().has(seq)), 60_000);
    expect(all, `delivered ${delivered().size} of ${wanted.size}`).toBe(true);

    // At least once; twice only for what the killed server had claimed (one batch at most).
    const times = new Map<string, number>();
    for (const r of received) times.set(r.id, (times.get(r.id) ?? 0) + 1);
    expect([...times.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(50);
    // In order per contact: each contact's events arrive first in feed order.
    const firstArrival = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const r of received) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      const list = firstArrival.get(r.event.data.contact_id) ?? [];
      list.push(r.event.data.event_id);
      firstArrival.set(r.event.data.contact_id, list);
    }
    for (const [contact, seqs] of firstArrival) expect(seqs.map(Number), contact).toEqual([...seqs.map(Number)].sort((x, y) => x - y));

    expect(await checkStore(t.database, new WorkspaceStates(), WS, Date.now())).toEqual([]);
    const jobs = await t.database.db.selectFrom('segment_jobs').select(['segment_id', 'status']).where('workspace_id', '=', WS).execute();
    expect(jobs.map((j) => j.status).sort()).toEqual(['done', 'done']);

    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 180_000);
});
