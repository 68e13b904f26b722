// bench:backfill — a new segment over N contacts (default 1,000,000) in a store that already has the
// 60 BENCH segments: time from saving the definition to its membership replaced (runBackfills),
// on SQLite and PostgreSQL, for definitions without relative dates and one with them (all built
// in SQL; the relative one also stores each contact's time horizon, from its date columns). The
// baseline in the same run is one count of the same condition through the SQL compiler
// (previewCount): the least any build must read. Every build's count is checked against the scan
// of the same contacts. SQLite runs as the server runs it (`segments serve`: WAL checkpoints in a
// thread of their own): the build's last commit no longer copies the WAL into the file itself.
// Usage: npm run bench:backfill -- [--contacts N] [--skip-sqlite] [--skip-postgres]
import type { Dialect } from '../src/db/database.js';
import { writeTransaction } from '../src/db/write-transaction.js';
import { runBackfills } from '../src/segments/backfill.js';
import { previewCount } from '../src/segments/preview.js';
import { createSegment, deleteSegment } from '../src/segments/segment-store.js';
import { BENCH_CONDITIONS } from './fixtures.js';
import { benchHeader, flag, fmt, load, log, numberArg, table } from './harness.js';
import { WORKSPACE, importFile, openPopulatedStore } from './store-fixtures.js';

const N = numberArg('contacts', 1_000_000);
const TARGET_S = 5;
benchHeader('bench:backfill');
log();

const { counts } = importFile(N, log);
const CASES = ['gold_oman', 'whatsapp_not_omani_arabic', 'inactive_30d'].map((id) => {
  const j = BENCH_CONDITIONS.findIndex((c) => c.id === id);
  return { id, condition: BENCH_CONDITIONS[j], expected: counts[j] };
});
const rows: string[][] = [];

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  if (flag(`skip-${dialect}`)) continue;
  const store = await openPopulatedStore(dialect, N, log, { asServer: true });
  try {
    // An interrupted run may have left its segment behind: the store must be as built.
    for (const left of await store.database.db.selectFrom('segments').select('id').where('workspace_id', '=', WORKSPACE).where('name', 'like', 'backfill %').execute()) {
      await writeTransaction(store.database, (tx) => deleteSegment(tx, WORKSPACE, left.id, store.clock.now));
    }
    for (const c of CASES) {
      const t0 = performance.now();
      const segment = await writeTransaction(store.database, (tx) => createSegment(tx, WORKSPACE, { name: `backfill ${c.id}`, kind: 'dynamic', condition: c.condition.json }, store.clock.now));
      await runBackfills(store.database, store.states, { clock: () => store.clock.now });
      const seconds = (performance.now() - t0) / 1000;
      const row = await store.database.db.selectFrom('segment_counts').select('member_count').where('segment_id', '=', segment.id).executeTakeFirstOrThrow();
      if (Number(row.member_count) !== c.expected) throw new Error(`${dialect} ${c.id}: built ${row.member_count} members, the scan counts ${c.expected}`);
      const state = await store.states.get(store.database.db, WORKSPACE);
      const t1 = performance.now();
      await previewCount(store.database, state, c.condition.condition, store.clock.now);
      const countS = (performance.now() - t1) / 1000;
      await writeTransaction(store.database, (tx) => deleteSegment(tx, WORKSPACE, segment.id, store.clock.now));
      const relative = c.id === 'inactive_30d';
      rows.push([dialect, c.id, relative ? 'SQL + horizons' : 'SQL', fmt.int(c.expected), seconds.toFixed(2), countS.toFixed(2), `${(seconds / countS).toFixed(1)}×`,
        dialect === 'sqlite' ? (seconds * 1_000_000 / N < TARGET_S ? 'PASS' : 'MISS') : '']);
    }
  } finally {
    await store.close();
  }
}
log(table(['store', 'condition', 'built by', 'members', 'backfill s', 'one SQL count s', 'backfill ÷ count', `< ${TARGET_S} s (SQLite, per 1M)`], rows));
log(`at end: ${load()}`);
