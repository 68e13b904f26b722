// EXPERIMENT: compilePredicate (one generated function per condition, compile-generated.ts) against
// closures fused per rule, on the bench:eval fixtures. The variant is first verified to select
// exactly the contacts compilePredicate selects, for all 60 conditions.
// Usage: tsx --expose-gc bench/experiments/predicates.experiment.ts [--contacts N] [--rounds R]
import { compilePredicate } from '../../src/conditions/compile-predicate.js';
import type { PreparedContact } from '../../src/conditions/contact-values.js';
import { BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_TIME_ZONE, generateContacts, prepareRaw } from '../fixtures.js';
import { conditionMajorLoop, contactMajorLoop, fmt, load, machine, measure, numberArg, sinkValue, table } from '../harness.js';
import { fusePredicate } from './fused-predicate.js';

type Test = (c: PreparedContact, now: number) => boolean;

const N = numberArg('contacts', 100_000);
const ROUNDS = numberArg('rounds', 9);
const NOW = BENCH_NOW;
const log = (text = '') => process.stdout.write(`${text}\n`);

log(`predicates experiment — ${new Date().toISOString()}\nmachine: ${machine()}\nat start: ${load()}\ncontacts: ${fmt.int(N)}, conditions: ${BENCH_CONDITIONS.length}, rounds: ${ROUNDS}\n`);
const prepared = generateContacts(N).map((r) => prepareRaw(r));

const variants: { name: string; tests: Test[] }[] = [
  { name: 'compilePredicate (engine)', tests: BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test) },
  { name: 'fused closures', tests: BENCH_CONDITIONS.map((c) => fusePredicate(c.condition, BENCH_LAYOUT, BENCH_TIME_ZONE)) },
];

const [engine] = variants;
for (const variant of variants.slice(1)) {
  BENCH_CONDITIONS.forEach((c, j) => {
    for (let i = 0; i < N; i++) {
      if (variant.tests[j](prepared[i], NOW) !== engine.tests[j](prepared[i], NOW)) {
        throw new Error(`${variant.name} disagrees with compilePredicate on ${c.id}, contact c${i}`);
      }
    }
  });
}
log('verified: the variant selects exactly the contacts compilePredicate selects, for all 60 conditions\n');

const checks = N * BENCH_CONDITIONS.length;
const rows = variants.map(({ name, tests }) => {
  const byContact = measure(contactMajorLoop(prepared, tests, NOW), { warmup: 2, rounds: ROUNDS });
  const byCondition = measure(conditionMajorLoop(prepared, tests, NOW), { warmup: 2, rounds: ROUNDS });
  return { name, byContact: (byContact.medianMs * 1e6) / checks, byCondition: (byCondition.medianMs * 1e6) / checks };
});
log(table(['variant', 'contact × 60 ns/check', 'condition × all ns/check', 'speed-up (contact × 60)'], rows.map((r) => [
  r.name, fmt.ns(r.byContact), fmt.ns(r.byCondition), `${(rows[0].byContact / r.byContact).toFixed(1)}×`,
])));

// Each condition alone (its own loop, so its predicate is the only one the call site sees).
const alone = BENCH_CONDITIONS.map((c, j) => ({
  id: c.id,
  ns: variants.map(({ tests }) => (measure(conditionMajorLoop(prepared, [tests[j]], NOW), { warmup: 2, rounds: 5 }).medianMs * 1e6) / N),
})).sort((a, b) => b.ns[0] - a.ns[0]);
log(`\neach condition alone over the ${fmt.int(N)} contacts, ns per check (slowest for the engine first)`);
log(table(['condition', ...variants.map((v) => v.name)], alone.map((r) => [r.id, ...r.ns.map(fmt.ns)])));
log(`at end: ${load()}\n(sink ${sinkValue()})`);
