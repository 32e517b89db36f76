/**
 * A workload with `server` settings (maxmemory + policy), shrunk: both targets get the same
 * CONFIG SET, GET misses caused by eviction are not counted as wrong replies, and the report
 * carries each target's hit rate. Asserts presence and sanity, never a hit-rate threshold.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/server.ts';
import type { Report } from '../../bench/suite/results.ts';
import { parseWorkload } from '../../bench/workload/load.ts';
import { evicts, nilAllowed } from '../../bench/workload/types.ts';

const run = promisify(execFile);

const doc = {
  name: 'tiny-hit-rate',
  description: 'zipfian GET/SET over 50,000 keys under a 2 MB limit',
  suites: ['memory'],
  keyspace: { keys: 50000, distribution: 'zipfian', skew: 0.99 },
  pipeline: 4,
  connections: 4,
  server: { maxmemory: '2mb', 'maxmemory-policy': 'allkeys-lru', 'maxmemory-samples': 5 },
  mix: [
    { command: 'GET', weight: 80 },
    { command: 'SET', weight: 20 },
  ],
};

t.test('server settings parse to strings; eviction allows nil reads', async (t) => {
  const w = parseWorkload(doc, 'mem');
  t.same(w.server, { maxmemory: '2mb', 'maxmemory-policy': 'allkeys-lru', 'maxmemory-samples': '5' });
  t.ok(w.preload);
  t.ok(evicts(w) && nilAllowed(w));
  const plain = parseWorkload({ ...doc, server: undefined }, 'mem');
  t.same(plain.server, {});
  t.notOk(evicts(plain) || nilAllowed(plain));
  t.throws(() => parseWorkload({ ...doc, server: { maxmemory: [1] } }, 'bad'), /server/);
});

t.test('npm run bench with a maxmemory workload reports hit rates', async (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-mem-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const file = path.join(out, 'w.json');
  writeFileSync(file, JSON.stringify(doc));
  const args = [
    path.join(ROOT, 'bench/run.ts'),
    '--workload',
    file,
    '--reps',
    '1',
    '--warmup',
    '0.3',
    '--duration',
    '0.5',
    '--threads',
    '1',
    '--out',
    out,
  ];
  const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 120_000 });
  const json = readdirSync(out).find((f) => f.endsWith('.json') && f !== 'w.json')!;
  const report = JSON.parse(readFileSync(path.join(out, json), 'utf8')) as Report;
  const cells = report.workloads[0]!.cells;
  t.ok(cells.length >= 1);
  for (const c of cells) {
    t.equal(c.status, 'ok', `${c.target} ran`);
    t.equal(c.mismatches, 0, `${c.target}: no wrong replies`);
    t.equal(c.errors, 0, `${c.target}: no errors (no -OOM under allkeys-lru)`);
    t.ok(c.misses > 0, `${c.target}: reads missed evicted keys`);
    t.ok(c.hitRate !== null && c.hitRate > 0 && c.hitRate < 1, `${c.target}: hit rate ${c.hitRate}`);
    t.match(stdout, new RegExp(`${c.target}: hit rate \\d+\\.\\d%`));
  }
});
