import t from 'tap';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { Ring } from '../../src/router/ring.ts';

const pad = (n: number): number => (n + 3) & ~3;

type Op =
  | { t: 'produce'; len: number; shrink: number }
  | { t: 'publish' }
  | { t: 'consume'; n: number }
  | { t: 'release' };

const opArb = (maxLen: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ t: fc.constant('produce' as const), len: fc.nat(maxLen), shrink: fc.nat(5) }),
    },
    { weight: 2, arbitrary: fc.constant({ t: 'publish' as const }) },
    {
      weight: 3,
      arbitrary: fc.record({ t: fc.constant('consume' as const), n: fc.integer({ min: 1, max: 6 }) }),
    },
    { weight: 2, arbitrary: fc.constant({ t: 'release' as const }) },
  );

/** What the model runs exercised, so a weak generator cannot pass unnoticed. */
const seen = { frames: 0, wraps: 0, refusals: 0, consumed: 0 };

const byte = (id: number, j: number): number => (id * 31 + j * 7 + 3) & 255;

/**
 * Runs ops against a ring (one thread plays producer and consumer) and a model that tracks the
 * positions the ring must use: frames are placed where expected, appear only after publish,
 * come out in order with their bytes, space is refused only when nearly full, and canFit
 * always predicts reserve.
 */
function check(capacity: number, ops: Op[]): void {
  const ring = Ring.create(capacity);
  let tail = 0; // producer position (model)
  let pubTail = 0;
  let head = 0; // consumer position (model)
  let relHead = 0;
  let nextId = 0;
  const pending: { id: number; len: number }[] = [];
  const visible: { id: number; len: number }[] = [];
  const fail = (msg: string): never => {
    throw new Error(`${msg} (capacity ${capacity}, tail ${tail}, head ${head}, relHead ${relHead})`);
  };
  for (const op of ops) {
    if (op.t === 'produce') {
      const need = 4 + pad(op.len);
      const fits = ring.canFit(op.len);
      const off = ring.reserve(op.len);
      if (fits !== off >= 0) fail(`canFit(${op.len}) = ${fits} but reserve gave ${off}`);
      const free = relHead > tail ? relHead - tail : capacity - tail + relHead;
      if (off < 0) {
        seen.refusals++;
        if (free > 2 * need) fail(`reserve(${op.len}) refused with ${free} bytes free`);
        if (visible.length === 0 && pending.length === 0 && relHead === head && op.len <= ring.maxFrame)
          fail(`reserve(${op.len}) refused on an empty ring`);
        continue;
      }
      const expected = capacity - tail < need ? 4 : tail + 4;
      if (expected === 4 && tail !== 0) seen.wraps++;
      seen.frames++;
      if (off !== expected) fail(`reserve(${op.len}) placed the frame at ${off}, expected ${expected}`);
      const len = Math.max(0, op.len - op.shrink);
      const id = nextId++;
      for (let j = 0; j < len; j++) ring.u8[off + j] = byte(id, j);
      ring.commit(off, len);
      tail = off + pad(len) >= capacity ? 0 : off + pad(len);
      pending.push({ id, len });
      if (!ring.unpublished && tail !== pubTail) fail('unpublished is false after a commit');
    } else if (op.t === 'publish') {
      const seq = ring.seqValue();
      ring.publish();
      if (ring.seqValue() !== seq + 1) fail('publish did not bump seq');
      visible.push(...pending.splice(0));
      pubTail = tail;
      if (ring.unpublished) fail('unpublished after publish');
      const depth = pubTail >= relHead ? pubTail - relHead : capacity - relHead + pubTail;
      if (ring.depth() !== depth) fail(`depth ${ring.depth()}, expected ${depth}`);
    } else if (op.t === 'consume') {
      for (let k = 0; k < op.n; k++) {
        const off = ring.peek();
        const f = visible.shift();
        if (f === undefined) {
          if (off !== -1) fail(`peek found a frame at ${off} in an empty ring`);
          break;
        }
        if (off < 0) fail(`peek found nothing, expected frame ${f.id}`);
        if (ring.frameLen !== f.len) fail(`frame ${f.id}: length ${ring.frameLen}, expected ${f.len}`);
        for (let j = 0; j < f.len; j++)
          if (ring.u8[off + j] !== byte(f.id, j)) fail(`frame ${f.id}: byte ${j} corrupted`);
        ring.advance();
        seen.consumed++;
        head = off + pad(f.len) >= capacity ? 0 : off + pad(f.len);
      }
    } else {
      ring.release();
      relHead = head;
    }
  }
}

