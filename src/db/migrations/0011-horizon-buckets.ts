// The time refresh's index (contacts_next_change) kept in the order contacts are written in.
//
// The refresh finds the contacts whose stored horizon (next_change_ms: when a relative-date result
// may flip) has come. Indexed by the horizon itself, an import's batch of 1,000 new contacts put
// its entries on ~880 leaves at 1M contacts (horizons are as random as the dates they come from):
// a page each written to the WAL at every commit, then copied by the checkpoint. Now the index is
// ordered by the horizon's bucket of 2^27 ms (~1.6 days), then by pk: new contacts have the highest
// pks, so a batch appends at the end of each bucket it meets, a few dozen leaves. The refresh reads
// every bucket up to the current one and keeps the entries that are due (the index holds the
// horizon too, so no row is read for that): the current bucket's entries are the ones it reads in
// vain, at most ~1.6 days of horizons. See bench:import and bench:time in docs/architecture.md.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/** A horizon's bucket is next_change_ms >> HORIZON_BUCKET_BITS (the refresh's query names it: time-refresh.ts). */
export const HORIZON_BUCKET_BITS = 27;

export function horizonBucketsMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      await sql`drop index contacts_next_change`.execute(db);
      await sql`create index contacts_horizon on contacts ((next_change_ms >> ${sql.raw(String(HORIZON_BUCKET_BITS))}), pk, next_change_ms)`.execute(db);
    },
    async down(db: Kysely<any>) {
      await sql`drop index contacts_horizon`.execute(db);
      await sql`create index contacts_next_change on contacts (next_change_ms)`.execute(db);
    },
  };
}
