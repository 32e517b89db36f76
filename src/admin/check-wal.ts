/**
 * tessera-admin check-wal [--repair] [DIR]: offline check of a data directory, like
 * redis-check-aof. Every WAL segment is read frame by frame (length + CRC-32C), every
 * snapshot block checksummed. A torn tail (an unfinished last write) is reported — the server
 * truncates it itself at start; a bad record in the middle makes the check fail. --repair cuts
 * a segment at its first bad record (the rest of it and any later segment of that shard are
 * lost; later segments are renamed *.bad) so the server can start.
 */
import { renameSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { listDataFiles } from '../persistence/files.ts';
import { verifySnapshot } from '../persistence/snapshot.ts';
import { scanSegment } from '../persistence/wal-reader.ts';

export interface CheckIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export function checkWal(args: readonly string[], repair: boolean, io: CheckIo): number {
  const dir = args[0] ?? './data';
  try {
    statSync(dir);
  } catch {
    io.err(`check-wal: cannot open directory ${dir}\n`);
    return 2;
  }
  const files = listDataFiles(dir);
  if (files.length === 0) {
    io.out(`check-wal: no WAL segments or snapshots in ${dir}\n`);
    return 0;
  }
  let bad = 0;
  let repaired = 0;
  const cut = new Set<string>(); // "shard/shards" whose later segments are dropped
  for (const f of files) {
    const file = path.join(dir, f.name);
    const owner = `${f.shard}/${f.shards}`;
    if (f.kind === 'snap') {
      const err = verifySnapshot(file);
      io.out(`${f.name}: ${err === null ? 'snapshot OK' : `BAD snapshot: ${err}`}\n`);
      if (err !== null) bad++;
      continue;
    }
    if (cut.has(owner)) {
      if (repair) {
        renameSync(file, `${file}.bad`);
        io.out(`${f.name}: after a repaired segment: renamed to ${f.name}.bad\n`);
      }
      continue;
    }
    const scan = scanSegment(file, null);
    const end = scan.end;
    const last = !files.some(
      (g) => g.kind === 'wal' && g.shard === f.shard && g.shards === f.shards && g.seq > f.seq,
    );
    if (end.status === 'ok') {
      io.out(`${f.name}: OK (${scan.frames} frames, ${scan.size} bytes)\n`);
      continue;
    }
    const dropped = scan.size - end.offset;
    if (end.status === 'torn' && last) {
      io.out(
        `${f.name}: torn tail at offset ${end.offset} (${end.reason}): ${dropped} bytes of an unfinished write; ${scan.frames} valid frames before it\n`,
      );
      if (repair) {
        truncateSync(file, end.offset);
        io.out(`${f.name}: truncated to ${end.offset} bytes\n`);
        repaired++;
      }
      continue;
    }
    io.out(
      `${f.name}: BAD record at offset ${end.offset}: ${end.reason}; ${scan.frames} valid frames before it, ${dropped} bytes from there to the end\n`,
    );
    if (repair) {
      truncateSync(file, end.offset);
      cut.add(owner);
      io.out(`${f.name}: truncated to ${end.offset} bytes (the records after the bad one are lost)\n`);
      repaired++;
    } else bad++;
  }
  if (bad > 0) {
    io.err(
      `check-wal: ${bad} damaged file(s) in ${dir}; run with --repair to cut the WAL at the first bad record\n`,
    );
    return 1;
  }
  io.out(repaired > 0 ? `check-wal: repaired ${repaired} file(s)\n` : `check-wal: ${dir} is valid\n`);
  return 0;
}
