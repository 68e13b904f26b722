// The import's reading thread (started by drafting-reader.ts): it reads the file, decodes it, reads
// the rows (row-sources.ts, as an import in one thread would), and drafts each row as a new
// contact's write (new-contact-draft.ts) at the instant the writer will write its batch at. It
// sends whole batches, each at the next instant the writer gave it; it never touches the store.
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { FileText, ImportRefused, rowRecord, rowSource } from '../contacts/import/row-sources.js';
import type { ReadRow } from '../contacts/import/row-sources.js';
import { draftNewContact } from './new-contact-draft.js';
import type { DraftingWorkerData, FromWorker, ToWorker, WireRow } from './drafting-protocol.js';
import { compileWorkspaceConfig } from './workspace-state.js';

const port = parentPort!;
const { path, config, format, batchSize, maxRowChars, maxBacklog } = workerData as DraftingWorkerData;
const post = (message: FromWorker) => port.postMessage(message);
let failed = false;
const fail = (error: unknown) => {
  if (failed) return;
  failed = true;
  if (error instanceof ImportRefused) post({ type: 'refused', problems: [...error.problems] });
  else post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  stream.destroy();
};

let state = compileWorkspaceConfig(config);
const rows = rowSource(format, new Map(state.schema.map((def) => [def.key, def])), maxRowChars);
const text = new FileText();
let backlog: ReadRow[] = [];
let next = 0; // the first row of `backlog` not yet sent
const nows: number[] = [];
let ended = false;
let finished = false;

function wire(read: ReadRow, now: number): WireRow {
  if ('problems' in read) return read;
  return { row: read.row, line: read.line, identified: read.identified, json: read.json ?? JSON.stringify(rowRecord(read)), draft: draftNewContact(state, read.keys, read.values, now) };
}

/** Sends every whole batch there is an instant for (and the last, short one at the end); reads on while the backlog is small. */
function pump(): void {
  if (failed) return;
  while (nows.length > 0 && (backlog.length - next >= batchSize || (ended && backlog.length > next))) {
    const now = nows.shift()!;
    const batch = backlog.slice(next, next + batchSize).map((read) => wire(read, now));
    next += batch.length;
    post({ type: 'batch', now, bytesRead: text.bytesRead, rows: batch });
  }
  if (next >= batchSize) { backlog = backlog.slice(next); next = 0; }
  if (ended) {
    if (next === backlog.length && !finished) { finished = true; post({ type: 'done', bytesRead: text.bytesRead }); }
  } else if (backlog.length - next < maxBacklog) stream.resume();
  else stream.pause();
}

const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
stream.on('data', (chunk) => {
  try {
    for (const read of rows.write(text.decode(chunk as Buffer))) backlog.push(read);
    pump();
  } catch (error) { fail(error); }
});
stream.on('end', () => {
  try {
    for (const read of rows.write(text.end())) backlog.push(read);
    for (const read of rows.end()) backlog.push(read);
    ended = true;
    pump();
  } catch (error) { fail(error); }
});
stream.on('error', fail);

port.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'config') state = compileWorkspaceConfig(message.config);
    else nows.push(message.now);
    pump();
  } catch (error) { fail(error); }
});
