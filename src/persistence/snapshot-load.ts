/**
 * Loading snapshot files (format: snapshot-format.ts) into a keyspace, and checking them.
 * Close to a copy: each db's index is sized from META's key counts before it fills, strings
 * are copied into their records, collections are rebuilt from the read window in place
 * (restoreObjectView: no allocation per element).
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { crc32c } from './crc32c.ts';
import { Window } from './wal-reader.ts';
import { ENCODING, TYPE_STRING } from '../store/record.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { restoreObjectView, type ItemsView } from '../store/object.ts';
import {
  B_DATA,
  B_END,
  B_META,
  HEADER,
  MAGIC,
  packr,
  SNAP_VERSION,
  type SnapshotHeader,
  type SnapshotMeta,
} from './snapshot-format.ts';

export interface LoadResult {
  header: SnapshotHeader;
  meta: SnapshotMeta;
  keys: number;
  expired: number;
  bytes: number;
}

export class SnapshotError extends Error {}

/**
 * Load a snapshot into `ks`: keys for which `keep(key bytes)` is false (another shard's slots
 * after a shard-count change) and keys already expired at `now` are skipped. Throws
 * SnapshotError naming the offset when the file is damaged (ks then holds a partial load).
 */
export function loadSnapshot(
  file: string,
  ks: Keyspace,
  now: number,
  keep: ((u8: Uint8Array, off: number, len: number) => boolean) | null,
): LoadResult {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const w = new Window(fd, size);
    if (!w.load(0, HEADER)) throw new SnapshotError(`${file}: shorter than a snapshot header`);
    const hb = w.buf;
    if (!hb.subarray(0, 6).equals(MAGIC)) throw new SnapshotError(`${file}: not a Tessera snapshot`);
    if (hb.readUInt32LE(28) !== crc32c(hb, 0, 28))
      throw new SnapshotError(`${file}: header checksum mismatch`);
    if (hb.readUInt16LE(6) !== SNAP_VERSION)
      throw new SnapshotError(`${file}: unsupported snapshot version ${hb.readUInt16LE(6)}`);
    const header: SnapshotHeader = {
      shard: hb.readUInt32LE(8),
      shards: hb.readUInt32LE(12),
      walSeq: hb.readUInt32LE(16),
      created: hb.readDoubleLE(20),
    };
    let meta: SnapshotMeta | null = null;
    let keys = 0;
    let expired = 0;
    let off = HEADER;
    for (;;) {
      if (!w.load(off, 9)) throw new SnapshotError(`${file}: truncated at offset ${off} (no END block)`);
      const len = w.buf.readUInt32LE(off - w.base);
      const crc = w.buf.readUInt32LE(off - w.base + 4);
      if (!w.load(off, 8 + len)) throw new SnapshotError(`${file}: block at offset ${off} runs past the end`);
      const s = off - w.base + 8;
      if (crc32c(w.buf, s, s + len) !== crc)
        throw new SnapshotError(`${file}: checksum mismatch at offset ${off}`);
      const kind = w.buf[s]!;
      if (kind === B_META) {
        meta = packr.unpack(w.buf.subarray(s + 1, s + len)) as SnapshotMeta;
        const counts = meta.keys;
        // (Bounded by what the file can hold: an entry takes at least 19 bytes.)
        if (Array.isArray(counts))
          for (let db = 0; db < counts.length && db < ks.tables.length; db++)
            ks.reserve(db, Math.min(Number(counts[db]) || 0, size / 19));
      } else if (kind === B_END) {
        if (meta === null) throw new SnapshotError(`${file}: no META block`);
        return { header, meta, keys, expired, bytes: size };
      } else if (kind === B_DATA) {
        const r = loadEntries(w.buf, s + 1, s + len, ks, now, keep);
        if (r < 0) throw new SnapshotError(`${file}: malformed entry in block at offset ${off}`);
        keys += r;
        expired += lastExpired;
      } else throw new SnapshotError(`${file}: unknown block kind ${kind} at offset ${off}`);
      off += 8 + len;
    }
  } finally {
    closeSync(fd);
  }
}

