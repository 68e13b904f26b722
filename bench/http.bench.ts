// bench:http — the API over real HTTP on the 1M-contact SQLite store with the 60 BENCH segments:
// `GET /v1/contacts/{id}` (the contact with its segments), `PATCH /v1/contacts/{id}` that changes
// membership, and `GET /v1/segments` (60 live counts), each at a fixed concurrency, with autocannon
// in this process and the server (`segments serve`, built dist/) in its own. The baseline in the
// same run is `GET /health`: the framework and one trivial query, what a request costs at least.
// Targets: reads ≥ 5,000/s with p99 < 20 ms; membership-changing writes ≥ 1,500/s with p99 < 50 ms;
// the segment list p99 < 10 ms.
// The server works on a copy of the kept store (bench/.cache/http-store-N.sqlite, made once with
// VACUUM INTO and kept: the writes change it, which changes no figure). The file is read once
// before the runs: a server that has been running has its store in the OS page cache, while a
// file left alone for a while has not (this VM's kernel reclaims idle page cache: DAMON), and
// reads from disk would be what is measured.
// Two PATCH bodies: a few account fields (plan, lifecycle, MRR, VIP, loyalty, last interaction,
// churn risk: what a CRM sync or an agent changes), and the whole profile replaced (every attribute
// of another generated contact, e-mail and external id included). The membership changes each
// write made are counted from the event feed.
// Usage: npm run bench:http -- [--contacts N] [--connections C] [--seconds S]
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { createToken } from '../src/access/tokens.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { writeTransaction } from '../src/db/write-transaction.js';
import { feedEnd as endOfFeed, readEvents } from '../src/segments/event-feed.js';
import { contactStream } from './fixtures.js';
import { benchHeader, cachePath, fmt, load, log, numberArg, table } from './harness.js';
import { WORKSPACE, openPopulatedStore } from './store-fixtures.js';

const N = numberArg('contacts', 1_000_000);
const CONNECTIONS = numberArg('connections', 16);
const SECONDS = numberArg('seconds', 10);
const root = fileURLToPath(new URL('..', import.meta.url));

benchHeader('bench:http');
log(`the SQLite store of ${fmt.int(N)} contacts with 60 segments; ${CONNECTIONS} connections, ${SECONDS} s a scenario\n`);
if (!existsSync(`${root}dist/cli/main.js`)) throw new Error('bench:http runs the built server: npm run build first');

