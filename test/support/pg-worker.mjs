// A child process for test/pg-concurrency.test.ts, on the built modules (dist/): it opens its own
// pool on the test's PostgreSQL schema, says "ready", waits for "go" on standard input, works, and
// prints one JSON line with what it did and every error it met.
//
//   PG_URL, PG_SCHEMA, WORKSPACE          where
//   ROLE=writer ATTR=a ROUNDS=20 CONTACTS=30 SEED=1 [BATCH=1]
//       ROUNDS times over every contact (in a shuffled order each round), writes ATTR = value(round, k)
//       by upsert (or in batches of BATCH rows, one transaction each).
//       With DUE_IN_MS and SEEN_SPAN_MS, each write also sets last_interaction_at so that a rule
//       "older_than SEEN_SPAN_MS" flips for the contact within DUE_IN_MS.
//   ROLE=editor SEGMENT=seg_… CONDITIONS='[…]' EDITS=10
//       edits the segment's condition (cycling through CONDITIONS) and runs the backfill in small
//       batches, EDITS times, while the writers write.
//   ROLE=refresher STOP_FILE=…
//       runs the time refresh (refreshDue at the clock) in small batches until STOP_FILE exists.
import { createInterface } from 'node:readline';
import { createDatabase } from '../../dist/db/database.js';
import { writeTransaction } from '../../dist/db/write-transaction.js';
import { runBackfills } from '../../dist/segments/backfill.js';
import { ContactWrites } from '../../dist/segments/contact-writes.js';
import { updateSegment } from '../../dist/segments/segment-store.js';
import { refreshDue } from '../../dist/segments/time-refresh.js';
import { WorkspaceStates } from '../../dist/segments/workspace-state.js';

const env = process.env;
const database = createDatabase({ dialect: 'postgres', url: env.PG_URL, searchPath: env.PG_SCHEMA, maxConnections: 2 });
const states = new WorkspaceStates();
const workspace = env.WORKSPACE;

/** The value writer `attr` gives contact k in round r; the test computes the last one the same way. */
export const valueOf = (round, k) => (round * 37 + k * 11) % 100;

function shuffled(n, seed) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

async function writer() {
  const writes = new ContactWrites(database, states);
  const rounds = Number(env.ROUNDS), contacts = Number(env.CONTACTS), batch = Number(env.BATCH ?? 1);
  const errors = [];
  let written = 0;
  for (let r = 0; r < rounds; r++) {
    const order = shuffled(contacts, Number(env.SEED) * 1000 + r);
    for (let i = 0; i < order.length; i += batch) {
      const rows = order.slice(i, i + batch).map((k) => ({
        id: `c${k}`, [env.ATTR]: valueOf(r, k),
        // DUE_IN_MS: also "seen" so long ago that a relative-date rule flips for the contact this soon.
        ...(env.DUE_IN_MS ? { last_interaction_at: new Date(Date.now() - Number(env.SEEN_SPAN_MS) + Math.floor(Math.random() * Number(env.DUE_IN_MS))).toISOString() } : {}),
      }));
      try {
        const outcomes = await writes.writeBatch(workspace, rows);
        for (const o of outcomes) if (o.status === 'rejected') errors.push(`rejected: ${JSON.stringify(o.errors)}`);
        written += rows.length;
      } catch (error) {
        errors.push(`round ${r}, ${rows.map((x) => x.id).join(',')}: ${error.code ?? ''} ${error.message}`);
      }
    }
  }
  return { written, errors };
}

/** Runs the time refresh over and over until the file STOP_FILE exists. */
async function refresher() {
  const errors = [];
  let passes = 0, evaluated = 0;
  const { existsSync } = await import('node:fs');
  while (!existsSync(env.STOP_FILE)) {
    try {
      evaluated += await refreshDue(database, states, Date.now(), 8);
      passes++;
    } catch (error) {
      errors.push(`pass ${passes}: ${error.code ?? ''} ${error.message}`);
    }
  }
  return { passes, evaluated, errors };
}

async function editor() {
  const conditions = JSON.parse(env.CONDITIONS);
  const errors = [];
  let edits = 0, batches = 0;
  for (let i = 0; i < Number(env.EDITS); i++) {
    try {
      await writeTransaction(database, (tx) => updateSegment(tx, workspace, env.SEGMENT, { condition: conditions[i % conditions.length] }));
      edits++;
      await runBackfills(database, states, { batchSize: 4, onProgress: () => { batches++; } });
    } catch (error) {
      errors.push(`edit ${i}: ${error.code ?? ''} ${error.message}`);
    }
  }
  return { edits, batches, errors };
}

try {
  await states.get(database.db, workspace); // connected and compiled before the start
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'go') break;
  process.stdin.destroy(); // an open standard input would keep the process alive
  const result = env.ROLE === 'editor' ? await editor() : env.ROLE === 'refresher' ? await refresher() : await writer();
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await database.close();
}
