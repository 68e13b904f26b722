// The messages between an import's writer (drafting-reader.ts) and its reading thread
// (drafting-worker.ts). Rows cross as plain data; a draft as the fields new-contact-draft.ts gives.
import type { ImportFormat, RefusalProblem } from '../contacts/import/row-sources.js';
import type { Rejection } from '../contacts/import/import-ledger.js';
import type { NewContactDraft } from './new-contact-draft.js';
import type { WorkspaceConfig } from './workspace-state.js';

export interface DraftingWorkerData {
  /** The file to import: the worker reads it itself, so reading never waits for the writer's thread. */
  readonly path: string;
  readonly config: WorkspaceConfig;
  readonly format: ImportFormat;
  readonly batchSize: number;
  readonly maxRowChars?: number;
  /** Rows read and not yet sent past which the worker stops reading for a while. */
  readonly maxBacklog: number;
}

export type ToWorker =
  /** The instant the next batch is to be written at. */
  | { readonly type: 'now'; readonly now: number }
  /** The workspace changed (a definition, the schema): the batches after this are drafted under it. */
  | { readonly type: 'config'; readonly config: WorkspaceConfig };

/** A row as it crosses: rejected already, or its JSON text, and its draft when it has one. */
export type WireRow =
  | { readonly row: number; readonly line: number; readonly problems: Rejection[] }
  | { readonly row: number; readonly line: number; readonly identified: boolean; readonly json: string; readonly draft: NewContactDraft | undefined };

export type FromWorker =
  | { readonly type: 'batch'; readonly now: number; readonly bytesRead: number; readonly rows: WireRow[] }
  | { readonly type: 'done'; readonly bytesRead: number }
  | { readonly type: 'refused'; readonly problems: RefusalProblem[] }
  | { readonly type: 'failed'; readonly message: string };
