import { OVERHEAD, registerType, type StoreObject } from '../object.ts';
import { TYPE_LIST } from '../record.ts';
import { Entry, MAX_NODE, QNode, entrySize, releaseBuffer } from './list-node.ts';

/** Which end of a list (Redis LIST_HEAD / LIST_TAIL). */
export const HEAD = 0;
export const TAIL = 1;

/** Heap cost of a node beyond its buffer: the node object and the Uint8Array view. */
const NODE_COST = OVERHEAD.object + OVERHEAD.buffer;
/** What an unlinked node holds once its buffer went back for reuse. */
const NO_BYTES = new Uint8Array(0);

/** An element's position: its node (null past either end) and its bytes there (see Entry). */
export class ListCursor extends Entry {
  node: QNode | null = null;
}

/**
 * A Redis list as a quicklist (what Redis 7.0 always reports for lists): a doubly linked
 * sequence of packed nodes of at most 8 KiB of entries each (list-max-listpack-size -2), an
 * element larger than that alone in its own node. Pushes and pops at either end touch one
 * node; index lookups skip whole nodes from the nearer end and then walk one node from its
 * nearer end. bytes() is kept exact as buffers are allocated and freed.
 */
export class ListValue implements StoreObject {
  readonly type = TYPE_LIST;
  size = 0;
  head: QNode | null = null;
  tail: QNode | null = null;
  nodes = 0;
  private mem = OVERHEAD.object;

  encoding(): string {
    return 'quicklist';
  }

  bytes(): number {
    return this.mem;
  }

  push(where: number, src: Uint8Array, off: number, len: number): void {
    const es = entrySize(len);
    const atHead = where === HEAD;
    let node = atHead ? this.head : this.tail;
    if (node === null || node.used + es > MAX_NODE) {
      node = new QNode(es, atHead, node !== null);
      this.link(node, atHead ? null : this.tail);
    }
    this.putEnd(node, atHead, src, off, len, es);
  }

  /** Points `cur` at the element at one end; false when the list is empty. */
  peek(where: number, cur: ListCursor): boolean {
    const node = where === HEAD ? this.head : this.tail;
    cur.node = node;
    if (node === null) return false;
    if (where === HEAD) node.readAt(node.start, cur);
    else node.readBack(node.end, cur);
    return true;
  }

  /** Removes `n` elements (at most size) from one end. */
  trim(where: number, n: number): void {
    const atHead = where === HEAD;
    while (n > 0) {
      const node = (atHead ? this.head : this.tail)!;
      if (node.count <= n) {
        n -= node.count;
        this.size -= node.count;
        this.unlink(node);
        continue;
      }
      const at = scratch;
      for (let i = 0; i < n; i++) {
        if (atHead) {
          node.readAt(node.start, at);
          node.start = at.e;
        } else {
          node.readBack(node.end, at);
          node.end = at.p;
        }
      }
      node.count -= n;
      this.size -= n;
      n = 0;
      // An end node of a longer list is being drained by pops: shrinking it on the way down
      // would reallocate it five times before it is unlinked. Only a list's single node gives
      // memory back here, so the slack is at most one node per end of a list over 8 KiB.
      if (this.nodes === 1) this.shrink(node);
    }
  }

  /** Points `cur` at element `index` (0 ≤ index < size). */
  seek(index: number, cur: ListCursor): void {
    let node: QNode;
    if (index < this.size / 2) {
      node = this.head!;
      while (index >= node.count) {
        index -= node.count;
        node = node.next!;
      }
    } else {
      let back = this.size - 1 - index;
      node = this.tail!;
      while (back >= node.count) {
        back -= node.count;
        node = node.prev!;
      }
      index = node.count - 1 - back;
    }
    cur.node = node;
    if (index < node.count / 2) {
      node.readAt(node.start, cur);
      while (index-- > 0) node.readAt(cur.e, cur);
    } else {
      node.readBack(node.end, cur);
      for (let k = node.count - 1 - index; k > 0; k--) node.readBack(cur.p, cur);
    }
  }

