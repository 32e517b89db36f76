/**
 * The Redis version Tessera reports (HELLO, INFO redis_version): clients such as BullMQ and
 * node-redis gate features on it, so it names the Redis release whose behaviour we follow.
 */
export const REDIS_VERSION = '7.0.15';
export const TESSERA_VERSION = '0.1.0';
