import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribute } from '../contacts/attribute-store.js';
import type { ContactSink } from '../contacts/import/contact-sink.js';
import { MemorySink } from '../contacts/import/test-support/memory-sink.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runBackfills } from '../segments/backfill.js';
import { createSegment, getSegment } from '../segments/segment-store.js';
import { openEngine } from '../segments/test-support/engine.js';
import { verifyWorkspace } from '../segments/verify.js';
import { EXIT_IMPORTED, EXIT_REFUSED, EXIT_ROWS_REJECTED, EXIT_STOPPED, runImport } from './import-command.js';
import type { ImportCommandOptions } from './import-command.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segments-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A standard error that records what is written, a terminal or not. */
function capture(isTTY = false): Writable & { text: () => string; isTTY: boolean } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(stream, { isTTY, text: () => text });
}

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function run(options: Partial<ImportCommandOptions> & { file: string }, sink: ContactSink = new MemorySink([{ key: 'mrr', type: 'number' }])) {
  const stderr = options.stderr ?? capture();
  const code = await runImport({ workspaceId: 'w1', sink, stderr, ...options });
  return { code, stderr: (stderr as ReturnType<typeof capture>).text() };
}

describe('segments import', () => {
  it('imports a clean file: exit 0 and a summary of the ledger', async () => {
    const path = await file('clean.csv', 'email,name,mrr\na@x,Ana,1\nb@x,Bo,2\n');
    const sink = new MemorySink([{ key: 'mrr', type: 'number' }]);
    const { code, stderr } = await run({ file: path, quiet: true }, sink);
    expect(code).toBe(EXIT_IMPORTED);
    expect(stderr).toMatch(/^segments import: clean\.csv \(CSV, 0\.0 KiB\) in \d+\.\d s/);
    expect(stderr).toContain('  rows read 2\n  created   2\n  updated   0\n  unchanged 0\n  rejected  0\n');
    expect(sink.contacts.size).toBe(2);
    const again = await run({ file: path, quiet: true }, sink);
    expect(again.stderr).toContain('  unchanged 2\n');
  });

  it('rejected rows: exit 1, the first 20 in the summary, every one in --errors FILE as CSV', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `u${i}@x,${i % 2 === 0 ? `=bad${i}` : i}`);
    const path = await file('some-bad.csv', `email,mrr\n${rows.join('\n')}\n`);
    const plain = await run({ file: path, quiet: true });
    expect(plain.code).toBe(EXIT_ROWS_REJECTED);
    expect(plain.stderr).toContain('Rejected rows (all 15 problems):\n');
    expect(plain.stderr).toContain('  row 1 (line 2), column mrr: expected a number, got "=bad0"\n');

    const many = await file('many-bad.csv', `mrr\n${Array.from({ length: 45 }, () => 'x').join('\n')}\n`);
    const shown = await run({ file: many, quiet: true });
    expect(shown.stderr).toContain('Rejected rows (the first 20 of 45 problems):');
    expect(shown.stderr.match(/^ {2}row /gm)).toHaveLength(20);
    expect(shown.stderr).toContain('import again with --errors FILE');

    const errorsFile = join(dir, 'errors.csv');
    const withErrors = await run({ file: many, quiet: true, errorsFile });
    expect(withErrors.code).toBe(EXIT_ROWS_REJECTED);
    expect(withErrors.stderr).toContain(`Every rejection is in ${errorsFile}.`);
    const report = parse(await readFile(errorsFile, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(report).toHaveLength(45);
    expect(report[44]).toEqual({ row: '45', line: '46', column: 'mrr', reason: 'expected a number, got "x"' });
  });

  it('refuses a file with an unknown column: exit 2, the columns named, nothing written', async () => {
    const path = await file('unknown.csv', 'email,mmr\na@x,1\n');
    const sink = new MemorySink();
    const { code, stderr } = await run({ file: path }, sink);
    expect(code).toBe(EXIT_REFUSED);
    expect(stderr).toBe(`segments import: ${path} was refused; nothing was written:\n  unknown column "mmr": not an attribute of this workspace\n`);
    expect(sink.batches).toEqual([]);
    const errorsFile = join(dir, 'refused-errors.csv');
    const withErrors = await run({ file: path, errorsFile }, sink);
    expect(withErrors.stderr).toContain(`The problems are also in ${errorsFile}.`);
    expect(await readFile(errorsFile, 'utf8')).toBe('row,line,column,reason\r\n,,mmr,"unknown column ""mmr"": not an attribute of this workspace"\r\n');
  });

  it('exit 2 for a missing file, a name with no format, a bad batch size, or --errors naming the input', async () => {
    const path = await file('x.csv', 'email\n');
    expect(await run({ file: join(dir, 'missing.csv') })).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringMatching(/cannot read .*missing\.csv: ENOENT/) });
    expect(await run({ file: await file('contacts.txt', 'email\n') })).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringMatching(/use --format csv or --format jsonl/) });
    expect(await run({ file: path, batchSize: 0 })).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringMatching(/--batch-size must be/) });
    expect(await run({ file: path, errorsFile: path })).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringMatching(/--errors names the file being imported/) });
    const folder = join(dir, 'folder.csv');
    await mkdir(folder);
    expect(await run({ file: folder })).toMatchObject({ code: EXIT_REFUSED, stderr: expect.stringMatching(/folder\.csv is not a file/) });
    expect(await readFile(path, 'utf8')).toBe('email\n');
  });

  it('--format overrides the extension; .ndjson is JSON Lines', async () => {
    const txt = await file('contacts.txt', '{"email":"a@x"}\n');
    expect((await run({ file: txt, format: 'jsonl', quiet: true })).code).toBe(EXIT_IMPORTED);
    const nd = await file('contacts.ndjson', '{"email":"a@x"}\n{"email":"b@x","mrr":"x"}\n');
    const { code, stderr } = await run({ file: nd, quiet: true });
    expect(code).toBe(EXIT_ROWS_REJECTED);
    expect(stderr).toMatch(/\(JSON Lines, /);
  });

  it('a store that fails part-way: exit 3, the rows written so far, and how to finish', async () => {
    const inner = new MemorySink();
    let calls = 0;
    const sink: ContactSink = {
      schema: () => inner.schema(),
      writeBatch: async (ws, rows) => {
        if (++calls === 3) throw new Error('database is locked');
        return inner.writeBatch(ws, rows);
      },
    };
    const path = await file('stops.csv', `email\n${Array.from({ length: 10 }, (_, i) => `u${i}@x`).join('\n')}\n`);
    const { code, stderr } = await run({ file: path, batchSize: 3, quiet: true }, sink);
    expect(code).toBe(EXIT_STOPPED);
    expect(stderr).toContain('segments import: stops.csv stopped after 6 rows: database is locked');
    expect(stderr).toContain('Importing the same file again completes the import');
  });

  it('notes contacts created from rows with no id, external_id or email', async () => {
    const { stderr } = await run({ file: await file('anon.csv', 'name\nAna\nBo\n'), quiet: true });
    expect(stderr).toContain('Note: 2 contacts were created from rows with no id, external_id or email');
  });
});