let lastExpired = 0;
const view: ItemsView = {
  buf: new Uint8Array(0),
  off: new Int32Array(64),
  len: new Int32Array(64),
  count: 0,
};
function itemsView(b: Uint8Array, n: number): ItemsView {
  if (view.off.length < n) {
    let m = view.off.length;
    while (m < n) m *= 2;
    view.off = new Int32Array(m);
    view.len = new Int32Array(m);
  }
  view.buf = b;
  view.count = n;
  return view;
}
function loadEntries(
  b: Buffer,
  p: number,
  end: number,
  ks: Keyspace,
  now: number,
  keep: ((u8: Uint8Array, off: number, len: number) => boolean) | null,
): number {
  let keys = 0;
  lastExpired = 0;
  while (p < end) {
    if (p + 15 > end) return -1;
    const type = b[p]!;
    const db = b[p + 1]!;
    const enc = b[p + 2]!;
    const exp = b.readDoubleLE(p + 3);
    const klen = b.readUInt32LE(p + 11);
    const ko = p + 15;
    p = ko + klen;
    if (p + 4 > end || db >= ks.tables.length) return -1;
    const skip = (exp !== 0 && exp <= now) || (keep !== null && !keep(b, ko, klen));
    if (type === TYPE_STRING) {
      const vlen = b.readUInt32LE(p);
      const vo = p + 4;
      p = vo + vlen;
      if (p > end) return -1;
      if (skip) {
        if (exp !== 0 && exp <= now) lastExpired++;
        continue;
      }
      const h = ks.lookup(db, b, ko, klen);
      const nh = ks.writeString(db, h, b, ko, klen, vlen, exp);
      const dst = ks.arena.u8(nh);
      const d = ks.valueOffset(nh);
      if (vlen <= 32) for (let i = 0; i < vlen; i++) dst[d + i] = b[vo + i]!;
      else dst.set(b.subarray(vo, vo + vlen), d);
      dst[ks.arena.base(nh) + ENCODING] = enc;
    } else {
      const n = b.readUInt32LE(p);
      p += 4;
      if (n * 4 > end - p) return -1;
      // Elements stay in the read window: the restorer copies what it keeps (no copy each).
      const v = itemsView(b, n);
      for (let i = 0; i < n; i++) {
        if (p + 4 > end) return -1;
        const l = b.readUInt32LE(p);
        if (p + 4 + l > end) return -1;
        v.off[i] = p + 4;
        v.len[i] = l;
        p += 4 + l;
      }
      if (skip) {
        if (exp !== 0 && exp <= now) lastExpired++;
        continue;
      }
      const h = ks.lookup(db, b, ko, klen);
      ks.writeObject(db, h, b, ko, klen, restoreObjectView(type, v), exp);
    }
    keys++;
  }
  return keys;
}

/** Check a snapshot's header and every block checksum without loading it; null when valid. */
export function verifySnapshot(file: string): string | null {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const w = new Window(fd, size);
    if (!w.load(0, HEADER)) return 'shorter than a snapshot header';
    if (!w.buf.subarray(0, 6).equals(MAGIC)) return 'not a Tessera snapshot';
    if (w.buf.readUInt32LE(28) !== crc32c(w.buf, 0, 28)) return 'header checksum mismatch';
    let off = HEADER;
    for (;;) {
      if (!w.load(off, 9)) return `truncated at offset ${off} (no END block)`;
      const len = w.buf.readUInt32LE(off - w.base);
      const crc = w.buf.readUInt32LE(off - w.base + 4);
      if (!w.load(off, 8 + len)) return `block at offset ${off} runs past the end`;
      const s = off - w.base + 8;
      if (crc32c(w.buf, s, s + len) !== crc) return `checksum mismatch at offset ${off}`;
      if (w.buf[s] === B_END) return null;
      off += 8 + len;
    }
  } finally {
    closeSync(fd);
  }
}
