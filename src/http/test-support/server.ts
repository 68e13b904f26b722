// A real server on a free port for the HTTP tests, on SQLite (a temporary file) or PostgreSQL (a
// schema of its own), with two workspaces and their tokens: `ws1` (admin, and an agent `agent-a`
// of team `tier1`) and `ws2` (admin), so every test can try the other workspace's ids.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { appOn } from '../../app.js';
import type { App } from '../../app.js';
import { createToken } from '../../access/tokens.js';
import { createDatabase } from '../../db/database.js';
import type { Database, Dialect } from '../../db/database.js';
import { createTestSchema } from '../../db/test-support/postgres.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { runBackfills } from '../../segments/backfill.js';
import { createWorkspace } from '../../workspaces/workspace-store.js';
import { buildServer } from '../server.js';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON when the response is JSON (or a problem), else the text. */
  readonly body: any;
}

export interface RequestOptions {
  /** A token, or null for none; default: ws1's admin. */
  readonly token?: string | null;
  readonly json?: unknown;
  /** A raw body (sent as is) with its content type in `headers`. */
  readonly body?: string | Uint8Array | FormData;
  readonly headers?: Record<string, string>;
}

export interface TestServer {
  readonly url: string;
  readonly app: App;
  readonly server: FastifyInstance;
  readonly tokens: { readonly admin: string; readonly agent: string; readonly otherAdmin: string };
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** Runs pending backfills to completion (what the server's worker does in the background). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(dialect: Dialect, pgUrl: string | null): Promise<TestServer> {
  let database: Database;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'segments-http-'));
    database = createDatabase({ dialect: 'sqlite', filename: join(dir, 'store.sqlite') });
    cleanup = async () => { await database.close(); rmSync(dir, { recursive: true, force: true }); };
  } else {
    if (!pgUrl) throw new Error('startTestServer: no PostgreSQL');
    const t = await createTestSchema(pgUrl);
    database = t.database;
    cleanup = () => t.drop(); // drops the schema and closes the database
  }
  const app = await appOn(database);
  await createWorkspace(database, { id: 'ws1', name: 'Acme' });
  await createWorkspace(database, { id: 'ws2', name: 'Globex' });
  const token = (ws: string, input: Parameters<typeof createToken>[2]) => writeTransaction(database, (tx) => createToken(tx, ws, input)).then((t) => t.token);
  const tokens = {
    admin: await token('ws1', { name: 'admin', role: 'admin' }),
    agent: await token('ws1', { name: 'agent', role: 'agent', agent_id: 'agent-a', teams: ['tier1'] }),
    otherAdmin: await token('ws2', { name: 'admin', role: 'admin' }),
  };
  const server = await buildServer(app, { allowPrivateWebhooks: true });
  const address = await server.listen({ port: 0, host: '127.0.0.1' });

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    const bearer = options.token === undefined ? tokens.admin : options.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    let body: string | Uint8Array | FormData | undefined = options.body;
    if (options.json !== undefined) { body = JSON.stringify(options.json); headers['content-type'] ??= 'application/json'; }
    const response = await fetch(address + path, { method, headers, body });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, body: /json/.test(type) && text !== '' ? JSON.parse(text) : text };
  }

  return {
    url: address, app, server, tokens, request,
    settle: async () => { await runBackfills(app.database, app.states); },
    close: async () => {
      await server.close();
      await cleanup();
    },
  };
}
