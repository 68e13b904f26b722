// scratch: member rows keyed (workspace, contact, segment) / (workspace, segment, contact) against the workspace last
import D from 'better-sqlite3';
import { rmSync } from 'node:fs';
const variant = process.argv[2];
const N = Number(process.argv[3] ?? 300000);
const file = `/tmp/memkeys-${variant}.sqlite`;
rmSync(file, { force: true }); rmSync(file + '-wal', { force: true });
const db = new D(file);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
const [k1, k2] = variant === 'first' ? ['workspace_id, contact_pk, segment_id', 'workspace_id, segment_id, contact_pk'] : ['contact_pk, segment_id, workspace_id', 'segment_id, contact_pk, workspace_id'];
db.exec(`create table m (workspace_id text not null, segment_id text not null, contact_pk integer not null, since_ms integer not null, primary key (${k1})) without rowid`);
db.exec(`create table o (workspace_id text not null, segment_id text not null, contact_pk integer not null, primary key (${k2})) without rowid`);
const segs = Array.from({ length: 60 }, (_, i) => process.argv[4] === 'int' ? i + 1 : 'seg_' + (0x1000000000000000n + BigInt(i) * 7919n * 1000003n).toString(16).slice(0, 16));
let seed = 1; const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const B = 1000, ROWS = 7500;
const ins = db.prepare(`insert or fail into m (workspace_id, since_ms, segment_id, contact_pk) values ${Array.from({ length: ROWS }, () => '(@w, @s, ?, ?)').join(', ')}`);
const ins1 = db.prepare(`insert or fail into m (workspace_id, since_ms, segment_id, contact_pk) values (@w, @s, ?, ?)`);
const copy = db.prepare(`insert or fail into o (workspace_id, segment_id, contact_pk) select workspace_id, segment_id, contact_pk from m where workspace_id = ? and contact_pk between ? and ?`);
const t0 = performance.now(); const c0 = process.cpuUsage();
let pk = 0;
for (let b = 0; b < N / B; b++) {
  const rows = [];
  const first = pk + 1;
  for (let c = 0; c < B; c++) { pk++; for (let s = 0; s < 60; s++) if (rnd() < 0.16) rows.push(segs[s], pk); }
  db.exec('begin immediate');
  let i = 0;
  for (; i + ROWS * 2 <= rows.length; i += ROWS * 2) ins.run(...rows.slice(i, i + ROWS * 2), { w: 'bench', s: 1700000000000 });
  for (; i < rows.length; i += 2) ins1.run(rows[i], rows[i + 1], { w: 'bench', s: 1700000000000 });
  copy.run('bench', first, pk);
  db.exec('commit');
}
const c = process.cpuUsage(c0);
console.log(variant, N, 'wall', ((performance.now() - t0) / 1000).toFixed(1), 's, cpu user', (c.user / 1e6).toFixed(1), 'sys', (c.system / 1e6).toFixed(1));
db.close();
