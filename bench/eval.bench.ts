// bench:eval — 100,000 generated contacts × the 60 BENCH conditions.
//   (a) ns per (contact, condition) check: our compiled predicates on prepared contacts;
//   (b) the same for json-logic-js, sift, mingo and GrowthBook, each first verified to select
//       exactly the contacts ours selects, for every condition;
//   (c) µs per contact to read it from raw JSON into stored and prepared values (readContactRecord,
//       the write path's one pass), and that + all 60 checks.
// Usage: tsx --expose-gc bench/eval.bench.ts [--contacts N] [--cycles C] [--rounds R]
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { compilePredicate } from '../src/conditions/compile-predicate.js';
import type { ContactTest } from '../src/conditions/compile-predicate.js';
import { prepareContact } from '../src/conditions/contact-values.js';
import type { PreparedContact, StoredValues } from '../src/conditions/contact-values.js';
import {
  BENCH_CONDITIONS, BENCH_LAYOUT, BENCH_NOW, BENCH_TIME_ZONE, assertNonTrivialShares, coerceContact, formatShareTable, generateContacts, readRaw,
} from './fixtures.js';
import { benchHeader, cachePath, conditionMajorLoop, contactMajorLoop, fmt, load, log, machine, measure, measureInterleaved, median, numberArg, sinkValue, table } from './harness.js';
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
import { fusePredicate } from './experiments/fused-predicate.js';
import { verifyPeer } from './peers/verify.js';

const N = numberArg('contacts', 100_000);
const ROUNDS = numberArg('rounds', 7);
const CYCLES = numberArg('cycles', 5);
const CHECKS_TARGET = 10; // ours at least 10× faster per check than the fastest peer
const WRITE_TARGET_US = 10; // preparation + all 60 checks under 10 µs per contact
const NOW = BENCH_NOW;
const M = BENCH_CONDITIONS.length;


benchHeader('bench:eval');
log(`workspace: ${BENCH_LAYOUT.attributes.length} attributes, time zone ${BENCH_TIME_ZONE}, now ${new Date(NOW).toISOString()}`);
log(`contacts: ${fmt.int(N)}; conditions: ${M}; checks: ${CYCLES} cycles, preparation: ${ROUNDS} cycles, after warm-up; medians reported\n`);

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

// ---- experiments: not the engine; each verified against it before it is timed ------------------
const experiments = [
  { name: '(experiment) fused closures', fns: BENCH_CONDITIONS.map((c) => fusePredicate(c.condition, BENCH_LAYOUT, BENCH_TIME_ZONE)) },
];
for (const { name, fns } of experiments) {
  fns.forEach((test, j) => {
    for (let i = 0; i < N; i++) if ((test(prepared[i], NOW) ? 1 : 0) !== ours[j][i]) throw new Error(`${name} disagrees on ${BENCH_CONDITIONS[j].id}, ${raw[i].id}`);
  });
}
log(`verified: the experiments (bench/experiments/) select exactly as the engine`);
for (let i = 0; i < N; i++) if (!isDeepStrictEqual(readRaw(raw[i]).prepared, prepared[i])) throw new Error(`readContactRecord prepares ${raw[i].id} unlike prepareContact`);
log(`verified: the write path's one pass (readContactRecord) prepares every contact as prepareContact does from its stored values`);

// ---- (a), (b): checks, all implementations timed in turns ----------------------------------------
const checks = N * M;
const nsPerCheck = (t: Timing) => (t.medianMs * 1e6) / checks;
function expectHits(what: string, t: Timing): Timing {
  if (t.result !== expectedHits) throw new Error(`${what}: ${t.result} hits, expected ${expectedHits}`);
  return t;
}

log(`\n(a, b) checks, contact × all 60 (the write path's order); all implementations timed in turns, ${CYCLES} cycles`);
const contenders = [
  { name: 'ours (compiled predicates)', kind: 'ours', run: contactMajorLoop(prepared, tests, NOW) },
  ...PEERS.map(({ peer }, p) => ({ name: peer.name, kind: 'peer', run: contactMajorLoop(objects, peerTests[p], NOW) })),
  ...experiments.map(({ name, fns }) => ({ name, kind: 'experiment', run: contactMajorLoop(prepared, fns, NOW) })),
];
const timings = measureInterleaved(contenders.map((c) => c.run), { warmup: 1, cycles: CYCLES }).map((t, k) => expectHits(contenders[k].name, t));
const [oursByContact] = timings;
const peerIndexes = contenders.flatMap((c, k) => (c.kind === 'peer' ? [k] : []));
const fastestPeer = peerIndexes.reduce((a, b) => (timings[b].medianMs < timings[a].medianMs ? b : a));
/** Per cycle: the fastest peer of that cycle over ours in that cycle; the target reads the median. */
const ratioOf = (k: number) => median(timings[k].roundsMs.map((ms, cycle) => Math.min(...peerIndexes.map((p) => timings[p].roundsMs[cycle])) / ms));
log(table(['implementation', 'ns/check', 'time vs ours', 'fastest peer ÷ this (median of cycles)'], contenders.map((c, k) => [
  c.name, fmt.ns(nsPerCheck(timings[k])), (timings[k].medianMs / oursByContact.medianMs).toFixed(2), `${ratioOf(k).toFixed(1)}×`,
])));

