// Access: API tokens (stored as SHA-256 digests, never the token) and the segments hidden from
// chosen agents or teams; imports started over HTTP.
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function accessMigration(dialect: Dialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        // An agent token acts as this agent, a member of these teams (JSON array).
        .addColumn('agent_id', 'text')
        .addColumn('teams', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_ms', int8, (c) => c.notNull())
        .addColumn('revoked_ms', int8)
        .execute();
      await db.schema.createIndex('api_tokens_workspace').on('api_tokens').columns(['workspace_id', 'created_ms']).execute();
      await db.schema.createTable('segment_hidden_from')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('segment_id', 'text', (c) => c.notNull())
        .addColumn('principal_kind', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('segment_hidden_from_pkey', ['workspace_id', 'segment_id', 'principal_kind', 'principal_id'])
        .execute();
      // Imports started over HTTP: the client polls the job for progress and the rejections.
      await db.schema.createTable('import_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('bytes', int8, (c) => c.notNull())
        .addColumn('ledger', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('created_ms', int8, (c) => c.notNull())
        .addColumn('updated_ms', int8, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('import_jobs').execute();
      await db.schema.dropTable('segment_hidden_from').execute();
      await db.schema.dropTable('api_tokens').execute();
    },
  };
}
