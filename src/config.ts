// The one place process.env is read. Validated at start.
import type { DatabaseConfig } from './db/database.js';

export interface Config {
  readonly database: DatabaseConfig;
  /** SEGMENTS_ALLOW_PRIVATE_WEBHOOKS=1: webhook targets on loopback or private addresses are allowed (tests). */
  readonly allowPrivateWebhooks: boolean;
  /** SEGMENTS_WEBHOOK_LEASE_SECONDS: how long a server's claim on a delivery holds (default 60; tests shorten it). */
  readonly webhookLeaseMs: number;
}

/** PostgreSQL when DATABASE_URL is set; otherwise the embedded SQLite file (default ./data/segments.sqlite). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: { databaseUrl?: string; dbFile?: string } = {}): Config {
  const url = overrides.databaseUrl ?? env.DATABASE_URL;
  const allowPrivateWebhooks = env.SEGMENTS_ALLOW_PRIVATE_WEBHOOKS === '1';
  const lease = Number(env.SEGMENTS_WEBHOOK_LEASE_SECONDS ?? 60);
  if (!Number.isInteger(lease) || lease < 1 || lease > 3600) throw new Error(`SEGMENTS_WEBHOOK_LEASE_SECONDS must be a whole number from 1 to 3600, not ${JSON.stringify(env.SEGMENTS_WEBHOOK_LEASE_SECONDS)}`);
  const webhookLeaseMs = lease * 1000;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`DATABASE_URL must be a postgres:// URL, not ${JSON.stringify(url.slice(0, 40))}`);
    return { database: { dialect: 'postgres', url, preparedStatements: preparedStatements(env.SEGMENTS_PG_PREPARED_STATEMENTS) }, allowPrivateWebhooks, webhookLeaseMs };
  }
  return { database: { dialect: 'sqlite', filename: overrides.dbFile ?? env.SEGMENTS_DB ?? 'data/segments.sqlite' }, allowPrivateWebhooks, webhookLeaseMs };
}

/** SEGMENTS_PG_PREPARED_STATEMENTS=off: no named prepared statements (a pooler in transaction mode that cannot keep them). */
function preparedStatements(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`SEGMENTS_PG_PREPARED_STATEMENTS must be on or off, not ${JSON.stringify(value)}`);
}

/**
 * For a process that writes for long (the server, an import): SQLite checkpoints its WAL in a thread
 * of its own, not inside commits (src/db/sqlite-checkpointer.ts). PostgreSQL is unchanged.
 */
export function withBackgroundCheckpoints(config: Config): Config {
  return config.database.dialect === 'sqlite' ? { ...config, database: { ...config.database, backgroundCheckpoints: true } } : config;
}