const oursByCondition = expectHits('ours', measure(conditionMajorLoop(prepared, tests, NOW), { warmup: 2, rounds: ROUNDS }));
log(`  ours, condition × all contacts (a count's order): ${fmt.ns(nsPerCheck(oursByCondition))} ns per check`);
const perCondition = tests.map((test) => (measure(conditionMajorLoop(prepared, [test], NOW), { warmup: 1, rounds: 5 }).medianMs * 1e6) / N);
const slowest = perCondition.map((ns, j) => ({ ns, j })).sort((a, b) => b.ns - a.ns).slice(0, 6);
log(`  ours, slowest conditions each alone over all contacts (ns per check): ${slowest.map(({ ns, j }) => `${BENCH_CONDITIONS[j].id} ${fmt.ns(ns)}`).join(', ')}`);

// ---- (c): preparation ---------------------------------------------------------------------------
log(`\n(c) preparing a contact from raw JSON (paid once per write, for all segments); timed in turns, ${ROUNDS} cycles`);
const prepareRows: [string, () => number][] = [
  ['readContactInput: raw JSON → stored values + prepared', () => {
    let n = 0;
    for (let i = 0; i < N; i++) if (readRaw(raw[i]).prepared[0] !== undefined) n++;
    return n;
  }],
  ['readContactInput → all 60 checks (a new contact\'s write)', () => {
    let hits = 0;
    for (let i = 0; i < N; i++) {
      const c = readRaw(raw[i]).prepared;
      for (let j = 0; j < M; j++) if (tests[j](c, NOW)) hits++;
    }
    return hits;
  }],
  ['prepareContact from stored values (an update, a backfill)', () => {
    let n = 0;
    for (let i = 0; i < N; i++) if (prepareContact(BENCH_LAYOUT, stored[i])[0] !== undefined) n++;
    return n;
  }],
  ['prepareContact from stored values → all 60 checks', () => {
    let hits = 0;
    for (let i = 0; i < N; i++) {
      const c = prepareContact(BENCH_LAYOUT, stored[i]);
      for (let j = 0; j < M; j++) if (tests[j](c, NOW)) hits++;
    }
    return hits;
  }],
];
const prepTimings = measureInterleaved(prepareRows.map(([, fn]) => fn), { warmup: 1, cycles: ROUNDS });
const usPerContact = (t: Timing) => (t.medianMs * 1e3) / N;
expectHits('readContactInput + 60', prepTimings[1]);
expectHits('prepareContact + 60', prepTimings[3]);
log(table(['step', 'µs per contact'], prepareRows.map(([name], k) => [name, fmt.us(usPerContact(prepTimings[k]))])));

// ---- summary -----------------------------------------------------------------------------------
const ratio = ratioOf(0);
const writeUs = usPerContact(prepTimings[1]);
log(`\ntarget 1: checks ≥ ${CHECKS_TARGET}× faster than the fastest peer (${contenders[fastestPeer].name} by median): ${ratio.toFixed(1)}× → ${ratio >= CHECKS_TARGET ? 'PASS' : 'MISS'}`);
log(`target 2: preparation + all ${M} checks < ${WRITE_TARGET_US} µs per contact: ${fmt.us(writeUs)} µs → ${writeUs < WRITE_TARGET_US ? 'PASS' : 'MISS'}`);
log(`at end: ${load()}`);
log(`(sink ${sinkValue()})`);

writeFileSync(cachePath('eval-last.json'), JSON.stringify({
  date: new Date().toISOString(), machine: machine(), contacts: N, conditions: M, counts,
  checks: Object.fromEntries(contenders.map((c, k) => [c.name, { ns: nsPerCheck(timings[k]), roundsMs: timings[k].roundsMs, fastestPeerOverThis: ratioOf(k) }])),
  oursConditionMajorNs: nsPerCheck(oursByCondition), oursPerConditionNs: perCondition,
  prepare: Object.fromEntries(prepareRows.map(([name], k) => [name, usPerContact(prepTimings[k])])),
  ratio, writeUs,
}, null, 2));
