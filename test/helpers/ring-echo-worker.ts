/**
 * Worker for test/unit/ring.test.ts: consumes frames from one ring and echoes each payload,
 * unchanged and in order, into another, until `count` frames went through.
 */
import { workerData } from 'node:worker_threads';
import { Ring } from '../../src/router/ring.ts';

const { reqSab, repSab, count } = workerData as {
  reqSab: SharedArrayBuffer;
  repSab: SharedArrayBuffer;
  count: number;
};
const req = new Ring(reqSab);
const rep = new Ring(repSab);
const park = new Int32Array(new SharedArrayBuffer(4));

let done = 0;
while (done < count) {
  const seen = req.seqValue();
  let n = 0;
  let off: number;
  while ((off = req.peek()) >= 0) {
    const len = req.frameLen;
    let o: number;
    while ((o = rep.reserve(len)) < 0) {
      // Reply ring full: hand over what we have and let the main thread drain it.
      rep.publish();
      req.release();
      Atomics.wait(park, 0, 0, 1);
    }
    rep.u8.set(req.u8.subarray(off, off + len), o);
    rep.commit(o, len);
    req.advance();
    n++;
    done++;
  }
  if (n > 0) {
    req.release();
    rep.publish();
  } else req.sleep(seen, 100);
}
