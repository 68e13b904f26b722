// An import read in a worker thread beside the writer. On this 2-core machine the writer's thread
// spent about half of bench:import's time reading rows — JSON, coercion, evaluating the 60
// segments, building each row's values — and half in SQLite; the worker (drafting-worker.ts) now
// does the first half on the other core: it reads the rows and drafts each as a new contact's write
// (new-contact-draft.ts), and the writer, for a row that is indeed new, only writes it.
//
// A draft is made at the instant its batch will be written at: the writer hands the worker an
// instant for each batch ahead (two batches ahead), read from its clock when it takes a batch, so
// the worker never drafts far ahead of what is written; it reads the file itself (the writer's
// thread, busy in SQLite, would feed it late) and pauses while its backlog of rows read is large.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DraftedRow } from '../contacts/import/contact-sink.js';
import type { BatchRow, RowBatch } from '../contacts/import/contact-sink.js';
import { ImportRefused } from '../contacts/import/row-sources.js';
import type { ImportFormat } from '../contacts/import/row-sources.js';
import type { DraftingWorkerData, FromWorker, ToWorker } from './drafting-protocol.js';
import type { WorkspaceConfig } from './workspace-state.js';

/** Batches drafted ahead of the one being written. */
const DRAFTED_AHEAD = 2;

export interface DraftingReadOptions {
  readonly format: ImportFormat;
  readonly batchSize: number;
  readonly maxRowChars?: number;
}

/**
 * Reads the file at `path` in a worker thread, in batches of `options.batchSize` rows, each drafted
 * at an instant from `clock` under the workspace's configuration as `configOf` reads it then.
 */
export async function* readInWorker(configOf: () => Promise<WorkspaceConfig>, clock: () => number, path: string, options: DraftingReadOptions): AsyncGenerator<RowBatch> {
  let config = await configOf();
  const worker = startWorker({ path, config, format: options.format, batchSize: options.batchSize, maxRowChars: options.maxRowChars, maxBacklog: 2 * options.batchSize });
  const inbox = new Inbox();
  worker.on('message', (message: FromWorker) => inbox.push(message));
  worker.on('error', (error) => inbox.push({ type: 'failed', message: error.message }));
  worker.on('exit', (code) => inbox.push({ type: 'failed', message: `the import's reading thread stopped (exit code ${code})` }));
  const send = (message: ToWorker) => worker.postMessage(message);
  try {
    for (let i = 0; i < DRAFTED_AHEAD; i++) send({ type: 'now', now: clock() });
    for (;;) {
      const message = await inbox.next();
      switch (message.type) {
        case 'batch':
          yield {
            now: message.now, bytesRead: message.bytesRead,
            rows: message.rows.map((r): BatchRow => ('problems' in r ? r : { row: r.row, line: r.line, identified: r.identified, data: new DraftedRow(r.json, r.draft) })),
          };
          // The batch before it is written: the next one ahead is drafted at this instant, under the
          // workspace as it is now (the batches already drafted under an older one are read again).
          {
            const latest = await configOf();
            if (latest.configVersion !== config.configVersion) send({ type: 'config', config: (config = latest) });
          }
          send({ type: 'now', now: clock() });
          break;
        case 'done':
          yield { rows: [], bytesRead: message.bytesRead }; // the bytes read in all
          return;
        case 'refused':
          throw new ImportRefused(message.problems);
        case 'failed':
          throw new Error(message.message);
      }
    }
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}

/** Messages in arrival order, awaited one at a time. */
class Inbox {
  private readonly queue: FromWorker[] = [];
  private waiting: ((message: FromWorker) => void) | null = null;

  push(message: FromWorker): void {
    if (this.waiting) { const resolve = this.waiting; this.waiting = null; resolve(message); } else this.queue.push(message);
  }

  next(): Promise<FromWorker> {
    const message = this.queue.shift();
    return message ? Promise.resolve(message) : new Promise((resolve) => { this.waiting = resolve; });
  }
}

/**
 * A young generation of 192 MiB (semi-spaces of 64 MiB, as `bin/segments` gives the main thread):
 * with V8's default of 16 MiB a batch's rows outlived two scavenges and were copied into the old
 * generation before they were sent. bench:import at 200k, in turns: the GC helper threads' CPU
 * 5.5 s → 2.5-3 s with both larger, the reading thread's 12.3/11.2 s → 11.3/10.9 s with this one.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 192 };

/**
 * The worker runs the compiled JavaScript beside this file; from the TypeScript sources (tests,
 * benches) it runs the .ts file through tsx, which the project's development dependencies have (a
 * worker does not get the loader of a process started with `--import tsx`: it registers it itself).
 */
function startWorker(data: DraftingWorkerData): Worker {
  const options = { workerData: data, resourceLimits: WORKER_LIMITS };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./drafting-worker.js', import.meta.url), options);
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./drafting-worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, { ...options, eval: true });
}
