// `segments --version`, `--help`; `segments work` end to end: one pass, a refused --interval, and --watch stopped by SIGINT; `segment members`, `preview`, `add` and `remove`; `attribute`; `export`; `import -`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}bin/segments`;
const dir = mkdtempSync(join(tmpdir(), 'segments-work-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { DATABASE_URL: _ignored, ...env } = process.env; // the embedded SQLite file, whatever the shell says

describe('segments --version and --help', () => {
  it('prints the package version and exits 0', () => {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version);
  });

  it('lists the commands and exits 0', () => {
    const r = spawnSync(bin, ['--help'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(0);
    for (const command of ['evaluate', 'import', 'export', 'serve', 'verify', 'work', 'segment', 'attribute', 'token']) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });
});

describe('segments work', () => {
  it('runs one pass and says how many contacts the time refresh re-evaluated', () => {
    const r = spawnSync(bin, ['work', '--db', join(dir, 'once.sqlite')], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('time refresh: 0 contacts re-evaluated');
  });

  it.each(['0', '61', '1.5', 'soon'])('refuses --interval %s with status 2, naming the option', (interval) => {
    const r = spawnSync(bin, ['work', '--watch', '--interval', interval, '--db', join(dir, 'bad.sqlite')], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--interval must be a whole number of seconds from 1 to 60');
  });

  it('--watch keeps working until Ctrl-C, then exits 0', async () => {
    const child = spawn(bin, ['work', '--watch', '--interval', '1', '--db', join(dir, 'watch.sqlite')], { env });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += String(chunk); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes('working every 1 s') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stderr).toContain('working every 1 s; Ctrl-C stops');
    await new Promise((r) => setTimeout(r, 1_500)); // a second pass
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 60_000);
});

describe('segments segment members', () => {
  it('prints a page of members and the cursor of the next; a bad limit is an error naming it', () => {
    const db = join(dir, 'members.sqlite');
    const run = (...args: string[]) => spawnSync(bin, [...args, '--db', db], { encoding: 'utf8', env, timeout: 60_000 });
    const file = join(dir, 'people.jsonl');
    writeFileSync(file, ['a', 'b', 'c'].map((id) => JSON.stringify({ id, tags: ['vip'] })).join('\n'));
    expect(run('segment', 'create', 'VIP', '{"attr": "tags", "op": "contains", "value": "vip"}').status).toBe(0);
    expect(run('import', file).status).toBe(0);
    expect(run('work').status).toBe(0);
    const id = run('segment', 'list').stdout.split('\t')[0];
    const first = run('segment', 'members', id, '--limit', '2');
    expect(first.status).toBe(0);
    expect(first.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual(['a', 'b']);
    const cursor = /more: --after (\S+)/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const second = run('segment', 'members', id, '--limit', '2', '--after', cursor!);
    expect(second.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual(['c']);
    expect(second.stderr).not.toContain('more:');
    const bad = run('segment', 'members', id, '--limit', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('limit');
    const words = run('segment', 'members', id, '--limit', 'abc');
    expect(words.status).toBe(2);
    expect(words.stderr).toContain('--limit must be a whole number from 1 to 1000, got "abc"');
  });
});

describe('segments attribute', () => {
  it('creates, lists, updates and deletes attributes; deleting one a segment uses is refused, naming it', () => {
    const db = join(dir, 'attributes.sqlite');
    const run = (...args: string[]) => spawnSync(bin, [...args, '--db', db], { encoding: 'utf8', env, timeout: 60_000 });
    const created = run('attribute', 'create', 'plan_tier', 'enum', '--options', 'free,pro', '--label', 'Plan');
    expect(created.status).toBe(0);
    // Printed as the API shows an attribute.
    expect(JSON.parse(created.stdout)).toEqual({ key: 'plan_tier', type: 'enum', label: 'Plan', options: ['free', 'pro'], enabled: true, standard: false, version: 1 });
    expect(run('attribute', 'create', 'score', 'number').status).toBe(0);
    const row = (key: string) => run('attribute', 'list').stdout.split('\n').find((l) => l.startsWith(`${key}\t`));
    expect(row('plan_tier')).toBe('plan_tier\tenum\tenabled\tcustom\tPlan\tfree,pro');
    expect(row('email')).toBe('email\ttext\tenabled\tstandard\tEmail\t');

    expect(run('segment', 'create', 'Pro', '{"attr": "plan_tier", "op": "eq", "value": "pro"}').status).toBe(0);
    const inUse = run('attribute', 'delete', 'plan_tier');
    expect(inUse.status).toBe(2);
    expect(inUse.stderr).toMatch(/attribute "plan_tier" is used by "Pro" \(seg_[0-9a-f]+\)/);
    const option = run('attribute', 'update', 'plan_tier', '--options', 'free');
    expect(option.status).toBe(2);
    expect(option.stderr).toContain('"pro" of "plan_tier" cannot be removed');

    expect(run('attribute', 'update', 'plan_tier', '--options', 'free,pro,enterprise', '--label', 'Plan tier', '--disable').status).toBe(0);
    expect(row('plan_tier')).toBe('plan_tier\tenum\tdisabled\tcustom\tPlan tier\tfree,pro,enterprise');
    expect(run('attribute', 'update', 'plan_tier', '--enable', '--disable').status).toBe(2);

    expect(run('attribute', 'delete', 'score').status).toBe(0);
    expect(row('score')).toBeUndefined();
    const missing = run('attribute', 'delete', 'score');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('score');
  });
});

describe('segments export', () => {
  it('writes every contact as CSV, or those a condition picks, and reads back through import to the same state', () => {
    const db = join(dir, 'export.sqlite');
    const run = (...args: string[]) => spawnSync(bin, [...args, '--db', db], { encoding: 'utf8', env, timeout: 60_000 });
    expect(run('attribute', 'create', 'score', 'number').status).toBe(0);
    const file = join(dir, 'export-people.jsonl');
    writeFileSync(file, [
      { id: 'a', email: 'a@example.com', score: 5, tags: ['vip', 'beta'] },
      { id: 'b', name: '=HYPERLINK("x")', score: 50 },
      { id: 'c', name: 'Comma, "quoted"' },
    ].map((row) => JSON.stringify(row)).join('\n'));
    expect(run('import', file, '--quiet').status).toBe(0);

    const all = run('export');
    expect(all.status).toBe(0);
    const lines = all.stdout.split('\r\n').filter(Boolean);
    const header = lines[0]!.split(',');
    expect(header[0]).toBe('id');
    expect(header).toEqual(expect.arrayContaining(['email', 'name', 'tags', 'score']));
    expect(lines.map((l) => l.split(',')[0])).toEqual(['id', 'a', 'b', 'c']);
    const cell = (line: string, key: string) => line.split(',')[header.indexOf(key)];
    expect(cell(lines[1]!, 'tags')).toBe('vip;beta');
    expect(cell(lines[1]!, 'score')).toBe('5');
    expect(lines[2]).toContain('"\'=HYPERLINK(""x"")"'); // a formula is escaped, quotes doubled
    expect(lines[3]).toContain('"Comma, ""quoted"""');

    const picked = run('export', '--condition', '{"attr": "score", "op": "gte", "value": 10}');
    expect(picked.stdout.split('\r\n').filter(Boolean).map((l) => l.split(',')[0])).toEqual(['id', 'b']);

    // The file export re-imports as "unchanged": the format round-trips.
    const out = join(dir, 'exported.csv');
    expect(run('export', '--out', out).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(all.stdout);
    const again = run('import', out, '--quiet');
    expect(again.status).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/unchanged\s+3\b/);

    const bad = run('export', '--condition', '{"attr": "score", "op": "contains", "value": 1}');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('invalid condition');
    expect(bad.stdout).toBe('');
    const notJson = run('export', '--condition', '{score');
    expect(notJson.status).toBe(2);
    expect(notJson.stderr).toContain('--condition is not JSON');
  });

  it('stops quietly when its reader stops early (segments export | head)', () => {
    const db = join(dir, 'export-many.sqlite');
    const file = join(dir, 'export-many.jsonl');
    writeFileSync(file, Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ id: `u${i}`, name: `User ${i} `.repeat(5) })).join('\n'));
    expect(spawnSync(bin, ['import', file, '--quiet', '--db', db], { encoding: 'utf8', env, timeout: 60_000 }).status).toBe(0);
    // More than a pipe holds (~500 KB), so the writer meets the closed pipe.
    const r = spawnSync('sh', ['-c', `"${bin}" export --db "${db}" | head -n 2`], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.stdout.split('\r\n')[1]).toMatch(/^u0,/);
    expect(r.stderr).toBe('');
  });
});

describe('segments segment preview', () => {
  it('prints the count and first members of an unsaved condition, and an edit\'s impact; refuses bad input with status 2', () => {
    const db = join(dir, 'preview.sqlite');
    const run = (...args: string[]) => spawnSync(bin, [...args, '--db', db], { encoding: 'utf8', env, timeout: 60_000 });
    const file = join(dir, 'preview-people.jsonl');
    writeFileSync(file, [['a', ['vip']], ['b', ['vip', 'beta']], ['c', ['beta']]].map(([id, tags]) => JSON.stringify({ id, tags })).join('\n'));
    expect(run('import', file, '--quiet').status).toBe(0);
    expect(run('segment', 'create', 'VIP', '{"attr": "tags", "op": "contains", "value": "vip"}').status).toBe(0);
    const id = run('segment', 'list').stdout.split('\t')[0];

    const fresh = run('segment', 'preview', '{"attr": "tags", "op": "contains", "value": "beta"}', '--limit', '1');
    expect(fresh.status).toBe(0);
    expect(JSON.parse(fresh.stdout)).toEqual({ count: 2, members: ['b'], impact: null });
    const edit = run('segment', 'preview', '{"attr": "tags", "op": "contains", "value": "beta"}', '--segment', id);
    expect(JSON.parse(edit.stdout)).toEqual({ count: 2, members: ['b', 'c'], impact: { added: 1, removed: 1 } });

    const bad = run('segment', 'preview', '{"attr": "tags", "op": "gt", "value": 1}');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid condition: op: /);
    expect(run('segment', 'preview', '{"attr": "tags"', '--segment', id).stderr).toContain('the condition is not JSON');
    expect(run('segment', 'preview', '{"attr": "tags", "op": "is_empty"}', '--segment', 'seg_nope').stderr).toContain('no segment with id "seg_nope"');
  });
});

describe('segments segment add / remove', () => {
  it('changes a manual segment\'s members by contact id, names ids of no contact, and refuses a dynamic segment', () => {
    const db = join(dir, 'manual.sqlite');
    const run = (...args: string[]) => spawnSync(bin, [...args, '--db', db], { encoding: 'utf8', env, timeout: 60_000 });
    const file = join(dir, 'manual-people.jsonl');
    writeFileSync(file, ['a', 'b', 'c'].map((id) => JSON.stringify({ id, name: id })).join('\n'));
    expect(run('import', file, '--quiet').status).toBe(0);
    const created = JSON.parse(run('segment', 'create', 'Hand picked', '--manual').stdout);
    // Printed as the API shows a segment.
    expect(created).toMatchObject({ name: 'Hand picked', kind: 'manual', status: 'ready', member_count: 0, version: 1, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    const manual = created.id as string;
    const dynamic = JSON.parse(run('segment', 'create', 'Named', '{"attr": "name", "op": "is_not_empty"}').stdout).id as string;

    const added = run('segment', 'add', manual, 'a', 'b', 'nobody');
    expect(added.status).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ changed: ['a', 'b'], unknown: ['nobody'] });
    expect(JSON.parse(run('segment', 'add', manual, 'a').stdout)).toEqual({ changed: [], unknown: [] });
    expect(JSON.parse(run('segment', 'remove', manual, 'b').stdout)).toEqual({ changed: ['b'], unknown: [] });
    expect(run('segment', 'members', manual).stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual(['a']);

    const refused = run('segment', 'add', dynamic, 'c');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('is dynamic');
    expect(run('verify').status).toBe(0);

    // A command that only reads refuses a workspace that does not exist (a typo), and creates none;
    // one that writes creates it on first use.
    for (const args of [['verify'], ['segment', 'list'], ['attribute', 'list'], ['token', 'list'], ['export'], ['segment', 'members', manual]]) {
      const typo = run(...args, '--workspace', 'defualt');
      expect(typo.status, args.join(' ')).toBe(2);
      expect(typo.stderr, args.join(' ')).toContain('no workspace with id "defualt"');
    }
    expect(run('segment', 'create', 'Elsewhere', '--manual', '--workspace', 'other').status).toBe(0);
    expect(run('segment', 'list', '--workspace', 'other').stdout).toContain('Elsewhere');
    expect(run('verify', '--workspace', 'defualt').status).toBe(2);
  });
});

describe('segments import -', () => {
  it('imports standard input in the format named, and refuses it without --format', () => {
    const db = join(dir, 'stdin.sqlite');
    const run = (input: string, ...args: string[]) => spawnSync(bin, [...args, '--db', db], { encoding: 'utf8', env, input, timeout: 60_000 });
    const csv = run('id,name\ns1,Ann\ns2,Bo\n', 'import', '-', '--format', 'csv');
    expect(csv.status).toBe(0);
    expect(csv.stderr).toMatch(/^segments import: standard input \(CSV/);
    expect(csv.stderr).toMatch(/created\s+2\b/);
    const jsonl = run('{"id": "s1", "name": "Ann"}\n{"id": "s3"}\n', 'import', '-', '--format', 'jsonl');
    expect(jsonl.stderr).toMatch(/unchanged\s+1\b/);
    expect(jsonl.stderr).toMatch(/created\s+1\b/);
    const noFormat = run('id\nx\n', 'import', '-');
    expect(noFormat.status).toBe(2);
    expect(noFormat.stderr).toContain('needs --format csv or --format jsonl');
    expect(run('', 'export').stdout.split('\r\n').filter(Boolean).map((l) => l.split(',')[0])).toEqual(['id', 's1', 's2', 's3']);
  });
});
