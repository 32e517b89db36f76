/**
 * Every error string a client can see, in one place, worded exactly as Redis 7.0 words them
 * (clients and tests match on them). Without the leading '-' and the CRLF.
 */
export const E = {
  MULTI_NESTED: 'ERR MULTI calls can not be nested',
  SORT_FOREIGN_KEY:
    "ERR SORT BY/GET pattern names a key in another shard: give the pattern keys the sorted key's {hash tag}",
  EXEC_WITHOUT_MULTI: 'ERR EXEC without MULTI',
  DISCARD_WITHOUT_MULTI: 'ERR DISCARD without MULTI',
  WATCH_IN_MULTI: 'ERR WATCH inside MULTI is not allowed',
  EXECABORT: 'EXECABORT Transaction discarded because of previous errors.',
  NOT_IN_TRANSACTION: 'ERR Command not allowed inside a transaction',
  WRONGTYPE: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  NOT_INTEGER: 'ERR value is not an integer or out of range',
  NOT_FLOAT: 'ERR value is not a valid float',
  SYNTAX: 'ERR syntax error',
  OVERFLOW: 'ERR increment or decrement would overflow',
  NAN_OR_INF: 'ERR increment would produce NaN or Infinity',
  NO_SUCH_KEY: 'ERR no such key',
  SAME_OBJECT: 'ERR source and destination objects are the same',
  DB_RANGE: 'ERR DB index is out of range',
  INVALID_DB: 'ERR invalid DB index',
  STRING_TOO_LONG: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  OFFSET_RANGE: 'ERR offset is out of range',
  INVALID_CURSOR: 'ERR invalid cursor',
  NOAUTH: 'NOAUTH Authentication required.',
  WRONGPASS: 'WRONGPASS invalid username-password pair or user is disabled.',
  AUTH_NOT_CONFIGURED:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  MAX_CLIENTS: 'ERR max number of clients reached',
  NOPROTO: 'NOPROTO unsupported protocol version',
  EXPIRE_NX_XX: 'ERR NX and XX, GT or LT options at the same time are not compatible',
  EXPIRE_GT_LT: 'ERR GT and LT options at the same time are not compatible',
  SHUTDOWN_NOSAVE_SAVE: 'ERR syntax error',
  OOM: "OOM command not allowed when used memory > 'maxmemory'.",
  EXECABORT_OOM:
    "EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.",
  LFU_NOT_SELECTED:
    'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
  LFU_SELECTED:
    'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
  BIT_OFFSET: 'ERR bit offset is not an integer or out of range',
  BIT_VALUE: 'ERR bit is not an integer or out of range',
  BITPOS_BIT: 'ERR The bit argument must be 1 or 0.',
  BITOP_NOT: 'ERR BITOP NOT must be called with a single source key.',
  BITFIELD_TYPE:
    'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.',
  BITFIELD_OVERFLOW: 'ERR Invalid OVERFLOW type specified',
  BITFIELD_RO: 'ERR BITFIELD_RO only supports the GET subcommand',
  HLL_WRONGTYPE: 'WRONGTYPE Key is not a valid HyperLogLog string value.',
  HLL_CORRUPT: 'INVALIDOBJ Corrupted HLL object detected',
  SORT_SCORES: "ERR One or more scores can't be converted into double",
  PROTECTED_MODE:
    "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a Bind address or an authentication password. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.",
} as const;

/** Persistence (server.c, rdb.c, aof.c). */
export const PERSIST_E = {
  LOADING: 'LOADING Redis is loading the dataset in memory',
  BGSAVE_IN_PROGRESS: 'ERR Background save already in progress',
  REWRITE_IN_PROGRESS: 'ERR Background append only file rewriting already in progress',
  BGSAVE_OTHER_CHILD:
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
  /** SAVE that failed (shared.err). */
  SAVE_FAILED: 'ERR',
} as const;

/** -MISCONF while WAL writes or fsyncs fail (server.c writeCommandsGetDiskErrorMessage, AOF case). */
export function misconfAof(reason: string): string {
  return `MISCONF Errors writing to the AOF file: ${reason}`;
}

export function wrongArity(cmd: string): string {
  return `ERR wrong number of arguments for '${cmd}' command`;
}

/** A RESP2 client in subscribed mode sent another command (`cmd` is the full name, e.g. client|list). */
export function notInSubscribeContext(cmd: string): string {
  return `ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

export function invalidExpire(cmd: string): string {
  return `ERR invalid expire time in '${cmd}' command`;
}

export function unsupportedOption(opt: string): string {
  return `ERR Unsupported option ${opt}`;
}

/** Redis quotes at most 128 bytes of each argument and the args line itself. */
export function unknownCommand(name: string, args: string[]): string {
  let list = '';
  for (const a of args) {
    if (list.length >= 128) break;
    list += `'${a.slice(0, 128 - list.length)}' `;
  }
  return sanitize(`ERR unknown command '${clip(name)}', with args beginning with: ${list}`);
}

/** Redis replaces CR/LF in error replies so a reply is always one line. */
export function sanitize(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

export function unknownSubcommand(sub: string, cmd: string): string {
  return `ERR unknown subcommand '${clip(sub)}'. Try ${cmd.toUpperCase()} HELP.`;
}

function clip(s: string): string {
  return s.length > 128 ? s.slice(0, 128) : s;
}

/** Errors of the hash and set commands (t_hash.c, t_set.c). */
export const E_HS = {
  HASH_NOT_INTEGER: 'ERR hash value is not an integer',
  HASH_NOT_FLOAT: 'ERR hash value is not a float',
  INCR_NAN_OR_INF: 'ERR value is NaN or Infinity',
  MUST_BE_POSITIVE: 'ERR value is out of range, must be positive',
  OUT_OF_RANGE: 'ERR value is out of range',
  NUMKEYS: 'ERR numkeys should be greater than 0',
  NUMKEYS_ARGS: "ERR Number of keys can't be greater than number of args",
  LIMIT_NEGATIVE: "ERR LIMIT can't be negative",
} as const;

/**
 * Tessera's own: a random-member reply (HRANDFIELD/SRANDMEMBER with a huge negative COUNT) that
 * would exceed proto-max-bulk-len. Redis would build it until the client or the server dies.
 */
export const REPLY_TOO_LARGE = 'ERR reply would exceed proto-max-bulk-len, use a smaller COUNT';

/** Errors of the list commands (t_list.c) and of the blocking commands' timeout argument. */
export const E_LIST = {
  INDEX_OUT_OF_RANGE: 'ERR index out of range',
  RANK_ZERO:
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
  COUNT_NEGATIVE: "ERR COUNT can't be negative",
  MAXLEN_NEGATIVE: "ERR MAXLEN can't be negative",
  COUNT_POSITIVE: 'ERR count should be greater than 0',
  TIMEOUT_NOT_FLOAT: 'ERR timeout is not a float or out of range',
  TIMEOUT_NEGATIVE: 'ERR timeout is negative',
} as const;
