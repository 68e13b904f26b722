// bench:write — single-contact updates that change membership, one transaction each, in process:
// p50 / p99 latency with the 60 BENCH segments defined, and the same writes on a store with no
// segments, measured in the same run (target: the segments add less than 50% to a write). Two
// workloads, one after the other on each store:
// - `profile`: each update replaces most of a contact's attributes with another generated
//   contact's (about eleven membership changes a write) — the target's measure;
// - `typical`: each update sets the two attributes a support conversation changes most, the plan
//   and the last interaction (fewer changes a write: the figure a help desk's writes see).
// Each write is a one-row `writeBatch`: the write itself. (The API's `writeOne` goes through group
// commit, which adds a turn of the event loop before a lone write: the same to both stores, so it
// would only make the ratio look smaller.)
// Usage: npm run bench:write -- [--contacts N] [--writes W] [--skip-sqlite] [--skip-postgres] [--skip-profile] [--skip-typical]
import { sql } from 'kysely';
import type { Dialect } from '../src/db/database.js';
import { readEvents } from '../src/segments/event-feed.js';
import { BENCH_NOW, contactStream } from './fixtures.js';
import type { RawContact } from './fixtures/contacts.js';
import { benchHeader, flag, fmt, load, log, numberArg, table } from './harness.js';
import { WORKSPACE, openBenchStore } from './store-fixtures.js';

const N = numberArg('contacts', 20_000);
const WRITES = numberArg('writes', 2_000);

benchHeader('bench:write');
log(`stores of ${fmt.int(N)} contacts; ${fmt.int(WRITES)} updates of each workload: profile (most attributes replaced by another generated contact's), typical (plan_tier and last_interaction_at set)\n`);

const contacts = [...contactStream(N)];
// The updates: contact i % N takes the values of another generated contact (other seed), so
// most attributes change and with them, usually, some memberships.
const others = [...contactStream(WRITES, 0x0b5e55)];
const WORKLOADS = {
  profile: others.map((raw, i) => ({ ...raw, id: contacts[(i * 7919) % N].id })),
  // Another contact's plan and last interaction (a conversation now when it has none), on other contacts than `profile` wrote.
  typical: others.map((raw, i) => ({
    id: contacts[(i * 7919 + 3) % N].id,
    plan_tier: raw.plan_tier ?? 'pro',
    last_interaction_at: raw.last_interaction_at ?? new Date(BENCH_NOW).toISOString(),
  })),
};
type Workload = keyof typeof WORKLOADS;

interface Result { dialect: Dialect; segments: boolean; workload: Workload; p50: number; p99: number; mean: number; events: number }
const results: Result[] = [];
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

type BenchStore = Awaited<ReturnType<typeof openBenchStore>>;

/**
 * Both stores open side by side, each update written to one and then the other (in alternating
 * order), so that the machine's slow spells fall on both alike: on this shared 2-core machine the
 * no-segment p50 of runs made one after the other moved by a factor of two.
 */
async function run(dialect: Dialect): Promise<void> {
  const stores: BenchStore[] = [];
  try {
    for (const segments of [false, true]) {
      const store = await openBenchStore(dialect, { segments, name: `write-${segments ? 'segments' : 'baseline'}` });
      stores.push(store);
      for (let i = 0; i < N; i += 1000) await store.writes.writeBatch(WORKSPACE, contacts.slice(i, i + 1000));
      // PostgreSQL plans by statistics that autovacuum gathers a minute or more after a load. The
      // write path's reads no longer depend on them (a contact's memberships had been read through
      // the (workspace, segment, contact) key until then, ~3–10 ms a write: see unindexed.ts), but
      // the figures are taken on analyzed tables, as a store in use has, so that no run depends on
      // whether autovacuum came by. (SQLite gathers none unless asked; its queries need none.)
      if (dialect === 'postgres') await sql`analyze contacts, contact_documents, contact_list_values, segment_members, segment_event_blocks, segments`.execute(store.database.db);
      for (let i = 0; i < 200; i++) await store.writes.writeBatch(WORKSPACE, [contacts[i]]); // warm-up: write back original values
    }
    for (const [workload, updates] of Object.entries(WORKLOADS) as [Workload, RawContact[]][]) {
      if (flag(`skip-${workload}`)) continue;
      const eventsBefore = await Promise.all(stores.map(countEvents));
      const times: number[][] = stores.map(() => []);
      for (const [i, update] of updates.entries()) {
        for (const s of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const t0 = performance.now();
          const [outcome] = await stores[s].writes.writeBatch(WORKSPACE, [update]);
          times[s].push(performance.now() - t0);
          if (outcome.status === 'rejected') throw new Error(`bench:write: a rejected update: ${JSON.stringify(outcome.errors)}`);
        }
      }
      for (const [s, store] of stores.entries()) {
        const events = (await countEvents(store)) - eventsBefore[s];
        const sorted = times[s].sort((a, b) => a - b);
        results.push({ dialect, segments: s === 1, workload, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, events });
      }
    }
  } finally {
    for (const store of stores) await store.close();
  }
}

async function countEvents(store: BenchStore): Promise<number> {
  return (await readEvents(store.database.db, WORKSPACE, 0, Number.MAX_SAFE_INTEGER)).length;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  if (flag(`skip-${dialect}`)) continue;
  await run(dialect);
}

const baseOf = (r: Result) => results.find((b) => b.dialect === r.dialect && b.workload === r.workload && !b.segments)!;
const ordered = [...results].sort((a, b) => a.dialect.localeCompare(b.dialect) || a.workload.localeCompare(b.workload) || Number(a.segments) - Number(b.segments));
log(table(['store', 'workload', 'segments', 'p50 ms', 'p99 ms', 'mean ms', 'membership events', 'p50 vs no segments'], ordered.map((r) => [
  r.dialect, r.workload, r.segments ? '60' : '0', r.p50.toFixed(3), r.p99.toFixed(3), r.mean.toFixed(3), fmt.int(r.events), `${(r.p50 / baseOf(r).p50).toFixed(2)}×`,
])));
for (const r of ordered.filter((x) => x.segments)) {
  const added = r.p50 / baseOf(r).p50 - 1;
  const verdict = added < 0.5 ? 'PASS' : 'MISS';
  if (r.workload === 'profile') log(`target (${r.dialect}): the 60 segments add less than 50% to a write's p50: +${(added * 100).toFixed(0)}% → ${verdict}`);
  else log(`        (${r.dialect}, ${r.workload} writes, ${(r.events / WRITES).toFixed(1)} membership changes a write): +${(added * 100).toFixed(0)}% (${verdict} by the same bound)`);
}
log(`at end: ${load()}`);
