import type { RespWriter } from '../protocol/writer.ts';
import type { Connection } from '../server/connection.ts';
import type { LocalContext } from '../server/local.ts';
import type { SubKind } from '../server/pubsub.ts';

/**
 * Pub/Sub commands (main thread), replies as Redis 7.0's pubsub.c writes them: one
 * [kind, channel, count] frame per argument — arrays in RESP2, push frames in RESP3 — where
 * the count is channels + patterns (shard channels for the S* commands).
 */

const SUBSCRIBE: Record<SubKind, string> = {
  channel: 'subscribe',
  pattern: 'psubscribe',
  shard: 'ssubscribe',
};
const UNSUBSCRIBE: Record<SubKind, string> = {
  channel: 'unsubscribe',
  pattern: 'punsubscribe',
  shard: 'sunsubscribe',
};

function count(conn: Connection, kind: SubKind): number {
  const s = conn.subs;
  if (s === null) return 0;
  return kind === 'shard' ? s.shard.size : s.count;
}

function confirm(out: RespWriter, what: string, name: Buffer | null, n: number): void {
  out.pushHeader(3);
  out.bulkString(what);
  if (name === null) out.nullBulk();
  else out.bulk(name, 0, name.length);
  out.integer(n);
}

function subscribeGeneric(c: LocalContext, kind: SubKind): void {
  const ps = c.srv.pubsub;
  for (let i = 0; i < c.argc; i++) {
    const name = c.arg(i);
    ps.subscribe(c.conn, kind, name);
    confirm(c.out, SUBSCRIBE[kind], name, count(c.conn, kind));
  }
}

function unsubscribeGeneric(c: LocalContext, kind: SubKind): void {
  const { conn, out } = c;
  const ps = c.srv.pubsub;
  const what = UNSUBSCRIBE[kind];
  if (c.argc === 0) {
    const subs = conn.subs;
    const own =
      subs === null
        ? null
        : kind === 'channel'
          ? subs.channels
          : kind === 'pattern'
            ? subs.patterns
            : subs.shard;
    if (own === null || own.size === 0) confirm(out, what, null, count(conn, kind));
    else {
      for (const [key, name] of [...own]) {
        ps.unsubscribe(conn, kind, key);
        confirm(out, what, name, count(conn, kind));
      }
    }
  } else {
    for (let i = 0; i < c.argc; i++) {
      const name = c.arg(i);
      ps.unsubscribe(conn, kind, name);
      confirm(out, what, name, count(conn, kind));
    }
  }
  ps.updateMode(conn);
}

function publish(c: LocalContext): void {
  c.out.integer(c.srv.pubsub.publish(c.argCopy(0), c.argCopy(1)));
}

function spublish(c: LocalContext): void {
  c.out.integer(c.srv.pubsub.spublish(c.argCopy(0), c.argCopy(1)));
}

/** Redis addReplySubcommandSyntaxError (the subcommand as the client wrote it). */
function syntaxError(c: LocalContext): void {
  const p = c.conn.parser;
  const sub = p.buf.toString('utf8', p.starts[1]!, p.ends[1]!).slice(0, 128);
  c.out.error(`ERR unknown subcommand or wrong number of arguments for '${sub}'. Try PUBSUB HELP.`);
}

function channels(c: LocalContext, shard: boolean): void {
  if (c.argc > 1) return syntaxError(c);
  const list = c.srv.pubsub.channelList(shard, c.argc === 1 ? c.arg(0) : null);
  c.out.arrayHeader(list.length);
  for (const b of list) c.out.bulk(b, 0, b.length);
}

function numsub(c: LocalContext, shard: boolean): void {
  // RESP2 and RESP3 alike: Redis replies with a flat array here, not a map.
  c.out.arrayHeader(c.argc * 2);
  for (let i = 0; i < c.argc; i++) {
    const name = c.arg(i);
    c.out.bulk(name, 0, name.length);
    c.out.integer(c.srv.pubsub.numSub(shard, name));
  }
}

const HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

export const pubsubHandlers: Record<string, (c: LocalContext) => void> = {
  subscribe: (c) => subscribeGeneric(c, 'channel'),
  psubscribe: (c) => subscribeGeneric(c, 'pattern'),
  ssubscribe: (c) => subscribeGeneric(c, 'shard'),
  unsubscribe: (c) => unsubscribeGeneric(c, 'channel'),
  punsubscribe: (c) => unsubscribeGeneric(c, 'pattern'),
  sunsubscribe: (c) => unsubscribeGeneric(c, 'shard'),
  publish,
  spublish,
  'pubsub|channels': (c) => channels(c, false),
  'pubsub|shardchannels': (c) => channels(c, true),
  'pubsub|numsub': (c) => numsub(c, false),
  'pubsub|shardnumsub': (c) => numsub(c, true),
  'pubsub|numpat': (c) => c.out.integer(c.srv.pubsub.patterns.size),
  'pubsub|help': (c) => {
    c.out.arrayHeader(HELP.length);
    for (const l of HELP) c.out.simple(l);
  },
};
