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
const syncFile = () => {
  const fd = openSync(workerData.filename, 'r');
  try { fdatasyncSync(fd); } finally { closeSync(fd); }
};
setInterval(() => {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log >= workerData.restartPages) {
      // What RESTART does under the write lock is made small first, without it: the pages copied
      // are flushed (fdatasync), the frames committed meanwhile copied, and flushed again; RESTART
      // then copies and syncs only what came during that.
      syncFile();
      db.pragma('wal_checkpoint(PASSIVE)');
      syncFile();
      db.pragma('wal_checkpoint(RESTART)');
    }
  } catch {
    // busy, or the file went away: the next round tries again
  }
}, workerData.quietMs);
`;

export interface Checkpointer {
  close(): Promise<void>;
}

export function startCheckpointer(filename: string): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { filename, driver, quietMs: QUIET_MS, restartPages: RESTART_PAGES } });
  worker.unref();
  return { close: async () => { await worker.terminate(); } };
}
