// Group commit for single-contact writes. An API server receives writes of one contact each, many
// at once; committing each in its own transaction makes the commit (and on SQLite the WAL pages it
// appends: the counts, the events, the B-tree's inner pages) the largest part of every write. So
// the writes that arrive while a transaction runs wait, and go together in the next one: one
// BEGIN IMMEDIATE, one read of the workspace's state, one count update and one commit for all of
// them, rows applied in their order of arrival exactly as one at a time would apply them. A caller
// is answered only once its group has committed. A row that does not fit is `rejected` by itself
// as in any batch; if a group fails as a whole (an error no row could report), each of its writes
// runs again alone, so one write's failure is never another's.
import type { RowOutcome } from '../contacts/import/contact-sink.js';
import type { Database } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { NotFound } from '../errors.js';

/** One write: the row as an import would give it; `mustExist` for a PATCH (never creates). */
export interface SingleWrite {
  readonly workspaceId: string;
  readonly row: Readonly<Record<string, unknown>>;
  /** The row's `id` must name an existing contact: otherwise the write is `NotFound`, nothing written. */
  readonly mustExist: boolean;
}

/** Writes one workspace's rows in the caller's transaction; the outcome of each, in order. */
export type WriteGroup = (tx: Tx, workspaceId: string, rows: ReadonlyArray<Readonly<Record<string, unknown>>>) => Promise<RowOutcome[]>;

/** SQLite has one writer, so one group at a time; PostgreSQL takes a few at once over its pool. */
const GROUPS_IN_FLIGHT = { sqlite: 1, postgres: 4 } as const;
/** Past this a group is split: a longer transaction would hold the writer for longer than it saves. */
const MAX_GROUP = 64;

interface Waiting extends SingleWrite {
  resolve(outcome: RowOutcome): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly database: Database, private readonly writeGroup: WriteGroup) {}

  write(write: SingleWrite): Promise<RowOutcome> {
    return new Promise<RowOutcome>((resolve, reject) => {
      this.waiting.push({ ...write, resolve, reject });
      this.schedule();
    });
  }

  /** After the current turn of the event loop, so that the writes parsed in it go together. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= GROUPS_IN_FLIGHT[this.database.dialect]) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.waiting.length > 0 && this.inFlight < GROUPS_IN_FLIGHT[this.database.dialect]) {
        void this.run(this.waiting.splice(0, MAX_GROUP));
      }
    });
  }

  private async run(group: Waiting[]): Promise<void> {
    this.inFlight++;
    try {
      let outcomes: Array<RowOutcome | Error>;
      try {
        outcomes = await writeTransaction(this.database, (tx) => this.writeAll(tx, group));
      } catch (error) {
        if (group.length === 1 || !worthRetryingAlone(error)) {
          for (const w of group) w.reject(error);
          return;
        }
        // Something only a whole transaction can fail on: each write again in its own.
        outcomes = [];
        for (const one of group) {
          outcomes.push(await writeTransaction(this.database, (tx) => this.writeAll(tx, [one])).then((o) => o[0], (e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
        }
      }
      group.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) w.reject(outcome);
        else w.resolve(outcome);
      });
    } finally {
      this.inFlight--;
      if (this.waiting.length > 0) this.schedule();
    }
  }

  /** The group's writes, workspace by workspace (each workspace's rows in their order of arrival). */
  private async writeAll(tx: Tx, group: readonly Waiting[]): Promise<Array<RowOutcome | Error>> {
    const outcomes: Array<RowOutcome | Error> = new Array(group.length);
    const byWorkspace = new Map<string, number[]>();
    group.forEach((w, i) => {
      const indexes = byWorkspace.get(w.workspaceId);
      if (indexes) indexes.push(i);
      else byWorkspace.set(w.workspaceId, [i]);
    });
    for (const [workspaceId, indexes] of byWorkspace) {
      // Existence is decided before any row is written: a PATCH never creates, even a contact that
      // a write earlier in the same group creates (the two were concurrent; either order is valid).
      const mustExist = indexes.filter((i) => group[i].mustExist).map((i) => String(group[i].row.id));
      const existing = mustExist.length === 0 ? new Set<string>() : new Set((await tx.selectFrom('contacts').select('id')
        .where('workspace_id', '=', workspaceId).where('id', 'in', [...new Set(mustExist)]).execute()).map((r) => r.id));
      const written = indexes.filter((i) => {
        if (!group[i].mustExist || existing.has(String(group[i].row.id))) return true;
        outcomes[i] = new NotFound('contact', String(group[i].row.id));
        return false;
      });
      if (written.length === 0) continue;
      const results = await this.writeGroup(tx, workspaceId, written.map((i) => group[i].row));
      written.forEach((i, k) => { outcomes[i] = results[k]; });
    }
    return outcomes;
  }
}

/**
 * Whether running the writes one at a time could get some of them through: not when the database
 * could not be had at all (SQLite's write lock not free within the busy timeout; PostgreSQL's
 * connection lost or the server shutting down) — each alone would wait and fail the same way.
 */
function worthRetryingAlone(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return true;
  return code !== 'SQLITE_BUSY' && !code.startsWith('08') && code !== '57P01' && code !== '57P03';
}
