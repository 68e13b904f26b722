// Concurrent writers on PostgreSQL lose no update: two child PROCESSES (test/support/pg-worker.mjs,
// on the built dist/) write the same contacts at the same time, each its own attribute, many
// times, with segments defined on those attributes. At the end every contact holds both writers'
// last values and has been updated exactly as many times as it was written (a merge from a stale
// read would lose a version), and membership, counts and the replayed feed equal a full recompute.
// Then the same in batches (several contacts per transaction, in different orders), and with a
// third process that meanwhile edits a definition and runs its backfill, or runs the time refresh.
// Under CI=true an unreachable server fails the file (postgresTestUrl); it is never skipped silently.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAttribute } from '../src/contacts/attribute-store.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createTestSchema, postgresTestUrl } from '../src/db/test-support/postgres.js';
import type { TestSchema } from '../src/db/test-support/postgres.js';
import { writeTransaction } from '../src/db/write-transaction.js';
import { runBackfills } from '../src/segments/backfill.js';
import { refreshDue } from '../src/segments/time-refresh.js';
import { ContactWrites } from '../src/segments/contact-writes.js';
import { createSegment, listSegmentRows, readCounts } from '../src/segments/segment-store.js';
import { checkStore } from '../src/segments/test-support/membership-checks.js';
import { WorkspaceStates } from '../src/segments/workspace-state.js';
import { createWorkspace } from '../src/workspaces/workspace-store.js';

const pgUrl = await postgresTestUrl();
const root = fileURLToPath(new URL('..', import.meta.url));
const worker = join(root, 'test/support/pg-worker.mjs');
const WS = 'ws1';
const CONTACTS = 30;
/** As pg-worker.mjs computes it. */
const valueOf = (round: number, k: number) => (round * 37 + k * 11) % 100;

interface WorkerResult { written?: number; edits?: number; batches?: number; passes?: number; errors: string[] }

