/**
 * Keyspace notification classes (Redis NOTIFY_*), and the notify-keyspace-events string
 * conversions (keyspaceEventsStringToFlags / keyspaceEventsFlagsToString).
 */
export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m
export const NOTIFY_LOADED = 1 << 12;
export const NOTIFY_MODULE = 1 << 13; // d
export const NOTIFY_NEW = 1 << 14; // n
/** 'A': every class except m and n. */
export const NOTIFY_ALL =
  NOTIFY_GENERIC |
  NOTIFY_STRING |
  NOTIFY_LIST |
  NOTIFY_SET |
  NOTIFY_HASH |
  NOTIFY_ZSET |
  NOTIFY_EXPIRED |
  NOTIFY_EVICTED |
  NOTIFY_STREAM |
  NOTIFY_MODULE;

const LETTERS: [string, number][] = [
  ['g', NOTIFY_GENERIC],
  ['$', NOTIFY_STRING],
  ['l', NOTIFY_LIST],
  ['s', NOTIFY_SET],
  ['h', NOTIFY_HASH],
  ['z', NOTIFY_ZSET],
  ['x', NOTIFY_EXPIRED],
  ['e', NOTIFY_EVICTED],
  ['K', NOTIFY_KEYSPACE],
  ['E', NOTIFY_KEYEVENT],
  ['t', NOTIFY_STREAM],
  ['m', NOTIFY_KEY_MISS],
  ['d', NOTIFY_MODULE],
  ['n', NOTIFY_NEW],
];

/** Flags for a notify-keyspace-events string, or -1 for an unknown letter. */
export function eventsToFlags(s: string): number {
  let flags = 0;
  for (const ch of s) {
    if (ch === 'A') flags |= NOTIFY_ALL;
    else {
      const e = LETTERS.find(([l]) => l === ch);
      if (e === undefined) return -1;
      flags |= e[1];
    }
  }
  return flags;
}

/** The canonical string CONFIG GET shows (as Redis keyspaceEventsFlagsToString). */
export function flagsToEvents(flags: number): string {
  let s = '';
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) s += 'A';
  else {
    for (const l of 'g$lshzxetd') if (flags & LETTERS.find(([x]) => x === l)![1]) s += l;
  }
  // Redis prints no 'n' after 'A' although the class stays on; Tessera keeps the value it
  // shows as the value it applies, so 'n' is always shown.
  if (flags & NOTIFY_NEW) s += 'n';
  if (flags & NOTIFY_KEYSPACE) s += 'K';
  if (flags & NOTIFY_KEYEVENT) s += 'E';
  if (flags & NOTIFY_KEY_MISS) s += 'm';
  return s;
}
