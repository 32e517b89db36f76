import { RespWriter } from '../protocol/writer.ts';
import type { Combine } from '../commands/types.ts';

/**
 * Reading back the RESP that shards produced, to merge several shards' replies into one.
 * Shard replies are trusted (we wrote them), so this only needs to find value boundaries.
 */

/** Offset just past the RESP value starting at `off`. */
export function skipValue(b: Buffer, off: number): number {
  const type = b[off]!;
  const eol = b.indexOf(10, off);
  const line = eol + 1;
  switch (type) {
    case 36: // $ bulk
    case 61: // = verbatim
    case 33: {
      // ! blob error
      const n = readInt(b, off + 1);
      return n < 0 ? line : line + n + 2;
    }
    case 42: // * array
    case 126: // ~ set
    case 62: {
      // > push
      const n = readInt(b, off + 1);
      let p = line;
      for (let i = 0; i < n; i++) p = skipValue(b, p);
      return p;
    }
    case 37: {
      // % map
      const n = readInt(b, off + 1) * 2;
      let p = line;
      for (let i = 0; i < n; i++) p = skipValue(b, p);
      return p;
    }
    default:
      return line; // + - : _ , # ( single-line types
  }
}

export function readInt(b: Buffer, off: number): number {
  let neg = false;
  let n = 0;
  let p = off;
  if (b[p] === 45) {
    neg = true;
    p++;
  }
  for (let c = b[p]!; c >= 48 && c <= 57; c = b[++p]!) n = n * 10 + (c - 48);
  return neg ? -n : n;
}

/** Offsets of the elements of the top-level array in `b` (b[0] must be '*' or '~'). */
export function arrayElements(b: Buffer): number[] {
  const n = readInt(b, 1);
  const offs: number[] = [];
  let p = b.indexOf(10) + 1;
  for (let i = 0; i < n; i++) {
    offs.push(p);
    p = skipValue(b, p);
  }
  offs.push(p);
  return offs;
}

/** The first error reply among the parts, if any (a shard refused its part). */
function firstError(parts: (Buffer | null)[]): Buffer | null {
  for (const p of parts) if (p !== null && p[0] === 45) return p;
  return null;
}

/**
 * Builds the finisher for a combined reply. `positions[shard]` lists, for MGET, which of the
 * client's keys each shard answered, in order.
 */
export function combiner(
  kind: Combine,
  resp3: boolean,
  positions: number[][] | null,
): (parts: (Buffer | null)[]) => Buffer {
  switch (kind) {
    case 'sum':
      return (parts) => {
        const err = firstError(parts);
        if (err) return err;
        let n = 0;
        for (const p of parts) if (p !== null) n += readInt(p, 1);
        return Buffer.from(`:${n}\r\n`);
      };
    case 'ok':
      return (parts) => firstError(parts) ?? Buffer.from('+OK\r\n');
    case 'concat':
      return (parts) => {
        const err = firstError(parts);
        if (err) return err;
        let n = 0;
        const bodies: Buffer[] = [];
        for (const p of parts) {
          if (p === null) continue;
          n += readInt(p, 1);
          bodies.push(p.subarray(p.indexOf(10) + 1));
        }
        return Buffer.concat([Buffer.from(`*${n}\r\n`), ...bodies]);
      };
    case 'mget':
      return (parts) => {
        const err = firstError(parts);
        if (err) return err;
        let total = 0;
        for (const pos of positions!) total += pos.length;
        const slots: Buffer[] = new Array(total);
        for (let s = 0; s < parts.length; s++) {
          const p = parts[s];
          if (p === null || p === undefined) continue;
          const offs = arrayElements(p);
          const pos = positions![s]!;
          for (let k = 0; k < pos.length; k++) slots[pos[k]!] = p.subarray(offs[k], offs[k + 1]);
        }
        return Buffer.concat([Buffer.from(`*${total}\r\n`), ...slots]);
      };
    case 'first':
      return (parts) => parts.find((p) => p !== null) ?? Buffer.from(resp3 ? '_\r\n' : '$-1\r\n');
  }
}

/** A writer for main-thread replies, reused across commands. */
export const localWriter = new RespWriter();
