// Nothing lost when the process dies: `bin/segments` is killed with SIGKILL in the middle of a
// backfill and in the middle of an import, on a SQLite file with 30,000 contacts; started again,
// the work completes and `segments verify` reports no difference. (Run `npm run build` first:
// the CLI runs from dist/.)
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAttribute } from '../src/contacts/attribute-store.js';
import { READ_IN_WORKER_FROM_BYTES } from '../src/contacts/import/import-contacts.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { writeTransaction } from '../src/db/write-transaction.js';
import { ContactWrites } from '../src/segments/contact-writes.js';
import { checkStore } from '../src/segments/test-support/membership-checks.js';
import { WorkspaceStates } from '../src/segments/workspace-state.js';
import { createWorkspace } from '../src/workspaces/workspace-store.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/segments');
const PLANS = ['free', 'pro', 'enterprise'];

/** Contact i: every third one is on the pro plan; every seventh is tagged vip. */
const contact = (i: number) => ({ id: `c${i}`, plan: PLANS[i % 3], mrr: (i * 37) % 1000, tags: i % 7 === 0 ? ['vip', 'lead'] : ['lead'] });
const expectedCount = (n: number, test: (c: ReturnType<typeof contact>) => boolean) => Array.from({ length: n }, (_, i) => contact(i)).filter(test).length;

