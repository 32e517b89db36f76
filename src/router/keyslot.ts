/**
 * Redis Cluster hash slot of a key: CRC16-XMODEM (poly 0x1021, init 0, no reflection) of the
 * key, or of its hash tag, masked to 14 bits. Must agree bit-for-bit with Redis' keyHashSlot()
 * because clients (ioredis, redis-py, ...) compute slots themselves and route by them.
 */

const CRC16_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function crc16(buf: Uint8Array, off: number, end: number): number {
  let crc = 0;
  for (let i = off; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >>> 8) ^ buf[i]!) & 0xff]!;
  return crc;
}

/**
 * Slot of buf[off, off+len). Hash tag rule, as in Redis: the first '{', then the first '}'
 * after it; if the content between them is non-empty only that content is hashed, otherwise
 * (no '{', no later '}', or "{}") the whole key is. Note the npm `cluster-key-slot` package
 * differs for "{}" followed by another tag ("foo{}{bar}"); Redis hashes the whole key there.
 */
export function keySlot(buf: Uint8Array, off: number, len: number): number {
  const end = off + len;
  let s = off;
  while (s < end && buf[s] !== OPEN_BRACE) s++;
  if (s < end) {
    let e = s + 1;
    while (e < end && buf[e] !== CLOSE_BRACE) e++;
    if (e < end && e > s + 1) return crc16(buf, s + 1, e) & 0x3fff;
  }
  return crc16(buf, off, end) & 0x3fff;
}

const encoder = new TextEncoder();

/** Convenience for tests and admin tooling: slot of the UTF-8 encoding of `s`. */
export function keySlotOfString(s: string): number {
  const bytes = encoder.encode(s);
  return keySlot(bytes, 0, bytes.length);
}

/** The shard owning a key: contiguous slot ranges, as ShardSet.slotToShard lays them out. */
export function shardOfKey(buf: Uint8Array, off: number, len: number, shards: number): number {
  return shards === 1 ? 0 : Math.floor((keySlot(buf, off, len) * shards) / 16384);
}
