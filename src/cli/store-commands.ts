// CLI commands that work on the store (SQLite file by default, PostgreSQL with DATABASE_URL):
// attributes, segments, backfills, the time refresh and verify.
import type { Command } from 'commander';
import { openApp } from '../app.js';
import type { App } from '../app.js';
import { loadConfig, withBackgroundCheckpoints } from '../config.js';
import { createToken, listTokens, revokeToken } from '../access/tokens.js';
import { attributeView, createAttribute, deleteAttribute, getAttribute, listAttributes, updateAttribute } from '../contacts/attribute-store.js';
import { writeTransaction } from '../db/write-transaction.js';
import { segmentView } from '../http/routes/segments.js';
import { DomainError, NotFound } from '../errors.js';
import { runBackfills } from '../segments/backfill.js';
import type { BackfillProgress } from '../segments/backfill.js';
import { createSegment, deleteSegment, getSegment, listSegments, segmentsUsingAttribute, updateSegment } from '../segments/segment-store.js';
import { changeManualMembers } from '../segments/manual-members.js';
import { MAX_PAGE, listMembers } from '../segments/members.js';
import { attributesAnEditKeeps, previewCount, previewImpact, previewMembers } from '../segments/preview.js';
import { runWorker, runWorkerPass } from '../segments/worker.js';
import { runDeliveries } from '../webhooks/delivery.js';
import type { WorkerPass } from '../segments/worker.js';
import { verifyReport } from '../segments/verify.js';
import { DEFAULT_WORKSPACE, findWorkspace } from '../workspaces/workspace-store.js';
import { parseJsonArgument, readConditionArgument } from './condition-argument.js';
import { progressLine } from './progress.js';

export interface StoreOptions {
  readonly db?: string;
  readonly databaseUrl?: string;
  readonly workspace: string;
}

/**
 * Opens the store, makes sure the workspace exists, runs `work`, closes; returns the exit code.
 * `longWrites`: a command that writes for long (an import) checkpoints as the server does. The
 * workspace is created on first use by a command that writes; one that only reads (`reads`)
 * refuses a workspace that does not exist but the default, so a mistyped --workspace is an error,
 * not an empty answer.
 */
