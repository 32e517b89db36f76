/**
 * Inline commands (a line of text instead of RESP, as typed into telnet): Redis's sdssplitargs —
 * spaces separate arguments; "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes;
 * 'single quotes' take \'; a closing quote must be followed by a space or the end.
 */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
const hexVal = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87);

export interface InlineArgs {
  /** Decoded argument bytes; argument k is out[starts[k], ends[k]). */
  out: Buffer;
  starts: number[];
  ends: number[];
}

/** Split data[p, end) into arguments; null on unbalanced quotes. */
export function splitInlineArgs(data: Buffer, p: number, end: number): InlineArgs | null {
  const out = Buffer.allocUnsafe(end - p);
  let o = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  for (;;) {
    while (p < end && isSpace(data[p]!)) p++;
    if (p >= end) break;
    const start = o;
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = p < end ? data[p]! : 0;
      if (inq) {
        if (c === 92 && p + 3 < end && data[p + 1] === 120 && isHex(data[p + 2]!) && isHex(data[p + 3]!)) {
          out[o++] = hexVal(data[p + 2]!) * 16 + hexVal(data[p + 3]!);
          p += 3;
        } else if (c === 92 && p + 1 < end) {
          const e = data[++p]!;
          out[o++] = e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e;
        } else if (c === 34) {
          // A closing quote must be followed by a space or the end.
          if (p + 1 < end && !isSpace(data[p + 1]!)) return null;
          done = true;
        } else if (p >= end) {
          return null;
        } else {
          out[o++] = c;
        }
      } else if (insq) {
        if (c === 92 && p + 1 < end && data[p + 1] === 39) {
          p++;
          out[o++] = 39;
        } else if (c === 39) {
          if (p + 1 < end && !isSpace(data[p + 1]!)) return null;
          done = true;
        } else if (p >= end) {
          return null;
        } else {
          out[o++] = c;
        }
      } else if (c === 32 || c === 10 || c === 13 || c === 9 || p >= end) {
        done = true;
      } else if (c === 34) {
        inq = true;
      } else if (c === 39) {
        insq = true;
      } else {
        out[o++] = c;
      }
      if (p < end) p++;
    }
    starts.push(start);
    ends.push(o);
  }
  return { out, starts, ends };
}
