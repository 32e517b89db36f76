/** Messages between the main thread's Persistence controller and a shard (their own port). */
import type { FsyncPolicy } from './status.ts';

/** A group found in a WAL: [epoch, gid, participant shards]. */
export type GroupRef = [number, number, number[]];

export interface SourceScan {
  /** Shard index in the layout the files were written in. */
  source: number;
  groups: GroupRef[];
  /** Snapshot watermark: groups of `epoch` up to `maxGid` this source took part in are inside it. */
  watermark: { epoch: number; maxGid: number } | null;
}

export type ToShard =
  | { t: 'verdict'; skip: string[] }
  | { t: 'go' }
  | { t: 'config'; name: string; value: unknown }
  | { t: 'save'; id: number };

export type FromShard =
  | { t: 'scanned'; shard: number; sources: SourceScan[]; warnings: string[] }
  | {
      t: 'loaded';
      shard: number;
      keys: number;
      expired: number;
      commands: number;
      ms: number;
      warnings: string[];
    }
  | { t: 'failed'; shard: number; message: string }
  | { t: 'saved'; shard: number; ids: number[]; ok: boolean; error?: string }
  | { t: 'log'; shard: number; level: 'info' | 'warn' | 'error'; msg: string };

export interface PersistInit {
  dir: string;
  shard: number;
  shards: number;
  /** Shard count of the layout the files on disk are in (differs after --shards changed). */
  oldShards: number;
  epoch: number;
  appendonly: boolean;
  appendfsync: FsyncPolicy;
  autoPct: number;
  autoMin: number;
  repair: boolean;
  databases: number;
  statusSab: SharedArrayBuffer;
}
