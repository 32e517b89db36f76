/**
 * The hash type, with Redis 7.0's two encodings:
 *  - listpack: while there are at most 512 fields (hash-max-listpack-entries) and every field and value is at most
 *    64 bytes (hash-max-listpack-value),
 *    all pairs live in ONE packed Uint8Array, [len:u8][bytes] per entry, field then value, in
 *    insertion order (so HGETALL order matches Redis's listpack). Lookups scan it, as Redis does.
 *  - hashtable: a ByteTable (byte-table.ts): fields and values as bytes in one store, found by
 *    hashing the argument bytes in place. Its dense entry indexes give O(1) random picks
 *    (HRANDFIELD) and a scan cursor that survives deletions (deletes move the last entry in).
 * Conversion is one-way, as in Redis (hashTypeConvert never goes back).
 */
import { OVERHEAD, registerType, type ItemSink, type ItemsView, type StoreObject } from '../object.ts';
import { TYPE_HASH } from '../record.ts';
import { ByteTable } from './byte-table.ts';

export const HASH_MAX_LISTPACK_ENTRIES = 512;
export const HASH_MAX_LISTPACK_VALUE = 64;

/** Where an entry's bytes are: valid until the hash changes (or the next Ref of that parity). */
export interface Ref {
  buf: Uint8Array;
  off: number;
  len: number;
}

export const newRef = (): Ref => ({ buf: EMPTY, off: 0, len: 0 });

const EMPTY = new Uint8Array(0);
/** Listpack entry offsets of the hash that last asked (entry k = field k/2 or its value). */
let offs = new Int32Array(2 * (HASH_MAX_LISTPACK_ENTRIES + 1));
/** Which hash state `offs` describes: versions are unique across all hashes (see `version`). */
let offsVersion = -1;
let versions = 0;

/** Entries are at most 64 bytes: a byte loop beats creating a subarray for a native copy. */
function copyBytes(src: Uint8Array, off: number, len: number, dst: Uint8Array, at: number): void {
  for (let i = 0; i < len; i++) dst[at + i] = src[off + i]!;
}

export class HashObject implements StoreObject {
  readonly type = TYPE_HASH;
  size = 0;
  private lp: Uint8Array = EMPTY;
  private used = 0;
  /** A fresh shard-wide number after every change (invalidates the shared offsets table). */
  private version = ++versions;
  /** The hashtable encoding (null while a listpack). */
  private index: ByteTable | null = null;

  encoding(): string {
    return this.index === null ? 'listpack' : 'hashtable';
  }

  isListpack(): boolean {
    return this.index === null;
  }

  bytes(): number {
    if (this.index === null)
      return OVERHEAD.object + (this.lp.length > 0 ? OVERHEAD.buffer + this.lp.length : 0);
    return OVERHEAD.object + this.index.bytes();
  }

  /** Redis hashTypeConvert(o, OBJ_ENCODING_HT). */
  convert(): void {
    if (this.index !== null) return;
    const index = new ByteTable();
    const lp = this.lp;
    for (let p = 0; p < this.used;) {
      const fl = lp[p]!;
      const q = p + 1 + fl;
      const vl = lp[q]!;
      // A listpack has no duplicate fields: find() only hashes for insert().
      index.find(lp, p + 1, fl);
      index.insert(lp, p + 1, fl, lp, q + 1, vl);
      p = q + 1 + vl;
    }
    this.index = index;
    this.lp = EMPTY;
    this.used = 0;
    this.version = ++versions;
  }

  /** Listpack offset of the field entry equal to u8[off, off+len), or -1. */
  private findLp(u8: Uint8Array, off: number, len: number): number {
    const lp = this.lp;
    const end = this.used;
    for (let p = 0; p < end;) {
      const fl = lp[p]!;
      if (fl === len) {
        let k = 0;
        while (k < len && lp[p + 1 + k] === u8[off + k]) k++;
        if (k === len) return p;
      }
      p += 1 + fl;
      p += 1 + lp[p]!;
    }
    return -1;
  }

