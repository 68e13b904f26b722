// WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside whichever commit
// crosses 1,000 WAL pages: that commit copies the pages into the database file and syncs it, while
// the server's event loop waits (on the 1M store a PATCH's commit took up to 60 ms then, and its
// p99 was that stall). A long-running server turns it off and checkpoints in a worker thread of
// its own connection instead: every QUIET_MS a PASSIVE checkpoint (it never blocks the writer)
// copies what it can; and when the WAL has grown past RESTART_PAGES, a RESTART checkpoint
// finishes it — it takes the write lock for the remaining frames and the sync, so the next commit
// starts the WAL over (under steady writes a PASSIVE one never catches up, and the WAL grew past
// 1 GB in 20 s). Writers meanwhile wait for the lock asynchronously (write-transaction.ts), so reads
// go on. The writer keeps an automatic checkpoint far above RESTART_PAGES, in case this thread
// cannot get the lock at all. Measured on the 1M store, PATCH /v1/contacts/{id} (a few account
// fields) at 16 connections, group commit on: 1,435-1,495 requests/s with p99 56-58 ms when the
// writer checkpointed itself; 1,600-1,800/s with p99 48-79 ms this way at 4,000 pages; 1,958/s, p99
// 21 ms at 32,000 (with no RESTART at all: 1,840/s, p99 25 ms, the WAL growing without end).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const QUIET_MS = 100;
/**
 * Past this many WAL pages (128 MiB) the thread finishes the WAL with a RESTART checkpoint. Each
 * one holds the write lock for a few tens of ms, so it is made rare: at 4,000 pages, under 1,700
 * writes a second, it came several times a second and the PATCH p99 was 48-79 ms; at 32,000, 21 ms.
 */
const RESTART_PAGES = 32_000;
/** The writer's own automatic checkpoint, in WAL pages (SQLite's default is 1,000): a backstop only. */
export const WRITER_CHECKPOINT_PAGES = 100_000;
/** The WAL file is cut back to this when it starts over. */
export const WAL_SIZE_LIMIT_BYTES = 128 * 1024 * 1024;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { closeSync, fdatasyncSync, openSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true, timeout: 2000 });
const restarting = new Int32Array(workerData.restarting);
const nap = new Int32Array(new SharedArrayBuffer(4));
const syncFile = () => {
  const fd = openSync(workerData.filename, 'r');
  try { fdatasyncSync(fd); } finally { closeSync(fd); }
};
/** RESTART, taking the write lock as soon as it is free: tried every millisecond (no busy handler) for up to 2 s. The WAL's length if it was done, else -1. */
const restart = () => {
  db.pragma('busy_timeout = 0');
  try {
    for (const deadline = Date.now() + 2000; Date.now() < deadline; Atomics.wait(nap, 0, 0, 1)) {
      const [{ busy, log }] = db.pragma('wal_checkpoint(RESTART)');
      if (!busy) return log;
    }
    return -1;
  } finally {
    db.pragma('busy_timeout = 2000');
  }
};
let restartedAt = -1; // the WAL's length a RESTART ended at: it starts over only at the next commit
setInterval(() => {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log >= workerData.restartPages && log !== restartedAt) {
      // What RESTART does under the write lock is made small first, without it: the pages copied
      // are flushed (fdatasync), the frames committed meanwhile copied, and flushed again; RESTART
      // then copies and syncs only what came during that. This process's writer pauses between
      // transactions meanwhile (the restarting flag), so the lock is had at the end of the transaction
      // under way; another process's writer is waited for as before.
      syncFile();
      db.pragma('wal_checkpoint(PASSIVE)');
      syncFile();
      Atomics.store(restarting, 0, 1);
      try { restartedAt = restart(); } finally { Atomics.store(restarting, 0, 0); Atomics.notify(restarting, 0); }
    }
  } catch {
    // busy, or the file went away: the next round tries again
  }
}, workerData.quietMs);
`;

export interface Checkpointer {
  /**
   * Null, or while the thread is finishing the WAL (a RESTART), a promise of its end: a writer of
   * this process awaits it before taking the write lock. The thread then gets the lock when the
   * transaction under way commits, instead of when its busy handler's sleeps happen to meet a gap
   * between an import's back-to-back transactions — it had waited up to 2 s, and each RESTART then
   * copied and synced every frame committed meanwhile with the writer waiting (bench:import at 200k:
   * the writer waited 1.0 s in all for 7 RESTARTs).
   */
  restartUnderWay(maxWaitMs: number): Promise<unknown> | null;
  close(): Promise<void>;
}

/** A writer never waits longer than this for a RESTART (the thread gives up after 2 s). */
const MAX_WAIT_FOR_RESTART_MS = 2_500;

/** When the thread checkpoints; the defaults above, smaller in tests. */
export interface CheckpointTuning {
  readonly quietMs: number;
  readonly restartPages: number;
}

export function startCheckpointer(filename: string, tuning: CheckpointTuning = { quietMs: QUIET_MS, restartPages: RESTART_PAGES }): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const restarting = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { filename, driver, quietMs: tuning.quietMs, restartPages: tuning.restartPages, restarting: restarting.buffer } });
  worker.unref();
  // A thread that stops mid-RESTART must not leave writers waiting.
  worker.on('exit', () => { Atomics.store(restarting, 0, 0); Atomics.notify(restarting, 0); });
  return {
    restartUnderWay: (maxWaitMs) => {
      if (Atomics.load(restarting, 0) === 0 || maxWaitMs <= 0) return null;
      const wait = Atomics.waitAsync(restarting, 0, 1, Math.min(maxWaitMs, MAX_WAIT_FOR_RESTART_MS));
      return wait.async ? wait.value : null;
    },
    close: async () => { await worker.terminate(); },
  };
}