const copy = cachePath(`http-store-${N}.sqlite`);
if (!existsSync(copy)) {
  const store = await openPopulatedStore('sqlite', N, log);
  const t0 = performance.now();
  await sql`VACUUM INTO ${copy}`.execute(store.database.db);
  await store.close();
  log(`copied the store to ${copy} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
{
  const t0 = performance.now();
  for await (const _ of createReadStream(copy, { highWaterMark: 8 << 20 })) { /* into the page cache */ }
  log(`read the store file once (the page cache) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const database = createDatabase({ dialect: 'sqlite', filename: copy });
await migrateToLatest(database);
const { token } = await writeTransaction(database, (tx) => createToken(tx, WORKSPACE, { name: 'bench:http', role: 'admin' }));
await database.close();

const server = spawn(process.execPath, [`${root}bin/segments`, 'serve', '--db', copy, '--port', '0', '--no-demo', '--no-worker', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
const url = await new Promise<string>((resolve, reject) => {
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); const m = /running at (http:\/\/\S+)/.exec(stderr); if (m) resolve(m[1]); });
  server.on('close', (code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
});

const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const randomId = () => `c${Math.floor(Math.random() * N)}`;
const ACCOUNT_FIELDS = ['plan_tier', 'lifecycle', 'mrr', 'vip', 'loyalty_tier', 'last_interaction_at', 'churn_risk'];
const generated = [...contactStream(10_000, 0x77_11)].map(({ id: _id, ...attributes }) => attributes);
const fullBodies = generated.map((attributes) => JSON.stringify({ attributes }));
const accountBodies = generated.map((a) => JSON.stringify({ attributes: Object.fromEntries(ACCOUNT_FIELDS.map((k) => [k, a[k] ?? null])) }));
let next = 0;
// The feed's end, read beside the server (a WAL reader never blocks it).
const feed = createDatabase({ dialect: 'sqlite', filename: copy });
const feedEnd = () => endOfFeed(feed.db, WORKSPACE);
/** Contacts with a membership change in (after, …]: at random among 1M, about one per request that changed membership. */
const contactsChanged = async (after: number) => new Set((await readEvents(feed.db, WORKSPACE, after, Number.MAX_SAFE_INTEGER)).map((e) => e.contactId)).size;

interface Scenario { name: string; target: string; ok: (r: Row) => boolean; request: autocannon.Request }
interface Row { name: string; rps: number; p50: number; p99: number; non2xx: number; errors: number; changesPerRequest: number; changingShare: number }

const scenarios: Scenario[] = [
  { name: 'GET /health (baseline)', target: '', ok: () => true, request: { method: 'GET', path: '/health' } },
  { name: 'GET /v1/contacts/{id}', target: '≥ 5,000/s, p99 < 20 ms', ok: (r) => r.rps >= 5000 && r.p99 < 20, request: { method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/contacts/${randomId()}` }) } },
  { name: 'PATCH /v1/contacts/{id}, account fields', target: '≥ 1,500/s, p99 < 50 ms', ok: (r) => r.rps >= 1500 && r.p99 < 50,
    request: { method: 'PATCH', setupRequest: (req) => ({ ...req, path: `/v1/contacts/${randomId()}`, body: accountBodies[next++ % accountBodies.length] }) } },
  { name: 'PATCH /v1/contacts/{id}, whole profile', target: '≥ 1,500/s, p99 < 50 ms', ok: (r) => r.rps >= 1500 && r.p99 < 50,
    request: { method: 'PATCH', setupRequest: (req) => ({ ...req, path: `/v1/contacts/${randomId()}`, body: fullBodies[next++ % fullBodies.length] }) } },
  { name: 'GET /v1/segments (60 counts)', target: 'p99 < 10 ms', ok: (r) => r.p99 < 10, request: { method: 'GET', path: '/v1/segments' } },
];

async function run(s: Scenario, seconds: number): Promise<Row> {
  const before = await feedEnd();
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers, requests: [s.request] });
  const changesPerRequest = (await feedEnd() - before) / Math.max(1, result.requests.total);
  const changingShare = changesPerRequest === 0 ? 0 : (await contactsChanged(before)) / Math.max(1, result.requests.total);
  return { name: s.name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors, changesPerRequest, changingShare };
}

try {
  await run(scenarios[1], 2); // warm-up: the server's caches and the page cache
  const rows: Row[] = [];
  for (const s of scenarios) rows.push(await run(s, SECONDS));
  const baseline = rows[0].rps;
  log(table(['scenario', 'req/s', 'p50 ms', 'p99 ms', '÷ baseline', 'membership changes / request', 'requests changing membership', 'non-2xx', 'target', ''],
    rows.map((r, i) => [r.name, fmt.int(Math.round(r.rps)), String(r.p50), String(r.p99), (r.rps / baseline).toFixed(2), r.changesPerRequest.toFixed(1), r.changingShare === 0 ? '' : `${Math.round(100 * r.changingShare)}%`, String(r.non2xx + r.errors),
      scenarios[i].target, scenarios[i].target === '' ? '' : scenarios[i].ok(r) ? 'met' : 'MISSED'])));
  log(`\n${load()}`);
  writeFileSync(cachePath('http-last.json'), JSON.stringify({ at: new Date().toISOString(), N, CONNECTIONS, SECONDS, rows }, null, 2));
  if (rows.some((r) => r.non2xx + r.errors > 0)) log('some requests failed: the figures above are not valid');
} finally {
  server.kill('SIGTERM');
  await feed.close();
}
