// The checkpoint thread (sqlite-checkpointer.ts) against a writer of its own process that never
// pauses — an import's back-to-back transactions: the WAL still starts over, every write lands.
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase } from './database.js';
import { writeTransaction } from './write-transaction.js';

/** The WAL header's checkpoint sequence number: it grows by one each time the WAL starts over. */
function walRestarts(file: string): number {
  const fd = openSync(`${file}-wal`, 'r');
  try {
    const header = Buffer.alloc(16);
    readSync(fd, header, 0, 16, 0);
    return header.readUInt32BE(12);
  } finally {
    closeSync(fd);
  }
}

describe('background checkpoints', () => {
  it('start the WAL over between the back-to-back transactions of this process\'s writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segments-checkpoints-'));
    const file = join(dir, 'store.sqlite');
    const database = createDatabase({ dialect: 'sqlite', filename: file, backgroundCheckpoints: { quietMs: 5, restartPages: 400 } });
    try {
      await sql`create table probe (k integer primary key, v blob not null)`.execute(database.db);
      const before = walRestarts(file);
      // Transactions of ~20 pages each, one after the other with no pause, until the WAL has started
      // over 3 times: every 20 transactions pass 400 pages. Each RESTART needs the write lock; a
      // writer that took it again at once after each commit left it free only for microseconds.
      // How many transactions that takes depends on the disk (the thread syncs the file twice before
      // each RESTART): on one machine 500 sufficed, on another, with slower syncs, they were done
      // after two. So the writer goes on until the third restart, or fails after 20 s.
      let k = 0;
      for (const deadline = Date.now() + 20_000; walRestarts(file) - before < 3 && Date.now() < deadline;) {
        await writeTransaction(database, async (tx) => {
          for (let i = 0; i < 20; i++) await sql`insert into probe (k, v) values (${k++}, randomblob(3000))`.execute(tx);
        });
      }
      expect(walRestarts(file) - before).toBeGreaterThanOrEqual(3);
      const [{ n }] = (await sql<{ n: number }>`select count(*) as n from probe`.execute(database.db)).rows;
      expect(n).toBe(k);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
