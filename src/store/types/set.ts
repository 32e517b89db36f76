/**
 * The set type, with Redis 7.0's two encodings:
 *  - intset: while every member is an integer in canonical form (string2ll accepts it) and there
 *    are at most 512, the members are one sorted typed array whose width grows 16 → 32 → 64 bits
 *    as values need it (Redis's intset). Iteration is in ascending order, as Redis's is.
 *  - hashtable: a ByteTable (byte-table.ts) of member bytes, found by hashing the argument bytes
 *    in place; its dense entry indexes give O(1) random picks (SPOP, SRANDMEMBER) and a scan
 *    cursor that survives deletions.
 * Conversion is one-way, as in Redis.
 *
 * Members travel as `Member`: a number or bigint when the bytes are an integer Redis would put
 * in an intset, otherwise a latin1 string. A string Member is never integer-shaped, so an intset
 * can answer "not a member" for it without parsing (see memberOf / norm). The hot single-key
 * commands use the *Bytes methods instead, which build no Member for a hashtable.
 */
import { scanInt64, parseInt64 } from '../../protocol/numbers.ts';
import { OVERHEAD, registerType, type StoreObject } from '../object.ts';
import { TYPE_SET } from '../record.ts';
import { ByteTable } from './byte-table.ts';
import { latin1, latin1Bytes, writeLatin1 } from './latin1.ts';

export const SET_MAX_INTSET_ENTRIES = 512;

export type Member = number | bigint | string;
type Ints = Int16Array | Int32Array | BigInt64Array;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The Member for bytes u8[off, off+len). */
export function memberOf(u8: Uint8Array, off: number, len: number): Member {
  const v = scanInt64(u8, off, len);
  if (v === v) return v <= MAX_SAFE && v >= -MAX_SAFE ? v : parseInt64(u8, off, len)!;
  return latin1(u8, off, len);
}

/** Normalises a latin1 string (a hashtable member) to a Member. */
export function norm(s: string): Member {
  const c = s.charCodeAt(0);
  // Fast reject: string2ll needs a digit or '-' first and at most 20 bytes.
  if (s.length === 0 || s.length > 20 || !((c >= 48 && c <= 57) || c === 45)) return s;
  const n = s.length;
  for (let i = 0; i < n; i++) digits[i] = s.charCodeAt(i);
  const v = scanInt64(digits, 0, n);
  if (v !== v) return s;
  return v <= MAX_SAFE && v >= -MAX_SAFE ? v : parseInt64(digits, 0, n)!;
}
const digits = new Uint8Array(20);

/** Decimal text of a Member (the bytes Redis replies with). */
export function memberText(m: Member): string {
  return typeof m === 'string' ? m : String(m);
}

/** A Member's bytes for a table lookup: written to `mb`, returns the length. */
let mb = Buffer.alloc(256);
function memberBytes(m: Member): number {
  const s = typeof m === 'string' ? m : String(m);
  if (s.length > mb.length) mb = Buffer.alloc(s.length * 2);
  return writeLatin1(mb, 0, s);
}

/** The integer an intset would hold for u8[off, off+len), or null (see memberOf). */
function intOf(u8: Uint8Array, off: number, len: number): number | bigint | null {
  const v = scanInt64(u8, off, len);
  if (v !== v) return null;
  return v <= MAX_SAFE && v >= -MAX_SAFE ? v : parseInt64(u8, off, len)!;
}

const NONE = new Uint8Array(0);

/** Where a member's bytes are: valid until the set changes. */
export interface MemberRef {
  buf: Uint8Array;
  off: number;
  len: number;
}

function widthOf(v: number | bigint): number {
  if (v >= -32768 && v <= 32767) return 2;
  if (v >= -2147483648 && v <= 2147483647) return 4;
  return 8;
}

function allocInts(width: number, cap: number): Ints {
  return width === 2 ? new Int16Array(cap) : width === 4 ? new Int32Array(cap) : new BigInt64Array(cap);
}

export class SetObject implements StoreObject {
  readonly type = TYPE_SET;
  size = 0;
  /** intset storage (null once a hashtable); sorted ascending in [0, size). */
  private ints: Ints | null = new Int16Array(0);
  private width = 2;
  /** The hashtable encoding (null while an intset). */
  private table: ByteTable | null = null;

  encoding(): string {
    return this.ints !== null ? 'intset' : 'hashtable';
  }

  isIntset(): boolean {
    return this.ints !== null;
  }

  bytes(): number {
    if (this.ints !== null) return OVERHEAD.object + OVERHEAD.buffer + this.ints.byteLength;
    return OVERHEAD.object + this.table!.bytes();
  }

