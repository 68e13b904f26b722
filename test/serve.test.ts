// `segments serve` as a newcomer runs it (npm start): on first start with an empty SQLite store it
// creates the demo workspace and prints the URL and an admin token; the API answers with the demo's
// segments built; SIGTERM lets an in-flight request finish and exits 0; a second start keeps the
// data and prints no new token. With --no-demo an empty store gets an empty workspace and a token.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'segments-serve-'));
// Servers a failed test left running are stopped at the end.
const children = new Set<ChildProcess>();

function serve(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string; exited: Promise<number | null> }> {
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` before these tests');
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [join(root, 'bin/segments'), 'serve', '--port', '0', '--log-level', 'warn', ...args], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no start: ${stderr}`)); }, 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /running at (http:\/\/\S+)[\s\S]*\n\n/.exec(stderr);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], stderr: () => stderr, exited }); }
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('segments serve', () => {
  it('creates the demo on first start, serves it, stops cleanly on SIGTERM, and keeps the data', async () => {
    const first = await serve(['--db', join(dir, 'demo.sqlite'), '--demo-contacts', '2000']);
    const token = /(sgt_[A-Za-z0-9_-]+)/.exec(first.stderr())![1];
    expect(first.stderr()).toContain('workspace "demo"');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads the bodies it expects
    const get = async (url: string, path: string) => { const r = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } }); return { json: async () => (await r.json()) as any }; };
    const segments = (await (await get(first.url, '/v1/segments')).json()).data as Array<{ name: string; status: string; member_count: number }>;
    expect(segments.map((s) => s.name).sort()).toEqual(['APAC', 'Active', 'EU', 'Enterprise', 'Inactive 30+ days', 'NA', 'New this week', 'Renewal risk', 'Trial', 'VIP', 'WhatsApp opted-in']);
    expect(segments.every((s) => s.status === 'ready' && s.member_count > 0)).toBe(true);

    // An upload under way when SIGTERM comes: its request finishes (202), then the process exits 0.
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode('id,name\n'));
        await released;
        controller.enqueue(new TextEncoder().encode('late-1,Late\n'));
        controller.close();
      },
    });
    const upload = fetch(`${first.url}/v1/contacts/import`, { method: 'POST', body, duplex: 'half', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' } } as RequestInit);
    await new Promise((r) => setTimeout(r, 300));
    first.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    release();
    expect((await upload).status).toBe(202);
    expect(await first.exited).toBe(0);

    const second = await serve(['--db', join(dir, 'demo.sqlite')]);
    expect(second.stderr()).not.toMatch(/sgt_/);
    expect((await (await get(second.url, '/v1/segments')).json()).data).toHaveLength(11);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('starts empty with --no-demo; a segment created then is built at once, not at the next pass', async () => {
    const s = await serve(['--db', join(dir, 'empty.sqlite'), '--no-demo', '--worker-interval', '60']);
    const token = /(sgt_[A-Za-z0-9_-]+)/.exec(s.stderr())![1];
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = await (await fetch(`${s.url}/v1/segments`, { headers })).json();
    expect(body).toEqual({ data: [], next_cursor: null });
    expect(((await (await fetch(`${s.url}/v1/workspace`, { headers })).json()) as { id: string }).id).toBe('default');

    // The worker's first pass ran at start and the next is a minute away: the new segment is built
    // because saving it asked for a pass.
    expect((await fetch(`${s.url}/v1/contacts`, { method: 'POST', headers, body: JSON.stringify({ attributes: { name: 'Ana', vip: true } }) })).status).toBe(201);
    const created = await fetch(`${s.url}/v1/segments`, { method: 'POST', headers, body: JSON.stringify({ name: 'VIP', condition: { attr: 'vip', op: 'eq', value: true } }) });
    const { id } = (await created.json()) as { id: string };
    let segment: { status: string; member_count: number } | undefined;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      segment = (await (await fetch(`${s.url}/v1/segments/${id}`, { headers })).json()) as { status: string; member_count: number };
      if (segment.status === 'ready') break;
    }
    expect(segment).toMatchObject({ status: 'ready', member_count: 1 });
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  }, 60_000);
});
