/**
 * Main-thread checks before a command is routed: -LOADING while the data set loads (only
 * commands flagged `loading` run, as in Redis), -MISCONF for writes (and PING, as Redis
 * does) while a shard cannot write or fsync its WAL.
 */
import type { CommandSpec } from '../commands/types.ts';
import { PERSIST_E } from '../protocol/redis-errors.ts';
import type { Persistence } from './controller.ts';
import { misconfMessage } from './errno.ts';
import { markFrameBytes, participantArgs } from './group-frames.ts';

export function persistenceRefusal(p: Persistence, spec: CommandSpec): string | null {
  if (p.loading && !spec.flags.includes('loading')) return PERSIST_E.LOADING;
  if (spec.write || spec.name === 'ping') {
    const e = p.diskErrno;
    if (e !== 0) return misconfMessage(e);
  }
  return null;
}

export interface WalGroup {
  gid: number;
  args: Buffer[];
  /** Extra ring bytes each participant needs for the mark frame. */
  markBytes: number;
}

/** A multi-shard write gets a group (see group-frames.ts); null for reads and single parts. */
export function walGroup(
  p: Persistence,
  spec: CommandSpec,
  lists: number[][],
  positions: number[][] | null,
): WalGroup | null {
  if (!spec.write) return null;
  const participants: number[] = [];
  for (let s = 0; s < lists.length; s++) if (lists[s]!.length > 0 || positions === null) participants.push(s);
  if (participants.length < 2) return null;
  return {
    gid: p.nextGroup(),
    args: participantArgs(participants),
    markBytes: markFrameBytes(participants.length) + 8,
  };
}