  /** Points `r` at the value of the field; false when there is no such field. */
  get(u8: Uint8Array, off: number, len: number, r: Ref): boolean {
    if (this.index === null) {
      const p = this.findLp(u8, off, len);
      if (p < 0) return false;
      const q = p + 1 + len;
      r.buf = this.lp;
      r.off = q + 1;
      r.len = this.lp[q]!;
      return true;
    }
    const t = this.index;
    const i = t.find(u8, off, len);
    if (i < 0) return false;
    r.buf = t.data;
    r.off = t.valOff(i);
    r.len = t.valLen(i);
    return true;
  }

  has(u8: Uint8Array, off: number, len: number): boolean {
    if (this.index === null) return this.findLp(u8, off, len) >= 0;
    return this.index.find(u8, off, len) >= 0;
  }

  /**
   * Redis hashTypeSet: insert or overwrite, converting to a hashtable first when the field or
   * value is too long for a listpack and after the insert that passes 512 fields. Returns true
   * when the field is new.
   */
  set(fu8: Uint8Array, foff: number, flen: number, vu8: Uint8Array, voff: number, vlen: number): boolean {
    if (this.index === null && (flen > HASH_MAX_LISTPACK_VALUE || vlen > HASH_MAX_LISTPACK_VALUE))
      this.convert();
    this.version = ++versions;
    if (this.index === null) {
      const p = this.findLp(fu8, foff, flen);
      if (p >= 0) {
        this.replaceLp(p + 1 + flen, vu8, voff, vlen);
        return false;
      }
      this.ensure(2 + flen + vlen);
      const lp = this.lp;
      let w = this.used;
      lp[w++] = flen;
      copyBytes(fu8, foff, flen, lp, w);
      w += flen;
      lp[w++] = vlen;
      copyBytes(vu8, voff, vlen, lp, w);
      this.used = w + vlen;
      this.size++;
      if (this.size > HASH_MAX_LISTPACK_ENTRIES) this.convert();
      return true;
    }
    const t = this.index;
    const i = t.find(fu8, foff, flen);
    if (i >= 0) {
      t.setValue(i, vu8, voff, vlen);
      return false;
    }
    t.insert(fu8, foff, flen, vu8, voff, vlen);
    this.size++;
    return true;
  }

  /** Replaces the value entry at listpack offset q. */
  private replaceLp(q: number, vu8: Uint8Array, voff: number, vlen: number): void {
    const old = this.lp[q]!;
    if (vlen !== old) {
      const delta = vlen - old;
      if (delta > 0) this.ensure(delta);
      const lp = this.lp;
      lp.copyWithin(q + 1 + vlen, q + 1 + old, this.used);
      this.used += delta;
    }
    this.lp[q] = vlen;
    copyBytes(vu8, voff, vlen, this.lp, q + 1);
  }

  /** Room for `need` more listpack bytes: grows by half, like a realloc'd blob would. */
  private ensure(need: number): void {
    if (this.used + need <= this.lp.length) return;
    const cap = Math.max(this.used + need, (this.lp.length * 3) >> 1, 32);
    const next = new Uint8Array(cap);
    next.set(this.lp.subarray(0, this.used));
    this.lp = next;
  }

  /** Removes the field; true when it was there. */
  delete(u8: Uint8Array, off: number, len: number): boolean {
    if (this.index === null) {
      const p = this.findLp(u8, off, len);
      if (p < 0) return false;
      const q = p + 1 + len;
      const end = q + 1 + this.lp[q]!;
      this.lp.copyWithin(p, end, this.used);
      this.used -= end - p;
      this.size--;
      this.version = ++versions;
      // Give back a blob that became mostly empty (Redis's listpack shrinks with every delete).
      if (this.lp.length > 64 && this.used < this.lp.length >> 2) {
        this.lp = this.lp.slice(0, Math.max(32, this.used * 2));
      }
      return true;
    }
    const i = this.index.find(u8, off, len);
    if (i < 0) return false;
    this.index.removeAt(i);
    this.size--;
    this.version = ++versions;
    return true;
  }

  /** Points `r` at field i (0 ≤ i < size, in iteration order). */
  field(i: number, r: Ref): void {
    this.entry(2 * i, r);
  }

  /** Points `r` at the value of field i. */
  value(i: number, r: Ref): void {
    this.entry(2 * i + 1, r);
  }

