// `segments evaluate` end to end: the real bin/segments, a document on standard input.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { postgresTestUrl } from '../src/db/test-support/postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = `${root}bin/segments`;
const shared = JSON.parse(readFileSync(new URL('../../shared/examples/evaluate.json', import.meta.url), 'utf8')) as Array<{
  id: string; document: unknown; expected?: string[]; expected_error_path?: string;
}>;
const pgUrl = await postgresTestUrl();

function run(args: string[], input: string, env: Record<string, string> = {}) {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const engines: Array<{ name: string; args: string[]; skip?: boolean }> = [
  { name: 'predicate', args: [] },
  { name: 'sqlite', args: ['--sql', 'sqlite'] },
  { name: 'postgres', args: ['--sql', 'postgres', '--database-url', pgUrl ?? ''], skip: pgUrl === null },
];

describe.each(engines)('segments evaluate ($name)', ({ args, skip }) => {
  it.skipIf(skip)('answers every shared worked example', () => {
    for (const ex of shared) {
      const r = run(['evaluate', ...args], JSON.stringify(ex.document));
      if (ex.expected_error_path) {
        expect(r.status, ex.id).toBe(2);
        expect(r.stderr, ex.id).toContain(ex.expected_error_path);
      } else {
        expect(r.status, `${ex.id}: ${r.stderr}`).toBe(0);
        expect((JSON.parse(r.stdout) as string[]).sort(), ex.id).toEqual([...ex.expected!].sort());
      }
    }
  });

  it.skipIf(skip)('runs the bundled example, also saved with a byte-order mark', () => {
    const text = readFileSync(`${root}examples/evaluate-vip.json`, 'utf8');
    for (const input of [text, `\ufeff${text}`]) {
      const r = run(['evaluate', ...args], input);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(['c1', 'c3']);
    }
  });

  it.skipIf(skip)('keeps numeric ids as numbers and coerces contact values as ingest does', () => {
    const doc = {
      schema: [{ key: 'mrr', type: 'number' }],
      contacts: [{ id: 1, mrr: '120' }, { id: 2, mrr: '' }, { id: 3, mrr: 1e3 }],
      condition: { attr: 'mrr', op: 'gte', value: 100 },
    };
    const r = run(['evaluate', ...args], JSON.stringify(doc));
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as number[]).sort()).toEqual([1, 3]);
  });
});

describe.each(engines)('segments evaluate ($name): attribute keys that are Object.prototype names', ({ args, skip }) => {
  it.skipIf(skip)('reads only the contact\'s own values', () => {
    const doc: Record<string, unknown> = {
      schema: [{ key: 'constructor', type: 'text' }, { key: 'valueof', type: 'number' }, { key: 'tostring', type: 'list' }],
      contacts: [{ id: 'a' }, { id: 'b', constructor: 'x', valueof: 1, tostring: ['t'] }],
      condition: { all: [{ attr: 'constructor', op: 'is_empty' }, { attr: 'valueof', op: 'is_empty' }, { attr: 'tostring', op: 'is_empty' }] },
    };
    const r = run(['evaluate', ...args], JSON.stringify(doc));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['a']);
  });
});

describe('segments evaluate: invalid input', () => {
  it('names every problem with its path from the document root and exits 2', () => {
    const doc = {
      schema: [{ key: 'mrr', type: 'number' }, { key: 'id', type: 'text' }],
      timezone: 'Mars/Olympus',
      contacts: [{ id: 'a', mrr: 'lots' }, { id: 'b', colour: 'red' }],
      condition: { all: [{ attr: 'mrr', op: 'gt', value: '5' }] },
    };
    const r = run(['evaluate'], JSON.stringify(doc));
    expect(r.status).toBe(2);
    for (const path of ['schema[1].key', 'timezone', 'contacts[0].mrr', 'contacts[1].colour', 'condition.all[0].value']) {
      expect(r.stderr).toContain(path);
    }
    expect(r.stdout).toBe('');
  });

  it('exits 2 on text that is not JSON', () => {
    const r = run(['evaluate'], '{"condition": ');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not JSON/);
  });

  it('exits 2 on an unknown engine', () => {
    expect(run(['evaluate', '--sql', 'mysql'], '{}').status).toBe(2);
  });
});

describe('segments evaluate --explain', () => {
  const doc = readFileSync(`${root}examples/evaluate-vip.json`, 'utf8');

  it('says, rule by rule, why a contact does not match', () => {
    const r = run(['evaluate', '--explain', 'c2'], doc);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('"c2" does not match');
    expect(r.stdout).toMatch(/✗ tags contains "vip" +— contact has \[\] \(missing\)/);
  });

  it('prints the annotated tree as JSON', () => {
    const r = run(['evaluate', '--explain', 'c3', '--json'], doc);
    const tree = JSON.parse(r.stdout) as { result: boolean; children: Array<{ result: boolean; contactValue: unknown }> };
    expect(tree.result).toBe(true);
    expect(tree.children[0].contactValue).toEqual(['vip']);
  });

  it('refuses an id that is not in the document', () => {
    const r = run(['evaluate', '--explain', 'nobody'], doc);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no contact with id "nobody"');
  });
});
