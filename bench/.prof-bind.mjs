import D from 'better-sqlite3';
const db = new D(':memory:');
const N = 30000;
const marks = Array.from({length: N}, () => '?').join(',');
// a statement whose where is false before any parameter is read
const s = db.prepare(`select 1 where 0 and 1 in (${marks})`);
const s1 = db.prepare(`select 1 where 0`);
const nulls = new Array(N).fill(null);
const strs = Array.from({length: N}, (_, i) => 'abcdefghij' + (i % 100));
const nums = Array.from({length: N}, (_, i) => i * 1.5);
for (const [name, arr] of [['nulls', nulls], ['strings', strs], ['numbers', nums]]) {
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) s.run(arr);
    const t = performance.now() - t0;
    if (r === 2) console.log(name, ((t / 200 / N) * 1e6).toFixed(1), 'ns per bound value');
  }
}
const t0 = performance.now(); for (let i = 0; i < 200; i++) s1.run(); console.log('empty run', ((performance.now()-t0)/200*1000).toFixed(1),'µs');
for (const [name, arr] of [['nulls', nulls], ['strings', strs], ['numbers', nums]]) {
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) s.run(...arr);
    const t = performance.now() - t0;
    if (r === 2) console.log('spread', name, ((t / 200 / N) * 1e6).toFixed(1), 'ns per bound value');
  }
}
const k = s.constructor;
