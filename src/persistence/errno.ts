import { constants } from 'node:os';
import { misconfAof } from '../protocol/redis-errors.ts';

/**
 * Disk errors travel between threads as errno numbers (in the shared status block) and reach
 * clients as strerror() text, as Redis prints them ("MISCONF Errors writing to the AOF file:
 * No space left on device").
 */
const STRERROR: Record<string, string> = {
  ENOSPC: 'No space left on device',
  EIO: 'Input/output error',
  EDQUOT: 'Disk quota exceeded',
  EROFS: 'Read-only file system',
  EBADF: 'Bad file descriptor',
  EFBIG: 'File too large',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
};

const errnos = constants.errno as Record<string, number>;
const byNumber = new Map<number, string>();
for (const [code, n] of Object.entries(errnos)) byNumber.set(n, code);

/** errno number of a Node fs error (EIO when it has none). */
export function errnoOf(err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined ? errnos[code] : undefined) ?? errnos.EIO!;
}

export function strerror(errno: number): string {
  const code = byNumber.get(errno) ?? 'EIO';
  return STRERROR[code] ?? code;
}

/** Redis's -MISCONF reply for a failing AOF (server.c writeCommandsGetDiskErrorMessage). */
export function misconfMessage(errno: number): string {
  return misconfAof(strerror(errno));
}
