/**
 * Pre-encoded command templates. Every key has the same width (<prefix><type>:<12 digits>) and
 * every value the same size, so a command's RESP encoding has a fixed layout: it is encoded
 * once, and per request the generator copies it and patches digits and value bytes at known
 * offsets — no strings, no arrays, no Buffer allocation per request.
 */
import type { CommandName, MixEntry } from '../workload/types.ts';
import { writeDigits } from './digits.ts';
import { KEY_DIGITS, type ValueCodec } from './values.ts';

/** What a correct reply looks like. */
export type ReplyKind =
  | 'ok' // +OK
  | 'int' // :<n>
  | 'value' // $<bulk> holding a value for the request's key, or nil
  | 'values'; // *<n> of values (MGET: one per key, nil allowed; ZRANGE: members of key 0)

export const FIELD_DIGITS = 4;
export const SCORE_DIGITS = 10;

/** Values at least this big are not copied from the template only to be overwritten. */
const SKIP_VALUE_COPY = 512;

/** Which key-type tag each command's keys use, so data types never collide (no WRONGTYPE). */
const TAG: Record<CommandName, string> = {
  GET: 's',
  SET: 's',
  MSET: 's',
  MGET: 's',
  INCR: 'c',
  LPUSH: 'l',
  LPOP: 'l',
  HSET: 'h',
  HGET: 'h',
  ZADD: 'z',
  ZRANGE: 'z',
  SADD: 't',
};

const REPLY: Record<CommandName, ReplyKind> = {
  GET: 'value',
  SET: 'ok',
  MSET: 'ok',
  MGET: 'values',
  INCR: 'int',
  LPUSH: 'int',
  LPOP: 'value',
  HSET: 'int',
  HGET: 'value',
  ZADD: 'int',
  ZRANGE: 'values',
  SADD: 'int',
};

/** Commands whose reply returns values the validator can check against key 0 (or key j). */
export function writesValues(c: CommandName): boolean {
  return c === 'SET' || c === 'MSET' || c === 'LPUSH' || c === 'HSET' || c === 'ZADD' || c === 'SADD';
}

export interface Template {
  command: CommandName;
  bytes: Buffer;
  reply: ReplyKind;
  /** Keys per request and the offset of each key's 12 digits. */
  keys: number;
  keyOffsets: Int32Array;
  /** Value fields (one per key for MSET, else 0 or 1) and their offsets; value j belongs to key j. */
  values: number;
  valueOffsets: Int32Array;
  valueSize: number;
  /** HSET/HGET field digits, ZADD score digits; -1 when absent. */
  fieldOffset: number;
  fields: number;
  scoreOffset: number;
  /** [start, end) ranges of `bytes` to copy per request (value regions skipped when large). */
  copyRanges: Int32Array;
}

type Arg = { lit: string } | { key: number } | { value: number } | { field: true } | { score: true };

function argsFor(m: MixEntry): Arg[] {
  const key0: Arg = { key: 0 };
  switch (m.command) {
    case 'GET':
    case 'INCR':
    case 'LPOP':
      return [{ lit: m.command }, key0];
    case 'SET':
      return m.ttl > 0
        ? [{ lit: 'SET' }, key0, { value: 0 }, { lit: 'EX' }, { lit: String(m.ttl) }]
        : [{ lit: 'SET' }, key0, { value: 0 }];
    case 'MSET': {
      const a: Arg[] = [{ lit: 'MSET' }];
      for (let j = 0; j < m.keys; j++) a.push({ key: j }, { value: j });
      return a;
    }
    case 'MGET': {
      const a: Arg[] = [{ lit: 'MGET' }];
      for (let j = 0; j < m.keys; j++) a.push({ key: j });
      return a;
    }
    case 'LPUSH':
    case 'SADD':
      return [{ lit: m.command }, key0, { value: 0 }];
    case 'HSET':
      return [{ lit: 'HSET' }, key0, { field: true }, { value: 0 }];
    case 'HGET':
      return [{ lit: 'HGET' }, key0, { field: true }];
    case 'ZADD':
      return [{ lit: 'ZADD' }, key0, { score: true }, { value: 0 }];
    case 'ZRANGE':
      return [{ lit: 'ZRANGE' }, key0, { lit: '0' }, { lit: String(m.count - 1) }];
  }
}