export async function withApp(options: StoreOptions, work: (app: App) => Promise<number>, { longWrites = false, reads = false } = {}): Promise<number> {
  const config = loadConfig(process.env, { dbFile: options.db, databaseUrl: options.databaseUrl });
  const app = await openApp(longWrites ? withBackgroundCheckpoints(config) : config);
  try {
    if (reads && options.workspace !== DEFAULT_WORKSPACE && !(await findWorkspace(app.database.db, options.workspace))) {
      throw new NotFound('workspace', options.workspace);
    }
    await app.ensureWorkspace(options.workspace);
    return await work(app);
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`segments: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await app.close();
  }
}

export function addStoreOptions(command: Command): Command {
  return command
    .option('--db <file>', 'the SQLite file (default: $SEGMENTS_DB or data/segments.sqlite)')
    .option('--database-url <url>', 'use PostgreSQL instead (default: $DATABASE_URL)')
    .option('--workspace <id>', 'the workspace (a command that writes creates it on first use)', DEFAULT_WORKSPACE);
}


/** Runs pending backfills with a progress line per segment. */
async function build(app: App): Promise<void> {
  const progress = progressLine(process.stderr);
  await runBackfills(app.database, app.states, {
    onProgress: (p) => progress(`building ${p.segmentId}: ${p.processed}/${p.total}${p.done ? ' done' : ''}`, p.done),
  });
}

/** A --limit option: digits, from `min` to `max`; refused naming what was given ("abc", not null). */
function limitOption(text: string, min: number, max: number): number {
  const limit = /^[0-9]{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= min && limit <= max)) throw new DomainError('invalid_limit', `--limit must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return limit;
}

export function registerStoreCommands(program: Command, setExit: (code: number) => void): void {
  const attribute = program.command('attribute').description('the attribute schema of a workspace');
  addStoreOptions(attribute.command('create').description('create a custom attribute and print it as JSON, as the API shows it: segments attribute create plan_tier enum --options free,pro')
    .argument('<key>').argument('<type>', 'text | enum | number | date | boolean | list')
    .option('--options <list>', 'enum options, comma-separated').option('--label <label>'))
    .action(async (key: string, type: string, opts: StoreOptions & { options?: string; label?: string }) => setExit(await withApp(opts, async (app) => {
      await writeTransaction(app.database, (tx) => createAttribute(tx, opts.workspace, {
        key, type, ...(opts.options !== undefined && { options: opts.options.split(',') }), ...(opts.label !== undefined && { label: opts.label }),
      }));
      process.stdout.write(`${JSON.stringify(attributeView(await getAttribute(app.database.db, opts.workspace, key)))}\n`);
      return 0;
    })));

  addStoreOptions(attribute.command('list').description('the attributes: key, type, enabled or disabled, standard or custom, label, enum options'))
    .action(async (opts: StoreOptions) => setExit(await withApp(opts, async (app) => {
      for (const a of await listAttributes(app.database.db, opts.workspace)) {
        const fields = [a.key, a.type, a.enabled ? 'enabled' : 'disabled', a.standard ? 'standard' : 'custom', a.label ?? '', (a.options ?? []).join(',')];
        process.stdout.write(`${fields.join('\t')}\n`);
      }
      return 0;
    }, { reads: true })));
  addStoreOptions(attribute.command('update').description('change an attribute\'s label, enum options, or whether new definitions may use it; prints it as JSON')
    .argument('<key>').option('--label <label>').option('--options <list>', 'enum options, comma-separated (one a segment uses cannot be removed)')
    .option('--disable', 'keep it working in the definitions that use it, out of new ones').option('--enable'))
    .action(async (key: string, opts: StoreOptions & { label?: string; options?: string; disable?: boolean; enable?: boolean }) => setExit(await withApp(opts, async (app) => {
      if (opts.disable && opts.enable) throw new DomainError('invalid_input', '--enable and --disable: one or the other');
      const enabled = opts.disable ? false : opts.enable ? true : undefined;
      await writeTransaction(app.database, (tx) => updateAttribute(tx, opts.workspace, key, {
        ...(opts.label !== undefined && { label: opts.label }), ...(opts.options !== undefined && { options: opts.options.split(',') }), ...(enabled !== undefined && { enabled }),
      }, segmentsUsingAttribute(tx, opts.workspace)));
      process.stdout.write(`${JSON.stringify(attributeView(await getAttribute(app.database.db, opts.workspace, key)))}\n`);
      return 0;
    })));
  addStoreOptions(attribute.command('delete').description('delete a custom attribute and its values (refused while a segment uses it)').argument('<key>'))
    .action(async (key: string, opts: StoreOptions) => setExit(await withApp(opts, async (app) => {
      await writeTransaction(app.database, (tx) => deleteAttribute(tx, opts.workspace, key, segmentsUsingAttribute(tx, opts.workspace)));
      return 0;
    })));

  const segment = program.command('segment').description('segment definitions');
  addStoreOptions(segment.command('create').description('create a segment, build its membership, and print it as JSON, as the API shows it')
    .argument('<name>').argument('[condition]', 'the condition as JSON (dynamic segments)')
    .option('--manual', 'a hand-curated list').option('--description <text>'))
    .action(async (name: string, condition: string | undefined, opts: StoreOptions & { manual?: boolean; description?: string }) => setExit(await withApp(opts, async (app) => {
      const created = await writeTransaction(app.database, (tx) => createSegment(tx, opts.workspace, {
        name, kind: opts.manual ? 'manual' : 'dynamic', description: opts.description,
        condition: condition === undefined ? undefined : parseJsonArgument(condition, 'the condition'),
      }));
      await build(app);
      process.stdout.write(`${JSON.stringify(segmentView(await getSegment(app.database.db, opts.workspace, created.id), null, null))}\n`);
      return 0;
    })));
  addStoreOptions(segment.command('update').description('change a segment\'s name, description or condition, rebuild, and print it as JSON')
    .argument('<id>').option('--name <name>').option('--description <text>').option('--condition <json>').option('--if-version <n>', 'refuse if the segment is no longer at this version'))
    .action(async (id: string, opts: StoreOptions & { name?: string; description?: string; condition?: string; ifVersion?: string }) => setExit(await withApp(opts, async (app) => {
      await writeTransaction(app.database, (tx) => updateSegment(tx, opts.workspace, id, {
        name: opts.name, description: opts.description, condition: opts.condition === undefined ? undefined : parseJsonArgument(opts.condition, 'the condition'),
      }, { ifVersion: opts.ifVersion === undefined ? undefined : Number(opts.ifVersion) }));
      await build(app);
      process.stdout.write(`${JSON.stringify(segmentView(await getSegment(app.database.db, opts.workspace, id), null, null))}\n`);
      return 0;
    })));
  addStoreOptions(segment.command('delete').description('delete a segment (never its contacts; refused while other segments use it)').argument('<id>'))
    .action(async (id: string, opts: StoreOptions) => setExit(await withApp(opts, async (app) => {
      await writeTransaction(app.database, (tx) => deleteSegment(tx, opts.workspace, id));
      return 0;
    })));
  addStoreOptions(segment.command('list').description('segments with their live counts and status'))
    .action(async (opts: StoreOptions) => setExit(await withApp(opts, async (app) => {
      for (const s of await listSegments(app.database.db, opts.workspace)) {
        process.stdout.write(`${s.id}\t${s.status}\t${s.memberCount}\t${s.name}\n`);
      }
      return 0;
    }, { reads: true })));

  addStoreOptions(segment.command('preview')
    .description('what a condition would select before it is saved: its count and first members; with --segment, how many contacts the edit of that segment would add and remove')
    .argument('<condition>', 'the condition as JSON').option('--segment <id>', 'the segment whose edit this is').option('--limit <n>', 'members to show, 0 to 100', '20'))
    .action(async (condition: string, opts: StoreOptions & { segment?: string; limit: string }) => setExit(await withApp(opts, async (app) => {
      const limit = limitOption(opts.limit, 0, 100);
      const state = await app.states.get(app.database.db, opts.workspace);
      if (opts.segment !== undefined && !state.byId.has(opts.segment)) throw new NotFound('segment', opts.segment);
      const parsed = readConditionArgument(state, condition, 'the condition', {
        segments: 'segment', isKnownSegment: (id) => state.byId.has(id), previouslyUsed: attributesAnEditKeeps(state, opts.segment),
      });
      const now = Date.now();
      const impact = opts.segment === undefined ? null : await previewImpact(app.database, state, opts.segment, parsed, now);
      process.stdout.write(`${JSON.stringify({
        count: await previewCount(app.database, state, parsed, now),
        members: await previewMembers(app.database, state, parsed, now, limit),
        impact: impact && { added: impact.added, removed: impact.removed },
      })}\n`);
      return 0;
    }, { reads: true })));

  for (const action of ['add', 'remove'] as const) {
    addStoreOptions(segment.command(action)
      .description(`${action === 'add' ? 'add contacts to' : 'remove contacts from'} a manual segment, by contact id; prints the ids changed and the ids of no contact`)
      .argument('<id>', 'the manual segment').argument('<contacts...>', 'contact ids'))
      .action(async (id: string, contacts: string[], opts: StoreOptions) => setExit(await withApp(opts, async (app) => {
        const result = await changeManualMembers(app.database, app.states, opts.workspace, id, contacts, action);
        process.stdout.write(`${JSON.stringify({ changed: result.changed, unknown: result.unknown })}\n`);
        return 0;
      })));
  }

  addStoreOptions(segment.command('members').description('a page of a segment\'s members (contact id, member since), oldest contact first; the next page\'s cursor goes to standard error')
    .argument('<id>').option('--limit <n>', `members per page, 1 to ${MAX_PAGE}`, '100').option('--after <cursor>', 'the cursor a previous page printed'))
    .action(async (id: string, opts: StoreOptions & { limit: string; after?: string }) => setExit(await withApp(opts, async (app) => {
      const page = await listMembers(app.database.db, opts.workspace, id, { limit: limitOption(opts.limit, 1, MAX_PAGE), after: opts.after ?? null });
      for (const m of page.members) process.stdout.write(`${m.id}\t${new Date(m.since).toISOString()}\n`);
      if (page.next) process.stderr.write(`more: --after ${page.next}\n`);
      return 0;
    }, { reads: true })));

  addStoreOptions(program.command('work')
    .description('run pending backfills, then re-evaluate the contacts whose relative dates are due; with --watch, again every --interval seconds, and deliver webhooks every second, until stopped (Ctrl-C)')
    .option('--watch', 'keep running: a pass every --interval seconds')
    .option('--interval <seconds>', 'seconds between passes with --watch (1 to 60)', '15'))
    .action(async (opts: StoreOptions & { watch?: boolean; interval: string }) => {
      const interval = Number(opts.interval);
      if (!Number.isInteger(interval) || interval < 1 || interval > 60) {
        process.stderr.write(`segments: --interval must be a whole number of seconds from 1 to 60, got ${JSON.stringify(opts.interval)}\n`);
        setExit(2);
        return;
      }
      setExit(await withApp(opts, async (app) => {
        const progress = progressLine(process.stderr);
        const onProgress = (p: BackfillProgress) => progress(`building ${p.segmentId}: ${p.processed}/${p.total}${p.done ? ' done' : ''}`, p.done);
        const report = (pass: WorkerPass) => process.stderr.write(`time refresh: ${pass.refreshed} contacts re-evaluated\n`);
        if (!opts.watch) {
          report(await runWorkerPass(app.database, app.states, { onProgress }));
          return 0;
        }
        const stop = new AbortController();
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
        process.stderr.write(`working every ${interval} s; Ctrl-C stops\n`);
        const config = loadConfig(process.env);
        const retrying = (error: unknown) => process.stderr.write(`segments work: ${error instanceof Error ? error.message : String(error)} (retrying)\n`);
        await Promise.all([
          runWorker(app.database, app.states, {
            intervalMs: interval * 1000, signal: stop.signal, onProgress,
            onPass: (pass) => { if (pass.builds + pass.refreshed > 0) report(pass); },
            onError: retrying,
          }),
          // Webhook deliveries too, so `serve --no-worker` servers can leave all background work here.
          runDeliveries(app.database, { allowPrivate: config.allowPrivateWebhooks, leaseMs: config.webhookLeaseMs }, {
            signal: stop.signal,
            onPass: (pass) => { if (pass.delivered + pass.failedAttempts > 0) process.stderr.write(`webhooks: ${pass.delivered} delivered, ${pass.failedAttempts} attempts failed\n`); },
            onError: retrying,
          }),
        ]);
        return 0;
      }));
    });

  const token = program.command('token').description('API tokens of a workspace (stored hashed; a new one is shown once)');
  addStoreOptions(token.command('create').description('create a token and print it: segments token create --role admin --name ci')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--role <role>', 'admin (everything) or agent (reads; segments hidden from the agent or its teams stay hidden)', 'admin')
    .option('--agent-id <id>', 'the agent an agent token acts as')
    .option('--teams <ids>', 'the agent\'s teams, comma-separated'))
    .action(async (o: StoreOptions & { name: string; role: string; agentId?: string; teams?: string }) => setExit(await withApp(o, async (app) => {
      const teams = o.teams === undefined ? [] : o.teams.split(',').map((t) => t.trim()).filter((t) => t !== '');
      const created = await writeTransaction(app.database, (tx) => createToken(tx, o.workspace, { name: o.name, role: o.role, agent_id: o.agentId, teams }));
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(`token ${created.record.id} (${created.record.role}) for workspace ${o.workspace}: shown once, keep it\n`);
      return 0;
    })));
  addStoreOptions(token.command('list').description('the workspace\'s tokens: id, role, name, prefix, revoked'))
    .action(async (o: StoreOptions) => setExit(await withApp(o, async (app) => {
      for (const t of await listTokens(app.database.db, o.workspace)) {
        process.stdout.write(`${t.id}\t${t.role}\t${t.name}\t${t.prefix}…\t${t.revokedMs === null ? '' : `revoked ${new Date(t.revokedMs).toISOString()}`}\n`);
      }
      return 0;
    }, { reads: true })));
  addStoreOptions(token.command('revoke').argument('<id>').description('revoke a token: requests with it get 401 from now on'))
    .action(async (id: string, o: StoreOptions) => setExit(await withApp(o, async (app) => {
      await writeTransaction(app.database, (tx) => revokeToken(tx, o.workspace, id));
      return 0;
    })));

  addStoreOptions(program.command('verify').description('recompute every segment from scratch and compare with the stored membership and counts; exits 1 on any difference'))
    .action(async (opts: StoreOptions) => setExit(await withApp(opts, async (app) => {
      const { differences, due } = await verifyReport(app.database, app.states, opts.workspace, Date.now());
      for (const d of differences.slice(0, 100)) process.stdout.write(`${d.segmentId}\t${d.kind}\t${d.contactId ?? ''}\t${d.detail ?? ''}\n`);
      if (due > 0) {
        process.stderr.write(`verify: ${due} contacts are due for the time refresh (the server's worker or \`segments work\` re-evaluates them within a minute); they were compared as of the instant before their membership could change\n`);
      }
      process.stderr.write(differences.length === 0 ? 'verify: stored membership and counts equal a full recompute\n' : `verify: ${differences.length === 1 ? '1 difference' : `${differences.length} differences`}\n`);
      return differences.length === 0 ? 0 : 1;
    }, { reads: true })));
}
