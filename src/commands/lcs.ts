import { RespWriter } from '../protocol/writer.ts';
import { E } from '../protocol/redis-errors.ts';

/**
 * LCS computed on the main thread from the two values the shards returned; a line-by-line
 * port of Redis 7.0's lcsCommand so ranges, their order and option errors match exactly.
 */
export function lcsReply(a: Uint8Array, b: Uint8Array, opts: string[], resp3: boolean): Buffer {
  const out = new RespWriter(256);
  out.resp3 = resp3;
  let getidx = false;
  let getlen = false;
  let withmatchlen = false;
  let minmatchlen = 0;
  for (let j = 0; j < opts.length; j++) {
    const o = opts[j]!.toUpperCase();
    const more = opts.length - 1 - j;
    if (o === 'IDX') getidx = true;
    else if (o === 'LEN') getlen = true;
    else if (o === 'WITHMATCHLEN') withmatchlen = true;
    else if (o === 'MINMATCHLEN' && more > 0) {
      const v = opts[++j]!;
      if (!/^-?(0|[1-9]\d*)$/.test(v)) return errorReply(out, E.NOT_INTEGER);
      minmatchlen = Math.max(0, Number(v));
    } else return errorReply(out, E.SYNTAX);
  }
  if (getidx && getlen)
    return errorReply(out, 'ERR If you want both the length and indexes, please just use IDX.');
  const alen = a.length;
  const blen = b.length;
  const cells = (alen + 1) * (blen + 1);
  if (cells > 128 * 1024 * 1024) {
    return errorReply(out, 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  }
  const dp = new Uint32Array(cells);
  const W = blen + 1;
  for (let i = 1; i <= alen; i++) {
    for (let j = 1; j <= blen; j++) {
      if (a[i - 1] === b[j - 1]) dp[i * W + j] = dp[(i - 1) * W + j - 1]! + 1;
      else {
        const l1 = dp[(i - 1) * W + j]!;
        const l2 = dp[i * W + j - 1]!;
        dp[i * W + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  let idx = dp[alen * W + blen]!;
  const total = idx;
  const computelcs = getidx || !getlen;
  const result = Buffer.alloc(computelcs ? idx : 0);
  const ranges: number[][] = [];
  let arangeStart = alen;
  let arangeEnd = 0;
  let brangeStart = 0;
  let brangeEnd = 0;
  let i = alen;
  let j = blen;
  while (computelcs && i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      result[idx - 1] = a[i - 1]!;
      if (arangeStart === alen) {
        arangeStart = i - 1;
        arangeEnd = i - 1;
        brangeStart = j - 1;
        brangeEnd = j - 1;
      } else if (arangeStart === i && brangeStart === j) {
        arangeStart--;
        brangeStart--;
      } else emit = true;
      if (arangeStart === 0 || brangeStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = dp[(i - 1) * W + j]!;
      const l2 = dp[i * W + j - 1]!;
      if (l1 > l2) i--;
      else j--;
      if (arangeStart !== alen) emit = true;
    }
    const matchLen = arangeEnd - arangeStart + 1;
    if (emit) {
      if (minmatchlen === 0 || matchLen >= minmatchlen)
        ranges.push([arangeStart, arangeEnd, brangeStart, brangeEnd, matchLen]);
      arangeStart = alen;
    }
  }
  if (getidx) {
    out.mapHeader(2);
    out.bulkString('matches');
    out.arrayHeader(ranges.length);
    for (const r of ranges) {
      out.arrayHeader(withmatchlen ? 3 : 2);
      out.arrayHeader(2);
      out.integer(r[0]!);
      out.integer(r[1]!);
      out.arrayHeader(2);
      out.integer(r[2]!);
      out.integer(r[3]!);
      if (withmatchlen) out.integer(r[4]!);
    }
    out.bulkString('len');
    out.integer(total);
  } else if (getlen) out.integer(total);
  else out.bulk(result, 0, result.length);
  return out.take();
}

function errorReply(out: RespWriter, msg: string): Buffer {
  out.error(msg);
  return out.take();
}
