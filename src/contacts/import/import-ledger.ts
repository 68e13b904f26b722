// The ledger an import ends with: every row read is counted once, as created, updated, unchanged or
// rejected, and each rejected row carries its reasons.

/** One reason a row was rejected. A row with several problems has several rejections. */
export interface Rejection {
  /** The data row, 1-based (the CSV header is not a row; blank lines and rows of empty cells are not rows). */
  readonly row: number;
  /** The line of the file where the row starts, 1-based (for CSV the header is line 1). */
  readonly line: number;
  /** The column (CSV) or key (JSON Lines) at fault, when one is. */
  readonly column?: string;
  readonly reason: string;
}

export interface ImportCounts {
  readonly rowsRead: number;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Rows rejected (not problems: a row with two problems counts once). */
  readonly rejected: number;
}

export interface ImportLedger extends ImportCounts {
  readonly format: 'csv' | 'jsonl';
  /** Bytes of the file read. */
  readonly bytesRead: number;
  /** The first rejections, in row order (all of them unless `rejectionsOmitted` > 0). */
  readonly rejections: readonly Rejection[];
  /** Rejections past the ones kept in `rejections` (every one was still given to `onRejection`). */
  readonly rejectionsOmitted: number;
  /**
   * Contacts created from rows with no `id`, `external_id` or `email`: nothing identifies them, so
   * importing the same file again creates them again.
   */
  readonly createdWithoutKey: number;
}

/** rows read = created + updated + unchanged + rejected: the promise every import keeps. */
export function ledgerAddsUp(counts: ImportCounts): boolean {
  return counts.rowsRead === counts.created + counts.updated + counts.unchanged + counts.rejected;
}

/** Counts as the import goes. Rows are settled in row order. */
export class LedgerBuilder {
  rowsRead = 0;
  created = 0;
  updated = 0;
  unchanged = 0;
  rejected = 0;
  bytesRead = 0;
  createdWithoutKey = 0;
  private readonly rejections: Rejection[] = [];
  private rejectionsOmitted = 0;

  constructor(
    private readonly format: 'csv' | 'jsonl',
    private readonly keepRejections: number,
    private readonly onRejection?: (rejection: Rejection) => void,
  ) {}

  // A row is counted as read when it is settled, so a ledger taken part-way (an import that stopped)
  // counts exactly the rows written or rejected, and adds up too.
  settle(outcome: 'created' | 'updated' | 'unchanged'): void {
    this.rowsRead++;
    this[outcome]++;
  }

  reject(problems: readonly Rejection[]): void {
    this.rowsRead++;
    this.rejected++;
    for (const problem of problems) {
      if (this.rejections.length < this.keepRejections) this.rejections.push(problem);
      else this.rejectionsOmitted++;
      this.onRejection?.(problem);
    }
  }

  counts(): ImportCounts {
    return { rowsRead: this.rowsRead, created: this.created, updated: this.updated, unchanged: this.unchanged, rejected: this.rejected };
  }

  ledger(): ImportLedger {
    return {
      format: this.format,
      ...this.counts(),
      bytesRead: this.bytesRead,
      rejections: [...this.rejections],
      rejectionsOmitted: this.rejectionsOmitted,
      createdWithoutKey: this.createdWithoutKey,
    };
  }
}
