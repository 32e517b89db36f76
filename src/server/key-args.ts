import type { CommandSpec } from '../commands/types.ts';
import type { Connection } from './connection.ts';

/**
 * Key argument indexes of the command in the connection's parser (argv[0] = name): the
 * command's own `keys` function for movable keys, else the catalog's first/last/step.
 * A string is an error to reply.
 */
export function keyArgs(conn: Connection, spec: CommandSpec): number[] | string {
  const p = conn.parser;
  if (spec.keys !== undefined) {
    return spec.keys(p.argc, (i) => p.buf.toString('utf8', p.starts[i]!, p.ends[i]!));
  }
  return rangeKeys(spec, p.argc);
}

export function rangeKeys(spec: CommandSpec, argc: number): number[] {
  const out: number[] = [];
  if (spec.firstKey <= 0) return out;
  const last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < argc; i += spec.step || 1) out.push(i);
  return out;
}
