// EXPERIMENT: what preparing a contact from raw JSON costs with the engine's functions, and with
// the changes in fast-prepare.ts; then preparation + all 60 checks, with the engine's predicates
// and with generated ones (generated-predicate.ts). The fast path is first checked to prepare every
// contact exactly as coerceValue + prepareContact do.
// Usage: tsx --expose-gc bench/experiments/prepare.experiment.ts [--contacts N] [--rounds R]
import { isDeepStrictEqual } from 'node:util';
import { compilePredicate } from '../../src/conditions/compile-predicate.js';
import type { PreparedContact, PreparedValue } from '../../src/conditions/contact-values.js';
import { prepareValue } from '../../src/conditions/contact-values.js';
import { coerceValue } from '../../src/contacts/coerce.js';
import { BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_TIME_ZONE, generateContacts, prepareRaw } from '../fixtures.js';
import type { RawContact } from '../fixtures.js';
import { fmt, load, machine, measure, numberArg, sinkValue, table } from '../harness.js';
import { createFastPreparer } from './fast-prepare.js';
import { generatePredicate } from './generated-predicate.js';

type Test = (c: PreparedContact, now: number) => boolean;
const N = numberArg('contacts', 100_000);
const ROUNDS = numberArg('rounds', 7);
const log = (text = '') => process.stdout.write(`${text}\n`);
log(`prepare experiment — ${new Date().toISOString()}\nmachine: ${machine()}\nat start: ${load()}\ncontacts: ${fmt.int(N)}, rounds: ${ROUNDS}\n`);

const raw = generateContacts(N);
const fast = createFastPreparer(BENCH_LAYOUT, BENCH_TIME_ZONE);
for (const r of raw) {
  if (!isDeepStrictEqual(fast.prepare(r), prepareRaw(r))) throw new Error(`fast-prepare differs from the engine on ${r.id}: ${JSON.stringify(r)}`);
}
log(`verified: fast-prepare prepares all ${fmt.int(N)} contacts exactly as coerceValue + prepareContact\n`);

const { attributes, index } = BENCH_LAYOUT;
/** The engine's coerceValue and prepareValue, but straight into the slots (no StoredValues record). */
function directSlots(r: RawContact): PreparedContact {
  const out: PreparedValue[] = new Array(attributes.length).fill(undefined);
  for (const key in r) {
    const at = index.get(key);
    if (at === undefined) continue;
    const coerced = coerceValue(attributes[at], r[key], BENCH_TIME_ZONE);
    if (!coerced.ok) throw new Error(coerced.message);
    if (coerced.value !== null) out[at] = prepareValue(attributes[at].type, coerced.value);
  }
  return out;
}

const engineTests: Test[] = BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test);
const generatedTests: Test[] = BENCH_CONDITIONS.map((c) => generatePredicate(c.condition, BENCH_LAYOUT, BENCH_TIME_ZONE).test);

function prepareOnly(prepare: (r: RawContact) => PreparedContact): () => number {
  return () => {
    let n = 0;
    for (let i = 0; i < N; i++) if (prepare(raw[i])[0] !== undefined) n++;
    return n;
  };
}
function prepareAndCheck(prepare: (r: RawContact) => PreparedContact, tests: readonly Test[]): () => number {
  return () => {
    let hits = 0;
    for (let i = 0; i < N; i++) {
      const c = prepare(raw[i]);
      for (let j = 0; j < tests.length; j++) if (tests[j](c, BENCH_NOW)) hits++;
    }
    return hits;
  };
}

const variants: [string, () => number][] = [
  ['engine: coerceContact + prepareContact', prepareOnly(prepareRaw)],
  ['engine functions, straight into slots', prepareOnly(directSlots)],
  ['fast-prepare', prepareOnly((r) => fast.prepare(r))],
  ['engine prepare + 60 engine checks', prepareAndCheck(prepareRaw, engineTests)],
  ['fast-prepare + 60 engine checks', prepareAndCheck((r) => fast.prepare(r), engineTests)],
  ['fast-prepare + 60 generated checks', prepareAndCheck((r) => fast.prepare(r), generatedTests)],
];
const rows = variants.map(([name, fn]) => {
  const t = measure(fn, { warmup: 1, rounds: ROUNDS });
  return [name, fmt.us((t.medianMs * 1e3) / N), fmt.us((Math.min(...t.roundsMs) * 1e3) / N)];
});
log(table(['variant', 'µs per contact (median)', '(best round)'], rows));

// Per attribute, in a loop of its own (monomorphic, so this is the floor of each coercion).
const perAttribute = attributes.filter((a) => a.key !== 'segments').map((def) => {
  const values = raw.map((r) => r[def.key]).filter((v) => v !== undefined);
  const stored = values.map((v) => { const c = coerceValue(def, v, BENCH_TIME_ZONE); return c.ok ? c.value : null; });
  const coerce = measure(() => { let n = 0; for (let i = 0; i < values.length; i++) if (coerceValue(def, values[i], BENCH_TIME_ZONE).ok) n++; return n; }, { warmup: 1, rounds: 5, gc: false });
  const prep = measure(() => { let n = 0; for (let i = 0; i < stored.length; i++) if (prepareValue(def.type, stored[i]) !== undefined) n++; return n; }, { warmup: 1, rounds: 5, gc: false });
  const nsCoerce = (coerce.medianMs * 1e6) / values.length, nsPrep = (prep.medianMs * 1e6) / values.length;
  return { def, present: values.length / N, nsCoerce, nsPrep, usPerContact: ((nsCoerce + nsPrep) * values.length) / N / 1000 };
}).sort((a, b) => b.usPerContact - a.usPerContact);
log('\nper attribute, each in a loop of its own: ns per value, and µs per contact (× share present)');
log(table(['attribute', 'type', 'present', 'coerceValue ns', 'prepareValue ns', 'µs per contact'], perAttribute.map((r) => [
  r.def.key, r.def.type, r.present.toFixed(2), fmt.ns(r.nsCoerce), fmt.ns(r.nsPrep), r.usPerContact.toFixed(2),
])));
log(`sum: ${perAttribute.reduce((a, r) => a + r.usPerContact, 0).toFixed(2)} µs per contact`);
log(`at end: ${load()}\n(sink ${sinkValue()})`);
