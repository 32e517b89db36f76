/**
 * PFADD, PFCOUNT, PFMERGE (hyperloglog.c). HyperLogLogs are ordinary strings in the arena
 * whose bytes are exactly Redis's (src/store/hll.ts), so GET/SET/DUMP-style copies between
 * Tessera and Redis agree. Dense values are updated in place; sparse ones are edited in a
 * scratch buffer and written back, since they change length.
 */
import { E } from '../protocol/redis-errors.ts';
import { ENC_FORCED_RAW, ENCODING, TYPE_STRING } from '../store/record.ts';
import * as hll from '../store/hll.ts';
import { NOTIFY_STRING } from './notify-flags.ts';
import type { CommandDef, ShardContext } from './types.ts';

/** Scratch for sparse values being edited (and dense copies of PFMERGE's destination). */
let work = new Uint8Array(hll.HLL_DENSE_SIZE + 8);
/** Destination of a sparse → dense promotion. */
const promoted = new Uint8Array(hll.HLL_DENSE_SIZE + 8);
/** One byte per register: the union being built by PFMERGE and multi-key PFCOUNT. */
const maxRegs = new Uint8Array(hll.HLL_REGISTERS);

/**
 * Looks up key argument i as a HyperLogLog: the handle, 0 when absent, -1 after replying
 * WRONGTYPE (another type, or a string that is not a valid HLL).
 */
function lookupHll(c: ShardContext, i: number): number {
  const { ks, req } = c;
  const h = ks.lookup(req.db, req.u8, req.off[i]!, req.len[i]!);
  if (h === 0) return 0;
  if (ks.type(h) !== TYPE_STRING) {
    c.out.error(E.WRONGTYPE);
    return -1;
  }
  if (!hll.isHll(ks.arena.u8(h), ks.valueOffset(h), ks.valueLength(h))) {
    c.out.error(E.HLL_WRONGTYPE);
    return -1;
  }
  return h;
}

/** Copies the value of h into `work` (grown when a hand-made sparse value is very long). */
function loadWork(c: ShardContext, h: number): number {
  const ks = c.ks;
  const len = ks.valueLength(h);
  if (work.length < len + 3) work = new Uint8Array(len + 3);
  const vo = ks.valueOffset(h);
  work.set(ks.arena.u8(h).subarray(vo, vo + len), 0);
  return len;
}

/** Redis turns the value into a raw sds (dbUnshareStringValue) before touching it. */
function markRaw(c: ShardContext, h: number): void {
  const a = c.ks.arena;
  a.u8(h)[a.base(h) + ENCODING] = ENC_FORCED_RAW;
}

/** Writes buf[0, len) as the value of key argument ki (after its lookup, `h` its result). */
function store(c: ShardContext, h: number, ki: number, buf: Uint8Array, len: number): number {
  const { ks, req } = c;
  const nh = ks.writeString(req.db, h, req.u8, req.off[ki]!, req.len[ki]!, len, h === 0 ? 0 : -1);
  ks.arena.u8(nh).set(buf.subarray(0, len), ks.valueOffset(nh));
  markRaw(c, nh);
  return nh;
}

/**
 * Applies register raises to a value held in buf (sparse in `work` or dense anywhere): the
 * state a sequence of hllSparseSet/hllDenseSet calls needs, including the switch to the
 * `promoted` buffer when a sparse value turns dense.
 */
const edit: { buf: Uint8Array; base: number; len: number; dense: boolean } = {
  buf: work,
  base: 0,
  len: 0,
  dense: false,
};

function editStart(buf: Uint8Array, base: number, len: number): void {
  edit.buf = buf;
  edit.base = base;
  edit.len = len;
  edit.dense = hll.encodingOf(buf, base) === hll.HLL_DENSE;
}

/** hllSparseSet / hllDenseSet on the edited value: 1 changed, 0 not, -1 corrupted. */
function editSet(index: number, count: number): number {
  if (edit.dense) return hll.denseSet(edit.buf, edit.base + hll.HLL_HDR_SIZE, index, count) ? 1 : 0;
  const r = hll.sparseSet(edit.buf, edit.len, index, count, hll.HLL_SPARSE_MAX_BYTES);
  if (r === 1) {
    edit.len = hll.sparseOut.len;
    return 1;
  }
  if (r !== hll.HLL_PROMOTE) return r;
  if (!hll.sparseToDense(edit.buf, edit.base, edit.len, promoted, 0)) return -1;
  editStart(promoted, 0, hll.HLL_DENSE_SIZE);
  // Promotion happens only when the register must grow, so the dense set always changes it.
  hll.denseSet(promoted, hll.HLL_HDR_SIZE, index, count);
  return 1;
}

