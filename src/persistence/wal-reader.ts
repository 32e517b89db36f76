/**
 * Reads WAL segments frame by frame with bounded memory, and classifies a bad frame:
 * - torn tail: nothing valid follows it (a write cut short by a crash, or the zeros some
 *   file systems leave after one) — the frame and what follows are dropped with a warning;
 * - corruption: a valid frame exists after it, so acknowledged data would be lost by
 *   dropping it — start-up stops (unless repairing) naming the file and offset.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32c } from './crc32c.ts';
import { forEachRecord, FRAME_HEADER, parseWalHeader, WAL_HEADER, type WalHeader } from './wal-format.ts';

export type SegmentEnd =
  | { status: 'ok' }
  | { status: 'torn'; offset: number; reason: string }
  | { status: 'corrupt'; offset: number; reason: string };

export interface SegmentScan {
  header: WalHeader | null;
  size: number;
  /** Offset after the last valid frame. */
  validEnd: number;
  frames: number;
  end: SegmentEnd;
}

const CHUNK = 4 * 1024 * 1024;

/** Sequential reader over a file with a window that grows to hold the largest frame. */
export class Window {
  buf = Buffer.allocUnsafe(CHUNK);
  /** File offset of buf[0]. */
  base = 0;
  len = 0;
  readonly fd: number;
  readonly size: number;

  constructor(fd: number, size: number) {
    this.fd = fd;
    this.size = size;
  }

  /** Make [off, off+n) available; false if the file is shorter. */
  load(off: number, n: number): boolean {
    if (off + n > this.size) return false;
    if (off >= this.base && off + n <= this.base + this.len) return true;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
    this.base = off;
    this.len = 0;
    const want = Math.min(this.buf.length, this.size - off);
    while (this.len < want) {
      const r = readSync(this.fd, this.buf, this.len, want - this.len, off + this.len);
      if (r === 0) break;
      this.len += r;
    }
    return this.len >= n;
  }
}

/**
 * Scan a segment: calls onFrame(payload buffer, start, end) for each valid frame in order
 * (the buffer is only valid during the call) and reports how the segment ends.
 */
export function scanSegment(
  path: string,
  onFrame: ((b: Buffer, start: number, end: number, fileOffset: number) => void) | null,
): SegmentScan {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const w = new Window(fd, size);
    if (!w.load(0, Math.min(size, WAL_HEADER)) || size < WAL_HEADER) {
      return {
        header: null,
        size,
        validEnd: 0,
        frames: 0,
        end: { status: 'torn', offset: 0, reason: 'incomplete header' },
      };
    }
    const header = parseWalHeader(w.buf.subarray(0, WAL_HEADER));
    if (typeof header === 'string') {
      return {
        header: null,
        size,
        validEnd: 0,
        frames: 0,
        end: { status: 'corrupt', offset: 0, reason: header },
      };
    }
    let off = WAL_HEADER;
    let frames = 0;
    while (off < size) {
      const bad = checkFrame(w, off);
      if (bad !== null) {
        const end: SegmentEnd = validFrameAfter(w, off + 1)
          ? { status: 'corrupt', offset: off, reason: bad }
          : { status: 'torn', offset: off, reason: bad };
        return { header, size, validEnd: off, frames, end };
      }
      const len = w.buf.readUInt32LE(off - w.base);
      const s = off - w.base + FRAME_HEADER;
      if (onFrame !== null) onFrame(w.buf, s, s + len, off);
      off += FRAME_HEADER + len;
      frames++;
    }
    return { header, size, validEnd: off, frames, end: { status: 'ok' } };
  } finally {
    closeSync(fd);
  }
}

/** null when a complete, checksummed, well-formed frame starts at off; else why not. */
function checkFrame(w: Window, off: number): string | null {
  if (!w.load(off, FRAME_HEADER)) return 'incomplete frame header';
  const len = w.buf.readUInt32LE(off - w.base);
  const crc = w.buf.readUInt32LE(off - w.base + 4);
  if (len === 0) return 'empty frame';
  if (!w.load(off, FRAME_HEADER + len)) return `frame of ${len} bytes runs past the end of the file`;
  const s = off - w.base + FRAME_HEADER;
  if (crc32c(w.buf, s, s + len) !== crc) return 'checksum mismatch';
  if (!forEachRecord(w.buf, s, s + len, noop)) return 'malformed record in a checksummed frame';
  return null;
}
const noop = (): void => {};

/** Whether any valid frame starts at or after `from` (only on the failure path). */
function validFrameAfter(w: Window, from: number): boolean {
  for (let off = from; off + FRAME_HEADER < w.size; off++) {
    if (!w.load(off, FRAME_HEADER)) return false;
    const len = w.buf.readUInt32LE(off - w.base);
    if (len === 0 || off + FRAME_HEADER + len > w.size) continue;
    if (checkFrame(w, off) === null) return true;
  }
  return false;
}
