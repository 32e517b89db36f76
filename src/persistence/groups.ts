/**
 * Which multi-shard write groups recovery must leave out. A group is complete when every
 * participant logged its part: found in that participant's WAL, or inside its snapshot (the
 * snapshot's watermark covers the group: same epoch, group id ≤ maxGid — a shard sees its
 * groups in increasing id order). Groups of epochs before the manifest's were decided by an
 * earlier start-up: the manifest's skip list is the final word on them (a snapshot taken since
 * may have removed a participant's record, so they cannot be judged again).
 */
import type { Manifest } from './files.ts';
import type { SourceScan } from './messages.ts';
import { groupKey } from './wal-format.ts';

export function decideGroups(
  scans: ReadonlyMap<number, SourceScan>,
  manifest: Manifest | null,
): { skip: Set<string>; keep: string[] } {
  const decidedBefore = manifest?.epoch ?? -Infinity;
  const oldSkip = new Set(manifest?.skip ?? []);
  const logged = new Map<number, Set<string>>();
  const all = new Map<string, [number, number, number[]]>();
  for (const [source, scan] of scans) {
    const set = new Set<string>();
    for (const g of scan.groups) {
      const key = groupKey(g[0], g[1]);
      set.add(key);
      all.set(key, g);
    }
    logged.set(source, set);
  }
  const skip = new Set<string>();
  for (const [key, [epoch, gid, participants]] of all) {
    if (epoch < decidedBefore) {
      if (oldSkip.has(key)) skip.add(key);
      continue;
    }
    const complete = participants.every((p) => {
      if (logged.get(p)?.has(key) === true) return true;
      const w = scans.get(p)?.watermark;
      return w !== null && w !== undefined && w.epoch === epoch && w.maxGid >= gid;
    });
    if (!complete) skip.add(key);
  }
  // Decisions stay only while some WAL still holds a record of the group.
  return { skip, keep: [...skip] };
}
