// Webhook subscriptions of a workspace. A new one starts at the current end of the event feed; its
// secret is shown once, when it is created.
import { randomBytes } from 'node:crypto';
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput, NotFound } from '../errors.js';
import { feedEnd } from '../segments/event-feed.js';
import type { EventFilter, SegmentEventType } from '../segments/event-feed.js';
import { newWebhookSecret } from './signing.js';

export interface Subscription {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly filter: EventFilter;
  readonly createdMs: number;
}

type Row = { id: string; url: string; description: string; filter: string | null; created_ms: number | string };
const toSubscription = (r: Row): Subscription => ({ id: r.id, url: r.url, description: r.description, filter: readFilter(r.filter), createdMs: Number(r.created_ms) });
const COLUMNS = ['id', 'url', 'description', 'filter', 'created_ms'] as const;

export function readFilter(stored: string | null): EventFilter {
  if (stored === null) return {};
  const f = JSON.parse(stored) as { segment_ids?: string[]; types?: SegmentEventType[] };
  return { ...(f.segment_ids && { segmentIds: f.segment_ids }), ...(f.types && { types: f.types }) };
}

/** `url` must have been checked (target-check.ts). The filter's segments must exist in the workspace. */
export async function createSubscription(
  tx: Tx, workspaceId: string, input: { url: string; description?: string; filter?: EventFilter }, now = Date.now(),
): Promise<{ subscription: Subscription; secret: string }> {
  const filter = input.filter ?? {};
  if (filter.segmentIds !== undefined) {
    const known = new Set((await tx.selectFrom('segments').select('id').where('workspace_id', '=', workspaceId).execute()).map((r) => r.id));
    const issues = filter.segmentIds.flatMap((sid, i) => (known.has(sid) ? [] : [{ path: `segment_ids[${i}]`, message: `no segment with id ${JSON.stringify(sid)}` }]));
    if (issues.length > 0) throw new InvalidInput('invalid subscription', issues);
  }
  const stored = filter.segmentIds === undefined && filter.types === undefined ? null
    : JSON.stringify({ ...(filter.segmentIds && { segment_ids: [...new Set(filter.segmentIds)] }), ...(filter.types && { types: [...new Set(filter.types)] }) });
  const id = `wh_${randomBytes(8).toString('hex')}`;
  const secret = newWebhookSecret();
  const end = await feedEnd(tx, workspaceId);
  await tx.insertInto('webhook_subscriptions').values({
    id, workspace_id: workspaceId, url: input.url, description: input.description ?? '', secret, cursor_seq: end, created_ms: now, filter: stored,
  }).execute();
  return { subscription: { id, url: input.url, description: input.description ?? '', filter: readFilter(stored), createdMs: now }, secret };
}

export async function listSubscriptions(db: Tx, workspaceId: string): Promise<Subscription[]> {
  return (await db.selectFrom('webhook_subscriptions').select(COLUMNS).where('workspace_id', '=', workspaceId).orderBy('created_ms').orderBy('id').execute()).map(toSubscription);
}

export async function getSubscription(db: Tx, workspaceId: string, id: string): Promise<Subscription> {
  const row = await db.selectFrom('webhook_subscriptions').select(COLUMNS).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('webhook', id);
  return toSubscription(row);
}

export async function deleteSubscription(tx: Tx, workspaceId: string, id: string): Promise<void> {
  await getSubscription(tx, workspaceId, id);
  await tx.deleteFrom('webhook_deliveries').where('workspace_id', '=', workspaceId).where('subscription_id', '=', id).execute();
  await tx.deleteFrom('webhook_subscriptions').where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}
