/**
 * Per-operation cost of the list container, in-process (no server): what redis-benchmark's
 * `LPUSH mylist xxx` / `LPOP mylist` put on one key.
 *
 *   container  ListValue.push(HEAD, 3 bytes) N times, then peek + trim(HEAD, 1) N times, the
 *              calls the LPUSH / LPOP handlers make
 *   handler    the real LPUSH / LPOP shard handlers on a Keyspace, through a RequestView and a
 *              ShardContext as workers/shard.ts builds them (reply writer reset per command)
 *
 *   node --expose-gc bench/list-micro.ts [--n 1000000] [--rounds 3] [--only container|handler]
 */
import { parseArgs } from 'node:util';
import { commandByName } from '../src/commands/table.ts';
import { modified, propagate } from '../src/commands/modified.ts';
import type { ShardContext } from '../src/commands/types.ts';
import { SlowLog } from '../src/observability/slowlog.ts';
import { RespWriter } from '../src/protocol/writer.ts';
import { RequestView } from '../src/router/frames.ts';
import { Keyspace } from '../src/store/keyspace.ts';
import { HEAD, ListCursor, ListValue } from '../src/store/types/list.ts';

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const N = Number(opt.n);
const ROUNDS = Number(opt.rounds);
const run = (section: string): boolean => opt.only === undefined || opt.only === section;

function time(label: string, fn: () => void): void {
  globalThis.gc?.();
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0) / N;
  console.log(`${label.padEnd(22)} ${ns.toFixed(1).padStart(7)} ns/op`);
}

/** A frame-like buffer: key then value, as the arguments of one request. */
const frame = Buffer.from('mylistxxx', 'latin1');
const KEY_LEN = 6;

function container(): void {
  const l = new ListValue();
  const cur = new ListCursor();
  let sink = 0;
  time('container LPUSH', () => {
    for (let i = 0; i < N; i++) l.push(HEAD, frame, KEY_LEN, 3);
  });
  time('container LPOP', () => {
    for (let i = 0; i < N; i++) {
      l.peek(HEAD, cur);
      sink += cur.n;
      l.trim(HEAD, 1);
    }
  });
  if (l.size !== 0 || sink !== 3 * N) throw new Error('container bench out of step');
}

function handler(): void {
  const ks = new Keyspace(16);
  const req = new RequestView();
  const out = new RespWriter();
  const c = {
    ks,
    req,
    out,
    shardId: 0,
    maxBulkLen: 512 * 1024 * 1024,
    slowlog: new SlowLog(),
    notifyFlags: 0,
    events: [],
    modified,
    propagate,
    propagated: [],
  } as unknown as ShardContext;
  const lpush = commandByName('lpush')!;
  const lpop = commandByName('lpop')!;
  req.u8 = frame;
  req.off[0] = 0;
  req.len[0] = KEY_LEN;
  req.off[1] = KEY_LEN;
  req.len[1] = 3;
  let sink = 0;
  time('handler LPUSH', () => {
    req.argc = 2;
    req.cmd = lpush.index;
    const fn = lpush.shard!;
    for (let i = 0; i < N; i++) {
      out.reset();
      fn(c);
      sink += out.pos;
    }
  });
  time('handler LPOP', () => {
    req.argc = 1;
    req.cmd = lpop.index;
    const fn = lpop.shard!;
    for (let i = 0; i < N; i++) {
      out.reset();
      fn(c);
      sink += out.pos;
    }
  });
  out.reset();
  lpop.shard!(c);
  if (out.buf.toString('latin1', 0, out.pos) !== '$-1\r\n' || sink === 0)
    throw new Error('handler bench out of step');
}

for (let r = 0; r < ROUNDS; r++) {
  console.log(`-- round ${r + 1} (n=${N})`);
  if (run('container')) container();
  if (run('handler')) handler();
}
