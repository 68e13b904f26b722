// `segments import FILE`: streams a CSV or JSON Lines file into a workspace's contacts, with a
// progress bar on a terminal (a line every few seconds otherwise) and a summary: the ledger, the
// first rejections, and with `--errors FILE` every rejection as CSV.
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { csvLine } from '../contacts/contact-csv.js';
import type { ContactSink } from '../contacts/import/contact-sink.js';
import { formatOfFileName, importContacts, ImportRefused, ImportStopped, MAX_BATCH_SIZE } from '../contacts/import/import-contacts.js';
import type { ImportFormat, ImportProgress, RefusalProblem } from '../contacts/import/import-contacts.js';
import type { ImportLedger, Rejection } from '../contacts/import/import-ledger.js';

export const EXIT_IMPORTED = 0;
/** Some rows were rejected; the others went in. */
export const EXIT_ROWS_REJECTED = 1;
/** The file was refused (or could not be opened): nothing was written. */
export const EXIT_REFUSED = 2;
/** Writing or reading failed part-way: the rows counted in the summary were written; importing the file again completes it. */
export const EXIT_STOPPED = 3;

/** Rejections shown in the summary; the rest go to `--errors FILE`. */
export const SHOWN_REJECTIONS = 20;

export interface ImportCommandOptions {
  readonly file: string;
  readonly workspaceId: string;
  readonly sink: ContactSink;
  /** Default: from the file's extension (.csv, .jsonl, .ndjson). */
  readonly format?: ImportFormat;
  readonly batchSize?: number;
  /** Write every rejection to this file as CSV (row,line,column,reason). */
  readonly errorsFile?: string;
  /** No progress; the summary is still printed. */
  readonly quiet?: boolean;
  readonly stderr: NodeJS.WritableStream;
  /** The clock in milliseconds (tests pass their own). */
  readonly now?: () => number;
  /** Without a terminal, a progress line this often (ms). Default 5,000. */
  readonly progressEveryMs?: number;
  /** How messages name the input (default: the file's path). */
  readonly displayName?: string;
}

/**
 * `segments import -`: standard input, copied to a temporary file first (the import reads its file
 * twice over: a second thread drafts rows ahead, and the progress bar needs the size), then
 * imported as `standard input`. The format must be named: there is no file name to tell it.
 */