  /** Moves `cur` one element towards the tail; false (node null) past the end. */
  next(cur: ListCursor): boolean {
    let node = cur.node!;
    if (cur.e < node.end) {
      node.readAt(cur.e, cur);
      return true;
    }
    cur.node = node = node.next!;
    if (node === null) return false;
    node.readAt(node.start, cur);
    return true;
  }

  /** Moves `cur` one element towards the head; false (node null) past the start. */
  prev(cur: ListCursor): boolean {
    let node = cur.node!;
    if (cur.p > node.start) {
      node.readBack(cur.p, cur);
      return true;
    }
    cur.node = node = node.prev!;
    if (node === null) return false;
    node.readBack(node.end, cur);
    return true;
  }

  /** Whether the element at `cur` equals u8[off, off+len). */
  equals(cur: ListCursor, u8: Uint8Array, off: number, len: number): boolean {
    if (cur.n !== len) return false;
    const b = cur.node!.buf;
    const d = cur.d;
    for (let i = 0; i < len; i++) if (b[d + i] !== u8[off + i]) return false;
    return true;
  }

  /**
   * Deletes the element at `cur` and moves `cur` to its neighbour towards the tail (`forward`)
   * or the head; false when there is none. A node left small is merged into a neighbour.
   */
  deleteAt(cur: ListCursor, forward: boolean): boolean {
    const node = cur.node!;
    const at = node.splice(cur.p, cur.e - cur.p, 0);
    node.count--;
    this.size--;
    if (node.count === 0) {
      const nb = forward ? node.next : node.prev;
      this.unlink(node);
      cur.node = nb;
      if (nb === null) return false;
      if (forward) nb.readAt(nb.start, cur);
      else nb.readBack(nb.end, cur);
      return true;
    }
    if (forward) {
      if (at < node.end) node.readAt(at, cur);
      else if ((cur.node = node.next) !== null) cur.node.readAt(cur.node.start, cur);
    } else if (at > node.start) node.readBack(at, cur);
    else if ((cur.node = node.prev) !== null) cur.node.readBack(cur.node.end, cur);
    this.tidy(node, cur);
    return cur.node !== null;
  }

  /** Inserts an element before or `after` the one at `cur` (LINSERT). */
  insertAt(cur: ListCursor, after: boolean, src: Uint8Array, off: number, len: number): void {
    const es = entrySize(len);
    const node = cur.node!;
    const pos = after ? cur.e : cur.p;
    if (node.used + es <= MAX_NODE) {
      const cap = node.buf.length;
      node.write(node.splice(pos, 0, es), src, off, len);
      node.count++;
      this.size++;
      this.mem += node.buf.length - cap;
      return;
    }
    // The node is full: use a neighbour at that edge, or split the node there.
    const next = node.next;
    const prev = node.prev;
    if (pos === node.end && next !== null && next.used + es <= MAX_NODE) {
      this.putEnd(next, true, src, off, len, es);
    } else if (pos === node.start && prev !== null && prev.used + es <= MAX_NODE) {
      this.putEnd(prev, false, src, off, len, es);
    } else if (pos === node.end || pos === node.start) {
      const fresh = new QNode(es, false);
      this.link(fresh, pos === node.end ? node : prev);
      this.putEnd(fresh, false, src, off, len, es);
    } else {
      const right = this.split(node, pos);
      if (node.used + es <= MAX_NODE) this.putEnd(node, false, src, off, len, es);
      else if (right.used + es <= MAX_NODE) this.putEnd(right, true, src, off, len, es);
      else {
        const fresh = new QNode(es, false);
        this.link(fresh, node);
        this.putEnd(fresh, false, src, off, len, es);
      }
    }
  }

  /** Replaces the element at `cur` (LSET). `cur` is invalid afterwards. */
  replaceAt(cur: ListCursor, src: Uint8Array, off: number, len: number): void {
    const node = cur.node!;
    const old = cur.e - cur.p;
    const es = entrySize(len);
    if (node.count === 1 || node.used - old + es <= MAX_NODE) {
      const cap = node.buf.length;
      node.write(node.splice(cur.p, old, es), src, off, len);
      this.mem += node.buf.length - cap;
      this.shrink(node);
      return;
    }
    // Too big for this node: delete it, then insert the new value at the same place.
    const at = node.splice(cur.p, old, 0);
    node.count--;
    this.size--;
    if (at < node.end) {
      node.readAt(at, cur);
      this.insertAt(cur, false, src, off, len);
    } else {
      node.readBack(at, cur);
      this.insertAt(cur, true, src, off, len);
    }
  }

