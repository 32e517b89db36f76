/**
 * Compaction: moving records out of sparsely used arena pages so the pages empty out and
 * return to the pool, where any size class can reuse them.
 *
 * Why: eviction frees chunks, but a page only leaves its size class when its last chunk is
 * freed. When the mix of value sizes shifts (or random eviction leaves every page a little
 * used), pages of one class sit mostly empty while another class asks for new pages, and the
 * process grows beyond maxmemory although the live data does not. Compaction is Redis's
 * active defrag for this arena: records are copied within their class (the same chunk size),
 * the index slot and the expiry wheel are pointed at the copy; nothing else holds handles
 * across commands (eviction re-validates its pool, see Keyspace.locate).
 */
import { Arena, PAGE_BYTES } from './arena.ts';
import { OWNER, type Keyspace } from './keyspace.ts';

/**
 * Move up to `budget` records out of the page being compacted (choosing one first when none
 * is). Returns true while compaction has more to do.
 */
export function compactStep(ks: Keyspace, budget: number): boolean {
  const arena = ks.arena;
  let page = arena.compactionPage;
  if (page === 0) {
    page = arena.beginCompaction();
    if (page === 0) return false;
  }
  const chunk = arena.chunkOf(page);
  const u8 = arena.pageU8[page]!;
  let off = arena.compactOff;
  for (; off + chunk <= PAGE_BYTES && budget > 0; off += chunk) {
    if (u8[off + OWNER] === 0) continue;
    budget--;
    // A record that cannot move (in a table being lazily freed) keeps the page; the scan
    // goes on so the page's other records still pack into fuller pages.
    ks.relocate(Arena.handle(page, off));
    // The last live chunk left: the page went to the pool and compaction of it ended.
    if (arena.compactionPage !== page) return true;
  }
  arena.compactOff = off;
  if (off + chunk > PAGE_BYTES) arena.endCompaction();
  return true;
}