export async function runImportOfStdin(options: ImportCommandOptions, stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<number> {
  const refuse = (message: string) => { options.stderr.write(`segments import: ${message}\n`); return EXIT_REFUSED; };
  if (options.format === undefined) return refuse('reading standard input (-) needs --format csv or --format jsonl');
  if (stdin.isTTY) return refuse('- reads standard input: pipe a file in (segments import - --format csv < contacts.csv)');
  const dir = await mkdtemp(join(tmpdir(), 'segments-stdin-'));
  try {
    const file = join(dir, 'standard input');
    await pipeline(stdin, createWriteStream(file));
    return await runImport({ ...options, file, displayName: 'standard input' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runImport(options: ImportCommandOptions): Promise<number> {
  const { file, stderr } = options;
  const shown = options.displayName ?? file;
  const now = options.now ?? (() => performance.now());
  const say = (text: string) => stderr.write(`${text}\n`);
  const fail = (message: string) => {
    say(`segments import: ${message}`);
    return EXIT_REFUSED;
  };

  const format = options.format ?? formatOfFileName(file);
  if (format === null) return fail(`cannot tell the format of ${file} from its name: use --format csv or --format jsonl`);
  const batchSize = options.batchSize;
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE)) {
    return fail(`--batch-size must be a whole number from 1 to ${MAX_BATCH_SIZE.toLocaleString('en-US')}`);
  }
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) return fail(`${file} is not a file`);
    size = info.size;
  } catch (error) {
    return fail(`cannot read ${file}: ${(error as Error).message}`);
  }
  let errors: ErrorsFile | null = null;
  if (options.errorsFile !== undefined) {
    if (resolve(options.errorsFile) === resolve(file)) return fail('--errors names the file being imported; give another file');
    try {
      errors = await ErrorsFile.open(options.errorsFile);
    } catch (error) {
      return fail(`cannot write the errors file: ${(error as Error).message}`);
    }
  }

  const progress = options.quiet ? null : new ProgressReporter(stderr, size, now, options.progressEveryMs ?? 5000);
  const started = now();
  let ledger: ImportLedger;
  let stopped: ImportStopped | null = null;
  try {
    ledger = await importContacts(options.sink, options.workspaceId, { path: file }, {
      format,
      batchSize,
      onProgress: progress ? (p) => progress.update(p) : undefined,
      onRejection: errors ? (r) => errors.write(r) : undefined,
    });
  } catch (error) {
    progress?.clear();
    if (error instanceof ImportRefused) {
      errors?.writeRefusal(error.problems);
      await errors?.close();
      say(`segments import: ${shown} was refused; nothing was written:`);
      for (const p of error.problems) say(`  ${p.message}`);
      if (errors) say(`The problems are also in ${options.errorsFile}.`);
      return EXIT_REFUSED;
    }
    if (!(error instanceof ImportStopped)) {
      await errors?.close();
      throw error;
    }
    stopped = error;
    ledger = error.ledger;
  }
  progress?.clear();
  await errors?.close();
  if (errors?.failure) say(`segments import: could not write every rejection to ${options.errorsFile}: ${errors.failure.message}`);

  const seconds = (now() - started) / 1000;
  for (const line of summary(shown, format, ledger, seconds, options.errorsFile, stopped)) say(line);
  if (stopped) return EXIT_STOPPED;
  return ledger.rejected > 0 ? EXIT_ROWS_REJECTED : EXIT_IMPORTED;
}

const count = (n: number) => n.toLocaleString('en-US');

function summary(file: string, format: ImportFormat, ledger: ImportLedger, seconds: number, errorsFile: string | undefined, stopped: ImportStopped | null): string[] {
  const rate = seconds > 0 ? ` (${count(Math.round(ledger.rowsRead / seconds))} rows/s)` : '';
  const lines = [
    stopped
      ? `segments import: ${basename(file)} stopped after ${count(ledger.rowsRead)} rows: ${causeOf(stopped)}`
      : `segments import: ${basename(file)} (${format === 'csv' ? 'CSV' : 'JSON Lines'}, ${megabytes(ledger.bytesRead)}) in ${seconds.toFixed(1)} s${rate}`,
  ];
  const width = count(ledger.rowsRead).length;
  const row = (label: string, n: number) => `  ${label.padEnd(10)}${count(n).padStart(width)}`;
  lines.push(row('rows read', ledger.rowsRead), row('created', ledger.created), row('updated', ledger.updated), row('unchanged', ledger.unchanged), row('rejected', ledger.rejected));
  if (stopped) {
    lines.push('The rows counted here were written. Importing the same file again completes the import (rows already in are unchanged).');
  }
  if (ledger.createdWithoutKey > 0) {
    lines.push(ledger.createdWithoutKey === 1
      ? 'Note: 1 contact was created from a row with no id, external_id or email; importing the file again creates it again.'
      : `Note: ${count(ledger.createdWithoutKey)} contacts were created from rows with no id, external_id or email; importing the file again creates them again.`);
  }
  if (ledger.rejected > 0) {
    const problems = ledger.rejections.length + ledger.rejectionsOmitted;
    const shown = ledger.rejections.slice(0, SHOWN_REJECTIONS);
    lines.push(`Rejected rows (${problems === 1 ? 'one problem' : problems === shown.length ? `all ${count(problems)} problems` : `the first ${shown.length} of ${count(problems)} problems`}):`);
    for (const r of shown) lines.push(`  ${describeRejection(r)}`);
    if (errorsFile !== undefined) lines.push(`Every rejection is in ${errorsFile}.`);
    else if (problems > shown.length) lines.push('To get every rejection as CSV, import again with --errors FILE (rows already in are unchanged).');
  }
  return lines;
}

function causeOf(stopped: ImportStopped): string {
  const cause = stopped.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

function describeRejection(r: Rejection): string {
  return `row ${count(r.row)} (line ${count(r.line)})${r.column !== undefined ? `, column ${r.column}` : ''}: ${r.reason}`;
}

function megabytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Every rejection as CSV: row,line,column,reason. Written as the import goes, never held whole. */
class ErrorsFile {
  /** A write that failed (a full disk): reported after the import, which goes on. */
  failure: Error | null = null;

  private constructor(private readonly stream: WriteStream) {
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  static async open(path: string): Promise<ErrorsFile> {
    const stream = createWriteStream(path);
    await new Promise<void>((done, failed) => {
      stream.once('open', () => done());
      stream.once('error', failed);
    });
    stream.removeAllListeners('error');
    const file = new ErrorsFile(stream);
    file.line(['row', 'line', 'column', 'reason']);
    return file;
  }

  write(r: Rejection): void {
    this.line([String(r.row), String(r.line), r.column ?? '', r.reason]);
  }

  writeRefusal(problems: readonly RefusalProblem[]): void {
    for (const p of problems) this.line(['', '', p.column ?? '', p.message]);
  }

  async close(): Promise<void> {
    if (this.stream.writableEnded) return;
    this.stream.end();
    await finished(this.stream).catch(() => undefined); // the error is in `failure`
  }

  private line(cells: string[]): void {
    if (this.failure) return;
    this.stream.write(csvLine(cells));
  }
}

/**
 * Progress on standard error: on a terminal a bar redrawn in place (bytes read of the file's size,
 * rows/s over the last few seconds, rows and rejections so far); otherwise a line every few seconds.
 */
class ProgressReporter {
  private readonly tty: boolean;
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly samples: { t: number; rows: number }[] = [];

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly size: number,
    private readonly now: () => number,
    private readonly everyMs: number,
  ) {
    this.tty = (out as { isTTY?: boolean }).isTTY === true;
    this.samples.push({ t: now(), rows: 0 });
    // A terminal shows the bar at once; a log gets its first line only once the import takes a while.
    if (!this.tty) this.lastDraw = now();
  }

  update(p: ImportProgress): void {
    const t = this.now();
    this.samples.push({ t, rows: p.rowsRead });
    while (this.samples.length > 2 && t - this.samples[1].t >= 5000) this.samples.shift();
    if (t - this.lastDraw < (this.tty ? 100 : this.everyMs)) return;
    this.lastDraw = t;
    const first = this.samples[0];
    const rate = t > first.t ? Math.round(((p.rowsRead - first.rows) * 1000) / (t - first.t)) : 0;
    const fraction = this.size > 0 ? Math.min(1, p.bytesRead / this.size) : 1;
    const percent = `${Math.floor(fraction * 100)}%`;
    const rejected = p.rejected > 0 ? `, ${count(p.rejected)} rejected` : '';
    if (this.tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const line = `${bar} ${percent.padStart(4)}  ${megabytes(p.bytesRead)} of ${megabytes(this.size)}, ${count(p.rowsRead)} rows, ${count(rate)} rows/s${rejected}`;
      // A line wider than the terminal would wrap, and `\r` would then redraw only its last part.
      const columns = (this.out as { columns?: number }).columns;
      this.out.write(`\r${columns ? line.slice(0, columns - 1) : line}\x1b[K`);
      this.drawn = true;
    } else {
      this.out.write(`segments import: ${percent} (${megabytes(p.bytesRead)} of ${megabytes(this.size)}), ${count(p.rowsRead)} rows, ${count(rate)} rows/s${rejected}\n`);
    }
  }

  /** Removes the bar before the summary is printed. */
  clear(): void {
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