/** Starts the workers, lets them all go at once, and collects their results; `whenStarted` sees them come in. */
async function runWorkers(schema: string, roles: Array<Record<string, string>>, whenStarted?: (results: Promise<WorkerResult>[]) => Promise<void>): Promise<WorkerResult[]> {
  const children = roles.map((vars) => {
    const child = spawn(process.execPath, [worker], {
      env: { ...process.env, PG_URL: pgUrl!, PG_SCHEMA: schema, WORKSPACE: WS, ...vars },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { child, lines, exited, stderr: () => stderr };
  });
  const nextLine = async (c: (typeof children)[number]) => {
    const r = await c.lines.next();
    if (r.done) throw new Error(`a worker ended early (exit ${await c.exited}): ${c.stderr()}`);
    return r.value;
  };
  try {
    for (const c of children) expect(await nextLine(c)).toBe('ready');
    for (const c of children) c.child.stdin.end('go\n');
    const results = children.map(async (c) => {
      const result = JSON.parse(await nextLine(c)) as WorkerResult;
      expect(await c.exited, c.stderr()).toBe(0);
      return result;
    });
    await whenStarted?.(results);
    return await Promise.all(results);
  } finally {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL'); // a failed test leaves no worker behind
  }
}

describe.skipIf(pgUrl === null)('concurrent writers on PostgreSQL (separate processes)', () => {
  let t: TestSchema;
  let states: WorkspaceStates;
  let segment: Record<string, string>;

  beforeEach(async () => {
    if (!existsSync(join(root, 'dist/segments/contact-writes.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests');
    t = await createTestSchema(pgUrl!);
    await migrateToLatest(t.database);
    await createWorkspace(t.database, { id: WS });
    for (const key of ['a', 'b']) await writeTransaction(t.database, (tx) => createAttribute(tx, WS, { key, type: 'number' }));
    segment = {};
    const define = async (name: string, condition: unknown) => {
      segment[name] = (await writeTransaction(t.database, (tx) => createSegment(tx, WS, { name, condition }))).id;
    };
    await define('A high', { attr: 'a', op: 'gte', value: 50 });
    await define('B high', { attr: 'b', op: 'gte', value: 50 });
    await define('Both high', { all: [{ attr: 'segments', op: 'contains', value: segment['A high'] }, { attr: 'segments', op: 'contains', value: segment['B high'] }] });
    await define('Either low', { any: [{ attr: 'a', op: 'lt', value: 20 }, { attr: 'b', op: 'lt', value: 20 }] });
    states = new WorkspaceStates();
    const writes = new ContactWrites(t.database, states);
    // -1 is no value a writer gives: so every write changes the contact, and bumps its version once.
    const seenAnHourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await writes.writeBatch(WS, Array.from({ length: CONTACTS }, (_, k) => ({ id: `c${k}`, a: -1, b: -1, last_interaction_at: seenAnHourAgo })));
    await runBackfills(t.database, states);
  });
  afterEach(async () => { await t?.drop(); });

  /** Every promise at once, so that a failure shows all that went wrong. */
  async function expectNothingLost(results: WorkerResult[], ROUNDS: number): Promise<void> {
    const rows = await t.database.db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
      .select(['c.id', 'd.document as attributes', 'c.version']).where('c.workspace_id', '=', WS).orderBy('c.pk').execute();
    const lost: string[] = [];
    for (let k = 0; k < CONTACTS; k++) {
      const row = rows.find((r) => r.id === `c${k}`);
      const { a, b } = row ? JSON.parse(row.attributes) as { a: number; b: number } : { a: undefined, b: undefined };
      const want = valueOf(ROUNDS - 1, k);
      // Created once, then each writer changed it once a round: a write merged from a stale read would lose a version.
      if (a !== want || b !== want || row?.version !== 1 + 2 * ROUNDS) {
        lost.push(`c${k}: a ${a}, b ${b}, version ${row?.version}; expected a = b = ${want}, version ${1 + 2 * ROUNDS}`);
      }
    }
    await runBackfills(t.database, states);
    const store = await checkStore(t.database, states, WS, Date.now());
    expect({ 'write errors': results.flatMap((r) => r.errors), 'lost updates': lost, 'membership, counts and feed': store })
      .toEqual({ 'write errors': [], 'lost updates': [], 'membership, counts and feed': [] });
    const counts = await listSegmentRows(t.database.db, WS);
    const last = Array.from({ length: CONTACTS }, (_, k) => valueOf(ROUNDS - 1, k));
    expect(Object.fromEntries(counts.map((c) => [c.name, Number(c.member_count)]))).toMatchObject({
      'B high': last.filter((v) => v >= 50).length,
      'Both high': last.filter((v) => v >= 50).length,
      'Either low': last.filter((v) => v < 20).length,
    });
    expect(counts.every((c) => c.status === 'ready')).toBe(true);
  }

  it('two processes updating the same contacts, each its own attribute: no update lost, membership equals a full recompute', async () => {
    const ROUNDS = 15;
    const results = await runWorkers(t.schema, [
      { ROLE: 'writer', ATTR: 'a', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '1' },
      { ROLE: 'writer', ATTR: 'b', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '2' },
    ]);
    expect(results.map((r) => r.written)).toEqual([ROUNDS * CONTACTS, ROUNDS * CONTACTS]);
    await expectNothingLost(results, ROUNDS);
    expect((await readCounts(t.database.db, WS)).get(segment['A high'])).toBe(Array.from({ length: CONTACTS }, (_, k) => valueOf(ROUNDS - 1, k)).filter((v) => v >= 50).length);
  });

  it('and in batches of several contacts, in different orders, one transaction each', async () => {
    const ROUNDS = 6;
    const results = await runWorkers(t.schema, [
      { ROLE: 'writer', ATTR: 'a', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '3', BATCH: '5' },
      { ROLE: 'writer', ATTR: 'b', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '4', BATCH: '5' },
    ]);
    await expectNothingLost(results, ROUNDS);
  });

  it('while a third process edits a definition (with a relative date) and runs its backfill', async () => {
    const ROUNDS = 8;
    const conditions = [
      { all: [{ attr: 'a', op: 'gte', value: 30 }, { attr: 'last_interaction_at', op: 'within_last', value: { amount: 2, unit: 'days' } }] },
      { attr: 'a', op: 'gte', value: 50 },
    ];
    const results = await runWorkers(t.schema, [
      { ROLE: 'writer', ATTR: 'a', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '5' },
      { ROLE: 'writer', ATTR: 'b', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '6' },
      { ROLE: 'editor', SEGMENT: segment['A high'], CONDITIONS: JSON.stringify(conditions), EDITS: '6' },
    ]);
    expect(results[2].edits).toBe(6);
    await expectNothingLost(results, ROUNDS);
  });

  it('while a third process runs the time refresh over the contacts the writers make due', async () => {
    // Writer a also sets last_interaction_at to a minute ago, give or take 300 ms: the contact falls
    // due for "older than 1 minute" at once, and the refresher re-evaluates it while writer b writes.
    await writeTransaction(t.database, (tx) => createSegment(tx, WS, { name: 'Dormant and B high', condition: {
      all: [{ attr: 'last_interaction_at', op: 'older_than', value: { amount: 1, unit: 'minutes' } }, { attr: 'b', op: 'gte', value: 50 }],
    } }));
    await runBackfills(t.database, states);
    const dir = mkdtempSync(join(tmpdir(), 'segments-pg-'));
    const stop = join(dir, 'stop');
    const ROUNDS = 10;
    try {
      const results = await runWorkers(t.schema, [
        { ROLE: 'writer', ATTR: 'a', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '7', DUE_IN_MS: '300', SEEN_SPAN_MS: '60000' },
        { ROLE: 'writer', ATTR: 'b', ROUNDS: String(ROUNDS), CONTACTS: String(CONTACTS), SEED: '8' },
        { ROLE: 'refresher', STOP_FILE: stop },
      ], async ([a, b]) => {
        await Promise.allSettled([a, b]);
        writeFileSync(stop, '');
      });
      expect(results[2].passes).toBeGreaterThan(0);
      // Every contact is due by now: one last refresh, then everything must equal a full recompute.
      await new Promise((resolve) => setTimeout(resolve, 400));
      await refreshDue(t.database, states, Date.now());
      await expectNothingLost(results, ROUNDS);
      const dormant = (await listSegmentRows(t.database.db, WS)).find((s) => s.name === 'Dormant and B high')!;
      expect(Number(dormant.member_count)).toBe(Array.from({ length: CONTACTS }, (_, k) => valueOf(ROUNDS - 1, k)).filter((v) => v >= 50).length);
    } finally {
      writeFileSync(stop, '');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
