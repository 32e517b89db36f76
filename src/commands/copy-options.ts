import { E } from '../protocol/redis-errors.ts';

export interface CopyOptions {
  dstDb: number;
  replace: boolean;
}

/**
 * COPY's options after source and destination (argument indexes 2..argc-1), shared by the
 * shard (same-shard COPY) and the coordinator (cross-shard COPY). Returns an error string.
 */
export function parseCopyOptions(
  argc: number,
  arg: (i: number) => string,
  curDb: number,
  databases: number,
): CopyOptions | string {
  let dstDb = curDb;
  let replace = false;
  for (let j = 2; j < argc; j++) {
    const opt = arg(j).toLowerCase();
    if (opt === 'replace') replace = true;
    else if (opt === 'db' && j + 1 < argc) {
      const v = arg(++j);
      if (!/^-?(0|[1-9]\d*)$/.test(v) || Math.abs(Number(v)) > 2147483647) return E.NOT_INTEGER;
      dstDb = Number(v);
      if (dstDb < 0 || dstDb >= databases) return E.DB_RANGE;
    } else return E.SYNTAX;
  }
  return { dstDb, replace };
}
