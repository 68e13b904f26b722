// bench:count — counts of the 60 BENCH conditions over 1,000,000 contacts: through the SQL
// compiler on SQLite and on PostgreSQL (createSqlEvaluator), and by a scan with the compiled
// predicates over prepared contacts in memory. Every SQL count must equal the scan's count.
// Usage: tsx --expose-gc --max-old-space-size=12288 bench/count.bench.ts [--contacts N] [--rounds R]
//        [--skip-sqlite] [--skip-postgres]      (PostgreSQL: DATABASE_URL, else the test database)
import { writeFileSync } from 'node:fs';
import { compilePredicate } from '../src/conditions/compile-predicate.js';
import { prepareContact } from '../src/conditions/contact-values.js';
import type { PreparedContact, StoredValues } from '../src/conditions/contact-values.js';
import { createSqlEvaluator } from '../src/contacts/sql-evaluate.js';
import type { SqlEvaluator } from '../src/contacts/sql-evaluate.js';
import { BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_SCHEMA, BENCH_TIME_ZONE, coerceContact, contactStream } from './fixtures.js';
import { benchHeader, cachePath, collect, flag, fmt, load, log, machine, measure, median, numberArg, sinkValue, table } from './harness.js';

const N = numberArg('contacts', 1_000_000);
const ROUNDS = numberArg('rounds', 3);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://segments:segments@127.0.0.1:5432/segments_test';
const NOW = BENCH_NOW;
const M = BENCH_CONDITIONS.length;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

benchHeader('bench:count');
log(`contacts: ${fmt.int(N)}; conditions: ${M}; rounds: ${ROUNDS} per condition and engine (after one warm-up), median reported\n`);

// ---- fixtures ---------------------------------------------------------------------------------
// Each contact is coerced and prepared at once, so its prepared values lie next to it in the heap,
// as in an engine that prepares on load or write. The scan is timed first, before the SQL loads
// fill the heap with their garbage (see docs/bench-results.md on how much the scan varies).
let t0 = performance.now();
const contacts: { id: string; values: StoredValues }[] = [];
const prepared: PreparedContact[] = [];
for (const raw of contactStream(N)) {
  const values = coerceContact(raw);
  contacts.push({ id: raw.id, values });
  prepared.push(prepareContact(BENCH_LAYOUT, values));
}
log(`generated, coerced and prepared ${fmt.int(N)} contacts in ${seconds(performance.now() - t0)}`);

// ---- in-memory scan ---------------------------------------------------------------------------
collect?.();
const tests = BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test);
const scanMs: number[] = [];
const counts: number[] = [];
t0 = performance.now();
// One scan function serves every condition, as in a server: it is first run with all 60, so each
// is timed with the call to its predicate already megamorphic, whatever its place in the list.
const scan = (test: (c: PreparedContact, now: number) => boolean): number => {
  let n = 0;
  for (let i = 0; i < N; i++) if (test(prepared[i], NOW)) n++;
  return n;
};
for (const test of tests) scan(test);
for (const test of tests) {
  const t = measure(() => scan(test), { warmup: 1, rounds: ROUNDS, gc: false });
  scanMs.push(t.medianMs);
  counts.push(t.result);
}
log(`in-memory scan: all ${M} counts measured in ${seconds(performance.now() - t0)}`);

// ---- SQL ----------------------------------------------------------------------------------------
interface EngineResult {
  readonly name: string;
  readonly loadMs: number;
  readonly countMs: readonly number[];
  readonly counts: readonly number[];
}

