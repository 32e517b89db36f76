/**
 * Crash test: the real daemon with appendfsync always under concurrent write load is killed
 * with SIGKILL at random moments, restarted on the same data directory, and every write that
 * was acknowledged must be there with the right value: SET (per-key increasing values), INCR,
 * cross-shard MSET (both keys always equal: all or nothing), LPUSH when lists exist. Several
 * rounds, the last one with a different shard count.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crash, startOn } from '../helpers/persist.ts';
import type { TT } from '../helpers/raw.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const CLIENTS = 4;
const KEYS = 20;

/** What the clients know was acknowledged, and the highest value each key was ever sent. */
interface Model {
  set: Map<string, number>;
  setSent: Map<string, number>;
  incr: Map<string, number>;
  incrSent: Map<string, number>;
  mset: Map<string, number>;
  msetSent: Map<string, number>;
  push: Map<string, number>;
  pushSent: Map<string, number>;
}
const model: Model = {
  set: new Map(),
  setSent: new Map(),
  incr: new Map(),
  incrSent: new Map(),
  mset: new Map(),
  msetSent: new Map(),
  push: new Map(),
  pushSent: new Map(),
};
let next = 1;

async function load(port: number, lists: boolean, stop: { done: boolean }, c: number): Promise<number> {
  const r = new Redis({ port, maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  r.on('error', () => {});
  await r.connect();
  let acked = 0;
  const pending: Promise<unknown>[] = [];
  // Stops at the kill (a dead connection rejects at once: looping on would starve the event loop).
  while (!stop.done && r.status === 'ready') {
    const v = next++;
    const k = `${c}:${v % KEYS}`;
    const set = `s:${k}`;
    const inc = `n:${c}`;
    const ma = `ma:${k}`;
    const mb = `mb:{x}${k}`; // a hash tag far from ma's slot: the pair spans shards
    const lst = `l:${c}`;
    model.setSent.set(set, Math.max(model.setSent.get(set) ?? 0, v));
    model.msetSent.set(ma, Math.max(model.msetSent.get(ma) ?? 0, v));
    model.incrSent.set(inc, (model.incrSent.get(inc) ?? 0) + 1);
    if (lists) model.pushSent.set(lst, (model.pushSent.get(lst) ?? 0) + 1);
    const p = r.pipeline();
    p.set(set, String(v));
    p.incr(inc);
    p.mset(ma, String(v), mb, String(v));
    if (lists) p.lpush(lst, String(v));
    pending.push(
      p.exec().then(
        (res) => {
          if (res === null) return;
          const [e1, , e3] = res;
          if (e1?.[0] === null) model.set.set(set, Math.max(model.set.get(set) ?? 0, v));
          if (res[1]?.[0] === null)
            model.incr.set(inc, Math.max(model.incr.get(inc) ?? 0, res[1][1] as number));
          if (e3?.[0] === null) model.mset.set(ma, Math.max(model.mset.get(ma) ?? 0, v));
          if (lists && res[3]?.[0] === null)
            model.push.set(lst, Math.max(model.push.get(lst) ?? 0, res[3][1] as number));
          acked++;
        },
        () => {},
      ),
    );
    if (pending.length >= 8) await Promise.race([Promise.allSettled(pending.splice(0, 4)), sleep(200)]);
    else await new Promise((res) => setImmediate(res));
  }
  await Promise.race([Promise.allSettled(pending), sleep(500)]);
  r.disconnect();
  return acked;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function verify(t: TT, port: number, lists: boolean, round: number): Promise<void> {
  const r = new Redis({ port });
  let bad = 0;
  const fail = (msg: string): void => {
    if (bad++ < 10) t.fail(msg);
  };
  for (const [k, acked] of model.set) {
    const v = Number(await r.get(k));
    if (!(v >= acked && v <= model.setSent.get(k)!))
      fail(`round ${round}: ${k} = ${v}, acknowledged ${acked}`);
  }
  for (const [k, acked] of model.incr) {
    const v = Number(await r.get(k));
    if (!(v >= acked && v <= model.incrSent.get(k)!))
      fail(`round ${round}: ${k} = ${v}, acknowledged ${acked}`);
    // What survived is the truth from now on (unacknowledged increments may or may not be there).
    model.incrSent.set(k, v);
    model.incr.set(k, v);
  }
  for (const [k, acked] of model.mset) {
    const [a, b] = await r.mget(k, `mb:{x}${k.slice(3)}`);
    if (a !== b) fail(`round ${round}: MSET half applied: ${k}=${a} vs ${b}`);
    if (!(Number(a) >= acked)) fail(`round ${round}: ${k} = ${a}, acknowledged ${acked}`);
  }
  if (lists) {
    for (const [k, acked] of model.push) {
      const len = await r.llen(k);
      if (!(len >= acked && len <= model.pushSent.get(k)!))
        fail(`round ${round}: LLEN ${k} = ${len}, acknowledged ${acked}`);
      model.push.set(k, len);
      model.pushSent.set(k, len);
    }
  }
  t.equal(
    bad,
    0,
    `round ${round}: every acknowledged write is there (${model.set.size + model.incr.size + model.mset.size} keys checked)`,
  );
  r.disconnect();
}

t.test('SIGKILL under load with appendfsync always loses nothing acknowledged', async (t) => {
  const rounds = [
    ['--shards', '2'],
    ['--shards', '2'],
    ['--shards', '2'],
    ['--shards', '3'],
  ];
  let lists = false;
  for (let round = 0; round < rounds.length; round++) {
    const tes = await startOn(dir, [...rounds[round]!, '--appendfsync', 'always']);
    if (round === 0) {
      const probe = new Redis({ port: tes.port });
      lists = await probe.lpush('probe', 'x').then(
        () => true,
        () => false,
      );
      await probe.del('probe');
      probe.disconnect();
      t.comment(lists ? 'LPUSH checked too' : 'lists are not implemented yet: LPUSH not checked');
    }
    if (round > 0) await verify(t, tes.port, lists, round);
    const stop = { done: false };
    const clients = Array.from({ length: CLIENTS }, (_, c) => load(tes.port, lists, stop, c));
    await sleep(400 + Math.random() * 1200);
    await crash(tes);
    stop.done = true;
    const acked = (await Promise.all(clients)).reduce((a, b) => a + b, 0);
    t.ok(acked > 0, `round ${round + 1}: ${acked} pipelines acknowledged before the kill`);
  }
  const tes = await startOn(dir, ['--shards', '1']);
  await verify(t, tes.port, lists, rounds.length);
  await tes.stop();
});
