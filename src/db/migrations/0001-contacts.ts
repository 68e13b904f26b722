// The first migration: contacts storage shared by all workspaces. Attributes map to typed slot
// columns (see tables.ts), so a custom attribute never needs DDL; list elements get rows.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { SLOT_COUNTS } from '../tables.js';
import type { SlotLetter } from '../tables.js';

type ColumnTypes = Record<'pk' | 'int8' | SlotLetter, 'integer' | 'bigint' | 'text' | 'real' | 'double precision' | 'smallint'>;

const TYPES: Readonly<Record<Dialect, ColumnTypes>> = {
  // SQLite: INTEGER PRIMARY KEY is the rowid; types are affinities.
  sqlite: { pk: 'integer', int8: 'integer', t: 'text', n: 'real', d: 'integer', b: 'integer' },
  postgres: { pk: 'bigint', int8: 'bigint', t: 'text', n: 'double precision', d: 'bigint', b: 'smallint' },
};

export function contactsMigration(dialect: Dialect): Migration {
  const types = TYPES[dialect];
  return {
    async up(db: Kysely<any>) {
      let contacts = db.schema.createTable('contacts')
        .addColumn('pk', types.pk, (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()))
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_ms', types.int8, (c) => c.notNull())
        .addColumn('updated_ms', types.int8, (c) => c.notNull())
        .addUniqueConstraint('contacts_workspace_id_id_key', ['workspace_id', 'id']);
      for (const letter of Object.keys(SLOT_COUNTS) as SlotLetter[]) {
        for (let i = 1; i <= SLOT_COUNTS[letter]; i++) contacts = contacts.addColumn(`${letter}${i}`, types[letter]);
      }
      await contacts.execute();

      let lists = db.schema.createTable('contact_list_values')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('contact_pk', types.int8, (c) => c.notNull().references('contacts.pk').onDelete('cascade'))
        .addColumn('attr', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        // The key is the lookup a list rule makes: workspace, attribute, element → contacts.
        .addPrimaryKeyConstraint('contact_list_values_pkey', ['workspace_id', 'attr', 'value', 'contact_pk']);
      // SQLite: cluster the rows by that key instead of keeping a rowid table plus an index.
      if (dialect === 'sqlite') lists = lists.modifyEnd(sql`without rowid`);
      await lists.execute();
      await db.schema.createIndex('contact_list_values_contact_pk').on('contact_list_values').column('contact_pk').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('contact_list_values').execute();
      await db.schema.dropTable('contacts').execute();
    },
  };
}
