/**
 * Values other than strings (lists, sets, sorted sets, hashes) live as JS objects in a
 * per-shard object table; the record in the arena keeps the key, TTL, type and LRU/LFU
 * metadata and stores the object's id where a string keeps its length (DESIGN principle 6:
 * "complex types may start as JS structures referenced from the index").
 */
export interface StoreObject {
  /** TYPE_* of record.ts (Redis's OBJ_* numbering). */
  readonly type: number;
  /** Element count. A command that empties a collection deletes the key, as Redis does. */
  readonly size: number;
  /** OBJECT ENCODING: the representation currently in use (listpack, hashtable, skiplist…). */
  encoding(): string;
  /**
   * Bytes this value costs, kept up to date by the container (O(1)): MEMORY USAGE, INFO
   * used_memory and eviction all read it.
   */
  bytes(): number;
  /** Deep copy (COPY). */
  clone(): StoreObject;
  /**
   * Flat elements in a type-defined order (hash: field, value…; set: members; list: elements
   * head to tail; zset: member, score-as-%.17g… in rank order). restoreObject() inverts it.
   * Used by cross-shard transfers, snapshots and the WAL.
   */
  dump(): Uint8Array[];
  /**
   * dump() without an allocation per element (snapshots): the element count, then each
   * element, in dump()'s order. Optional; the snapshot writer falls back to dump().
   */
  dumpTo?(sink: ItemSink): void;
}

/** Receives a dumpTo(): count() once, then item() per element (bytes valid during the call). */
export interface ItemSink {
  count(n: number): void;
  item(u8: Uint8Array, off: number, len: number): void;
}

/**
 * dump()'s elements as ranges of one buffer (the snapshot loader's read window): element i is
 * buf[off[i], off[i] + len[i]). Valid only during the call: a restorer copies what it keeps.
 */
export interface ItemsView {
  buf: Uint8Array;
  off: Int32Array;
  len: Int32Array;
  count: number;
}

/** `encoding` (the source's OBJECT ENCODING) keeps a one-way conversion across moves between shards. */
type Restorer = (items: Uint8Array[], encoding?: string) => StoreObject;
/** Rebuilds from an ItemsView of a dump() (no copy per element); null: use the Restorer. */
type ViewRestorer = (v: ItemsView) => StoreObject | null;
const restorers = new Map<number, Restorer>();
const viewRestorers = new Map<number, ViewRestorer>();

/** Each type module registers how to rebuild its values from dump(). */
export function registerType(type: number, restore: Restorer, fromView?: ViewRestorer): void {
  restorers.set(type, restore);
  if (fromView !== undefined) viewRestorers.set(type, fromView);
}

export function restoreObject(type: number, items: Uint8Array[], encoding?: string): StoreObject {
  const r = restorers.get(type);
  if (r === undefined) throw new Error(`no restorer for type ${type}`);
  return r(items, encoding);
}

/** restoreObject() from elements in place (snapshot load): copies only what the value keeps. */
export function restoreObjectView(type: number, v: ItemsView): StoreObject {
  const fast = viewRestorers.get(type);
  const obj = fast !== undefined ? fast(v) : null;
  if (obj !== null) return obj;
  const items = new Array<Uint8Array>(v.count);
  // Copies (a Buffer's slice() would share the window's memory, which is reused).
  for (let i = 0; i < v.count; i++)
    items[i] = new Uint8Array(v.buf.subarray(v.off[i]!, v.off[i]! + v.len[i]!));
  return restoreObject(type, items);
}

/** Approximate per-element overheads used by the containers' bytes() (V8 heap objects). */
export const OVERHEAD = {
  /** A Buffer/Uint8Array view on the heap, beyond its bytes. */
  buffer: 96,
  /** One Map entry (hash table slot, key and value pointers). */
  mapEntry: 40,
  /** One Array slot. */
  slot: 8,
  /** Fixed part of a container object. */
  object: 64,
};
