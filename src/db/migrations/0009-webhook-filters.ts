// A webhook subscription may keep only some events: those of chosen segments, of chosen types
// (`{"segment_ids": [...], "types": [...]}`, either absent for all). Null: every event, as before.
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function webhookFiltersMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('webhook_subscriptions').addColumn('filter', 'text').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.alterTable('webhook_subscriptions').dropColumn('filter').execute();
    },
  };
}
