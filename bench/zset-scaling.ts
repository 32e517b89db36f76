/**
 * How the sorted-set container scales (no server: the ZSet of src/store/types/zset.ts called
 * in-process). For each size it builds a set of N members with random scores, then times
 *
 *   ZADD new     adding members that are not there (skiplist insert + Map set)
 *   ZADD update  changing the score of existing members (delete + reinsert)
 *   ZRANGE 10    ranks r..r+9 from a random rank (rank lookup over the spans + 10 steps)
 *   ZRANK        the rank of a random member (Map lookup + span walk)
 *
 * and prints ns per operation, the encoding and bytes() per member. Flat costs from 1k to 1M
 * (growing like log N) are what a skiplist with spans should show.
 *
 *   node --expose-gc bench/zset-scaling.ts                 # 1k and 100k
 *   node --expose-gc bench/zset-scaling.ts --sizes 1000,100000,1000000
 */
import { parseArgs } from 'node:util';
import { ZSet } from '../src/store/types/zset.ts';

const { values: opt } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,100000' },
    ops: { type: 'string', default: '200000' },
  },
});
const sizes = opt.sizes.split(',').map(Number);
const OPS = Number(opt.ops);

function memberBytes(i: number): Buffer {
  return Buffer.from(`member:${i}`, 'latin1');
}

function time(n: number, fn: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

const gc = (globalThis as { gc?: () => void }).gc;
const rows: string[][] = [
  ['members', 'encoding', 'ZADD new', 'ZADD update', 'ZRANGE 10', 'ZRANK', 'bytes/member'],
];
for (const n of sizes) {
  gc?.();
  const z = new ZSet(n > 128);
  const keys: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const k = memberBytes(i);
    keys.push(k);
    z.add(k, 0, k.length, Math.random() * 1e6, 0);
  }
  const ops = Math.min(OPS, n * 4);
  const fresh: Buffer[] = [];
  const add = Math.min(ops, n);
  for (let i = 0; i < add; i++) fresh.push(memberBytes(n + i));
  const tAdd = time(add, (i) => {
    const k = fresh[i]!;
    z.add(k, 0, k.length, Math.random() * 1e6, 0);
  });
  for (const k of fresh) z.removeBytes(k, 0, k.length);
  const tUpd = time(ops, () => {
    const k = keys[(Math.random() * n) | 0]!;
    z.add(k, 0, k.length, Math.random() * 1e6, 0);
  });
  let sink = 0;
  const tRange = time(ops, () => {
    let p = z.atRank((Math.random() * (n - 10)) | 0);
    for (let k = 0; k < 10 && p !== -1; k++, p = z.next(p)) sink += z.scoreAt(p);
  });
  const tRank = time(ops, () => {
    const k = keys[(Math.random() * n) | 0]!;
    sink += z.rankOf(z.findBytes(k, 0, k.length));
  });
  if (sink === -1) console.log(sink);
  const f = (ns: number): string => `${ns.toFixed(0)} ns`;
  rows.push([String(n), z.encoding(), f(tAdd), f(tUpd), f(tRange), f(tRank), (z.bytes() / n).toFixed(1)]);
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
