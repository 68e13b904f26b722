// The command-line entry point: `bin/segments` runs this.
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { readStdin } from './read-stdin.js';
import { runEvaluate } from './evaluate-command.js';
import type { Engine } from './evaluate-command.js';
import { addStoreOptions, registerStoreCommands, withApp } from './store-commands.js';
import { runExport } from './export-command.js';
import { runImport, runImportOfStdin } from './import-command.js';
import { runServe } from './serve-command.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('segments')
    .description('Segments: customer segments for support and messaging teams.')
    // package.json is two levels up from src/cli and from dist/cli alike.
    .version((createRequire(import.meta.url)('../../package.json') as { version: string }).version, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('evaluate')
    .description('Read one JSON document on standard input and print the ids of the contacts its condition matches, as a JSON array.')
    .addOption(new Option('--sql <dialect>', 'evaluate through the SQL compiler, loading the contacts into a scratch database').choices(['sqlite', 'postgres']))
    .option('--database-url <url>', 'PostgreSQL for --sql postgres (default: $DATABASE_URL); a scratch schema is created and dropped')
    .option('--explain <id>', 'print why the contact with this id matches or not, rule by rule, instead of the ids')
    .option('--json', 'with --explain: print the annotated condition tree as JSON')
    .addHelpText('after', `
The document:
  {
    "schema":   [{"key": "plan_tier", "type": "enum", "options": ["free", "pro"]}, {"key": "mrr", "type": "number"}],
    "timezone": "America/New_York",          (IANA name; default UTC; day values are read in it)
    "now":      "2025-11-03T14:30:00Z",      (the moment of evaluation; default: the clock)
    "contacts": [{"id": "c1", "plan_tier": "pro", "mrr": 1200}],
    "condition": {"all": [{"attr": "plan_tier", "op": "eq", "value": "pro"}, {"attr": "mrr", "op": "gt", "value": 1000}]}
  }
The standard attributes (email, name, tags, created_at, vip, …) are always there; "schema" adds custom ones.
Contact values are read as a contact write reads them ("120" for a number is 120; a day is its first instant).

Exit status: 0 with the ids on standard output; 2 when the document or condition is invalid, with each
problem and its path (condition.any[1].all[0].value) on standard error.

Examples:
  segments evaluate < examples/evaluate-vip.json
  segments evaluate --sql sqlite < examples/evaluate-vip.json
  segments evaluate --explain c3 < examples/evaluate-vip.json`)
    .action(async (opts: { sql?: 'sqlite' | 'postgres'; databaseUrl?: string; explain?: string; json?: boolean }) => {
      const engine: Engine = opts.sql ?? 'predicate';
      const result = await runEvaluate(await readStdin(), {
        engine, explainId: opts.explain, json: opts.json, databaseUrl: opts.databaseUrl ?? process.env.DATABASE_URL,
      });
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      exitCode = result.exitCode;
    });

  registerStoreCommands(program, (code) => { exitCode = code; });

  addStoreOptions(program.command('import')
    .description('Import contacts from a CSV or JSON Lines file, streamed in batches. Each row is upserted (by id, else external_id, else email) and every segment is kept current; a bad row is reported and the rest go in.')
    .argument('<file>', 'the file, or - for standard input (with --format)')
    .addOption(new Option('--format <format>', 'default: from the extension (.csv, .jsonl, .ndjson)').choices(['csv', 'jsonl']))
    .option('--batch-size <n>', 'rows per transaction (default 1000)', (v) => Number(v))
    .option('--errors <file>', 'write every rejection to this file as CSV')
    .option('--quiet', 'no progress bar; the summary is still printed')
    .addHelpText('after', '\nExit status: 0 all rows in; 1 some rows rejected; 2 the file was refused (nothing written); 3 stopped part-way (import the same file again to complete it).'))
    .action(async (file: string, o: { workspace: string; db?: string; databaseUrl?: string; format?: 'csv' | 'jsonl'; batchSize?: number; errors?: string; quiet?: boolean }) => {
      exitCode = await withApp(o, (app) => {
        const options = { file, workspaceId: o.workspace, sink: app.contacts, format: o.format, batchSize: o.batchSize, errorsFile: o.errors, quiet: o.quiet, stderr: process.stderr };
        return file === '-' ? runImportOfStdin(options, process.stdin) : runImport(options);
      }, { longWrites: true });
    });

  addStoreOptions(program.command('export')
    .description('Write the workspace\'s contacts as CSV (id and every attribute, as `segments import` reads them back): all of them, or those --condition picks.')
    .option('--condition <json>', 'a condition the contacts must meet, as JSON: \'{"attr":"plan","op":"eq","value":"pro"}\'')
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExit status: 0 written; 2 the condition was refused (nothing written).'))
    .action(async (o: { workspace: string; db?: string; databaseUrl?: string; condition?: string; out?: string }) => {
      exitCode = await withApp(o, (app) => runExport(app, { workspaceId: o.workspace, condition: o.condition, out: o.out }), { reads: true });
    });

  program.command('serve')
    .description('Run the HTTP API (with backfills and the time refresh in the background). SQLite in data/ by default; PostgreSQL with DATABASE_URL. On first start with an empty store it creates a demo workspace and prints an admin token.')
    .option('--port <port>', 'the port (default: $PORT or 3000)', (v) => Number(v))
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--no-demo', 'on first start, create an empty "default" workspace instead of the demo')
    .option('--demo-contacts <n>', 'contacts in the demo workspace', (v) => Number(v), 20_000)
    .option('--worker-interval <seconds>', 'seconds between background passes (1 to 60)', (v) => Number(v), 15)
    .option('--no-worker', 'serve the API only, with no background work (backfills, time refresh, webhook delivery): another server or `segments work --watch` runs it (the server still brings its own writes\' segment order up to date every second)')
    .option('--db <file>', 'the SQLite file (default: $SEGMENTS_DB or data/segments.sqlite)')
    .option('--database-url <url>', 'use PostgreSQL instead (default: $DATABASE_URL)')
    .option('--log-level <level>', 'pino log level', process.env.LOG_LEVEL ?? 'info')
    .addHelpText('after', '\nStop with Ctrl-C or SIGTERM: in-flight requests finish, a backfill stops between batches and resumes at the next start.')
    .action(async (o: { port?: number; host: string; demo: boolean; demoContacts: number; workerInterval: number; worker: boolean; db?: string; databaseUrl?: string; logLevel: string }) => {
      const port = o.port ?? Number(process.env.PORT ?? 3000);
      const problems = [
        !Number.isInteger(port) || port < 0 || port > 65535 ? `--port must be a port number, got ${port}` : null,
        !Number.isInteger(o.demoContacts) || o.demoContacts < 0 || o.demoContacts > 1_000_000 ? '--demo-contacts must be a whole number from 0 to 1000000' : null,
        !Number.isInteger(o.workerInterval) || o.workerInterval < 1 || o.workerInterval > 60 ? '--worker-interval must be a whole number of seconds from 1 to 60' : null,
      ].filter((p) => p !== null);
      if (problems.length > 0) { process.stderr.write(problems.map((p) => `segments: ${p}\n`).join('')); exitCode = 2; return; }
      exitCode = await runServe({ port, host: o.host, demo: o.demo, demoContacts: o.demoContacts, workerIntervalSeconds: o.workerInterval, worker: o.worker, db: o.db, databaseUrl: o.databaseUrl, logLevel: o.logLevel });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // Commander has printed the help or the usage error; a usage error exits 2, as invalid input does.
    const { exitCode: code, code: kind } = error as { exitCode?: number; code?: string };
    if (typeof code === 'number') return kind === 'commander.helpDisplayed' || kind === 'commander.help' || kind === 'commander.version' ? 0 : 2;
    throw error;
  }
  return exitCode;
}
