// The demo a newcomer sees on first start: a workspace of generated contacts (deterministic, so
// every machine shows the same counts for a given day) and the segments real help centers define:
// VIP, Enterprise, Trial / Active / Renewal-risk, NA / EU / APAC, inactive 30+ days, WhatsApp
// opted-in, new this week.
import type { App } from '../app.js';
import { createToken } from '../access/tokens.js';
import { createAttribute } from '../contacts/attribute-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import { runBackfills } from '../segments/backfill.js';
import { createSegment } from '../segments/segment-store.js';
import { createWorkspace } from '../workspaces/workspace-store.js';

export const DEMO_WORKSPACE = 'demo';

const ATTRIBUTES = [
  { key: 'plan', type: 'enum', label: 'Plan', options: ['free', 'trial', 'pro', 'enterprise'] },
  { key: 'lifecycle', type: 'enum', label: 'Lifecycle stage', options: ['trial', 'active', 'renewal_risk', 'churned'] },
  { key: 'region', type: 'enum', label: 'Region', options: ['NA', 'EU', 'APAC', 'LATAM'] },
  { key: 'mrr', type: 'number', label: 'Monthly revenue (USD)' },
  { key: 'whatsapp_opt_in', type: 'boolean', label: 'WhatsApp opted in' },
  { key: 'renewal_date', type: 'date', label: 'Renewal date' },
] as const;

const SEGMENTS: ReadonlyArray<{ name: string; description: string; condition: unknown }> = [
  { name: 'VIP', description: 'Flagged VIP, or paying over $5,000 a month', condition: { any: [{ attr: 'vip', op: 'eq', value: true }, { attr: 'mrr', op: 'gt', value: 5000 }] } },
  { name: 'Enterprise', description: 'On the Enterprise plan', condition: { attr: 'plan', op: 'eq', value: 'enterprise' } },
  { name: 'Trial', description: 'In their trial', condition: { attr: 'lifecycle', op: 'eq', value: 'trial' } },
  { name: 'Active', description: 'Active customers', condition: { attr: 'lifecycle', op: 'eq', value: 'active' } },
  { name: 'Renewal risk', description: 'Flagged at risk, or renewing within 30 days without a conversation for 14', condition: { any: [
    { attr: 'lifecycle', op: 'eq', value: 'renewal_risk' },
    { all: [{ attr: 'renewal_date', op: 'within_next', value: { amount: 30, unit: 'days' } }, { attr: 'last_interaction_at', op: 'older_than', value: { amount: 14, unit: 'days' } }] },
  ] } },
  { name: 'NA', description: 'North America', condition: { attr: 'region', op: 'eq', value: 'NA' } },
  { name: 'EU', description: 'Europe', condition: { attr: 'region', op: 'eq', value: 'EU' } },
  { name: 'APAC', description: 'Asia-Pacific', condition: { attr: 'region', op: 'eq', value: 'APAC' } },
  { name: 'Inactive 30+ days', description: 'No conversation for 30 days or more', condition: { attr: 'last_interaction_at', op: 'older_than', value: { amount: 30, unit: 'days' } } },
  { name: 'WhatsApp opted-in', description: 'Reachable on WhatsApp', condition: { all: [{ attr: 'whatsapp_opt_in', op: 'eq', value: true }, { attr: 'phone', op: 'is_not_empty' }] } },
  { name: 'New this week', description: 'Created in the last 7 days', condition: { attr: 'created_at', op: 'within_last', value: { amount: 7, unit: 'days' } } },
];

