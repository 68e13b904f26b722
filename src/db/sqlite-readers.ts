// Read-only connections to a SQLite file in worker threads, so one big read (a preview count over
// every contact) runs on every core at once, each worker counting its own range of rows, and the
// main thread's event loop stays free meanwhile. better-sqlite3 is synchronous: without workers a
// count both blocks the server and uses one core. In WAL mode readers never block the writer.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Reads go through a memory map of this size: SQLite's compiled-in ceiling (asking for more gets this). */
export const SQLITE_MMAP_BYTES = 2_147_418_112;

// CommonJS source evaluated in each worker: it needs no file of its own next to the compiled code.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { readonly: true, fileMustExist: true, timeout: 5000 });
db.pragma('mmap_size = ' + Number(workerData.mmapBytes));
const statements = new Map();
parentPort.on('message', ({ id, sql, parameters }) => {
  try {
    let statement = statements.get(sql);
    if (statement === undefined) {
      if (statements.size >= 200) statements.clear();
      statement = db.prepare(sql).raw(true);
      statements.set(sql, statement);
    }
    const row = statement.get(...parameters);
    parentPort.postMessage({ id, value: row === undefined ? null : row[0] });
  } catch (error) {
    parentPort.postMessage({ id, error: error && error.message ? error.message : String(error) });
  }
});
`;

export interface SqliteReaders {
  /** Runs each query (one value each: its first row's first column) on its own worker; values in order. */
  scalars(queries: ReadonlyArray<{ readonly sql: string; readonly parameters: readonly unknown[] }>): Promise<unknown[]>;
  readonly size: number;
  close(): Promise<void>;
}

export function createSqliteReaders(filename: string, size = Math.max(1, Math.min(4, availableParallelism()))): SqliteReaders {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const workers = Array.from({ length: size }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { filename, driver, mmapBytes: SQLITE_MMAP_BYTES } });
    worker.unref(); // an idle reader never keeps the process alive
    worker.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
      const p = pending.get(id);
      pending.delete(id);
      if (error !== undefined) p?.reject(new Error(error)); else p?.resolve(value);
    });
    worker.on('error', (error) => { for (const p of pending.values()) p.reject(error); pending.clear(); });
    return worker;
  });
  let turn = 0;
  return {
    size,
    scalars(queries) {
      return Promise.all(queries.map((q) => new Promise<unknown>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        workers[turn++ % workers.length].postMessage({ id, sql: q.sql, parameters: q.parameters });
      })));
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