  /** Index of v in the intset, or -(insertion point) - 1. */
  private search(v: number | bigint): number {
    const a = this.ints!;
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = a[mid]!;
      if (x < v) lo = mid + 1;
      else if (x > v) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  /** Redis setTypeConvert(OBJ_ENCODING_HT). */
  convert(): void {
    const a = this.ints;
    if (a === null) return;
    this.table = new ByteTable();
    this.ints = null;
    const n = this.size;
    this.size = 0;
    for (let i = 0; i < n; i++) this.addTable(mb, 0, memberBytes(a[i]!));
  }

  private addTable(u8: Uint8Array, off: number, len: number): boolean {
    const t = this.table!;
    if (t.find(u8, off, len) >= 0) return false;
    t.insert(u8, off, len, NONE, 0, 0);
    this.size++;
    return true;
  }

  /** add() of the member u8[off, off+len) (SADD: no Member built for a hashtable). */
  addBytes(u8: Uint8Array, off: number, len: number): boolean {
    if (this.ints === null) return this.addTable(u8, off, len);
    const v = intOf(u8, off, len);
    if (v !== null) return this.add(v);
    this.convert();
    return this.addTable(u8, off, len);
  }

  /** has() of the member u8[off, off+len). */
  hasBytes(u8: Uint8Array, off: number, len: number): boolean {
    if (this.ints === null) return this.table!.find(u8, off, len) >= 0;
    const v = intOf(u8, off, len);
    return v !== null && this.search(v) >= 0;
  }

  /** remove() of the member u8[off, off+len). */
  removeBytes(u8: Uint8Array, off: number, len: number): boolean {
    if (this.ints !== null) {
      const v = intOf(u8, off, len);
      return v !== null && this.remove(v);
    }
    const i = this.table!.find(u8, off, len);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** Redis setTypeAdd: true when m was not a member. */
  add(m: Member): boolean {
    if (this.ints !== null) {
      if (typeof m === 'string') {
        this.convert();
        return this.addTable(mb, 0, memberBytes(m));
      }
      const at = this.search(m);
      if (at >= 0) return false;
      const pos = -at - 1;
      const w = widthOf(m);
      if (w > this.width) this.grow(w);
      else if (this.size === this.ints.length) this.grow(this.width);
      const a = this.ints;
      a.copyWithin(pos + 1, pos, this.size);
      a[pos] = (this.width === 8 ? BigInt(m) : Number(m)) as never;
      this.size++;
      if (this.size > SET_MAX_INTSET_ENTRIES) this.convert();
      return true;
    }
    return this.addTable(mb, 0, memberBytes(m));
  }

  /** Reallocates with room to spare, widening the integers when `width` grew (intsetUpgrade). */
  private grow(width: number): void {
    const old = this.ints!;
    const next = allocInts(width, Math.max(4, this.size + (this.size >> 1) + 1));
    if (width === 8 && !(old instanceof BigInt64Array)) {
      for (let i = 0; i < this.size; i++) next[i] = BigInt(old[i]!) as never;
    } else next.set(old.subarray(0, this.size) as never);
    this.ints = next;
    this.width = width;
  }

  /** Redis setTypeRemove: true when m was a member. */
  remove(m: Member): boolean {
    if (this.ints !== null) {
      if (typeof m === 'string') return false;
      const at = this.search(m);
      if (at < 0) return false;
      this.removeAt(at);
      return true;
    }
    const i = this.table!.find(mb, 0, memberBytes(m));
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** Removes the member at position i (iteration order). */
  removeAt(i: number): void {
    if (this.ints !== null) {
      const a = this.ints;
      a.copyWithin(i, i + 1, this.size);
      this.size--;
      // Intsets are resized to fit after every removal in Redis; halve when mostly empty.
      if (a.length > 8 && this.size < a.length >> 2) this.ints = a.slice(0, this.size * 2) as Ints;
      return;
    }
    this.table!.removeAt(i);
    this.size--;
  }

  has(m: Member): boolean {
    if (this.ints !== null) return typeof m !== 'string' && this.search(m) >= 0;
    return this.table!.find(mb, 0, memberBytes(m)) >= 0;
  }

  /** Member at position i: ascending for an intset; normalised for a hashtable. */
  at(i: number): Member {
    if (this.ints !== null) return this.ints[i]!;
    return norm(this.textAt(i));
  }

  /** Member i as the latin1 text Redis replies with (no normalisation needed). */
  textAt(i: number): string {
    if (this.ints !== null) return String(this.ints[i]!);
    const t = this.table!;
    return latin1(t.data, t.keyOff(i), t.keyLen(i));
  }

  /** Points `r` at hashtable member i's bytes (not isIntset()). */
  refAt(i: number, r: MemberRef): void {
    const t = this.table!;
    r.buf = t.data;
    r.off = t.keyOff(i);
    r.len = t.keyLen(i);
  }

  /** Intset member i (isIntset() only). */
  intAt(i: number): number | bigint {
    return this.ints![i]!;
  }

  /** Average bytes of a member as replied (sizes a reply of random picks before building it). */
  avgMemberBytes(): number {
    if (this.size === 0) return 0;
    if (this.ints !== null) return this.width === 2 ? 6 : this.width === 4 ? 11 : 20;
    return this.table!.liveBytes() / this.size;
  }

  randomIndex(): number {
    return Math.floor(Math.random() * this.size);
  }

  clone(): SetObject {
    const s = new SetObject();
    s.size = this.size;
    s.width = this.width;
    if (this.ints !== null) s.ints = this.ints.slice(0, Math.max(this.size, 1)) as Ints;
    else {
      s.ints = null;
      s.table = this.table!.clone();
    }
    return s;
  }

  dump(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const t = this.table;
    if (t === null) for (let i = 0; i < this.size; i++) out.push(latin1Bytes(this.textAt(i)));
    else for (let i = 0; i < this.size; i++) out.push(t.data.slice(t.keyOff(i), t.keyOff(i) + t.keyLen(i)));
    return out;
  }
}

/** Redis setTypeCreate: an intset when the first member is an integer, else a hashtable. */
export function createSet(first: Member): SetObject {
  const s = new SetObject();
  if (typeof first === 'string') s.convert();
  return s;
}

/**
 * Rebuilds a set from dump(): the encoding follows from the contents (as on an RDB load), or a
 * hashtable stays one when the source's encoding() is given (see restoreHash).
 */
export function restoreSet(items: Uint8Array[], encoding?: string): SetObject {
  const s = new SetObject();
  if (encoding === 'hashtable' || items.length > SET_MAX_INTSET_ENTRIES) s.convert();
  for (const it of items) s.add(memberOf(it, 0, it.length));
  return s;
}

registerType(TYPE_SET, restoreSet);
