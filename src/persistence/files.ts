/**
 * Names and atomic replacement of the files under `dir`:
 *   s<i>of<n>.<seq>.wal    WAL segment `seq` of shard i in a layout of n shards
 *   s<i>of<n>.<seq>.snap   snapshot of shard i: its state at the start of segment `seq`
 *   tessera.manifest       JSON: layout (shard count), boot epoch, groups decided incomplete
 * Every file is replaced as temp file, fsync, rename, fsync of the directory.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export const MANIFEST = 'tessera.manifest';

export function segmentPath(dir: string, shard: number, shards: number, seq: number): string {
  return path.join(dir, `s${shard}of${shards}.${seq}.wal`);
}

export function snapshotPath(dir: string, shard: number, shards: number, seq: number): string {
  return path.join(dir, `s${shard}of${shards}.${seq}.snap`);
}

export interface DataFile {
  name: string;
  shard: number;
  shards: number;
  seq: number;
  kind: 'wal' | 'snap';
}

const FILE_RE = /^s(\d+)of(\d+)\.(\d+)\.(wal|snap)$/;

/** Data files in dir (temp files and anything else ignored), sorted by shard, kind, seq. */
export function listDataFiles(dir: string): DataFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: DataFile[] = [];
  for (const name of names) {
    const m = FILE_RE.exec(name);
    if (m === null) continue;
    out.push({ name, shard: +m[1]!, shards: +m[2]!, seq: +m[3]!, kind: m[4] as 'wal' | 'snap' });
  }
  out.sort((a, b) => a.shards - b.shards || a.shard - b.shard || a.seq - b.seq);
  return out;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replace `file` with `data` atomically and durably. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done, b.length - done, done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export interface Manifest {
  version: 1;
  /** Shard count of the layout the data files are in. */
  shards: number;
  /** Epoch of the boot that wrote it; groups of older epochs are decided. */
  epoch: number;
  /** Groups ("epoch:gid") of decided epochs that are incomplete and never replayed. */
  skip: string[];
}

export function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = readFileSync(path.join(dir, MANIFEST), 'utf8');
  } catch {
    return null;
  }
  const m = JSON.parse(text) as Manifest;
  if (m.version !== 1 || !Number.isInteger(m.shards) || !Number.isInteger(m.epoch)) {
    throw new Error(`${path.join(dir, MANIFEST)}: unsupported or damaged manifest`);
  }
  return m;
}

export function writeManifest(dir: string, m: Manifest): void {
  writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(m) + '\n');
}
