// Webhook delivery from the outbox. Each pass:
// 1. turns the events after each subscription's cursor into deliveries (one per event), advancing
//    the cursor in the same transaction;
// 2. claims due deliveries with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL: two servers never
//    claim one delivery; a server that dies mid-send loses only its lease, and the delivery is sent
//    again when the lease runs out: at least once);
// 3. sends them signed (Standard Webhooks), and records the outcome: delivered on a 2xx, else the
//    next attempt after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then failed (it can be replayed).
// In order per contact: a delivery waits while an earlier one of the same subscription and contact
// is pending.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/database.js';
import { dialectOf, writeTransaction } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { insertRows } from '../db/bulk-insert.js';
import { keepsEvent, readEvents } from '../segments/event-feed.js';
import type { SegmentEvent } from '../segments/event-feed.js';
import { readFilter } from './subscriptions.js';
import { repeatPasses } from '../segments/worker.js';
import { signatureOf } from './signing.js';
import { checkWebhookTarget } from './target-check.js';

export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
/** How long a claimed delivery is another server's to send. */
export const LEASE_MS = 60_000;
const SEND_TIMEOUT_MS = 10_000;

export interface DeliveryOptions {
  readonly allowPrivate: boolean;
  readonly now?: () => number;
  /** The HTTP client; fetch unless a test gives another. */
  readonly send?: typeof fetch;
  readonly batchSize?: number;
  /** How long a claim holds; LEASE_MS unless given. */
  readonly leaseMs?: number;
}

export interface DeliveryPass {
  readonly enqueued: number;
  readonly delivered: number;
  readonly failedAttempts: number;
}

export async function deliverWebhooks(database: Database, options: DeliveryOptions): Promise<DeliveryPass> {
  const now = options.now ?? Date.now;
  const enqueued = await enqueueDeliveries(database, now());
  let delivered = 0, failedAttempts = 0;
  for (let round = 0; round < 20; round++) {
    const claimed = await claimDue(database, now(), options.batchSize ?? 50, options.leaseMs ?? LEASE_MS);
    if (claimed.length === 0) break;
    // One contact's deliveries never share a claim (the later waits for the earlier), so they may go out together.
    const outcomes = await Promise.all(claimed.map((d) => attempt(d, options, now)));
    for (const [i, outcome] of outcomes.entries()) {
      await writeTransaction(database, (tx) => recordOutcome(tx, claimed[i], outcome, now()));
      if (outcome.ok) delivered++; else failedAttempts++;
    }
  }
  return { enqueued, delivered, failedAttempts };
}

async function enqueueDeliveries(database: Database, now: number): Promise<number> {
  const subscriptions = await database.db.selectFrom('webhook_subscriptions').select('id').execute();
  let total = 0;
  for (const { id } of subscriptions) {
    total += await writeTransaction(database, async (tx) => {
      let q = tx.selectFrom('webhook_subscriptions').select(['id', 'workspace_id', 'cursor_seq', 'filter']).where('id', '=', id);
      if (dialectOf(tx) === 'postgres') q = q.forUpdate().skipLocked();
      const sub = await q.executeTakeFirst();
      if (!sub) return 0;
      const read = await readEvents(tx, sub.workspace_id, Number(sub.cursor_seq), 1000);
      if (read.length === 0) return 0;
      // The cursor moves past every event read; a filtered subscription gets deliveries of its own.
      const filter = readFilter(sub.filter);
      const events = read.filter((e) => keepsEvent(filter, e));
      if (events.length > 0) await enqueue(tx, sub, events, now);
      await tx.updateTable('webhook_subscriptions').set({ cursor_seq: read[read.length - 1].seq }).where('id', '=', sub.id).execute();
      return events.length;
    });
  }
  return total;
}

/** A delivery row for each event, payload and all (the segment's name as it is now). */
async function enqueue(tx: Tx, sub: { id: string; workspace_id: string }, events: readonly SegmentEvent[], now: number): Promise<void> {
  const names = new Map((await tx.selectFrom('segments').select(['id', 'name']).where('workspace_id', '=', sub.workspace_id).execute()).map((s) => [s.id, s.name]));
  await insertRows(tx, 'webhook_deliveries', ['id', 'subscription_id', 'workspace_id', 'event_seq', 'contact_id', 'payload', 'status', 'next_attempt_ms', 'created_ms'],
    events.map((e) => [
      `msg_${randomBytes(12).toString('hex')}`, sub.id, sub.workspace_id, e.seq, e.contactId,
      JSON.stringify({
        type: e.type, timestamp: new Date(e.at).toISOString(),
        data: { segment_id: e.segmentId, segment_name: names.get(e.segmentId) ?? null, segment_version: e.segmentVersion, contact_id: e.contactId, event_id: String(e.seq) },
      }),
      'pending', now, now,
    ]), { onConflictDoNothing: true });
}

