// The migrations, defined in code (a provider object, not files on disk), so the built package
// and the tests run exactly the same list. Names sort in the order they run; never rename one.
import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../database.js';
import { contactsMigration } from './0001-contacts.js';
import { segmentsMigration } from './0002-segments.js';
import { contactDocumentsMigration } from './0003-contact-documents.js';
import { accessMigration } from './0004-access.js';
import { webhooksMigration } from './0005-webhooks.js';
import { segmentCountsMigration } from './0006-segment-counts.js';
import { membershipsByContactMigration } from './0007-memberships-by-contact.js';
import { eventBlocksMigration } from './0008-event-blocks.js';
import { webhookFiltersMigration } from './0009-webhook-filters.js';
import { memberOrderMigration } from './0010-member-order.js';
import { horizonBucketsMigration } from './0011-horizon-buckets.js';
import { contactKeyTiersMigration } from './0012-contact-key-tiers.js';
import { memberBlocksMigration } from './0013-member-blocks.js';

export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_contacts': contactsMigration(dialect),
    '0002_segments': segmentsMigration(dialect),
    '0003_contact_documents': contactDocumentsMigration(dialect),
    '0004_access': accessMigration(dialect),
    '0005_webhooks': webhooksMigration(dialect),
    '0006_segment_counts': segmentCountsMigration(dialect),
    '0007_memberships_by_contact': membershipsByContactMigration(dialect),
    '0008_event_blocks': eventBlocksMigration(dialect),
    '0009_webhook_filters': webhookFiltersMigration(dialect),
    '0010_member_order': memberOrderMigration(dialect),
    '0011_horizon_buckets': horizonBucketsMigration(),
    '0012_contact_key_tiers': contactKeyTiersMigration(dialect),
    '0013_member_blocks': memberBlocksMigration(dialect),
  };
}

export function createMigrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
