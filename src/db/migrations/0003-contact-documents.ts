// Each contact's values as written (JSON) move out of `contacts` into a table of their own. A
// count scans `contacts`; with ~700 bytes of JSON in every row it read four rows per page, and a
// full-scan count took twice as long as over the slot columns alone (measured in memory on SQLite,
// 300k rows: 72 ms → 36 ms). The document is read only to show or merge one contact.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function contactDocumentsMigration(dialect: Dialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('contact_documents')
        .addColumn('contact_pk', int8, (c) => c.primaryKey().references('contacts.pk').onDelete('cascade'))
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into contact_documents (contact_pk, workspace_id, document) select pk, workspace_id, attributes from contacts`.execute(db);
      await db.schema.alterTable('contacts').dropColumn('attributes').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('contacts').addColumn('attributes', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await sql`update contacts set attributes = (select document from contact_documents d where d.contact_pk = contacts.pk)`.execute(db);
      await db.schema.dropTable('contact_documents').execute();
    },
  };
}