  clone(): ListValue {
    const c = new ListValue();
    for (let n = this.head; n !== null; n = n.next) {
      const used = n.used;
      const copy = new QNode(used, false);
      copy.buf.set(n.buf.subarray(n.start, n.end));
      copy.end = used;
      copy.count = n.count;
      c.link(copy, c.tail);
    }
    c.size = this.size;
    return c;
  }

  dump(): Uint8Array[] {
    const items: Uint8Array[] = [];
    const cur = new ListCursor();
    if (!this.peek(HEAD, cur)) return items;
    do items.push(cur.node!.buf.slice(cur.d, cur.d + cur.n));
    while (this.next(cur));
    return items;
  }

  /** Appends (or prepends) one entry to a node known to have room under MAX_NODE. */
  private putEnd(node: QNode, atHead: boolean, src: Uint8Array, off: number, len: number, es: number): void {
    const cap = node.buf.length;
    node.write(node.splice(atHead ? node.start : node.end, 0, es), src, off, len);
    node.count++;
    this.size++;
    this.mem += node.buf.length - cap;
  }

  /** Splits `node` at byte `pos` (an entry boundary inside it); returns the new right half. */
  private split(node: QNode, pos: number): QNode {
    let k = 0;
    const at = scratch;
    for (let p = node.start; p < pos; p = at.e, k++) node.readAt(p, at);
    const right = new QNode(node.end - pos, false);
    right.buf.set(node.buf.subarray(pos, node.end));
    right.end = node.end - pos;
    right.count = node.count - k;
    node.end = pos;
    node.count = k;
    this.link(right, node);
    this.shrink(node);
    return right;
  }

  /**
   * After a deletion: merges a small node into a neighbour with room, or shrinks its buffer,
   * keeping `cur` (in node, a neighbour or nowhere) on the same element.
   */
  private tidy(node: QNode, cur: ListCursor): void {
    if (node.used >= MAX_NODE / 4) return;
    const at = cur.node;
    const rel = at === null ? 0 : cur.p - at.start;
    const prev = node.prev;
    const next = node.next;
    // Merge into prev (appended) or next (prepended) when the two fit in one node.
    const into = prev !== null && prev.used + node.used <= MAX_NODE ? prev : null;
    const target = into ?? (next !== null && next.used + node.used <= MAX_NODE ? next : null);
    if (target === null) {
      this.shrink(node);
      if (at === node) node.readAt(node.start + rel, cur);
      return;
    }
    const append = target === into;
    const cap = target.buf.length;
    const used = node.used;
    const g = target.splice(append ? target.end : target.start, 0, used);
    target.buf.set(node.buf.subarray(node.start, node.end), g);
    target.count += node.count;
    this.mem += target.buf.length - cap;
    this.unlink(node);
    if (at === node) {
      cur.node = target;
      target.readAt(g + rel, cur);
    } else if (at === target) target.readAt(target.start + (append ? 0 : used) + rel, cur);
  }

  private shrink(node: QNode): void {
    const cap = node.buf.length;
    node.shrink();
    this.mem += node.buf.length - cap;
  }

  /** Links `node` after `ref` (null: at the head). */
  private link(node: QNode, ref: QNode | null): void {
    const next = ref === null ? this.head : ref.next;
    node.prev = ref;
    node.next = next;
    if (ref === null) this.head = node;
    else ref.next = node;
    if (next === null) this.tail = node;
    else next.prev = node;
    this.nodes++;
    this.mem += NODE_COST + node.buf.length;
  }

  private unlink(node: QNode): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
    this.nodes--;
    this.mem -= NODE_COST + node.buf.length;
    releaseBuffer(node.buf);
    node.buf = NO_BYTES;
  }
}

const scratch = new Entry();

export function restoreList(items: Uint8Array[]): ListValue {
  const l = new ListValue();
  for (const it of items) l.push(TAIL, it, 0, it.length);
  return l;
}

registerType(TYPE_LIST, restoreList);
