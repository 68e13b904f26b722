// Webhooks: subscriptions per workspace, and one delivery per event and subscription, taken from
// the event outbox (segment_events) in order.
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function webhooksMigration(dialect: Dialect): Migration {
  const int8 = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('webhook_subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('secret', 'text', (c) => c.notNull())
        // The last event of the feed turned into deliveries: a new subscription starts at the feed's end.
        .addColumn('cursor_seq', int8, (c) => c.notNull())
        .addColumn('created_ms', int8, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_subscriptions_workspace').on('webhook_subscriptions').columns(['workspace_id', 'created_ms']).execute();
      await db.schema.createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('event_seq', int8, (c) => c.notNull())
        .addColumn('contact_id', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_ms', int8, (c) => c.notNull())
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('delivered_ms', int8)
        .addColumn('created_ms', int8, (c) => c.notNull())
        .addUniqueConstraint('webhook_deliveries_event', ['subscription_id', 'event_seq'])
        .execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_ms']).execute();
      await db.schema.createIndex('webhook_deliveries_contact').on('webhook_deliveries').columns(['subscription_id', 'contact_id', 'status', 'event_seq']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('webhook_deliveries').execute();
      await db.schema.dropTable('webhook_subscriptions').execute();
    },
  };
}
