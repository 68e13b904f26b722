// bench:counts — all 60 segments' member counts read, as the segment list shows them, from a store
// of N contacts (default 1,000,000): median and p99 of 1,000 reads, against one count(*) of a
// single segment's stored members measured in the same run (what the counts would cost without
// stored counts). Target: all 60 under 2 ms.
// Usage: npm run bench:counts -- [--contacts N] [--skip-sqlite] [--skip-postgres]
import type { Dialect } from '../src/db/database.js';
import { listSegments } from '../src/segments/segment-store.js';
import { benchHeader, flag, load, log, numberArg, table } from './harness.js';
import { WORKSPACE, openPopulatedStore } from './store-fixtures.js';

const N = numberArg('contacts', 1_000_000);
const READS = numberArg('reads', 1000);
const TARGET_MS = 2;
benchHeader('bench:counts');
log();
const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const rows: string[][] = [];

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  if (flag(`skip-${dialect}`)) continue;
  const store = await openPopulatedStore(dialect, N, log);
  try {
    const times: number[] = [];
    let total = 0;
    for (let i = 0; i < READS + 50; i++) {
      const t0 = performance.now();
      const segments = await listSegments(store.database.db, WORKSPACE);
      if (i >= 50) times.push(performance.now() - t0);
      total = segments.length;
    }
    if (total !== 60) throw new Error(`expected the 60 segments, read ${total}`);
    times.sort((a, b) => a - b);
    const biggest = await store.database.db.selectFrom('segment_counts').select(['segment_id as id', 'member_count']).where('workspace_id', '=', WORKSPACE).orderBy('member_count', 'desc').limit(1).executeTakeFirstOrThrow();
    const t1 = performance.now();
    await store.database.db.selectFrom('segment_member_order').select((eb) => eb.fn.countAll().as('n')).where('workspace_id', '=', WORKSPACE).where('segment_id', '=', biggest.id).executeTakeFirstOrThrow();
    const countMs = performance.now() - t1;
    rows.push([dialect, q(times, 0.5).toFixed(3), q(times, 0.99).toFixed(3), countMs.toFixed(1), `${(countMs / q(times, 0.5)).toFixed(0)}×`, q(times, 0.5) < TARGET_MS ? 'PASS' : 'MISS']);
  } finally {
    await store.close();
  }
}
log(table(['store', 'all 60 counts p50 ms', 'p99 ms', 'count(*) of the largest segment ms', 'that ÷ p50', `< ${TARGET_MS} ms`], rows));
log(`at end: ${load()}`);