/** The key name prefix for a command: <prefix><tag>: (12 digits follow). */
export function keyPrefix(prefix: string, c: CommandName): string {
  return `${prefix}${TAG[c]}:`;
}

export function buildTemplate(m: MixEntry, prefix: string, valueSize: number): Template {
  const kp = keyPrefix(prefix, m.command);
  const args = argsFor(m);
  const parts: Buffer[] = [];
  let len = 0;
  const keyOffsets: number[] = [];
  const valueOffsets: number[] = [];
  let fieldOffset = -1;
  let scoreOffset = -1;
  const push = (b: Buffer): void => {
    parts.push(b);
    len += b.length;
  };
  push(Buffer.from(`*${args.length}\r\n`));
  for (const a of args) {
    let body: Buffer;
    let at = 0; // offset inside body of the patchable part
    if ('lit' in a) body = Buffer.from(a.lit);
    else if ('key' in a) {
      body = Buffer.from(kp + '0'.repeat(KEY_DIGITS));
      at = kp.length;
    } else if ('value' in a) body = Buffer.alloc(valueSize, 0x78);
    else if ('field' in a) {
      body = Buffer.from('f' + '0'.repeat(FIELD_DIGITS));
      at = 1;
    } else body = Buffer.from('0'.repeat(SCORE_DIGITS));
    push(Buffer.from(`$${body.length}\r\n`));
    const bodyAt = len + at;
    if ('key' in a) keyOffsets.push(bodyAt);
    else if ('value' in a) valueOffsets.push(bodyAt);
    else if ('field' in a) fieldOffset = bodyAt;
    else if ('score' in a) scoreOffset = bodyAt;
    push(body);
    push(Buffer.from('\r\n'));
  }
  const bytes = Buffer.concat(parts);
  const ranges: number[] = [];
  if (valueSize >= SKIP_VALUE_COPY && valueOffsets.length > 0) {
    let from = 0;
    for (const v of valueOffsets) {
      ranges.push(from, v);
      from = v + valueSize;
    }
    ranges.push(from, bytes.length);
  } else ranges.push(0, bytes.length);
  return {
    command: m.command,
    bytes,
    reply: REPLY[m.command],
    keys: keyOffsets.length,
    keyOffsets: Int32Array.from(keyOffsets),
    values: valueOffsets.length,
    valueOffsets: Int32Array.from(valueOffsets),
    valueSize,
    fieldOffset,
    fields: m.fields,
    scoreOffset,
    copyRanges: Int32Array.from(ranges),
  };
}

/** Upper bound of one reply's size, used to size receive buffers (they still grow if needed). */
export function replyBound(t: Template, m: MixEntry): number {
  const bulk = t.valueSize + 24;
  if (t.command === 'MGET') return 16 + m.keys * bulk;
  if (t.command === 'ZRANGE') return 16 + m.count * bulk;
  return t.reply === 'value' ? bulk : 32;
}

/** One complete request for key index k (probing and tests; allocates, so not for the hot path). */
export function encodeOne(t: Template, codec: ValueCodec, k: number): Buffer {
  const b = Buffer.from(t.bytes);
  for (const off of t.keyOffsets) writeDigits(b, off, KEY_DIGITS, k);
  for (const off of t.valueOffsets) codec.write(b, off, t.valueSize, k, 0);
  if (t.fieldOffset >= 0) writeDigits(b, t.fieldOffset, FIELD_DIGITS, 0);
  if (t.scoreOffset >= 0) writeDigits(b, t.scoreOffset, SCORE_DIGITS, 0);
  return b;
}