t.test('ring matches a queue model (random frame sizes, wrap-around, full ring)', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(64, 128, 256, 1024),
      fc.array(opArb(80), { maxLength: 400, size: 'max' }),
      (capacity, ops) => check(capacity, ops),
    ),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(fc.array(opArb(300), { maxLength: 600, size: 'max' }), (ops) => check(1024, ops)),
    { numRuns: 100 },
  );
  t.comment(JSON.stringify(seen));
  t.ok(
    seen.wraps > 1000 && seen.refusals > 1000 && seen.consumed > 10_000,
    'wraps, refusals and reads exercised',
  );
  t.end();
});

t.test('a full ring refuses frames with -1 until the consumer releases', (t) => {
  const r2 = Ring.create(256);
  let frames = 0;
  let off: number;
  while ((off = r2.reserve(20)) >= 0) {
    r2.u8.fill(frames & 255, off, off + 20);
    r2.commit(off, 20);
    frames++;
  }
  t.equal(off, -1);
  t.equal(r2.canFit(20), false, 'canFit agrees with the refusal');
  t.ok(frames * 24 >= 256 - 2 * 24, `${frames} frames of 24 bytes filled a 256-byte ring`);
  r2.publish();
  t.equal(r2.reserve(20), -1, 'publishing does not free space');
  let got = 0;
  while ((off = r2.peek()) >= 0) {
    t.equal(r2.u8[off], got & 255, `frame ${got} intact`);
    r2.advance();
    got++;
  }
  t.equal(got, frames, 'every frame comes out');
  t.equal(r2.reserve(20), -1, 'consumed but unreleased space is still taken');
  r2.release();
  t.ok(r2.reserve(20) >= 0, 'space is back after release');
  t.equal(r2.depth(), 0);
  t.end();
});

t.test('sleep returns at once when frames are pending and after the timeout otherwise', (t) => {
  const ring = Ring.create(256);
  const t0 = performance.now();
  ring.sleep(ring.seqValue(), 30);
  const slept = performance.now() - t0;
  t.ok(slept >= 25, `empty ring: slept ${slept.toFixed(1)} ms of 30`);
  const off = ring.reserve(8);
  ring.commit(off, 8);
  const seen = ring.seqValue();
  ring.publish();
  const t1 = performance.now();
  ring.sleep(seen, 1000);
  t.ok(performance.now() - t1 < 100, 'a published frame (or a stale seq) never waits');
  t.end();
});

/** FNV-1a over bytes [off, off+len) of u8. */
function fnv(u8: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ u8[i]!, 0x01000193);
  return h >>> 0;
}

t.test('200k frames echoed through a real worker arrive in order and intact', async (t) => {
  const N = 200_000;
  const req = Ring.create(64 * 1024);
  const rep = Ring.create(32 * 1024);
  const worker = new Worker(new URL('../helpers/ring-echo-worker.ts', import.meta.url), {
    workerData: { reqSab: req.sab, repSab: rep.sab, count: N },
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  worker.on('error', (e) => t.fail(String(e)));
  // Frame: uint32 index | uint32 FNV of the body | body (0..300 bytes, wraps the ring often).
  let seed = 12345;
  const sizes = new Uint16Array(N);
  for (let i = 0; i < N; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    sizes[i] = 8 + ((seed >>> 8) % 301);
  }
  let sent = 0;
  let received = 0;
  let errors = 0;
  let sleeps = 0;
  const deadline = Date.now() + 20_000;
  const dv = (r: Ring): DataView => new DataView(r.sab, 64);
  const reqView = dv(req);
  const repView = dv(rep);
  while (received < N && Date.now() < deadline) {
    const seen = rep.seqValue();
    let progressed = false;
    while (sent < N) {
      const len = sizes[sent]!;
      const off = req.reserve(len);
      if (off < 0) break;
      for (let j = 8; j < len; j++) req.u8[off + j] = (sent * 13 + j) & 255;
      reqView.setUint32(off, sent, true);
      reqView.setUint32(off + 4, fnv(req.u8, off + 8, len - 8), true);
      req.commit(off, len);
      sent++;
      progressed = true;
    }
    req.publish();
    let off: number;
    while ((off = rep.peek()) >= 0) {
      const len = rep.frameLen;
      const idx = repView.getUint32(off, true);
      if (
        idx !== received ||
        len !== sizes[received] ||
        repView.getUint32(off + 4, true) !== fnv(rep.u8, off + 8, len - 8)
      )
        errors++;
      rep.advance();
      received++;
      progressed = true;
    }
    rep.release();
    if (!progressed) {
      sleeps++;
      rep.sleep(seen, 50);
    }
  }
  t.comment(`echo took ${Date.now() - (deadline - 20_000)} ms, main slept ${sleeps} times`);
  t.equal(received, N, `all ${N} frames came back`);
  t.equal(errors, 0, 'every frame in order with its length and checksum');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise<number>((r) => (timer = setTimeout(() => r(-1), 5000))),
  ]);
  clearTimeout(timer);
  if (code === -1) await worker.terminate();
  t.equal(code, 0, 'worker finished');
});
