/**
 * RESP2 reply scanning over raw bytes: find where one complete reply ends, read an integer
 * header, recognise error kinds. Offsets only; nothing is decoded into JS values.
 */
import { parseIntAt } from './digits.ts';

export class ProtocolError extends Error {}

const CR = 13;

/** Index of the '\r' of the line starting at `from`, or -1 when the line is not complete yet. */
export function lineEnd(buf: Buffer, from: number, end: number): number {
  const i = buf.indexOf(CR, from);
  return i < 0 || i + 1 >= end ? -1 : i;
}

/**
 * Offset just past the complete reply starting at `pos`, or -1 when more bytes are needed.
 * Throws ProtocolError on bytes that are not RESP2 (a desynchronised or non-Redis server).
 */
export function scanReply(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) return -1;
  const eol = lineEnd(buf, pos + 1, end);
  if (eol < 0) return -1;
  switch (buf[pos]) {
    case 43: // +
    case 45: // -
    case 58: // :
      return eol + 2;
    case 36: {
      // $
      const n = parseIntAt(buf, pos + 1, eol);
      if (Number.isNaN(n)) throw new ProtocolError(`bad bulk length at byte ${pos}`);
      if (n < 0) return eol + 2;
      const e = eol + 2 + n + 2;
      return e <= end ? e : -1;
    }
    case 42: {
      // *
      const n = parseIntAt(buf, pos + 1, eol);
      if (Number.isNaN(n)) throw new ProtocolError(`bad array length at byte ${pos}`);
      let p = eol + 2;
      for (let i = 0; i < n; i++) {
        p = scanReply(buf, p, end);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      throw new ProtocolError(`unexpected reply type byte 0x${(buf[pos] ?? 0).toString(16)} at byte ${pos}`);
  }
}

const UNKNOWN = Buffer.from('-ERR unknown command');

/** True for Redis's "-ERR unknown command ..." (the target does not implement the command). */
export function isUnknownCommand(buf: Buffer, pos: number, end: number): boolean {
  return (
    end - pos >= UNKNOWN.length && buf.compare(UNKNOWN, 0, UNKNOWN.length, pos, pos + UNKNOWN.length) === 0
  );
}

/** Text of a simple/error reply line without the type byte — only for reports (allocates). */
export function lineText(buf: Buffer, pos: number, end: number): string {
  const eol = lineEnd(buf, pos + 1, end);
  return buf.toString('latin1', pos + 1, eol < 0 ? end : eol);
}