describe('segments import progress', () => {
  const big = `email,mrr\n${Array.from({ length: 50 }, (_, i) => `u${i}@x,${i === 7 ? 'x' : i}`).join('\n')}\n`;

  /** A store whose every batch takes 2 s of a fake clock. */
  function slowSink(clock: { t: number }): ContactSink {
    const inner = new MemorySink([{ key: 'mrr', type: 'number' }]);
    return { schema: () => inner.schema(), writeBatch: async (ws, rows) => { clock.t += 2000; return inner.writeBatch(ws, rows); } };
  }

  it('on a terminal: a bar redrawn in place with bytes, rows/s and rejections, cleared before the summary', async () => {
    const clock = { t: 0 };
    const stderr = capture(true);
    const { code } = await run({ file: await file('bar.csv', big), batchSize: 10, stderr, now: () => clock.t }, slowSink(clock));
    expect(code).toBe(EXIT_ROWS_REJECTED);
    const text = stderr.text();
    const frames = text.split('\r').filter((f) => /^[█░]/.test(f));
    // After each batch of 10 rows (the report at the end comes at the same moment: not redrawn).
    expect(frames.map((f) => f.match(/ (\d+) rows,/)?.[1])).toEqual(['10', '20', '30', '40', '50']);
    expect(frames[0]).toMatch(/^█*░* +\d+%  [\d.]+ KiB of [\d.]+ KiB, 10 rows, 5 rows\/s, 1 rejected\x1b\[K$/);
    expect(frames[4]).toMatch(/^█{24} 100% .*50 rows, 5 rows\/s, 1 rejected/);
    expect(text).toMatch(/\r\x1b\[Ksegments import: bar\.csv/);
  });

  it('on a narrow terminal the bar is cut to its width', async () => {
    const clock = { t: 0 };
    const stderr = Object.assign(capture(true), { columns: 30 });
    await run({ file: await file('narrow.csv', big), batchSize: 10, stderr, now: () => clock.t }, slowSink(clock));
    const frames = stderr.text().split('\r').filter((f) => /^[█░]/.test(f));
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect(f.replace('\x1b[K', '')).toHaveLength(29);
  });

  it('without a terminal: a line every few seconds, not a bar', async () => {
    const clock = { t: 0 };
    const stderr = capture(false);
    await run({ file: await file('log.csv', big), batchSize: 10, stderr, now: () => clock.t, progressEveryMs: 5000 }, slowSink(clock));
    // Batches end at 2, 4, 6, 8 and 10 s: a line at 6 s, the next one due at 11 s, after the end.
    const lines = stderr.text().split('\n').filter((l) => l.includes('rows/s') && l.includes('%'));
    expect(lines).toEqual([expect.stringMatching(/^segments import: \d+% \(.* of .*\), 30 rows, 5 rows\/s, 1 rejected$/)]);
    expect(stderr.text()).not.toContain('\r');
  });

  it('--quiet: no progress, only the summary', async () => {
    const clock = { t: 0 };
    const stderr = capture(true);
    await run({ file: await file('quiet.csv', big), batchSize: 10, stderr, now: () => clock.t, quiet: true }, slowSink(clock));
    expect(stderr.text()).not.toContain('rows/s,');
    expect(stderr.text()).toMatch(/^segments import: quiet\.csv/);
  });
});

const pgUrl = await postgresTestUrl();

describe.each(['sqlite', 'postgres'] as const)('segments import into the real store on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null;

  it.skipIf(skip)('the same file twice: the same contacts and membership, the second run all unchanged; verify finds no difference', async () => {
    const e = await openEngine(dialect, dialect === 'postgres' ? pgUrl : null);
    try {
      await writeTransaction(e.database, (tx) => createAttribute(tx, e.workspaceId, { key: 'mrr', type: 'number' }));
      const vip = await writeTransaction(e.database, (tx) => createSegment(tx, e.workspaceId, { name: 'VIP', condition: { attr: 'tags', op: 'contains', value: 'vip' } }, e.clock.now));
      await runBackfills(e.database, e.states, { clock: () => e.clock.now });
      const rows = Array.from({ length: 120 }, (_, i) => `e${i},u${i}@x.io,"User ${i}",${i === 5 ? 'n/a' : i},${i % 3 === 0 ? 'vip;beta' : 'beta'}`);
      const path = await file(`store-${dialect}.csv`, `external_id,email,name,mrr,tags\r\n${rows.join('\r\n')}\r\n`);

      const first = await run({ file: path, quiet: true, workspaceId: e.workspaceId, batchSize: 50 }, e.writes);
      expect(first.code).toBe(EXIT_ROWS_REJECTED);
      expect(first.stderr).toContain('  rows read 120\n  created   119\n  updated     0\n  unchanged   0\n  rejected    1\n');
      expect(first.stderr).toContain('row 6 (line 7), column mrr:');
      expect((await getSegment(e.database.db, e.workspaceId, vip.id)).memberCount).toBe(40);

      const second = await run({ file: path, quiet: true, workspaceId: e.workspaceId, batchSize: 7 }, e.writes);
      expect(second.stderr).toContain('  rows read 120\n  created     0\n  updated     0\n  unchanged 119\n  rejected    1\n');
      expect((await getSegment(e.database.db, e.workspaceId, vip.id)).memberCount).toBe(40);

      // A partial file: empty cells keep values; the list cell replaces the list.
      const partial = await file(`partial-${dialect}.csv`, 'external_id,name,mrr,tags\ne0,,,beta\ne1,Renamed,,\n');
      expect((await run({ file: partial, quiet: true, workspaceId: e.workspaceId }, e.writes)).code).toBe(EXIT_IMPORTED);
      const e0 = await e.writes.get(e.workspaceId, (await e.writes.upsert(e.workspaceId, { external_id: 'e0' })).id);
      expect(e0).toMatchObject({ values: { name: 'User 0', mrr: 0, tags: ['beta'] } });
      expect((await getSegment(e.database.db, e.workspaceId, vip.id)).memberCount).toBe(39);
      expect(await verifyWorkspace(e.database, e.states, e.workspaceId, e.clock.now)).toEqual([]);
    } finally {
      await e.close();
    }
  });
});
