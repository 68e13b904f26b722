// Webhook subscriptions of a workspace. A new one starts at the current end of the event feed; its
// secret is shown once, when it is created.
import { randomBytes } from 'node:crypto';
import type { Tx } from '../db/write-transaction.js';
import { NotFound } from '../errors.js';
import { feedEnd } from '../segments/event-feed.js';
import { newWebhookSecret } from './signing.js';

export interface Subscription {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly createdMs: number;
}

type Row = { id: string; url: string; description: string; created_ms: number | string };
const toSubscription = (r: Row): Subscription => ({ id: r.id, url: r.url, description: r.description, createdMs: Number(r.created_ms) });

/** `url` must have been checked (target-check.ts). */
export async function createSubscription(tx: Tx, workspaceId: string, input: { url: string; description?: string }, now = Date.now()): Promise<{ subscription: Subscription; secret: string }> {
  const id = `wh_${randomBytes(8).toString('hex')}`;
  const secret = newWebhookSecret();
  const end = await feedEnd(tx, workspaceId);
  await tx.insertInto('webhook_subscriptions').values({
    id, workspace_id: workspaceId, url: input.url, description: input.description ?? '', secret, cursor_seq: end, created_ms: now,
  }).execute();
  return { subscription: { id, url: input.url, description: input.description ?? '', createdMs: now }, secret };
}

export async function listSubscriptions(db: Tx, workspaceId: string): Promise<Subscription[]> {
  return (await db.selectFrom('webhook_subscriptions').select(['id', 'url', 'description', 'created_ms']).where('workspace_id', '=', workspaceId).orderBy('created_ms').orderBy('id').execute()).map(toSubscription);
}

export async function getSubscription(db: Tx, workspaceId: string, id: string): Promise<Subscription> {
  const row = await db.selectFrom('webhook_subscriptions').select(['id', 'url', 'description', 'created_ms']).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('webhook', id);
  return toSubscription(row);
}

export async function deleteSubscription(tx: Tx, workspaceId: string, id: string): Promise<void> {
  await getSubscription(tx, workspaceId, id);
  await tx.deleteFrom('webhook_deliveries').where('workspace_id', '=', workspaceId).where('subscription_id', '=', id).execute();
  await tx.deleteFrom('webhook_subscriptions').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}
