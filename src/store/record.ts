/**
 * Layout of a record in the arena (offsets from the chunk base; the base is 8-aligned):
 *
 *   0  int32   key length
 *   4  int32   value length (strings) or object id (other types: see store/object.ts)
 *   8  float64 absolute expiry in ms since the epoch, 0 = persistent
 *   16 uint8   type        17 uint8 encoding     18 uint8 LFU counter   19 uint8 spare
 *   20 int32   LRU clock (seconds, wraps) — last access, for OBJECT IDLETIME and eviction
 *   24 key bytes, then value bytes
 */
export const KEY_LEN = 0;
export const VAL_LEN = 4;
export const EXPIRE = 8;
export const TYPE = 16;
export const ENCODING = 17;
export const LFU = 18;
export const LRU = 20;
export const KEY_OFF = 24;
export const HEADER = 24;

export const TYPE_STRING = 0;
export const TYPE_LIST = 1;
export const TYPE_SET = 2;
export const TYPE_ZSET = 3;
export const TYPE_HASH = 4;

/**
 * String encoding byte: AUTO means OBJECT ENCODING derives int/embstr/raw from the value as
 * Redis's tryObjectEncoding would; FORCED_RAW marks values grown in place (APPEND, SETRANGE),
 * which Redis always reports as raw.
 */
export const ENC_AUTO = 0;
export const ENC_FORCED_RAW = 1;
/**
 * Never int-encoded: INCRBYFLOAT results (Redis createStringObjectFromLongDouble builds a
 * plain string object, so "5" reports embstr, or raw beyond 44 bytes).
 */
export const ENC_NO_INT = 2;
export const TYPE_NAMES = ['string', 'list', 'set', 'zset', 'hash'];

/** Redis's LFU counter starts at LFU_INIT_VAL so new keys are not evicted first. */
export const LFU_INIT = 5;