/** `named`: each row also has a name of some 90 characters, which takes the file past the size an import reads in a worker thread. */
function writeCsv(path: string, n: number, { named = false } = {}): void {
  const lines = [named ? 'id,plan,mrr,tags,name' : 'id,plan,mrr,tags'];
  for (let i = 0; i < n; i++) {
    const c = contact(i);
    lines.push(`${c.id},${c.plan},${c.mrr},${c.tags.join(';')}${named ? `,Contact ${i} ${'of the crash test '.repeat(4)}` : ''}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** A store with the workspace and its attributes, and `n` contacts written through the write path. */
async function prepareStore(db: string, n: number): Promise<void> {
  const database = createDatabase({ dialect: 'sqlite', filename: db });
  try {
    await migrateToLatest(database);
    await createWorkspace(database, { id: 'default' });
    await writeTransaction(database, (tx) => createAttribute(tx, 'default', { key: 'plan', type: 'enum', options: PLANS }));
    await writeTransaction(database, (tx) => createAttribute(tx, 'default', { key: 'mrr', type: 'number' }));
    const writes = new ContactWrites(database, new WorkspaceStates());
    for (let i = 0; i < n; i += 5_000) {
      const outcomes = await writes.writeBatch('default', Array.from({ length: Math.min(5_000, n - i) }, (_, k) => contact(i + k)));
      expect(outcomes.every((o) => o.status === 'created')).toBe(true);
    }
  } finally {
    await database.close();
  }
}

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** The CLI on the test's SQLite file (never a DATABASE_URL from the environment). */
function start(args: string[], db: string): { child: ChildProcess; done: Promise<Run> } {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.SEGMENTS_DB;
  const child = spawn(process.execPath, [bin, ...args, '--db', db], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

const segments = (args: string[], db: string) => start(args, db).done;

/** Runs the CLI and kills it with SIGKILL as soon as `when` holds (checked on every output chunk and every 5 ms). */
async function killWhen(args: string[], db: string, when: (out: { stderr: string }) => boolean): Promise<Run> {
  const { child, done } = start(args, db);
  let stderr = '';
  let killed = false;
  const check = () => {
    if (!killed && when({ stderr })) {
      killed = true;
      child.kill('SIGKILL');
    }
  };
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); check(); });
  const timer = setInterval(check, 5);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

/** A read-only look at the file while (or after) the CLI writes it. */
function peek<T>(db: string, query: string): T {
  const handle = new BetterSqlite3(db, { readonly: true, fileMustExist: true });
  try {
    return handle.prepare(query).get() as T;
  } finally {
    handle.close();
  }
}

/** The store's own promises, checked from outside: verify, counts, and the feed replayed. */
async function storeProblems(db: string): Promise<string[]> {
  const database = createDatabase({ dialect: 'sqlite', filename: db });
  try {
    return await checkStore(database, new WorkspaceStates(), 'default', Date.now());
  } finally {
    await database.close();
  }
}

function segmentList(out: string): Map<string, { id: string; status: string; count: number }> {
  return new Map(out.trim().split('\n').filter(Boolean).map((line) => {
    const [id, status, count, name] = line.split('\t');
    return [name, { id, status, count: Number(count) }];
  }));
}

describe('SIGKILL in the middle of the work, then start again: nothing lost', () => {
  let dir: string, db: string;

  beforeEach(() => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests');
    dir = mkdtempSync(join(tmpdir(), 'segments-crash-'));
    db = join(dir, 'store.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('in the middle of a backfill (a new segment, then an edit): the old membership stays readable and `work` completes the build', async () => {
    const CONTACTS = 30_000;
    await prepareStore(db, CONTACTS);

    // A new segment: killed once its first batches are in (the first progress line).
    const killed = await killWhen(['segment', 'create', 'Pro', JSON.stringify({ attr: 'plan', op: 'eq', value: 'pro' })], db, ({ stderr }) => /building seg_\w+: \d+\/30000/.test(stderr));
    expect(killed.signal).toBe('SIGKILL');
    const job = peek<{ status: string; processed: number; total: number }>(db, "select status, processed, total from segment_jobs order by id desc limit 1");
    // The progress line is written inside a batch's transaction: the kill may land before that batch
    // commits (then nothing of it is kept) or a batch or two later.
    expect(job.status, 'the kill landed before the build completed').toBe('pending');
    expect(job.processed).toBeLessThan(CONTACTS);
    let list = segmentList((await segments(['segment', 'list'], db)).stdout);
    expect(list.get('Pro')).toMatchObject({ status: 'building', count: 0 });
    expect((await segments(['verify'], db)).code, 'a half-built segment is consistent as it stands').toBe(0);

    const work = await segments(['work'], db);
    expect(work.code, work.stderr).toBe(0);
    const verify = await segments(['verify'], db);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    list = segmentList((await segments(['segment', 'list'], db)).stdout);
    const pro = expectedCount(CONTACTS, (c) => c.plan === 'pro');
    expect(list.get('Pro')).toMatchObject({ status: 'ready', count: pro });
    expect(await storeProblems(db)).toEqual([]);

    // An edit: killed part-way through the rebuild, and again part-way through the resumed one.
    const id = list.get('Pro')!.id;
    const edit = await killWhen(['segment', 'update', id, '--condition', JSON.stringify({ attr: 'plan', op: 'in', value: ['pro', 'enterprise'] })], db,
      ({ stderr }) => /building seg_\w+: \d+\/30000/.test(stderr));
    expect(edit.signal).toBe('SIGKILL');
    expect(peek<{ status: string }>(db, 'select status from segment_jobs order by id desc limit 1').status).toBe('pending');
    list = segmentList((await segments(['segment', 'list'], db)).stdout);
    expect(list.get('Pro'), 'until the rebuild completes, the previous membership is the one readers see').toMatchObject({ status: 'building', count: pro });
    expect(await storeProblems(db)).toEqual([]);

    const before = peek<{ processed: number }>(db, 'select processed from segment_jobs order by id desc limit 1').processed;
    const again = await killWhen(['work'], db, () => peek<{ processed: number }>(db, 'select processed from segment_jobs order by id desc limit 1').processed > before);
    expect(again.signal).toBe('SIGKILL');
    expect(peek<{ status: string }>(db, 'select status from segment_jobs order by id desc limit 1').status, 'the second kill landed mid-way too').toBe('pending');

    expect((await segments(['work'], db)).code).toBe(0);
    const verified = await segments(['verify'], db);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    list = segmentList((await segments(['segment', 'list'], db)).stdout);
    expect(list.get('Pro')).toMatchObject({ status: 'ready', count: expectedCount(CONTACTS, (c) => c.plan !== 'free') });
    expect(await storeProblems(db)).toEqual([]);
  });

  it.each([
    ['in the writer’s thread', false],
    ['in a worker thread', true],
  ])('in the middle of an import read %s: what was written is whole batches, verify finds nothing, and importing the file again completes it', async (_read, named) => {
    const CONTACTS = 12_000; // an import with segments defined writes about 3,000 rows/s here
    await prepareStore(db, 0);
    const csv = join(dir, 'contacts.csv');
    writeCsv(csv, CONTACTS, { named });
    expect(statSync(csv).size >= READ_IN_WORKER_FROM_BYTES, 'the file is as large as the way it is read needs').toBe(named);
    for (const [name, condition] of [
      ['Pro', { attr: 'plan', op: 'eq', value: 'pro' }],
      ['Big VIP', { all: [{ attr: 'tags', op: 'contains', value: 'VIP' }, { attr: 'mrr', op: 'gte', value: 500 }] }],
    ] as const) {
      const r = await segments(['segment', 'create', name, JSON.stringify(condition)], db);
      expect(r.code, r.stderr).toBe(0);
    }

    const batch = 500;
    const count = () => peek<{ n: number }>(db, 'select count(*) as n from contacts').n;
    const killed = await killWhen(['import', csv, '--batch-size', String(batch)], db, () => count() >= 2_000);
    expect(killed.signal).toBe('SIGKILL');
    const written = count();
    expect(written, 'the kill landed before the import completed').toBeLessThan(CONTACTS);
    expect(written % batch, 'a batch is one transaction: all of it or none').toBe(0);
    const ids = new BetterSqlite3(db, { readonly: true });
    try {
      const max = ids.prepare("select max(cast(substr(id, 2) as integer)) as m from contacts").get() as { m: number };
      expect(max.m, 'rows go in file order').toBe(written - 1);
    } finally {
      ids.close();
    }
    expect(await storeProblems(db), 'the batches written are consistent as they stand').toEqual([]);

    const rerun = await segments(['import', csv, '--quiet'], db);
    expect(rerun.code, rerun.stderr).toBe(0);
    const ledger = Object.fromEntries([...rerun.stderr.matchAll(/^ {2}(rows read|created|updated|unchanged|rejected)\s+([\d,]+)$/gm)].map((m) => [m[1], Number(m[2].replaceAll(',', ''))]));
    expect(ledger).toEqual({ 'rows read': CONTACTS, created: CONTACTS - written, updated: 0, unchanged: written, rejected: 0 });

    const verified = await segments(['verify'], db);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(count()).toBe(CONTACTS);
    const list = segmentList((await segments(['segment', 'list'], db)).stdout);
    expect(list.get('Pro')).toMatchObject({ status: 'ready', count: expectedCount(CONTACTS, (c) => c.plan === 'pro') });
    expect(list.get('Big VIP')).toMatchObject({ status: 'ready', count: expectedCount(CONTACTS, (c) => c.tags.includes('vip') && c.mrr >= 500) });
    expect(await storeProblems(db)).toEqual([]);
  });
});
