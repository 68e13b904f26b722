// bench:time — keeping relative-date segments current as time passes, over the store's N contacts
// (default 1,000,000, the 60 BENCH segments, several with relative dates): the clock moves one
// minute at a time and the refresh re-evaluates only the contacts whose horizon has come
// (refreshDue); against a full rescan (verifyWorkspace: every contact re-evaluated), in this run.
// Usage: npm run bench:time -- [--contacts N] [--minutes M] [--skip-sqlite] [--skip-postgres]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Dialect } from '../src/db/database.js';
import { refreshDue } from '../src/segments/time-refresh.js';
import { verifyWorkspace } from '../src/segments/verify.js';
import { benchHeader, cachePath, flag, load, log, median, numberArg, table } from './harness.js';
import { WORKSPACE, openPopulatedStore } from './store-fixtures.js';

const N = numberArg('contacts', 1_000_000);
const MINUTES = numberArg('minutes', 30);
benchHeader('bench:time');
log();
const rows: string[][] = [];
const clockFile = (dialect: Dialect) => cachePath(`time-clock-${dialect}-${N}.json`);

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  if (flag(`skip-${dialect}`)) continue;
  const store = await openPopulatedStore(dialect, N, log);
  try {
    // The kept store's memberships follow the clock of the last run: go on from there.
    const start = existsSync(clockFile(dialect)) ? (JSON.parse(readFileSync(clockFile(dialect), 'utf8')) as { now: number }).now : store.clock.now;
    const ms: number[] = [];
    const refreshed: number[] = [];
    let now = start;
    await refreshDue(store.database, store.states, now); // anything already due
    for (let m = 1; m <= MINUTES; m++) {
      now = start + m * 60_000;
      const t0 = performance.now();
      refreshed.push(await refreshDue(store.database, store.states, now));
      ms.push(performance.now() - t0);
    }
    const t1 = performance.now();
    const differences = await verifyWorkspace(store.database, store.states, WORKSPACE, now);
    const rescanMs = performance.now() - t1;
    if (differences.length > 0) throw new Error(`${dialect}: after the refreshes verify finds ${differences.length} differences, e.g. ${JSON.stringify(differences[0])}`);
    const total = ms.reduce((a, b) => a + b, 0);
    rows.push([dialect, String(MINUTES), median(refreshed).toFixed(0), median(ms).toFixed(1), Math.max(...ms).toFixed(1), (rescanMs / 1000).toFixed(1), `${(rescanMs / (total / MINUTES)).toFixed(0)}×`]);
    writeFileSync(clockFile(dialect), JSON.stringify({ now }));
  } finally {
    await store.close();
  }
}
log(table(['store', 'minutes', 'contacts refreshed per minute (median)', 'refresh ms per minute (median)', 'max ms', 'full rescan s', 'rescan ÷ refresh'], rows));
log('after the refreshes, verify (the full rescan) found no difference');
log(`at end: ${load()}`);
