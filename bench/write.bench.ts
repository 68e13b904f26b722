// bench:write — single-contact updates that change membership, one transaction each, in process:
// p50 / p99 latency with the 60 BENCH segments defined, and the same writes on a store with no
// segments, measured in the same run (target: the segments add less than 50% to a write). Each
// write is a one-row `writeBatch`: the write itself. (The API's `writeOne` goes through group
// commit, which adds a turn of the event loop before a lone write: the same to both stores, so it
// would only make the ratio look smaller.)
// Usage: npm run bench:write -- [--contacts N] [--writes W] [--skip-sqlite] [--skip-postgres]
import { sql } from 'kysely';
import type { Dialect } from '../src/db/database.js';
import { readEvents } from '../src/segments/event-feed.js';
import { contactStream } from './fixtures.js';
import { benchHeader, flag, fmt, load, log, numberArg, table } from './harness.js';
import { WORKSPACE, openBenchStore } from './store-fixtures.js';

const N = numberArg('contacts', 20_000);
const WRITES = numberArg('writes', 2_000);

benchHeader('bench:write');
log(`stores of ${fmt.int(N)} contacts; ${fmt.int(WRITES)} updates, each one contact's attributes replaced by another generated contact's\n`);

const contacts = [...contactStream(N)];
// The updates: contact i % N takes the values of another generated contact (other seed), so
// most attributes change and with them, usually, some memberships.
const updates = [...contactStream(WRITES, 0x0b5e55)].map((raw, i) => ({ ...raw, id: contacts[(i * 7919) % N].id }));

interface Result { dialect: Dialect; segments: boolean; p50: number; p99: number; mean: number; events: number }
const results: Result[] = [];
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(dialect: Dialect, segments: boolean): Promise<void> {
  const store = await openBenchStore(dialect, { segments, name: `write-${segments ? 'segments' : 'baseline'}` });
  try {
    for (let i = 0; i < N; i += 1000) await store.writes.writeBatch(WORKSPACE, contacts.slice(i, i + 1000));
    // PostgreSQL plans by statistics that autovacuum gathers a minute or more after a load; until
    // then it read a contact's memberships through the (workspace, segment, contact) key, ~10 ms a
    // write, or not, depending on whether autovacuum had come by. Timed on analyzed tables, as a
    // store in use is. (SQLite gathers none unless asked; the engine's SQLite queries need none.)
    if (dialect === 'postgres') await sql`analyze contacts, contact_documents, contact_list_values, segment_members, segment_event_blocks, segments`.execute(store.database.db);
    const eventsBefore = await countEvents(store);
    for (let i = 0; i < 200; i++) await store.writes.writeBatch(WORKSPACE, [contacts[i]]); // warm-up: write back original values
    const times: number[] = [];
    for (const update of updates) {
      const t0 = performance.now();
      const [outcome] = await store.writes.writeBatch(WORKSPACE, [update]);
      times.push(performance.now() - t0);
      if (outcome.status === 'rejected') throw new Error(`bench:write: a rejected update: ${JSON.stringify(outcome.errors)}`);
    }
    const events = (await countEvents(store)) - eventsBefore;
    times.sort((a, b) => a - b);
    results.push({ dialect, segments, p50: quantile(times, 0.5), p99: quantile(times, 0.99), mean: times.reduce((a, b) => a + b, 0) / times.length, events });
  } finally {
    await store.close();
  }
}

async function countEvents(store: Awaited<ReturnType<typeof openBenchStore>>): Promise<number> {
  return (await readEvents(store.database.db, WORKSPACE, 0, Number.MAX_SAFE_INTEGER)).length;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  if (flag(`skip-${dialect}`)) continue;
  await run(dialect, false);
  await run(dialect, true);
}

log(table(['store', 'segments', 'p50 ms', 'p99 ms', 'mean ms', 'membership events', 'p50 vs no segments'], results.map((r) => {
  const base = results.find((b) => b.dialect === r.dialect && !b.segments)!;
  return [r.dialect, r.segments ? '60' : '0', r.p50.toFixed(3), r.p99.toFixed(3), r.mean.toFixed(3), fmt.int(r.events), `${(r.p50 / base.p50).toFixed(2)}×`];
})));
for (const r of results.filter((x) => x.segments)) {
  const base = results.find((b) => b.dialect === r.dialect && !b.segments)!;
  const added = r.p50 / base.p50 - 1;
  log(`target (${r.dialect}): the 60 segments add less than 50% to a write's p50: +${(added * 100).toFixed(0)}% → ${added < 0.5 ? 'PASS' : 'MISS'}`);
}
log(`at end: ${load()}`);
