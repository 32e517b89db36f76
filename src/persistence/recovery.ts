/**
 * Shard-side recovery: which files hold this shard's data, the checking pass over its WAL
 * (torn tail, corruption, the multi-shard groups it logged) and the loading pass (newest
 * snapshot, then WAL replay). When the shard count changed since the files were written,
 * every shard reads every old shard's files into a scratch keyspace and keeps the keys of its
 * own hash slots, so data follows slots, not shard numbers.
 */
import { openSync, closeSync, readSync, renameSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { Packr } from 'msgpackr';
import type { ShardContext } from '../commands/types.ts';
import { keySlot } from '../router/keyslot.ts';
import { Keyspace } from '../store/keyspace.ts';
import { ENCODING, KEY_OFF, TYPE_STRING } from '../store/record.ts';
import { crc32c } from './crc32c.ts';
import { listDataFiles, type DataFile } from './files.ts';
import type { GroupRef, SourceScan } from './messages.ts';
import { Replayer } from './replay.ts';
import { loadSnapshot, type SnapshotMeta } from './snapshot.ts';
import { forEachRecord, K_GROUP, parseGroup } from './wal-format.ts';
import { scanSegment } from './wal-reader.ts';

export class RecoveryError extends Error {}

export interface Source {
  index: number;
  snap: DataFile | null;
  segs: DataFile[];
}

const SLOTS = 16384;
export const shardOfSlot = (slot: number, shards: number): number => Math.floor((slot * shards) / SLOTS);

/** The files of old shard j (layout of n shards): newest snapshot and the segments after it. */
export function findSource(dir: string, j: number, n: number): Source {
  const files = listDataFiles(dir).filter((f) => f.shard === j && f.shards === n);
  const snaps = files.filter((f) => f.kind === 'snap').sort((a, b) => b.seq - a.seq);
  const snap = snaps[0] ?? null;
  let segs = files.filter((f) => f.kind === 'wal');
  if (snap !== null) segs = segs.filter((f) => f.seq >= snap.seq);
  const start = snap !== null ? snap.seq : (segs[0]?.seq ?? 1);
  if (snap === null && start !== 1) {
    throw new RecoveryError(
      `${path.join(dir, segs[0]!.name)}: WAL starts at segment ${start} but no snapshot covers the segments before it`,
    );
  }
  segs.forEach((f, k) => {
    if (f.seq !== start + k)
      throw new RecoveryError(`${dir}: WAL segment ${start + k} of shard ${j} is missing`);
  });
  return { index: j, snap, segs };
}

const packr = new Packr({ useRecords: false });

/** The META block of a snapshot (the group watermark), without loading it. */
export function snapshotMeta(file: string): SnapshotMeta {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(64 * 1024);
    const n = readSync(fd, b, 0, b.length, 0);
    const len = n >= 41 ? b.readUInt32LE(32) : -1;
    if (len < 0 || 40 + len > n || crc32c(b, 40, 40 + len) !== b.readUInt32LE(36) || b[40] !== 1) {
      throw new RecoveryError(`${file}: damaged snapshot (bad META block)`);
    }
    return packr.unpack(b.subarray(41, 40 + len)) as SnapshotMeta;
  } finally {
    closeSync(fd);
  }
}

export interface ScanOptions {
  dir: string;
  /** Fix the files: truncate torn tails, and with `repair` cut at a bad record. */
  own: boolean;
  repair: boolean;
  warn: (msg: string) => void;
}

/**
 * Checking pass over a source's WAL: verifies every frame, collects the groups it logged,
 * truncates a torn tail (own files) and handles a bad record in the middle: an error naming
 * the file and offset, or with `repair` a cut there (later segments are renamed *.bad).
 * `src.segs` is shortened to what the loading pass may replay.
 */
export function scanSource(src: Source, o: ScanOptions): SourceScan {
  const groups: GroupRef[] = [];
  const onRecord = (kind: number, b: Uint8Array, s: number, e: number): void => {
    if (kind !== K_GROUP) return;
    const g = parseGroup(b, s, e);
    if (g !== null) groups.push([g.epoch, g.gid, g.participants]);
  };
  for (let k = 0; k < src.segs.length; k++) {
    const file = path.join(o.dir, src.segs[k]!.name);
    const scan = scanSegment(file, (b, s, e) => forEachRecord(b, s, e, onRecord));
    const last = k === src.segs.length - 1;
    const end = scan.end;
    if (end.status === 'ok') continue;
    if (end.status === 'torn' && last) {
      o.warn(
        `${file}: torn tail at offset ${end.offset} (${end.reason}): ${scan.size - end.offset} bytes of an unfinished write dropped`,
      );
      if (o.own) truncateSync(file, end.offset);
      continue;
    }
    const what = end.status === 'torn' ? `unexpected end of segment (${end.reason})` : end.reason;
    if (!o.repair) {
      throw new RecoveryError(
        `${file}: bad WAL record at offset ${end.offset}: ${what}. Start with --wal-repair yes or run 'tessera-admin check-wal --repair ${o.dir}' to truncate the WAL there (the records after it are lost)`,
      );
    }
    o.warn(`${file}: bad WAL record at offset ${end.offset}: ${what}; repairing: the WAL is cut there`);
    if (o.own) {
      truncateSync(file, end.offset);
      for (const later of src.segs.slice(k + 1)) {
        const p = path.join(o.dir, later.name);
        renameSync(p, `${p}.bad`);
        o.warn(`${p}: after the repaired segment, renamed to ${later.name}.bad`);
      }
    }
    src.segs = src.segs.slice(0, k + 1);
    break;
  }
  const watermark = src.snap !== null ? snapshotMeta(path.join(o.dir, src.snap.name)) : null;
  return { source: src.index, groups, watermark };
}

