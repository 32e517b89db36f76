/**
 * Collection members in their hashtable encodings are JS strings read as latin1: one char per
 * byte, so any binary member round-trips exactly and V8 keeps it as a one-byte string (the most
 * compact string it has). These helpers convert between such strings and byte ranges without
 * allocating a Buffer per call, and price them for bytes().
 */

let lastSrc: Uint8Array | null = null;
let lastView: Buffer = Buffer.alloc(0);

/** A Buffer over the same memory as `u8` (cached: commands read many ranges of one frame). */
function view(u8: Uint8Array): Buffer {
  if (u8 !== lastSrc) {
    lastSrc = u8;
    lastView = Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  }
  return lastView;
}

/** u8[off, off+len) as a latin1 string. */
export function latin1(u8: Uint8Array, off: number, len: number): string {
  if (len <= 8) {
    // Short members are the common case: a char loop beats the native call.
    let s = '';
    for (let i = off; i < off + len; i++) s += String.fromCharCode(u8[i]!);
    return s;
  }
  return view(u8).toString('latin1', off, off + len);
}

/** Writes the latin1 string `s` at dst[off]; the caller guarantees room. Returns the end. */
export function writeLatin1(dst: Uint8Array, off: number, s: string): number {
  const n = s.length;
  if (n <= 16) {
    for (let i = 0; i < n; i++) dst[off + i] = s.charCodeAt(i);
    return off + n;
  }
  return off + view(dst).write(s, off, n, 'latin1');
}

/** The string's bytes in a fresh Buffer (dump(), cross-shard transfers). */
export function latin1Bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/**
 * Approximate V8 heap cost of a one-byte string of `len` chars: a 16-byte header (map, hash,
 * length) plus the chars, rounded up to the 8-byte allocation unit.
 */
export function strCost(len: number): number {
  return (16 + len + 7) & ~7;
}
