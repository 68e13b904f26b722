// `segments export`: the workspace's contacts as CSV — all of them, or those a condition picks —
// to standard output or a file, in the format `GET /v1/contacts/export` sends and `segments
// import` reads back.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { App } from '../app.js';
import { contactsCsv } from '../contacts/contact-csv.js';
import { contactPages, listContext } from '../contacts/contact-list.js';
import { readConditionArgument } from './condition-argument.js';

export interface ExportCommandOptions {
  readonly workspaceId: string;
  /** The condition as JSON text, as the user typed it. */
  readonly condition?: string;
  /** A file to write; standard output when absent. */
  readonly out?: string;
}

/** Writes the CSV; an invalid condition throws before anything is written. */
export async function runExport(app: App, options: ExportCommandOptions): Promise<number> {
  const state = await app.states.get(app.database.db, options.workspaceId);
  // The filter a contact list takes: every segments operator, "in no segment" included.
  const condition = options.condition === undefined ? null
    : readConditionArgument(state, options.condition, '--condition', { segments: 'conversation', isKnownSegment: (id) => state.byId.has(id) });
  const pages = contactPages(app.database.db, listContext(state), condition);
  const sink = options.out === undefined ? process.stdout : createWriteStream(options.out);
  try {
    // stdout stays open for whatever the process writes next; a file is closed when the CSV ends.
    await pipeline(Readable.from(contactsCsv(state.schema, pages)), sink, { end: options.out !== undefined });
  } catch (error) {
    // A reader that stopped early (`segments export | head`) is not a failure: stop quietly, as `cat` does.
    if (options.out === undefined && (error as { code?: string }).code === 'EPIPE') return 0;
    throw error;
  }
  return 0;
}
