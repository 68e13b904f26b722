// The background work that keeps membership current without a write: pending backfills, then the
// contacts whose relative dates have come due. `segments work --watch` runs it in a loop (and the
// HTTP server will run it beside the API); a pass every `intervalMs` keeps time-dependent
// membership within that interval of the clock (the issue asks for 60 seconds; the default is 15).
import type { Database } from '../db/database.js';
import { runBackfills } from './backfill.js';
import type { BackfillProgress } from './backfill.js';
import { foldAllMemberOrders } from './member-order.js';
import { refreshDue } from './time-refresh.js';
import type { WorkspaceStates } from './workspace-state.js';

export interface WorkerPass {
  readonly builds: number;
  readonly refreshed: number;
  /** Contacts whose rows in segment order were brought up to date (member-order.ts). */
  readonly folded: number;
}

export interface WorkerOptions {
  readonly clock?: () => number;
  readonly onProgress?: (p: BackfillProgress) => void;
}

/** One pass: every pending backfill to completion, the time refresh at the clock's now, then the segment order's fold. */
export async function runWorkerPass(database: Database, states: WorkspaceStates, options: WorkerOptions = {}): Promise<WorkerPass> {
  const clock = options.clock ?? Date.now;
  const builds = await runBackfills(database, states, { clock, onProgress: options.onProgress });
  const refreshed = await refreshDue(database, states, clock());
  const folded = await foldAllMemberOrders(database);
  return { builds, refreshed, folded };
}

/**
 * Passes every `intervalMs` until `signal` aborts; a pass that fails is reported and the loop goes
 * on (a lost connection must not stop membership from following time). Resolves when stopped.
 */
export async function runWorker(
  database: Database, states: WorkspaceStates,
  options: WorkerOptions & {
    intervalMs: number; signal: AbortSignal; onPass?: (pass: WorkerPass) => void; onError?: (error: unknown) => void;
    /** Starts the next pass before the interval is up (see WorkerWakeup). */
    wakeup?: WorkerWakeup;
  },
): Promise<void> {
  const wakeup = options.wakeup ?? new WorkerWakeup();
  await repeatPasses(() => runWorkerPass(database, states, options), { ...options, sleep: (ms, signal) => wakeup.sleep(ms, signal) });
}

/**
 * Runs `pass` every `intervalMs` until `signal` aborts; a pass that fails is reported and the loop
 * goes on. The background loops of a server (the worker, the fold, webhook delivery) are this.
 */
export async function repeatPasses<T>(pass: () => Promise<T>, options: {
  intervalMs: number; signal: AbortSignal; onPass?: (result: T) => void; onError?: (error: unknown) => void;
  /** How to wait between passes (default `sleep`). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}): Promise<void> {
  const wait = options.sleep ?? sleep;
  while (!options.signal.aborted) {
    try {
      // Not `onPass?.(await pass())`: an optional call evaluates no argument when there is no
      // callee, so without onPass the pass would never run.
      const result = await pass();
      options.onPass?.(result);
    } catch (error) {
      options.onError?.(error);
    }
    await wait(options.intervalMs, options.signal);
  }
}

/**
 * The segment order's fold every `intervalMs` (the server: every second) until `signal` aborts,
 * so that the API's writes rarely fold themselves (a write that finds FOLD_AFTER contacts listed
 * folds them in its own transaction, milliseconds it waits for) and count reads find few listed
 * contacts to add (11 µs each: member-order.ts).
 */
export async function runMemberOrderFolds(database: Database, options: { intervalMs: number; signal: AbortSignal; onError?: (error: unknown) => void }): Promise<void> {
  await repeatPasses(() => foldAllMemberOrders(database), options);
}

/**
 * A pass asked for before the interval is up: the server asks when a definition it saved queues a
 * build, so a new or edited segment starts building at once instead of up to an interval later
 * (15 s by default: the API showed a new segment `building` with nothing processed until then).
 * Only this process's worker hears it; another process's finds the job at its next pass.
 */
export class WorkerWakeup {
  private wake: (() => void) | null = null;
  private requested = false;

  /** The next pass starts now, or as soon as the one under way ends. */
  request(): void {
    this.requested = true;
    this.wake?.();
  }

  /** Resolves after `ms`, when `signal` aborts, or when a pass is requested (at once if one was meanwhile). */
  async sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.requested) {
      const woken = new AbortController();
      this.wake = () => woken.abort();
      const both = AbortSignal.any([signal, woken.signal]);
      try { await sleep(ms, both); } finally { this.wake = null; }
    }
    this.requested = false;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
