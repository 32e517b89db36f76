/**
 * Snapshot file format, shared by the writer (snapshot.ts) and the loader (snapshot-load.ts).
 *
 * File: header (32 bytes: "TSSNP" 0 | u16 version | u32 shard | u32 shards | u32 walSeq |
 * f64 created | u32 crc32c), then blocks `u32 length | u32 crc32c(kind + body) | u8 kind | body`:
 * one META (msgpack {epoch, maxGid, keys}), DATA blocks of entries, one END (f64 key count). A
 * file without its END block, or with any checksum mismatch, is not a valid snapshot.
 * Entry: u8 type | u8 db | u8 encoding | f64 expireAt | u32 key length | key, then for a
 * string u32 length | bytes, for other types u32 count | count × (u32 length | bytes) from
 * StoreObject.dump()/dumpTo() (rebuilt with restoreObjectView).
 */
import { Packr } from 'msgpackr';
import { crc32c } from './crc32c.ts';

export const MAGIC = Buffer.from('TSSNP\0', 'latin1');
export const SNAP_VERSION = 1;
export const HEADER = 32;
export const B_META = 1;
export const B_DATA = 2;
export const B_END = 3;
export const packr = new Packr({ useRecords: false });

export interface SnapshotHeader {
  shard: number;
  shards: number;
  /** The snapshot is the state at the start of this WAL segment. */
  walSeq: number;
  created: number;
}

/** Groups of `epoch` up to `maxGid` that this shard took part in are inside the snapshot. */
export interface SnapshotMeta {
  epoch: number;
  maxGid: number;
  /** Keys per db when the snapshot started: the loader sizes its indexes (absent in older files). */
  keys?: number[];
}

export function encodeHeader(h: SnapshotHeader): Buffer {
  const b = Buffer.alloc(HEADER);
  MAGIC.copy(b, 0);
  b.writeUInt16LE(SNAP_VERSION, 6);
  b.writeUInt32LE(h.shard, 8);
  b.writeUInt32LE(h.shards, 12);
  b.writeUInt32LE(h.walSeq, 16);
  b.writeDoubleLE(h.created, 20);
  b.writeUInt32LE(crc32c(b, 0, 28), 28);
  return b;
}