interface Claimed { id: string; subscription_id: string; workspace_id: string; payload: string; attempts: number; url: string; secret: string }

async function claimDue(database: Database, now: number, limit: number, leaseMs: number): Promise<Claimed[]> {
  return writeTransaction(database, async (tx) => {
    let q = tx.selectFrom('webhook_deliveries as d').innerJoin('webhook_subscriptions as s', 's.id', 'd.subscription_id')
      .select(['d.id', 'd.subscription_id', 'd.workspace_id', 'd.payload', 'd.attempts', 's.url', 's.secret'])
      .where('d.status', '=', 'pending').where('d.next_attempt_ms', '<=', now)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_deliveries as e').select('e.id')
        .whereRef('e.subscription_id', '=', 'd.subscription_id').whereRef('e.contact_id', '=', 'd.contact_id')
        .where('e.status', '=', 'pending').whereRef('e.event_seq', '<', 'd.event_seq'))))
      .orderBy('d.event_seq').limit(limit);
    if (dialectOf(tx) === 'postgres') q = q.forUpdate('d').skipLocked();
    const due = await q.execute();
    if (due.length > 0) {
      await tx.updateTable('webhook_deliveries').set({ next_attempt_ms: now + leaseMs }).where('id', 'in', due.map((d) => d.id)).execute();
    }
    return due;
  });
}

type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

async function attempt(d: Claimed, options: DeliveryOptions, now: () => number): Promise<Outcome> {
  try {
    await checkWebhookTarget(d.url, { allowPrivate: options.allowPrivate });
  } catch (error) {
    return { ok: false, status: null, error: error instanceof Error ? error.message : String(error) };
  }
  const timestamp = Math.floor(now() / 1000);
  try {
    const response = await (options.send ?? fetch)(d.url, {
      method: 'POST', body: d.payload, redirect: 'manual', signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      headers: {
        'content-type': 'application/json', 'user-agent': 'Segments-Webhooks/1',
        'webhook-id': d.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureOf(d.secret, d.id, timestamp, d.payload),
      },
    });
    await response.body?.cancel().catch(() => undefined);
    return response.status >= 200 && response.status < 300 ? { ok: true, status: response.status } : { ok: false, status: response.status, error: `the target answered ${response.status}` };
  } catch (error) {
    return { ok: false, status: null, error: error instanceof Error ? error.message : String(error) };
  }
}

async function recordOutcome(tx: Tx, d: Claimed, outcome: Outcome, now: number): Promise<void> {
  const attempts = d.attempts + 1;
  if (outcome.ok) {
    await tx.updateTable('webhook_deliveries').set({ status: 'delivered', attempts, last_status: outcome.status, last_error: null, delivered_ms: now }).where('id', '=', d.id).execute();
    return;
  }
  const delay = RETRY_DELAYS_MS[attempts - 1];
  await tx.updateTable('webhook_deliveries').set({
    attempts, last_status: outcome.status, last_error: outcome.error.slice(0, 1000),
    ...(delay === undefined ? { status: 'failed' as const } : { next_attempt_ms: now + delay }),
  }).where('id', '=', d.id).execute();
}

/** A failed (or pending) delivery is sent again at the next pass, its attempts counted afresh. */
export async function replayDelivery(tx: Tx, workspaceId: string, subscriptionId: string, id: string, now = Date.now()): Promise<boolean> {
  const result = await tx.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_ms: now, last_error: null })
    .where('workspace_id', '=', workspaceId).where('subscription_id', '=', subscriptionId).where('id', '=', id).where('status', '!=', 'delivered').executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Delivery passes a second (the first retry is due 5 s after a failure) until `signal` aborts; a failed pass is reported and the loop goes on. */
export async function runDeliveries(database: Database, options: DeliveryOptions,
  loop: { signal: AbortSignal; onPass?: (pass: DeliveryPass) => void; onError?: (error: unknown) => void }): Promise<void> {
  await repeatPasses(() => deliverWebhooks(database, options), { ...loop, intervalMs: 1000 });
}