export interface LoadStats {
  keys: number;
  expired: number;
  commands: number;
  errors: string[];
}

/**
 * Loading pass for one source into `ks`: snapshot, then the WAL with the groups in `skip`
 * left out. `keep` (after a shard-count change) selects the keys of this shard's slots; the
 * source is then rebuilt in a scratch keyspace first, because a command in its WAL may touch
 * keys of several new shards.
 */
export function loadSource(
  src: Source,
  dir: string,
  ks: Keyspace,
  base: ShardContext,
  skip: ReadonlySet<string>,
  keep: ((u8: Uint8Array, off: number, len: number) => boolean) | null,
): LoadStats {
  const target = keep === null ? ks : new Keyspace(ks.tables.length);
  const stats: LoadStats = { keys: 0, expired: 0, commands: 0, errors: [] };
  if (src.snap !== null) {
    const r = loadSnapshot(path.join(dir, src.snap.name), target, Date.now(), null);
    stats.expired += r.expired;
  }
  const replay = new Replayer(base, target, skip);
  for (const seg of src.segs) {
    scanSegment(path.join(dir, seg.name), (b, s, e) => replay.frame(b, s, e));
  }
  stats.commands = replay.commands;
  if (replay.errorCount > 0)
    stats.errors.push(`${replay.errorCount} WAL records failed to replay: ${replay.errors.join('; ')}`);
  target.now = Date.now();
  if (keep !== null) stats.keys = transfer(target, ks, keep);
  return stats;
}

/** Copy the live keys `keep` selects from a scratch keyspace into ks. */
function transfer(
  from: Keyspace,
  to: Keyspace,
  keep: (u8: Uint8Array, off: number, len: number) => boolean,
): number {
  let n = 0;
  const now = Date.now();
  for (let db = 0; db < from.tables.length; db++) {
    from.table(db).forEach((h) => {
      const u8 = from.arena.u8(h);
      const ko = from.arena.base(h) + KEY_OFF;
      const klen = from.keyLength(h);
      const exp = from.getExpire(h);
      if ((exp !== 0 && exp <= now) || !keep(u8, ko, klen)) return;
      const th = to.lookup(db, u8, ko, klen);
      if (from.type(h) === TYPE_STRING) {
        const vlen = from.valueLength(h);
        const nh = to.writeString(db, th, u8, ko, klen, vlen, exp);
        const vo = from.valueOffset(h);
        to.arena.u8(nh).set(u8.subarray(vo, vo + vlen), to.valueOffset(nh));
        to.arena.u8(nh)[to.arena.base(nh) + ENCODING] = u8[from.arena.base(h) + ENCODING]!;
      } else {
        to.writeObject(db, th, u8, ko, klen, from.getObject(h), exp);
      }
      n++;
    });
  }
  return n;
}

/** Delete keys whose time passed (the replay ran at the records' clocks); returns how many. */
export function dropExpired(ks: Keyspace): number {
  const now = Date.now();
  ks.now = now;
  let n = 0;
  for (let db = 0; db < ks.tables.length; db++) {
    // Only keys with a TTL can have expired (a walk over every record costs ~0.1 µs a key).
    if (ks.expireCount(db) === 0) continue;
    const keys: Buffer[] = [];
    ks.table(db).forEach((h) => {
      const exp = ks.getExpire(h);
      if (exp !== 0 && exp <= now) {
        const ko = ks.arena.base(h) + KEY_OFF;
        keys.push(Buffer.from(ks.arena.u8(h).subarray(ko, ko + ks.keyLength(h))));
      }
    });
    // lookup() deletes an expired key itself (lazy expiry) and reports it absent.
    for (const k of keys) if (ks.lookup(db, k, 0, k.length) === 0) n++;
  }
  return n;
}

/** keep() for shard i of n: the key's hash slot belongs to it. */
export function slotFilter(i: number, n: number): (u8: Uint8Array, off: number, len: number) => boolean {
  return (u8, off, len) => shardOfSlot(keySlot(u8, off, len), n) === i;
}