  private entry(k: number, r: Ref): void {
    if (this.index === null) {
      if (offsVersion !== this.version) this.buildOffsets();
      const p = offs[k]!;
      r.buf = this.lp;
      r.off = p + 1;
      r.len = this.lp[p]!;
      return;
    }
    const t = this.index;
    const i = k >> 1;
    r.buf = t.data;
    if ((k & 1) === 0) {
      r.off = t.keyOff(i);
      r.len = t.keyLen(i);
    } else {
      r.off = t.valOff(i);
      r.len = t.valLen(i);
    }
  }

  private buildOffsets(): void {
    if (offs.length < 2 * this.size) offs = new Int32Array(2 * this.size);
    const lp = this.lp;
    let k = 0;
    for (let p = 0; p < this.used; p += 1 + lp[p]!) offs[k++] = p;
    offsVersion = this.version;
  }

  /** Average bytes of a field plus its value (sizes a reply of random picks before building it). */
  avgPairBytes(): number {
    if (this.size === 0) return 0;
    if (this.index === null) return this.used / this.size - 2;
    return this.index.liveBytes() / this.size;
  }

  /** A uniformly random field index (the hash is not empty). */
  randomIndex(): number {
    return Math.floor(Math.random() * this.size);
  }

  clone(): HashObject {
    const h = new HashObject();
    h.size = this.size;
    if (this.index === null) {
      h.lp = this.lp.slice(0, this.used);
      h.used = this.used;
    } else {
      h.index = this.index.clone();
    }
    return h;
  }

  dumpTo(sink: ItemSink): void {
    sink.count(2 * this.size);
    if (this.index === null) {
      const lp = this.lp;
      for (let p = 0; p < this.used; p += 1 + lp[p]!) sink.item(lp, p + 1, lp[p]!);
      return;
    }
    const t = this.index;
    for (let i = 0; i < this.size; i++) {
      sink.item(t.data, t.keyOff(i), t.keyLen(i));
      sink.item(t.data, t.valOff(i), t.valLen(i));
    }
  }

  /**
   * A listpack hash from a dump() in place (snapshot load): one allocation of the exact size.
   * Null when the elements call for a hashtable (or are not pairs). A dump has no duplicate
   * fields, so none are looked for.
   */
  static fromView(v: ItemsView): HashObject | null {
    const n = v.count;
    if ((n & 1) !== 0 || n / 2 > HASH_MAX_LISTPACK_ENTRIES) return null;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const l = v.len[i]!;
      if (l > HASH_MAX_LISTPACK_VALUE) return null;
      total += 1 + l;
    }
    const h = new HashObject();
    const lp = new Uint8Array(total);
    const src = v.buf;
    let w = 0;
    for (let i = 0; i < n; i++) {
      const l = v.len[i]!;
      lp[w++] = l;
      copyBytes(src, v.off[i]!, l, lp, w);
      w += l;
    }
    h.lp = lp;
    h.used = total;
    h.size = n / 2;
    return h;
  }

  dump(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.index === null) {
      const lp = this.lp;
      for (let p = 0; p < this.used; p += 1 + lp[p]!) out.push(lp.slice(p + 1, p + 1 + lp[p]!));
      return out;
    }
    const t = this.index;
    for (let i = 0; i < this.size; i++) {
      out.push(t.data.slice(t.keyOff(i), t.valOff(i)), t.data.slice(t.valOff(i), t.valOff(i) + t.valLen(i)));
    }
    return out;
  }
}

/**
 * Rebuilds a hash from dump(). Without an `encoding` the encoding follows from the contents, as
 * when Redis loads an RDB; with the source's encoding() a hashtable stays one (conversion is
 * one-way in Redis, so a copy moved between shards must not turn back into a listpack).
 */
export function restoreHash(items: Uint8Array[], encoding?: string): HashObject {
  const h = new HashObject();
  if (encoding === 'hashtable' || items.length / 2 > HASH_MAX_LISTPACK_ENTRIES) h.convert();
  for (let i = 0; i + 1 < items.length; i += 2) {
    const f = items[i]!;
    const v = items[i + 1]!;
    h.set(f, 0, f.length, v, 0, v.length);
  }
  return h;
}

registerType(TYPE_HASH, restoreHash, (v) => HashObject.fromView(v));
