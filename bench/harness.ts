// Measuring honestly: warm up, several rounds, the median; every measured function returns a
// number that is summed into a sink and printed, so no work is dead code; GC between rounds when
// node runs with --expose-gc.
import { mkdirSync } from 'node:fs';
import os from 'node:os';

/** bench/.cache: generated inputs, kept stores and the last figures (not committed; made here, on first use). */
export function cachePath(name: string): string {
  mkdirSync(new URL('./.cache/', import.meta.url), { recursive: true });
  return new URL(`./.cache/${name}`, import.meta.url).pathname;
}

export interface Timing {
  /** Median of the rounds, in ms. */
  readonly medianMs: number;
  readonly roundsMs: readonly number[];
  /** What the last round returned (a count, a checksum): checked by the caller. */
  readonly result: number;
}

let sink = 0;

/** Everything measured so far, summed: print it so the work cannot be optimised away. */
export function sinkValue(): number {
  return sink;
}

export const collect = (globalThis as { gc?: () => void }).gc;

/** `gc: false` skips the collection between rounds (on a heap of many GiB it takes seconds). */
export function measure(fn: () => number, options: { warmup: number; rounds: number; gc?: boolean }): Timing {
  let result = 0;
  for (let i = 0; i < options.warmup; i++) sink += fn();
  const roundsMs: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    if (options.gc !== false) collect?.();
    const start = process.hrtime.bigint();
    result = fn();
    roundsMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    sink += result;
  }
  return { medianMs: median(roundsMs), roundsMs, result };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `${os.type()} ${os.release()}, node ${process.version}${collect ? ', --expose-gc' : ''}`;
}

/** Other work on the machine skews timings: printed with each result. */
export function load(): string {
  return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`;
}

/** `--name value` from the command line, as a number. */
export function numberArg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const n = Number(process.argv[at + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number`);
  return n;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export const fmt = {
  ns: (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)),
  us: (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2)),
  ms: (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1)),
  int: (n: number) => n.toLocaleString('en-US'),
};

/** A fixed-width table: columns right-aligned except the first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

type Check<C> = (contact: C, now: number) => boolean;

/**
 * The measured loops, compiled afresh for each implementation: closures from one function literal
 * share V8's type feedback, so a loop that ran the peers' tests would reach ours already
 * megamorphic and deoptimised. A new Function per use gives each its own. The source is fixed text.
 */
function freshLoop<C>(body: string, contacts: readonly C[], fns: readonly Check<C>[], now: number): () => number {
  return new Function('contacts', 'fns', 'now', `return function measuredLoop() { let hits = 0; ${body} return hits; };`)(contacts, fns, now);
}

/** The write path's order: each contact against every condition. Returns the number of matches. */
export function contactMajorLoop<C>(contacts: readonly C[], fns: readonly Check<C>[], now: number): () => number {
  return freshLoop('for (let i = 0; i < contacts.length; i++) { const c = contacts[i]; for (let j = 0; j < fns.length; j++) if (fns[j](c, now)) hits++; }', contacts, fns, now);
}

/** A count's order: each condition over every contact. Returns the number of matches. */
export function conditionMajorLoop<C>(contacts: readonly C[], fns: readonly Check<C>[], now: number): () => number {
  return freshLoop('for (let j = 0; j < fns.length; j++) { const test = fns[j]; for (let i = 0; i < contacts.length; i++) if (test(contacts[i], now)) hits++; }', contacts, fns, now);
}

/**
 * Several implementations timed in turns: each cycle times every one once, starting one place
 * later each cycle, so a change in the machine's load during the run falls on all of them alike.
 * `roundsMs[k]` of every timing comes from the same cycle k.
 */
export function measureInterleaved(fns: readonly (() => number)[], options: { warmup: number; cycles: number; gc?: boolean }): Timing[] {
  for (const fn of fns) for (let w = 0; w < options.warmup; w++) sink += fn();
  const rounds: number[][] = fns.map(() => []);
  const results: number[] = fns.map(() => 0);
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    for (let k = 0; k < fns.length; k++) {
      const i = (k + cycle) % fns.length;
      if (options.gc !== false) collect?.();
      const start = process.hrtime.bigint();
      results[i] = fns[i]();
      rounds[i][cycle] = Number(process.hrtime.bigint() - start) / 1e6;
      sink += results[i];
    }
  }
  return fns.map((_, i) => ({ medianMs: median(rounds[i]), roundsMs: rounds[i], result: results[i] }));
}

/** A line to standard output. */
export const log = (text = ''): void => { process.stdout.write(`${text}\n`); };

/** The heading every bench prints: its name and the time, the machine, and the load it starts under. */
export function benchHeader(name: string): void {
  log(`${name} — ${new Date().toISOString()}`);
  log(`machine: ${machine()}`);
  log(`at start: ${load()}`);
}
