// `segments serve`: the HTTP API with the background worker (backfills, the time refresh) beside it.
// SQLite under ./data by default, PostgreSQL with DATABASE_URL; migrations run at start. On first
// start with an empty store it creates the demo workspace (unless --no-demo) and prints the URL and
// an admin token. SIGTERM or SIGINT: stop taking requests, let in-flight ones finish, stop the
// worker between batches (a backfill resumes where it stopped), close the store.
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { openApp } from '../app.js';
import { createToken } from '../access/tokens.js';
import { loadConfig, withBackgroundCheckpoints } from '../config.js';
import { writeTransaction } from '../db/write-transaction.js';
import { createDemoWorkspace } from '../demo/demo-workspace.js';
import { buildServer } from '../http/server.js';
import { runMemberOrderFolds, runWorker } from '../segments/worker.js';
import { runDeliveries } from '../webhooks/delivery.js';
import { DEFAULT_WORKSPACE } from '../workspaces/workspace-store.js';
import { progressLine } from './progress.js';

export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly demo: boolean;
  readonly demoContacts: number;
  readonly workerIntervalSeconds: number;
  /** False: the API only (another server runs the background work). */
  readonly worker: boolean;
  readonly db?: string;
  readonly databaseUrl?: string;
  readonly logLevel: string;
}

export async function runServe(options: ServeOptions): Promise<number> {
  const logger = pino({ level: options.logLevel });
  const config = loadConfig(process.env, { dbFile: options.db, databaseUrl: options.databaseUrl });
  const app = await openApp(withBackgroundCheckpoints(config));
  const stop = new AbortController();
  let worker: Promise<unknown> | null = null;
  try {
    const firstToken = await firstStart(app, options);
    const server = await buildServer(app, { logger, allowPrivateWebhooks: config.allowPrivateWebhooks });
    const inFlight = countInFlight(server);
    // The fold is the upkeep of this server's own writes (member-order.ts), so it runs even with
    // --no-worker: a count read adds the changes of every contact left to it.
    const folds = runMemberOrderFolds(app.database, { intervalMs: 1_000, signal: stop.signal, onError: (error) => logger.error({ err: error }, 'segment order fold failed; retrying') });
    worker = !options.worker ? folds : Promise.all([
      folds,
      runWorker(app.database, app.states, {
        intervalMs: options.workerIntervalSeconds * 1000, signal: stop.signal, wakeup: app.workerWakeup,
        onPass: (pass) => { if (pass.builds + pass.refreshed > 0) logger.info(pass, 'worker pass'); },
        onError: (error) => logger.error({ err: error }, 'worker pass failed; retrying'),
      }),
      runDeliveries(app.database, { allowPrivate: config.allowPrivateWebhooks, leaseMs: config.webhookLeaseMs }, {
        signal: stop.signal,
        onPass: (pass) => { if (pass.enqueued + pass.delivered + pass.failedAttempts > 0) logger.info(pass, 'webhook pass'); },
        onError: (error) => logger.error({ err: error }, 'webhook pass failed; retrying'),
      }),
    ]);
    const address = await server.listen({ port: options.port, host: options.host });
    const url = address.replace('://0.0.0.0', '://localhost').replace('://[::]', '://localhost');
    process.stderr.write(`\nSegments is running at ${url}  (API docs: ${url}/docs, OpenAPI: ${url}/openapi.json)\n`);
    if (firstToken) {
      process.stderr.write(`Admin token of workspace "${firstToken.workspace}" (shown once):\n  ${firstToken.token}\n`);
      process.stderr.write(`Try: curl -H "Authorization: Bearer ${firstToken.token}" ${url}/v1/segments\n\n`);
    } else {
      process.stderr.write('Use a token printed at first start, or make one: segments token create --workspace <id> --role admin --name me\n\n');
    }
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    logger.info('shutting down: finishing in-flight requests and the current batch');
    stop.abort();
    await closeGracefully(server, inFlight);
    await worker;
    return 0;
  } finally {
    stop.abort();
    await worker?.catch(() => undefined);
    await app.close();
  }
}

/** In-flight requests get up to this long to finish at shutdown. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Stops taking requests, lets in-flight ones finish, then closes every connection: a keep-alive or
 * pre-opened connection with no request would otherwise hold the process until its timeout (60 s).
 */
function countInFlight(server: FastifyInstance): { readonly count: number } {
  const counter = { count: 0 };
  server.addHook('onRequest', async () => { counter.count++; });
  server.addHook('onResponse', async () => { counter.count--; });
  return counter;
}

async function closeGracefully(server: FastifyInstance, inFlight: { readonly count: number }): Promise<void> {
  const closing = server.close();
  const started = Date.now();
  const sweep = setInterval(() => {
    if (inFlight.count <= 0 || Date.now() - started > SHUTDOWN_GRACE_MS) server.server.closeAllConnections();
  }, 100);
  try {
    await closing;
  } finally {
    clearInterval(sweep);
  }
}

/** An empty store gets the demo workspace, or with --no-demo an empty "default" one; either way an admin token to print. */
async function firstStart(app: Awaited<ReturnType<typeof openApp>>, options: ServeOptions): Promise<{ workspace: string; token: string } | null> {
  const any = await app.database.db.selectFrom('workspaces').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  if (options.demo) {
    process.stderr.write(`First start: creating the demo workspace (${options.demoContacts.toLocaleString('en')} contacts, 11 segments)…\n`);
    const progress = progressLine(process.stderr);
    const token = await createDemoWorkspace(app, options.demoContacts, (done, total) => progress(`contacts ${done}/${total}`, done === total));
    return { workspace: 'demo', token };
  }
  await app.ensureWorkspace(DEFAULT_WORKSPACE);
  const { token } = await writeTransaction(app.database, (tx) => createToken(tx, DEFAULT_WORKSPACE, { name: 'first admin', role: 'admin' }));
  return { workspace: DEFAULT_WORKSPACE, token };
}
