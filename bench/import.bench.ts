// bench:import — N generated contacts (default 1,000,000) imported from a JSON Lines file through
// `importContacts` (the CLI's import) into a workspace with the 60 BENCH segments defined, on SQLite
// and on PostgreSQL; and, in the same run as the baseline, into a workspace with no segments.
// Prints contacts/s, the segments' cost relative to the baseline, and checks every segment's count
// against a scan of the same contacts with the compiled predicates.
// Runs with the V8 flags the CLI runs with (bin/segments: semi-spaces of 64 MiB).
// Usage: npm run bench:import -- [--contacts N] [--batch B] [--in-process] [--skip-sqlite] [--skip-postgres] [--skip-segments] [--skip-baseline]
import { writeFileSync } from 'node:fs';
import { importContacts } from '../src/contacts/import/import-contacts.js';
import type { Dialect } from '../src/db/database.js';
import { listSegmentRows } from '../src/segments/segment-store.js';
import { BENCH_CONDITIONS } from './fixtures.js';
import { benchHeader, cachePath, flag, fmt, load, log, machine, numberArg, table } from './harness.js';
import { WORKSPACE, importFile, openBenchStore } from './store-fixtures.js';

const N = numberArg('contacts', 1_000_000);
const BATCH = numberArg('batch', 1000);
const TARGET_SQLITE_S = 60;
/** --in-process: read the file in the writer's thread (as before the reading thread), for comparison. */
const IN_PROCESS = flag('in-process');

benchHeader('bench:import');

const { file, counts: expected } = importFile(N, log);
log(`contacts: ${fmt.int(N)} from ${file}; batch ${BATCH} rows per transaction\n`);

interface Run { dialect: Dialect; segments: boolean; seconds: number; perSecond: number }
const runs: Run[] = [];

async function run(dialect: Dialect, segments: boolean): Promise<void> {
  // As `segments import` opens SQLite: WAL checkpoints in a thread of their own.
  const store = await openBenchStore(dialect, { segments, name: `import-${segments ? 'segments' : 'baseline'}`, backgroundCheckpoints: true });
  try {
    let lastLog = performance.now();
    const t0 = performance.now();
    const ledger = await importContacts(store.writes, WORKSPACE, { path: file }, {
      format: 'jsonl', batchSize: BATCH, readInWorker: !IN_PROCESS,
      onProgress: (p) => {
        if (performance.now() - lastLog < 10_000) return;
        lastLog = performance.now();
        const s = (lastLog - t0) / 1000;
        log(`  … ${fmt.int(p.rowsRead)} rows in ${s.toFixed(0)} s (${fmt.int(Math.round(p.rowsRead / s))}/s)`);
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (ledger.created !== N || ledger.rejected !== 0) throw new Error(`import ledger: ${JSON.stringify(ledger)}`);
    if (segments) {
      const rows = await listSegmentRows(store.database.db, WORKSPACE);
      const byName = new Map(rows.map((r) => [r.name, Number(r.member_count)]));
      BENCH_CONDITIONS.forEach((c, j) => {
        if (byName.get(c.id) !== expected[j]) throw new Error(`${dialect}: segment ${c.id} has ${byName.get(c.id)} members, the scan counts ${expected[j]}`);
      });
    }
    runs.push({ dialect, segments, seconds, perSecond: N / seconds });
    const drafts = IN_PROCESS ? '' : `; ${fmt.int(store.writes.drafts.fromDraft)} rows written as drafted in the reading thread, ${fmt.int(store.writes.drafts.readAgain)} read again`;
    log(`${dialect}, ${segments ? '60 segments' : 'no segments'}: ${fmt.int(N)} contacts in ${seconds.toFixed(1)} s (${fmt.int(Math.round(N / seconds))} contacts/s)${segments ? '; every segment count equals the scan\'s' : ''}${drafts}`);
  } finally {
    await store.close();
  }
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  if (flag(`skip-${dialect}`)) continue;
  if (!flag('skip-segments')) await run(dialect, true);
  if (!flag('skip-baseline')) await run(dialect, false);
}

log('');
log(table(['store', 'segments', 'seconds', 'contacts/s', 'vs no segments'], runs.map((r) => {
  const base = runs.find((b) => b.dialect === r.dialect && !b.segments);
  return [r.dialect, r.segments ? '60' : '0', r.seconds.toFixed(1), fmt.int(Math.round(r.perSecond)), base ? `${(r.seconds / base.seconds).toFixed(2)}×` : ''];
})));
const sqlite = runs.find((r) => r.dialect === 'sqlite' && r.segments);
if (sqlite) {
  const scaled = (sqlite.seconds * 1_000_000) / N;
  log(`target: 1M contacts with 60 segments on SQLite in under ${TARGET_SQLITE_S} s: ${scaled.toFixed(1)} s${N === 1_000_000 ? '' : ' (scaled from this N)'} → ${scaled < TARGET_SQLITE_S ? 'PASS' : 'MISS'}`);
}
log(`at end: ${load()}`);
writeFileSync(cachePath(`import-last-${N}.json`), JSON.stringify({ date: new Date().toISOString(), machine: machine(), contacts: N, batch: BATCH, runs }, null, 2));