const FIRST = ['Ana', 'Bruno', 'Chen', 'Dara', 'Elif', 'Femi', 'Gita', 'Hugo', 'Ines', 'Jun', 'Kofi', 'Lena', 'Mateo', 'Noor', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tariq', 'Uma', 'Vik', 'Wen', 'Yara', 'Zoe'];
const LAST = ['Silva', 'Okafor', 'Müller', 'Tanaka', 'García', 'Kowalski', 'Nguyen', 'Haddad', 'Smith', 'Rossi', 'Kim', 'Dubois', 'Ivanova', 'Patel', 'Berg'];
const COMPANIES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka', 'Tyrell', 'Cyberdyne'];
const COUNTRIES: Record<string, string[]> = { NA: ['US', 'CA', 'MX'], EU: ['DE', 'FR', 'ES', 'PL', 'SE'], APAC: ['JP', 'IN', 'AU', 'SG'], LATAM: ['BR', 'AR', 'CL'] };
const TAGS = ['billing', 'bug', 'feature-request', 'onboarding', 'churn-risk', 'beta'];
const DAY = 86_400_000;

/** A small deterministic generator (mulberry32), so the demo is the same everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function demoContacts(count: number, now: number): Record<string, unknown>[] {
  const r = random(20251103);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)];
  const out: Record<string, unknown>[] = [];
  for (let i = 1; i <= count; i++) {
    const plan = pick(['free', 'free', 'free', 'trial', 'pro', 'pro', 'enterprise'] as const);
    const region = pick(['NA', 'NA', 'EU', 'EU', 'APAC', 'LATAM'] as const);
    const first = pick(FIRST), last = pick(LAST);
    const platform = pick(['whatsapp', 'webchat', 'email', 'instagram', 'sms'] as const);
    out.push({
      id: `demo-${i}`,
      email: `${first}.${last}.${i}@example.com`.toLowerCase(),
      name: `${first} ${last}`,
      company: pick(COMPANIES),
      country: pick(COUNTRIES[region]),
      platform,
      ...(platform === 'whatsapp' || r() < 0.3 ? { phone: `+1555${String(1_000_000 + i).slice(1)}` } : {}),
      tags: TAGS.filter(() => r() < 0.15),
      created_at: new Date(now - Math.floor(r() ** 2 * 720 * DAY)).toISOString(),
      last_interaction_at: new Date(now - Math.floor(r() ** 1.5 * 120 * DAY)).toISOString(),
      vip: r() < 0.03,
      plan,
      lifecycle: plan === 'trial' ? 'trial' : plan === 'free' ? pick(['active', 'churned'] as const) : pick(['active', 'active', 'active', 'renewal_risk'] as const),
      region,
      mrr: plan === 'enterprise' ? Math.round(2000 + r() * 8000) : plan === 'pro' ? Math.round(50 + r() * 450) : 0,
      whatsapp_opt_in: platform === 'whatsapp' ? r() < 0.8 : r() < 0.1,
      ...(plan === 'pro' || plan === 'enterprise' ? { renewal_date: new Date(now + Math.floor(r() * 365 * DAY)).toISOString().slice(0, 10) } : {}),
    });
  }
  return out;
}

/** Creates the demo workspace with `contacts` contacts and the example segments, built; returns an admin token. */
export async function createDemoWorkspace(app: App, contacts: number, onProgress?: (done: number, total: number) => void): Promise<string> {
  const now = Date.now();
  await createWorkspace(app.database, { id: DEMO_WORKSPACE, name: 'Demo help center', timeZone: 'UTC' });
  await writeTransaction(app.database, async (tx) => {
    for (const a of ATTRIBUTES) await createAttribute(tx, DEMO_WORKSPACE, { ...a, options: 'options' in a ? [...a.options] : undefined });
    for (const s of SEGMENTS) await createSegment(tx, DEMO_WORKSPACE, { ...s, kind: 'dynamic' });
  });
  const rows = demoContacts(contacts, now);
  for (let i = 0; i < rows.length; i += 1000) {
    await app.contacts.writeBatch(DEMO_WORKSPACE, rows.slice(i, i + 1000));
    onProgress?.(Math.min(i + 1000, rows.length), rows.length);
  }
  await runBackfills(app.database, app.states);
  const { token } = await writeTransaction(app.database, (tx) => createToken(tx, DEMO_WORKSPACE, { name: 'demo admin', role: 'admin' }));
  return token;
}