function pfadd(c: ShardContext): void {
  const { ks, req } = c;
  let h = lookupHll(c, 0);
  if (h < 0) return;
  let updated = 0;
  if (h === 0) {
    editStart(work, 0, hll.writeEmpty(work, 0));
    updated = 1;
  } else if (hll.encodingOf(ks.arena.u8(h), ks.valueOffset(h)) === hll.HLL_DENSE) {
    editStart(ks.arena.u8(h), ks.valueOffset(h), hll.HLL_DENSE_SIZE); // in place
  } else {
    const len = loadWork(c, h); // may replace `work`
    editStart(work, 0, len);
  }
  const inPlace = h !== 0 && edit.dense;
  for (let i = 1; i < req.argc; i++) {
    const count = hll.patLen(req.u8, req.off[i]!, req.len[i]!);
    const r = editSet(hll.pat.index, count);
    if (r < 0) {
      // Redis edits the value in place, so the elements added before the corruption was met stay.
      if (updated > 0 && !inPlace) store(c, h, 0, edit.buf, edit.len);
      return c.out.error(E.HLL_CORRUPT);
    }
    updated += r;
  }
  if (updated > 0) {
    hll.invalidateCache(edit.buf, edit.base);
    if (inPlace) ks.touch(h);
    else h = store(c, h, 0, edit.buf, edit.len);
    markRaw(c, h);
    c.modified(h, NOTIFY_STRING, 'pfadd');
  } else {
    markRaw(c, h);
    ks.touch(h);
  }
  c.out.integer(updated > 0 ? 1 : 0);
}

function pfcount(c: ShardContext): void {
  const { ks, req } = c;
  if (req.argc > 1) {
    // The cardinality of the union, computed over one byte per register.
    maxRegs.fill(0);
    for (let i = 0; i < req.argc; i++) {
      const h = lookupHll(c, i);
      if (h < 0) return;
      if (h === 0) continue;
      if (!hll.merge(maxRegs, ks.arena.u8(h), ks.valueOffset(h), ks.valueLength(h))) {
        return c.out.error(E.HLL_CORRUPT);
      }
    }
    return c.out.integer(hll.countRaw(maxRegs));
  }
  const h = lookupHll(c, 0);
  if (h < 0) return;
  if (h === 0) return c.out.integer(0);
  const u8 = ks.arena.u8(h);
  const vo = ks.valueOffset(h);
  markRaw(c, h);
  ks.touch(h);
  if (hll.cacheValid(u8, vo)) {
    const card = hll.readCache(u8, vo);
    return typeof card === 'number' ? c.out.integer(card) : c.out.bigint(card);
  }
  const card = hll.count(u8, vo, ks.valueLength(h));
  if (card < 0) return c.out.error(E.HLL_CORRUPT);
  hll.writeCache(u8, vo, card);
  // The cached cardinality changes the value: a write (WATCH, WAL) without an event, as in Redis.
  c.modified(h, 0, 'pfcount');
  c.out.integer(card);
}

function pfmerge(c: ShardContext): void {
  const { ks, req } = c;
  maxRegs.fill(0);
  let useDense = false;
  // Every key, the destination included, is a source.
  for (let i = 0; i < req.argc; i++) {
    const h = lookupHll(c, i);
    if (h < 0) return;
    if (h === 0) continue;
    const u8 = ks.arena.u8(h);
    const vo = ks.valueOffset(h);
    if (hll.encodingOf(u8, vo) === hll.HLL_DENSE) useDense = true;
    if (!hll.merge(maxRegs, u8, vo, ks.valueLength(h))) return c.out.error(E.HLL_CORRUPT);
  }
  const h = ks.lookup(req.db, req.u8, req.off[0]!, req.len[0]!);
  const len = h === 0 ? hll.writeEmpty(work, 0) : loadWork(c, h); // loadWork may replace `work`
  editStart(work, 0, len);
  if (useDense && !edit.dense) {
    if (!hll.sparseToDense(work, 0, edit.len, promoted, 0)) return c.out.error(E.HLL_CORRUPT);
    editStart(promoted, 0, hll.HLL_DENSE_SIZE);
  }
  for (let j = 0; j < hll.HLL_REGISTERS; j++) {
    if (maxRegs[j] !== 0) editSet(j, maxRegs[j]!);
  }
  hll.invalidateCache(edit.buf, edit.base);
  const nh = store(c, h, 0, edit.buf, edit.len);
  // Redis reports PFMERGE as a 'pfadd' event: in theory it is an addition of many elements.
  c.modified(nh, NOTIFY_STRING, 'pfadd');
  c.out.ok();
}

export const hyperloglogCommands: CommandDef[] = [
  { name: 'pfadd', route: 'key', shard: pfadd },
  { name: 'pfcount', route: 'multi', shard: pfcount },
  { name: 'pfmerge', route: 'multi', shard: pfmerge },
];
