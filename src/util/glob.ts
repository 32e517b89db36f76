/**
 * Glob matching with Redis 7.0 semantics: a faithful port of `stringmatchlen` from util.c
 * (used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL key patterns). Quirks are kept on
 * purpose because clients observe them:
 *  - "*" never matches the empty string (the main loop needs both inputs non-empty);
 *    callers that want "match everything" must special-case a lone "*", as Redis does.
 *  - an unterminated "[" class simply ends at the end of the pattern.
 *  - bytes are compared as C `char`, which is signed on the platforms Redis ships for, so in a
 *    range like [a-\xff] the byte 0xff is -1 and the range becomes [\xff..a].
 *  - nocase folds only ASCII A-Z (C locale tolower); an escaped char inside [] is case-sensitive.
 * C reads the NUL terminator when it looks one byte past the pattern; byteAt() reproduces that.
 */

const STAR = 0x2a;
const QUESTION = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

/** Redis refuses to recurse deeper than this many '*' (CVE-2022-36021): such patterns never match. */
const MAX_NESTING = 1000;

// Shared across the recursion of one top-level call, like the `int *skipLongerMatches` in C.
// Safe as module state: matching is synchronous and never re-entered.
let skipLongerMatches = false;

function byteAt(buf: Uint8Array, i: number, end: number): number {
  return i < end ? buf[i]! : 0;
}

function toLower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

function signedChar(b: number): number {
  return (b << 24) >> 24;
}

function matchImpl(
  p: Uint8Array,
  pi: number,
  pend: number,
  s: Uint8Array,
  si: number,
  send: number,
  nocase: boolean,
  nesting: number,
): boolean {
  if (nesting > MAX_NESTING) return false;

  while (pi < pend && si < send) {
    switch (p[pi]!) {
      case STAR: {
        while (pi < pend && byteAt(p, pi + 1, pend) === STAR) pi++;
        if (pend - pi === 1) return true;
        while (si < send) {
          if (matchImpl(p, pi + 1, pend, s, si, send, nocase, nesting + 1)) return true;
          if (skipLongerMatches) return false;
          si++;
        }
        // The rest of the pattern matches nowhere in the remaining string, so letting any
        // earlier '*' swallow more characters cannot help either: unwind all the way out.
        // This is what keeps "a*a*a*...b" linear-ish instead of exponential.
        skipLongerMatches = true;
        return false;
      }
      case QUESTION:
        si++;
        break;
      case LBRACKET: {
        pi++;
        const negate = byteAt(p, pi, pend) === CARET;
        if (negate) pi++;
        const sc = s[si]!;
        let match = false;
        for (;;) {
          const c0 = byteAt(p, pi, pend);
          if (c0 === BACKSLASH && pend - pi >= 2) {
            pi++;
            if (p[pi] === sc) match = true;
          } else if (c0 === RBRACKET) {
            break;
          } else if (pi >= pend) {
            // Unterminated class: step back so the shared pi++ below lands on the end.
            pi--;
            break;
          } else if (pend - pi >= 3 && p[pi + 1] === DASH) {
            let start = signedChar(c0);
            let end = signedChar(p[pi + 2]!);
            let c = signedChar(sc);
            if (start > end) {
              const tmp = start;
              start = end;
              end = tmp;
            }
            if (nocase) {
              start = toLower(start);
              end = toLower(end);
              c = toLower(c);
            }
            pi += 2;
            if (c >= start && c <= end) match = true;
          } else if (nocase ? toLower(c0) === toLower(sc) : c0 === sc) {
            match = true;
          }
          pi++;
        }
        if (negate) match = !match;
        if (!match) return false;
        si++;
        break;
      }
      default: {
        if (p[pi] === BACKSLASH && pend - pi >= 2) pi++;
        const pc = p[pi]!;
        const sc = s[si]!;
        if (nocase ? toLower(pc) !== toLower(sc) : pc !== sc) return false;
        si++;
        break;
      }
    }
    pi++;
    if (si === send) {
      while (byteAt(p, pi, pend) === STAR) pi++;
      break;
    }
  }
  return pi === pend && si === send;
}

/** True when str[soff, soff+slen) matches the glob pat[poff, poff+plen), exactly as Redis 7.0 decides. */
export function globMatch(
  pat: Uint8Array,
  poff: number,
  plen: number,
  str: Uint8Array,
  soff: number,
  slen: number,
  nocase: boolean,
): boolean {
  skipLongerMatches = false;
  return matchImpl(pat, poff, poff + plen, str, soff, soff + slen, nocase, 0);
}

const encoder = new TextEncoder();

/** UTF-8 convenience wrapper (CONFIG GET over parameter names and similar small inputs). */
export function globMatchString(pattern: string, s: string, nocase = false): boolean {
  const p = encoder.encode(pattern);
  const b = encoder.encode(s);
  return globMatch(p, 0, p.length, b, 0, b.length, nocase);
}
