// bench:eval — 100,000 generated contacts × the 60 BENCH conditions.
//   (a) ns per (contact, condition) check: our compiled predicates on prepared contacts;
//   (b) the same for json-logic-js, sift, mingo and GrowthBook, each first verified to select
//       exactly the contacts ours selects, for every condition;
//   (c) µs per contact to prepare it from raw JSON (coerce, then prepareContact), and prepare + 60.
// Usage: tsx --expose-gc bench/eval.bench.ts [--contacts N] [--rounds R] [--peer-rounds R]
import { mkdirSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { compilePredicate } from '../src/conditions/compile-predicate.js';
import type { ContactTest } from '../src/conditions/compile-predicate.js';
import { prepareContact } from '../src/conditions/contact-values.js';
import type { PreparedContact, StoredValues } from '../src/conditions/contact-values.js';
import {
  BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_TIME_ZONE, assertNonTrivialShares, coerceContact, formatShareTable, generateContacts,
} from './fixtures.js';
import { conditionMajorLoop, contactMajorLoop, fmt, load, machine, measure, numberArg, sinkValue, table } from './harness.js';
import type { Timing } from './harness.js';
import { growthBookPeer } from './peers/growthbook.js';
import { toGrowthBook } from './peers/growthbook.js';
import { jsonLogicPeer, toJsonLogic } from './peers/json-logic.js';
import { lower } from './peers/lower.js';
import type { Lowered } from './peers/lower.js';
import { mingoPeer } from './peers/mingo.js';
import { toMongoQuery } from './peers/mongo-query.js';
import type { Peer, PeerObject } from './peers/peer.js';
import { toPeerObject } from './peers/peer.js';
import { siftPeer } from './peers/sift.js';
import { createFastPreparer } from './experiments/fast-prepare.js';
import { fusePredicate } from './experiments/fused-predicate.js';
import { generatePredicate } from './experiments/generated-predicate.js';
import { verifyPeer } from './peers/verify.js';

const N = numberArg('contacts', 100_000);
const ROUNDS = numberArg('rounds', 7);
const PEER_ROUNDS = numberArg('peer-rounds', 3);
const CHECKS_TARGET = 10; // ours at least 10× faster per check than the fastest peer
const WRITE_TARGET_US = 10; // preparation + all 60 checks under 10 µs per contact
const NOW = BENCH_NOW;
const M = BENCH_CONDITIONS.length;

const log = (text = '') => process.stdout.write(`${text}\n`);

log(`bench:eval — ${new Date().toISOString()}`);
log(`machine: ${machine()}`);
log(`at start: ${load()}`);
log(`workspace: ${BENCH_LAYOUT.attributes.length} attributes, time zone ${BENCH_TIME_ZONE}, now ${new Date(NOW).toISOString()}`);
log(`contacts: ${fmt.int(N)}; conditions: ${M}; rounds: ${ROUNDS} (peers ${PEER_ROUNDS}), median reported\n`);

// ---- fixtures ---------------------------------------------------------------------------------
let t0 = performance.now();
const raw = generateContacts(N);
const stored: StoredValues[] = raw.map((r) => coerceContact(r));
const prepared: PreparedContact[] = stored.map((s) => prepareContact(BENCH_LAYOUT, s));
const objects: PeerObject[] = prepared.map((p) => toPeerObject(BENCH_LAYOUT, p));
log(`generated, coerced and prepared in ${fmt.ms(performance.now() - t0)} ms (first pass, cold)`);

const tests: ContactTest[] = BENCH_CONDITIONS.map((c) => compilePredicate(c.condition, BENCH_LAYOUT, { timeZone: BENCH_TIME_ZONE }).test);
const ours: Uint8Array[] = tests.map((test) => {
  const hits = new Uint8Array(N);
  for (let i = 0; i < N; i++) hits[i] = test(prepared[i], NOW) ? 1 : 0;
  return hits;
});
const counts = ours.map((hits) => hits.reduce((a, b) => a + b, 0));
const expectedHits = counts.reduce((a, b) => a + b, 0);
assertNonTrivialShares(counts, N);
log(`\n${formatShareTable(counts, N)}\n`);

// ---- peers: translate, then verify before timing ------------------------------------------------
const lowered: Lowered[] = BENCH_CONDITIONS.map((c) => lower(c.condition, { timeZone: BENCH_TIME_ZONE, now: NOW }));
const PEERS: { peer: Peer; show: (l: Lowered) => unknown }[] = [
  { peer: jsonLogicPeer, show: toJsonLogic },
  { peer: siftPeer, show: toMongoQuery },
  { peer: mingoPeer, show: toMongoQuery },
  { peer: growthBookPeer, show: toGrowthBook },
];
const peerTests = PEERS.map(({ peer, show }) => {
  t0 = performance.now();
  const compiled = lowered.map((l) => peer.compile(l));
  verifyPeer(peer.name, BENCH_CONDITIONS, compiled, ours, objects, raw, (j) => show(lowered[j]));
  log(`verified: ${peer.name} selects exactly the same contacts as ours for all ${M} conditions (${fmt.ms(performance.now() - t0)} ms)`);
  return compiled;
});

// ---- (a) and (b): checks -----------------------------------------------------------------------
const checks = N * M;
const nsPerCheck = (t: Timing) => (t.medianMs * 1e6) / checks;
function expectHits(what: string, t: Timing): Timing {
  if (t.result !== expectedHits) throw new Error(`${what}: ${t.result} hits, expected ${expectedHits}`);
  return t;
}

log('\n(a) our compiled predicates on prepared contacts');
const oursByContact = expectHits('ours', measure(contactMajorLoop(prepared, tests, NOW), { warmup: 2, rounds: ROUNDS }));
const oursByCondition = expectHits('ours', measure(conditionMajorLoop(prepared, tests, NOW), { warmup: 2, rounds: ROUNDS }));
log(`  contact × all 60 (write path):   ${fmt.ns(nsPerCheck(oursByContact))} ns per check  (${fmt.ms(oursByContact.medianMs)} ms per ${fmt.int(checks)} checks)`);
log(`  condition × all contacts (count): ${fmt.ns(nsPerCheck(oursByCondition))} ns per check  (${fmt.ms(oursByCondition.medianMs)} ms)`);

const perCondition = tests.map((test) => {
  const t = measure(conditionMajorLoop(prepared, [test], NOW), { warmup: 1, rounds: 5 });
  return (t.medianMs * 1e6) / N;
});
const slowest = perCondition.map((ns, j) => ({ ns, j })).sort((a, b) => b.ns - a.ns).slice(0, 6);
log(`  slowest conditions, each alone over all contacts (ns per check): ${slowest.map(({ ns, j }) => `${BENCH_CONDITIONS[j].id} ${fmt.ns(ns)}`).join(', ')}`);

log('\n(b) peers on the same prepared contacts (plain objects), contact × all 60');
const peerTimings = PEERS.map(({ peer }, p) => {
  const t = expectHits(peer.name, measure(contactMajorLoop(objects, peerTests[p], NOW), { warmup: 1, rounds: PEER_ROUNDS }));
  log(`  ${peer.name.padEnd(24)} ${fmt.ns(nsPerCheck(t)).padStart(7)} ns per check  (${fmt.ms(t.medianMs)} ms)`);
  return { name: peer.name, t };
});

// ---- (c): preparation ---------------------------------------------------------------------------
log('\n(c) preparing a contact from raw JSON (paid once per write, for all segments)');
const coerceOnly = measure(() => {
  let n = 0;
  for (let i = 0; i < N; i++) if (coerceContact(raw[i]).email !== undefined) n++;
  return n;
}, { warmup: 1, rounds: ROUNDS });
const prepareOnly = measure(() => {
  let n = 0;
  for (let i = 0; i < N; i++) if (prepareContact(BENCH_LAYOUT, stored[i])[0] !== undefined) n++;
  return n;
}, { warmup: 1, rounds: ROUNDS });
const prepTotal = measure(() => {
  let n = 0;
  for (let i = 0; i < N; i++) if (prepareContact(BENCH_LAYOUT, coerceContact(raw[i]))[0] !== undefined) n++;
  return n;
}, { warmup: 1, rounds: ROUNDS });
const writePath = expectHits('prepare + 60', measure(() => {
  let hits = 0;
  for (let i = 0; i < N; i++) {
    const c = prepareContact(BENCH_LAYOUT, coerceContact(raw[i]));
    for (let j = 0; j < M; j++) if (tests[j](c, NOW)) hits++;
  }
  return hits;
}, { warmup: 1, rounds: ROUNDS }));
const usPerContact = (t: Timing) => (t.medianMs * 1e3) / N;
log(`  coerceValue per attribute, into a StoredValues record: ${fmt.us(usPerContact(coerceOnly))} µs per contact`);
log(`  prepareContact from that record:                      ${fmt.us(usPerContact(prepareOnly))} µs per contact`);
log(`  both (raw JSON → prepared):                           ${fmt.us(usPerContact(prepTotal))} µs per contact`);
log(`  raw JSON → prepared → all 60 checks:                  ${fmt.us(usPerContact(writePath))} µs per contact`);

// ---- (d): experiments — not the engine; each verified against it before it is timed ------------
log('\n(d) experiments (bench/experiments/): what would reach the targets; each selects/prepares exactly as the engine');
const experiments = [
  { name: '(experiment) fused closures', tests: BENCH_CONDITIONS.map((c) => fusePredicate(c.condition, BENCH_LAYOUT, BENCH_TIME_ZONE)) },
  { name: '(experiment) generated function', tests: BENCH_CONDITIONS.map((c) => generatePredicate(c.condition, BENCH_LAYOUT, BENCH_TIME_ZONE).test) },
].map(({ name, tests: fns }) => {
  fns.forEach((test, j) => {
    for (let i = 0; i < N; i++) if ((test(prepared[i], NOW) ? 1 : 0) !== ours[j][i]) throw new Error(`${name} disagrees on ${BENCH_CONDITIONS[j].id}, ${raw[i].id}`);
  });
  const t = expectHits(name, measure(contactMajorLoop(prepared, fns, NOW), { warmup: 2, rounds: ROUNDS }));
  log(`  ${name.padEnd(34)} ${fmt.ns(nsPerCheck(t)).padStart(6)} ns per check`);
  return { name, t, fns };
});
const fast = createFastPreparer(BENCH_LAYOUT, BENCH_TIME_ZONE);
for (let i = 0; i < N; i++) if (!isDeepStrictEqual(fast.prepare(raw[i]), prepared[i])) throw new Error(`fast-prepare differs on ${raw[i].id}`);
const fastPrep = measure(() => {
  let n = 0;
  for (let i = 0; i < N; i++) if (fast.prepare(raw[i])[0] !== undefined) n++;
  return n;
}, { warmup: 1, rounds: ROUNDS });
const fastWrite = expectHits('fast-prepare + 60', measure(() => {
  let hits = 0;
  for (let i = 0; i < N; i++) {
    const c = fast.prepare(raw[i]);
    for (let j = 0; j < M; j++) if (tests[j](c, NOW)) hits++;
  }
  return hits;
}, { warmup: 1, rounds: ROUNDS }));
log(`  (experiment) fast-prepare:             ${fmt.us(usPerContact(fastPrep))} µs per contact`);
log(`  (experiment) fast-prepare + 60 engine checks: ${fmt.us(usPerContact(fastWrite))} µs per contact`);

// ---- summary -----------------------------------------------------------------------------------
const fastest = peerTimings.reduce((a, b) => (b.t.medianMs < a.t.medianMs ? b : a));
const ratio = fastest.t.medianMs / oursByContact.medianMs;
const writeUs = usPerContact(writePath);
log('\nsummary (contact × all 60, ns per check, median)');
const row = (name: string, t: Timing) => [name, fmt.ns(nsPerCheck(t)), `${(t.medianMs / oursByContact.medianMs).toFixed(2)}`, `${(fastest.t.medianMs / t.medianMs).toFixed(1)}×`];
log(table(['implementation', 'ns/check', 'time vs ours', 'fastest peer ÷ this'], [
  row('ours (compiled predicates)', oursByContact),
  ...peerTimings.map(({ name, t }) => row(name, t)),
  ...experiments.map(({ name, t }) => row(name, t)),
]));
log(`\ntarget 1: checks ≥ ${CHECKS_TARGET}× faster than the fastest peer (${fastest.name}): ${ratio.toFixed(1)}× → ${ratio >= CHECKS_TARGET ? 'PASS' : 'MISS'}`);
log(`target 2: preparation + all ${M} checks < ${WRITE_TARGET_US} µs per contact: ${fmt.us(writeUs)} µs → ${writeUs < WRITE_TARGET_US ? 'PASS' : 'MISS'}`);
log(`at end: ${load()}`);
log(`(sink ${sinkValue()})`);

mkdirSync(new URL('./.cache/', import.meta.url), { recursive: true });
writeFileSync(new URL('./.cache/eval-last.json', import.meta.url), JSON.stringify({
  date: new Date().toISOString(), machine: machine(), contacts: N, conditions: M,
  ours: { contactMajorNs: nsPerCheck(oursByContact), conditionMajorNs: nsPerCheck(oursByCondition), perConditionNs: perCondition },
  peers: Object.fromEntries(peerTimings.map(({ name, t }) => [name, nsPerCheck(t)])),
  prepare: { coerceUs: usPerContact(coerceOnly), prepareUs: usPerContact(prepareOnly), totalUs: usPerContact(prepTotal), writePathUs: writeUs },
  experiments: { ...Object.fromEntries(experiments.map(({ name, t }) => [name, nsPerCheck(t)])), fastPrepareUs: usPerContact(fastPrep), fastWriteUs: usPerContact(fastWrite) },
  ratio, counts,
}, null, 2));
