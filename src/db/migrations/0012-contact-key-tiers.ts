// SQLite: the lookups by e-mail and external id in two tiers, instead of two indexes of contacts.
//
// Upserts find a contact by its folded e-mail (slot t1) or external id (t5). Indexed on contacts,
// those keys are in no relation to the order contacts are written in: at 1M contacts an import's
// batch of 1,000 new contacts put its entries on ~950 leaves of each index, some 1,860 of the ~2,500
// pages each commit wrote to the WAL, every one copied again by the checkpoint. Now the keys live
// in two tables of the same shape, kept by triggers on contacts:
// - contact_keys_recent, where every new key goes: small, so a batch's keys land on few leaves;
// - contact_keys, into which the recent tier is merged (contact-keys.ts) once it holds tens of
//   thousands of keys: one sorted pass that writes each leaf it meets once, however many keys it
//   brings there.
// A lookup reads both. A contact has at most one key of each kind, in one of the tiers: an update
// of t1 or t5 deletes the old key from both and adds the new one to the recent tier; a delete
// removes both keys. See bench:import in docs/architecture.md.
//
// PostgreSQL keeps its two indexes: its b-tree pages are not rewritten whole at every commit, and
// its import is not where the 60 s target lies.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

/** The `kind` of a key: which attribute it is the folded value of. */
export const KEY_KIND = { email: 1, external_id: 2 } as const;

const TIERS = ['contact_keys', 'contact_keys_recent'] as const;

/** The statements that delete a contact's old key of one kind from both tiers (inside a trigger). */
function deleteOldKey(kind: number, column: string): string {
  return TIERS.map((t) => `delete from ${t} where workspace_id = old.workspace_id and kind = ${kind} and key = old.${column} and contact_pk = old.pk;`).join('\n  ');
}

function addNewKey(kind: number, column: string): string {
  return `insert into contact_keys_recent select new.workspace_id, ${kind}, new.${column}, new.pk where new.${column} is not null;`;
}

const KEYS = [[KEY_KIND.email, 't1'], [KEY_KIND.external_id, 't5']] as const;

export function contactKeyTiersMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      for (const table of TIERS) {
        await sql`create table ${sql.table(table)} (
          workspace_id text not null, kind integer not null, key text not null, contact_pk integer not null,
          primary key (workspace_id, kind, key, contact_pk)) without rowid`.execute(db);
      }
      for (const [kind, column] of KEYS) {
        await sql`insert into contact_keys select workspace_id, ${sql.lit(kind)}, ${sql.ref(column)}, pk from contacts
          where ${sql.ref(column)} is not null order by 1, 2, 3, 4`.execute(db);
      }
      await sql`drop index contacts_email`.execute(db);
      await sql`drop index contacts_external_id`.execute(db);
      await sql.raw(`create trigger contacts_keys_insert after insert on contacts begin
  ${KEYS.map(([kind, column]) => addNewKey(kind, column)).join('\n  ')}
end`).execute(db);
      for (const [kind, column] of KEYS) {
        await sql.raw(`create trigger contacts_keys_update_${column} after update of ${column} on contacts when old.${column} is not new.${column} begin
  ${deleteOldKey(kind, column)}
  ${addNewKey(kind, column)}
end`).execute(db);
      }
      await sql.raw(`create trigger contacts_keys_delete after delete on contacts begin
  ${KEYS.map(([kind, column]) => deleteOldKey(kind, column)).join('\n  ')}
end`).execute(db);
    },
    async down(db: Kysely<any>) {
      if (dialect !== 'sqlite') return;
      for (const trigger of ['contacts_keys_insert', 'contacts_keys_update_t1', 'contacts_keys_update_t5', 'contacts_keys_delete']) {
        await sql`drop trigger ${sql.raw(trigger)}`.execute(db);
      }
      for (const table of TIERS) await sql`drop table ${sql.table(table)}`.execute(db);
      await db.schema.createIndex('contacts_email').on('contacts').columns(['workspace_id', 't1']).execute();
      await db.schema.createIndex('contacts_external_id').on('contacts').columns(['workspace_id', 't5']).execute();
    },
  };
}
