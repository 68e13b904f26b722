// bench:preview — the count of an unsaved condition over the store's N contacts (default 1,000,000),
// what the condition builder shows as the user types: previewCount for each of the 60 BENCH
// conditions, on SQLite and PostgreSQL, each checked against the scan's count. Prints median and
// slowest, and the in-memory scan of the same conditions measured in this run as the peer.
// Targets: median under 300 ms, slowest under 1 s.
// Usage: npm run bench:preview -- [--contacts N] [--rounds R] [--skip-sqlite] [--skip-postgres]
import { compilePredicate } from '../src/conditions/compile-predicate.js';
import type { Dialect } from '../src/db/database.js';
import { previewCount } from '../src/segments/preview.js';
import { BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_TIME_ZONE, contactStream, readRaw } from './fixtures.js';
import { benchHeader, flag, load, log, median, numberArg, table } from './harness.js';
import { WORKSPACE, importFile, openPopulatedStore } from './store-fixtures.js';

const N = numberArg('contacts', 1_000_000);
const ROUNDS = numberArg('rounds', 3);
benchHeader('bench:preview');
log();
const { counts } = importFile(N, log);
const rows: string[][] = [];
const summary = (name: string, perCondition: number[]) => {
  const sorted = [...perCondition].sort((a, b) => a - b);
  const slowest = perCondition.indexOf(sorted[sorted.length - 1]);
  rows.push([name, median(perCondition).toFixed(0), `${sorted[sorted.length - 1].toFixed(0)} (${BENCH_CONDITIONS[slowest].id})`,
    median(perCondition) < 300 ? 'PASS' : 'MISS', sorted[sorted.length - 1] < 1000 ? 'PASS' : 'MISS']);
};

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  if (flag(`skip-${dialect}`)) continue;
  const store = await openPopulatedStore(dialect, N, log);
  try {
    const state = await store.states.get(store.database.db, WORKSPACE);
    const perCondition: number[] = [];
    for (const [j, c] of BENCH_CONDITIONS.entries()) {
      const times: number[] = [];
      for (let r = 0; r <= ROUNDS; r++) {
        const t0 = performance.now();
        const n = await previewCount(store.database, state, c.condition, BENCH_NOW);
        if (r > 0) times.push(performance.now() - t0);
        if (n !== counts[j]) throw new Error(`${dialect} ${c.id}: preview counts ${n}, the scan ${counts[j]}`);
      }
      perCondition.push(median(times));
    }
    summary(dialect, perCondition);
  } finally {
    await store.close();
  }
}

if (!flag('skip-scan')) {
  // The peer: the compiled predicates over the same contacts prepared in memory.
  const prepared = [...contactStream(N)].map((raw) => readRaw(raw).prepared);
  const tests = BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test);
  const perCondition = tests.map((test) => {
    const times: number[] = [];
    for (let r = 0; r <= ROUNDS; r++) {
      const t0 = performance.now();
      let n = 0;
      for (let i = 0; i < prepared.length; i++) if (test(prepared[i], BENCH_NOW)) n++;
      if (r > 0) times.push(performance.now() - t0);
    }
    return median(times);
  });
  summary('in-memory scan (peer)', perCondition);
}
log(table(['engine', 'median ms', 'slowest ms', 'median < 300 ms', 'slowest < 1 s'], rows));
log(`at end: ${load()}`);