async function runSql(dialect: 'sqlite' | 'postgres'): Promise<EngineResult | string> {
  const name = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  let evaluator: SqlEvaluator;
  const start = performance.now();
  try {
    evaluator = await createSqlEvaluator(dialect, { schema: BENCH_SCHEMA, timeZone: BENCH_TIME_ZONE, contacts, databaseUrl: DATABASE_URL });
  } catch (error) {
    return `${name}: could not load the contacts: ${(error as Error).message}`;
  }
  const loadMs = performance.now() - start;
  log(`${name}: loaded ${fmt.int(N)} contacts through createSqlEvaluator in ${seconds(loadMs)} (${fmt.int(Math.round(N / (loadMs / 1000)))} contacts/s)`);
  const countMs: number[] = [];
  const counts: number[] = [];
  try {
    for (const { condition } of BENCH_CONDITIONS) {
      counts.push(await evaluator.count(condition, NOW)); // the warm-up, and the answer
      const rounds: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const s = process.hrtime.bigint();
        await evaluator.count(condition, NOW);
        rounds.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      countMs.push(median(rounds));
    }
  } finally {
    await evaluator.close();
  }
  log(`${name}: all ${M} counts measured`);
  return { name, loadMs, countMs, counts };
}

const engines: EngineResult[] = [];
const problems: string[] = [];
for (const dialect of ['sqlite', 'postgres'] as const) {
  if (flag(`skip-${dialect}`)) continue;
  const result = await runSql(dialect);
  if (typeof result === 'string') problems.push(result);
  else engines.push(result);
}


const mismatches = engines.flatMap((e) => BENCH_CONDITIONS.flatMap((c, j) => (e.counts[j] === counts[j] ? [] : [`${c.id}: ${e.name} counts ${e.counts[j]}, the predicate scan ${counts[j]}`])));
log(mismatches.length === 0 ? `every SQL count equals the scan's (${engines.map((e) => e.name).join(', ') || 'no SQL engine run'})` : `${mismatches.length} SQL counts DISAGREE with the scan`);


// ---- report -------------------------------------------------------------------------------------
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const ratio = (a: number, b: number) => `${(a / b).toFixed(a / b < 10 ? 1 : 0)}×`;
const columns = [{ name: 'scan', ms: scanMs }, ...engines.map((e) => ({ name: e.name, ms: e.countMs }))];
log(`\nper condition: count and median ms per count over ${fmt.int(N)} contacts`);
log(table(
  ['condition', 'count', 'share', ...columns.map((c) => `${c.name} ms`), ...engines.map((e) => `${e.name}/scan`)],
  BENCH_CONDITIONS.map((c, j) => [
    c.id, fmt.int(counts[j]), `${((100 * counts[j]) / N).toFixed(counts[j] * 100 < N ? 3 : 1)}%`,
    ...columns.map((col) => fmt.ms(col.ms[j])),
    ...engines.map((e) => ratio(e.countMs[j], scanMs[j])),
  ]),
));

log('\nsummary');
log(table(['engine', 'load', `all ${M} counts`, 'median count', 'slowest count', 'total vs scan'], columns.map((col) => {
  const slowest = col.ms.indexOf(Math.max(...col.ms));
  const engine = engines.find((e) => e.name === col.name);
  return [
    col.name, engine ? seconds(engine.loadMs) : '(prepared in memory)', `${fmt.ms(sum(col.ms))} ms`, `${fmt.ms(median(col.ms))} ms`,
    `${fmt.ms(col.ms[slowest])} ms (${BENCH_CONDITIONS[slowest].id})`, ratio(sum(col.ms), sum(scanMs)),
  ];
})));
for (const m of mismatches) log(`MISMATCH ${m}`);
for (const p of problems) log(`NOT RUN ${p}`);
log(`at end: ${load()}`);
log(`(sink ${sinkValue()})`);

writeFileSync(cachePath(`count-last-${N}.json`), JSON.stringify({
  date: new Date().toISOString(), machine: machine(), contacts: N, rounds: ROUNDS, counts,
  ids: BENCH_CONDITIONS.map((c) => c.id), scanMs,
  engines: engines.map((e) => ({ name: e.name, loadMs: e.loadMs, countMs: e.countMs, counts: e.counts })), mismatches, problems,
}, null, 2));
if (problems.length > 0 || mismatches.length > 0) process.exitCode = 1;
