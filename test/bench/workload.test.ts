import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  loadWorkloadDir,
  loadWorkloadFile,
  parseWorkload,
  WorkloadError,
} from '../../bench/workload/load.ts';
import { COMMANDS, nilAllowed } from '../../bench/workload/types.ts';

const minimal = { name: 'w', description: 'd', mix: [{ command: 'GET', weight: 1 }] };

t.test(
  'every shipped workload validates, names are unique, the standard suite fits the design',
  async (t) => {
    const all = loadWorkloadDir();
    t.ok(all.length >= 12);
    const cmds = new Set(all.flatMap((w) => w.mix.map((m) => m.command)));
    for (const c of COMMANDS) {
      t.ok(cmds.has(c), `some workload uses ${c}`);
    }
    t.ok(
      all.some((w) => w.mode === 'open' && w.rate > 0),
      'an open-loop workload',
    );
    t.ok(
      all.some((w) => w.distribution === 'zipfian'),
      'a zipfian workload',
    );
    t.ok(
      all.some((w) => w.distribution === 'sequential'),
      'a sequential workload',
    );
    t.ok(
      all.some((w) => w.mix.some((m) => m.ttl > 0)),
      'a TTL-churn workload',
    );
    t.same(new Set(all.flatMap((w) => [w.valueSize])).has(16384), true);
    for (const w of all) {
      t.ok(Math.abs(w.mix.reduce((s, m) => s + m.share, 0) - 1) < 1e-9, `${w.name}: shares sum to 1`);
    }
  },
);

t.test('defaults are applied', async (t) => {
  const w = parseWorkload(minimal, 'mem');
  t.match(w, {
    name: 'w',
    suites: ['standard'],
    mode: 'closed',
    rate: 0,
    keys: 100000,
    distribution: 'uniform',
    skew: 0.99,
    prefix: 'tb:',
    valueSize: 32,
    pipeline: 1,
    connections: 50,
    preload: true, // it reads strings
  });
  t.same(w.mix, [{ command: 'GET', share: 1, ttl: 0, keys: 1, fields: 16, count: 10 }]);
  t.equal(parseWorkload({ ...minimal, mix: [{ command: 'SET', weight: 1 }] }, 'mem').preload, false);
  const mset = parseWorkload(
    {
      ...minimal,
      mix: [
        { command: 'MSET', weight: 3 },
        { command: 'MGET', weight: 1, keys: 4 },
      ],
    },
    'm',
  );
  t.same(
    mset.mix.map((m) => [m.share, m.keys]),
    [
      [0.75, 10],
      [0.25, 4],
    ],
  );
  t.equal(minimal.mix.length, 1, 'input object not mutated by ajv defaults');
  t.notOk('keyspace' in minimal);
});

t.test('invalid workloads are rejected with the file and field named', async (t) => {
  const bad: [unknown, RegExp][] = [
    [{ ...minimal, mix: [{ command: 'FLUSHALL', weight: 1 }] }, /\/mix\/0\/command.*GET, SET/],
    [{ ...minimal, mix: [] }, /\/mix/],
    [{ ...minimal, mix: [{ command: 'GET', weight: 0 }] }, /\/mix\/0\/weight/],
    [{ ...minimal, colour: 'red' }, /additional properties 'colour'/],
    [{ ...minimal, name: 'Has Space' }, /\/name/],
    [{ ...minimal, valueSize: 8 }, /\/valueSize/],
    [{ ...minimal, mode: 'open' }, /rate/],
    [{ ...minimal, keyspace: { distribution: 'pareto' } }, /distribution/],
    [{ ...minimal, keyspace: { skew: 0 } }, /skew/],
    [{ ...minimal, mix: [{ command: 'GET', weight: 1, ttl: 5 }] }, /'ttl' does not apply to GET/],
    [{ ...minimal, mix: [{ command: 'SET', weight: 1, keys: 5 }] }, /'keys' does not apply to SET/],
    [{ description: 'x', mix: minimal.mix }, /name/],
  ];
  for (const [doc, re] of bad) {
    t.throws(() => parseWorkload(doc, 'x.json'), { name: 'Error', message: re }, JSON.stringify(doc));
    try {
      parseWorkload(doc, 'x.json');
    } catch (e) {
      t.ok(e instanceof WorkloadError, 'a WorkloadError (reported without a stack trace)');
    }
  }
});

t.test('files: bad JSON names the file; open loop and TTL rules', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wl-'));
  const f = path.join(dir, 'broken.json');
  writeFileSync(f, '{ "name": ');
  t.throws(() => loadWorkloadFile(f), { message: /broken\.json/ });
  const open = parseWorkload({ ...minimal, mode: 'open', rate: 1000 }, 'o');
  t.equal(open.rate, 1000);
  t.equal(nilAllowed(open), false, 'preloaded GETs must hit');
  const churn = parseWorkload(
    { ...minimal, mix: [...minimal.mix, { command: 'SET', weight: 1, ttl: 1 }] },
    'c',
  );
  t.equal(nilAllowed(churn), true, 'expiring keys may miss');
  const dup = mkdtempSync(path.join(os.tmpdir(), 'wl-'));
  writeFileSync(path.join(dup, 'a.json'), JSON.stringify(minimal));
  writeFileSync(path.join(dup, 'b.json'), JSON.stringify(minimal));
  t.throws(() => loadWorkloadDir(dup), { message: /'w' used by/ });
});
