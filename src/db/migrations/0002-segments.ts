// Workspaces, the attribute schema, segments and their stored membership, the event outbox, and
// the bookkeeping of backfills and time refresh. Every table carries workspace_id.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function segmentsMigration(dialect: Dialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = (c: any) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement());
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('workspaces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC'))
        // Bumped by every change of the schema or of a segment definition: a process compares it
        // with the one it compiled for, and recompiles when it moved (so processes stay in step).
        .addColumn('config_version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_ms', int8, (c) => c.notNull())
        .execute();

      await db.schema.createTable('attributes')
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('options', 'text') // JSON array, enum only
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('standard', 'integer', (c) => c.notNull().defaultTo(0))
        // Where the values live: a slot column of contacts (t3, n1, …) or 'list'. Given once, kept.
        .addColumn('storage', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_ms', int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('attributes_pkey', ['workspace_id', 'key'])
        .execute();

      await db.schema.createTable('segments')
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_folded', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('kind', 'text', (c) => c.notNull()) // dynamic | manual
        .addColumn('condition', 'text') // JSON; dynamic: the definition; manual: the auto-apply rule or null
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        // The version whose membership is stored and read; behind `version` while a backfill builds.
        .addColumn('active_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('active_condition', 'text')
        .addColumn('status', 'text', (c) => c.notNull()) // building | ready | failed
        .addColumn('status_detail', 'text')
        .addColumn('member_count', int8, (c) => c.notNull().defaultTo(0))
        .addColumn('created_ms', int8, (c) => c.notNull())
        .addColumn('updated_ms', int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('segments_pkey', ['workspace_id', 'id'])
        .addUniqueConstraint('segments_name_key', ['workspace_id', 'name_folded'])
        .execute();

      let memberships = db.schema.createTable('segment_members')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('segment_id', 'text', (c) => c.notNull())
        .addColumn('contact_pk', int8, (c) => c.notNull())
        .addColumn('since_ms', int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('segment_members_pkey', ['workspace_id', 'segment_id', 'contact_pk']);
      if (dialect === 'sqlite') memberships = memberships.modifyEnd(sql`without rowid`);
      await memberships.execute();
      await db.schema.createIndex('segment_members_contact').on('segment_members').columns(['contact_pk', 'segment_id']).execute();

      // The next membership a backfill job is building, read by nobody until it replaces the stored one.
      let builds = db.schema.createTable('segment_builds')
        .addColumn('job_id', int8, (c) => c.notNull())
        .addColumn('contact_pk', int8, (c) => c.notNull())
        .addPrimaryKeyConstraint('segment_builds_pkey', ['job_id', 'contact_pk']);
      if (dialect === 'sqlite') builds = builds.modifyEnd(sql`without rowid`);
      await builds.execute();

      await db.schema.createTable('segment_events')
        .addColumn('seq', int8, serial)
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull()) // segment.entered | segment.left | segment.deleted
        .addColumn('segment_id', 'text', (c) => c.notNull())
        .addColumn('segment_version', 'integer', (c) => c.notNull())
        .addColumn('contact_id', 'text') // null for segment.deleted
        .addColumn('at_ms', int8, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('segment_events_feed').on('segment_events').columns(['workspace_id', 'seq']).execute();

      await db.schema.createTable('segment_jobs')
        .addColumn('id', int8, serial)
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('segment_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull()) // pending | done | failed | cancelled
        .addColumn('cursor_pk', int8, (c) => c.notNull().defaultTo(0))
        .addColumn('processed', int8, (c) => c.notNull().defaultTo(0))
        .addColumn('total', int8, (c) => c.notNull().defaultTo(0))
        .addColumn('detail', 'text')
        .addColumn('created_ms', int8, (c) => c.notNull())
        .addColumn('updated_ms', int8, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('segment_jobs_pending').on('segment_jobs').columns(['status', 'id']).execute();

      // The earliest instant at which any segment's result may change for the contact with no
      // write (relative dates): the time refresh re-evaluates exactly the contacts that are due.
      await db.schema.alterTable('contacts').addColumn('next_change_ms', int8).execute();
      await db.schema.createIndex('contacts_next_change').on('contacts').columns(['next_change_ms']).execute();
      // Upsert by the identity attributes: email (slot t1) and external_id (slot t5), folded.
      await db.schema.createIndex('contacts_email').on('contacts').columns(['workspace_id', 't1']).execute();
      await db.schema.createIndex('contacts_external_id').on('contacts').columns(['workspace_id', 't5']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('contacts_external_id').execute();
      await db.schema.dropIndex('contacts_email').execute();
      await db.schema.dropIndex('contacts_next_change').execute();
      await db.schema.alterTable('contacts').dropColumn('next_change_ms').execute();
      for (const t of ['segment_jobs', 'segment_events', 'segment_builds', 'segment_members', 'segments', 'attributes', 'workspaces']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}
