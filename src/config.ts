// The one place process.env is read. Validated at start.
import type { DatabaseConfig } from './db/database.js';

export interface Config {
  readonly database: DatabaseConfig;
  /** SEGMENTS_ALLOW_PRIVATE_WEBHOOKS=1: webhook targets on loopback or private addresses are allowed (tests). */
  readonly allowPrivateWebhooks: boolean;
}

/** PostgreSQL when DATABASE_URL is set; otherwise the embedded SQLite file (default ./data/segments.sqlite). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: { databaseUrl?: string; dbFile?: string } = {}): Config {
  const url = overrides.databaseUrl ?? env.DATABASE_URL;
  const allowPrivateWebhooks = env.SEGMENTS_ALLOW_PRIVATE_WEBHOOKS === '1';
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`DATABASE_URL must be a postgres:// URL, not ${JSON.stringify(url.slice(0, 40))}`);
    return { database: { dialect: 'postgres', url }, allowPrivateWebhooks };
  }
  return { database: { dialect: 'sqlite', filename: overrides.dbFile ?? env.SEGMENTS_DB ?? 'data/segments.sqlite' }, allowPrivateWebhooks };
}
