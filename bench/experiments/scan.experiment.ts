// EXPERIMENT: an in-memory count over many prepared contacts, the engine's predicates against the
// fused closures (no interval allocated per relative-date check), condition by condition. Only the
// prepared contacts stay in memory. Each fused count must equal the engine's.
// Usage: tsx --expose-gc --max-old-space-size=8192 bench/experiments/scan.experiment.ts [--contacts N] [--rounds R]
import { compilePredicate } from '../../src/conditions/compile-predicate.js';
import type { PreparedContact } from '../../src/conditions/contact-values.js';
import { BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_TIME_ZONE, contactStream, prepareRaw } from '../fixtures.js';
import { collect, fmt, load, machine, measure, median, numberArg, sinkValue, table } from '../harness.js';
import { fusePredicate } from './fused-predicate.js';

type Test = (c: PreparedContact, now: number) => boolean;
const N = numberArg('contacts', 1_000_000);
const ROUNDS = numberArg('rounds', 5);
const log = (text = '') => process.stdout.write(`${text}\n`);
log(`scan experiment — ${new Date().toISOString()}\nmachine: ${machine()}\nat start: ${load()}\ncontacts: ${fmt.int(N)}, rounds: ${ROUNDS}\n`);

const prepared: PreparedContact[] = [];
for (const raw of contactStream(N)) prepared.push(prepareRaw(raw));
collect?.();

const engine: Test[] = BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test);
const fused: Test[] = BENCH_CONDITIONS.map((c) => fusePredicate(c.condition, BENCH_LAYOUT, BENCH_TIME_ZONE));
const scan = (test: Test): number => {
  let n = 0;
  for (let i = 0; i < N; i++) if (test(prepared[i], BENCH_NOW)) n++;
  return n;
};
for (const t of [...engine, ...fused]) scan(t); // one scan function, megamorphic from the start

const rows = BENCH_CONDITIONS.map((c, j) => {
  const e = measure(() => scan(engine[j]), { warmup: 0, rounds: ROUNDS, gc: false });
  const f = measure(() => scan(fused[j]), { warmup: 0, rounds: ROUNDS, gc: false });
  if (e.result !== f.result) throw new Error(`fused counts ${f.result} for ${c.id}, the engine ${e.result}`);
  return { id: c.id, relative: JSON.stringify(c.json).includes('"unit"'), engine: e.medianMs, fused: f.medianMs };
});
rows.sort((a, b) => b.engine - a.engine);
log(table(['condition', 'relative date', 'engine ms', 'fused ms', 'engine ÷ fused'], rows.map((r) => [
  r.id, r.relative ? 'yes' : '', fmt.ms(r.engine), fmt.ms(r.fused), (r.engine / r.fused).toFixed(2),
])));
const total = (k: 'engine' | 'fused', relative: boolean) => rows.filter((r) => r.relative === relative).reduce((a, r) => a + r[k], 0);
log(`\nrelative-date conditions: engine ${fmt.ms(total('engine', true))} ms, fused ${fmt.ms(total('fused', true))} ms in all`);
log(`other conditions:         engine ${fmt.ms(total('engine', false))} ms, fused ${fmt.ms(total('fused', false))} ms in all`);
log(`median count: engine ${fmt.ms(median(rows.map((r) => r.engine)))} ms, fused ${fmt.ms(median(rows.map((r) => r.fused)))} ms`);
log(`at end: ${load()}\n(sink ${sinkValue()})`);
