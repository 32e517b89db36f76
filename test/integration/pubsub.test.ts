/**
 * Pub/Sub against the real daemon: ioredis subscribers and publishers, the RESP2 subscribed-mode
 * rules and RESP3 pushes on raw connections, PUBSUB introspection, the exact reply bytes of
 * (un)subscribe sequences compared with a real redis-server, cleanup on disconnect, and a
 * subscriber that never reads being cut off by client-output-buffer-limit.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';
import {
  rawConnect,
  replies,
  resp,
  splitReplies,
  startOraclePair,
  type RawClient,
  type TT,
} from '../helpers/raw.ts';

const srv = await startTessera(['--shards', '2']);
t.teardown(() => srv.stop());

const cmd = (...a: string[]): Buffer => resp(...a);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred` holds (polling), failing after `ms`. */
async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(20);
  }
}

t.test('ioredis: channel and pattern messages, receiver counts', async (t) => {
  const sub = new Redis({ port: srv.port });
  const pub = new Redis({ port: srv.port });
  t.teardown(() => {
    sub.disconnect();
    pub.disconnect();
  });
  const got: string[] = [];
  sub.on('message', (ch: string, msg: string) => got.push(`message ${ch} ${msg}`));
  sub.on('pmessage', (pat: string, ch: string, msg: string) => got.push(`pmessage ${pat} ${ch} ${msg}`));
  t.equal(await sub.subscribe('news', 'sport'), 2);
  t.equal(await sub.psubscribe('n*'), 3);
  t.equal(await pub.publish('news', 'hello'), 2, 'channel + pattern receiver');
  t.equal(await pub.publish('sport', 'goal'), 1);
  t.equal(await pub.publish('nothing-here', 'x'), 1, 'pattern only');
  t.equal(await pub.publish('weather', 'rain'), 0);
  await until(() => got.length === 4);
  t.same(got, [
    'message news hello',
    'pmessage n* news hello',
    'message sport goal',
    'pmessage n* nothing-here x',
  ]);
  await sub.unsubscribe('news');
  t.equal(await pub.publish('news', 'again'), 1, 'the pattern still matches');
  // (ioredis never resolves a PUNSUBSCRIBE without arguments, with Redis too: name it.)
  await sub.punsubscribe('n*');
  t.equal(await pub.publish('news', 'again'), 0);
  // Binary-safe names and payloads.
  const bin = Buffer.from([0, 1, 2, 255, 13, 10]);
  const bins: Buffer[] = [];
  sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => bins.push(msg));
  await sub.subscribe(bin.toString('latin1'));
  t.equal(await pub.publish(bin.toString('latin1'), bin), 1);
  await until(() => bins.length === 1);
  t.same(bins[0], bin);
});

t.test('RESP2 subscribed mode: only (un)subscribe, PING, QUIT, RESET', async (t) => {
  const c = await rawConnect(srv.port);
  t.teardown(() => c.end());
  t.equal(await c.ask(cmd('SUBSCRIBE', 'ch'), replies(1)), '*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n');
  t.equal(
    await c.ask(cmd('GET', 'k')),
    "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
  );
  t.equal(
    await c.ask(cmd('CLIENT', 'LIST')),
    "-ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
  );
  t.equal(await c.ask(cmd('PING'), replies(1)), '*2\r\n$4\r\npong\r\n$0\r\n\r\n');
  t.equal(await c.ask(cmd('PING', 'hi'), replies(1)), '*2\r\n$4\r\npong\r\n$2\r\nhi\r\n');
  t.match(await c.ask(cmd('NOSUCHCMD')), /^-ERR unknown command 'NOSUCHCMD'/, 'unknown commands first');
  t.equal(
    await c.ask(cmd('UNSUBSCRIBE'), replies(1)),
    '*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n',
    'leaving the last channel ends subscribed mode',
  );
  t.equal(await c.ask(cmd('PING')), '+PONG\r\n');
  // RESET leaves every subscription: no messages reach the connection afterwards.
  await c.ask(cmd('PSUBSCRIBE', 'p*'), replies(1));
  t.equal(await c.ask(cmd('RESET')), '+RESET\r\n');
  t.equal(await c.ask(cmd('PUBLISH', 'p1', 'x')), ':0\r\n');
  t.equal(await c.ask(cmd('PUBSUB', 'NUMPAT')), ':0\r\n');
});

t.test('RESP3: push frames, any command allowed while subscribed', async (t) => {
  const c = await rawConnect(srv.port);
  const p = new Redis({ port: srv.port });
  t.teardown(() => {
    c.end();
    p.disconnect();
  });
  await c.ask(cmd('HELLO', '3'), replies(1));
  t.equal(await c.ask(cmd('SUBSCRIBE', 'r3'), replies(1)), '>3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n');
  t.equal(await c.ask(cmd('GET', 'missing')), '_\r\n', 'commands run normally');
  t.equal(await c.ask(cmd('PING')), '+PONG\r\n');
  c.write(Buffer.alloc(0));
  const before = c.data().length;
  t.equal(await p.publish('r3', 'pushed'), 1);
  await c.until((b) => b.length > before && replies(1)(b.subarray(before)));
  t.equal(c.data().subarray(before).toString(), '>3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$6\r\npushed\r\n');
  // Publishing to itself: the push comes before PUBLISH's own reply, as in Redis.
  t.equal(
    await c.ask(cmd('PUBLISH', 'r3', 'me'), replies(2)),
    '>3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$2\r\nme\r\n:1\r\n',
  );
  t.equal(await c.ask(cmd('UNSUBSCRIBE'), replies(1)), '>3\r\n$11\r\nunsubscribe\r\n$2\r\nr3\r\n:0\r\n');
  t.equal(await c.ask(cmd('UNSUBSCRIBE'), replies(1)), '>3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n');
});

t.test('a subscription confirmation precedes messages behind earlier replies', async (t) => {
  const c = await rawConnect(srv.port);
  const p = new Redis({ port: srv.port });
  t.teardown(() => {
    c.end();
    p.disconnect();
  });
  // A pipelined shard command ahead of SUBSCRIBE: its reply and the confirmation come first.
  c.write(Buffer.concat([cmd('SET', 'pipelined', 'v'), cmd('SUBSCRIBE', 'order')]));
  await p.publish('order', 'm1');
  await c.until(replies(3));
  t.same(splitReplies(c.data()), [
    '+OK\r\n',
    '*3\r\n$9\r\nsubscribe\r\n$5\r\norder\r\n:1\r\n',
    '*3\r\n$7\r\nmessage\r\n$5\r\norder\r\n$2\r\nm1\r\n',
  ]);
});

t.test('PUBSUB introspection, INFO and CLIENT LIST fields, cleanup on disconnect', async (t) => {
  const a = await rawConnect(srv.port);
  const b = await rawConnect(srv.port);
  const r = new Redis({ port: srv.port });
  t.teardown(() => {
    a.end();
    b.end();
    r.disconnect();
  });
  await a.ask(cmd('SUBSCRIBE', 'alpha', 'beta'), replies(2));
  await a.ask(cmd('PSUBSCRIBE', 'al*', 'x?'), replies(2));
  await a.ask(cmd('SSUBSCRIBE', 'shardy'), replies(1));
  await b.ask(cmd('SUBSCRIBE', 'alpha'), replies(1));
  await b.ask(cmd('PSUBSCRIBE', 'al*'), replies(1));
  t.same(((await r.call('PUBSUB', 'CHANNELS')) as string[]).sort(), ['alpha', 'beta']);
  t.same(await r.call('PUBSUB', 'CHANNELS', 'a*'), ['alpha']);
  t.same(await r.call('PUBSUB', 'NUMSUB', 'alpha', 'beta', 'gamma'), ['alpha', 2, 'beta', 1, 'gamma', 0]);
  t.same(await r.call('PUBSUB', 'NUMSUB'), []);
  t.equal(await r.call('PUBSUB', 'NUMPAT'), 2, 'distinct patterns');
  t.same(await r.call('PUBSUB', 'SHARDCHANNELS'), ['shardy']);
  t.same(await r.call('PUBSUB', 'SHARDNUMSUB', 'shardy', 'none'), ['shardy', 1, 'none', 0]);
  t.equal(await r.call('SPUBLISH', 'shardy', 'm'), 1);
  t.equal(await r.call('SPUBLISH', 'alpha', 'm'), 0, 'shard channels are separate from channels');
  const info = (await r.info('stats')) as string;
  t.match(info, /pubsub_channels:2\r\n/);
  t.match(info, /pubsub_patterns:2\r\n/);
  t.match(info, /pubsubshard_channels:1\r\n/);
  const list = (await r.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  const lines = list.trim().split('\n');
  t.equal(lines.length, 2, 'CLIENT LIST TYPE pubsub lists the subscribers');
  t.ok(
    lines.some((l) => / flags=P .* sub=2 psub=2 ssub=1 /.test(l)),
    lines.join('\n'),
  );
  const normal = (await r.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
  t.notOk(normal.includes('flags=P'));
  const help = (await r.call('PUBSUB', 'HELP')) as string[];
  t.equal(help[0], 'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
  // Disconnecting drops every subscription of the client.
  a.end();
  b.end();
  await until(async () => (await r.call('PUBSUB', 'NUMPAT')) === 0);
  t.same(await r.call('PUBSUB', 'CHANNELS'), []);
  t.same(await r.call('PUBSUB', 'SHARDCHANNELS'), []);
  t.equal(await r.publish('alpha', 'x'), 0);
  const metrics = await fetch(`http://127.0.0.1:${srv.metricsPort}/metrics`).then((res) => res.text());
  t.match(metrics, /tessera_pubsub_channels 0/);
  t.match(metrics, /tessera_pubsub_messages_delivered_total [1-9]/);
});

/** Sends `cmds` one at a time to both servers and compares the reply bytes. */
async function sameBytes(t: TT, tc: RawClient, rc: RawClient, cmds: string[][], n: number[]): Promise<void> {
  for (let i = 0; i < cmds.length; i++) {
    const want = replies(n[i]!);
    const [a, b] = [await tc.ask(resp(...cmds[i]!), want), await rc.ask(resp(...cmds[i]!), want)];
    t.equal(a.replace(/id\r\n:\d+/, ''), b.replace(/id\r\n:\d+/, ''), cmds[i]!.join(' '));
  }
}

t.test('differential: (un)subscribe reply bytes match redis-server', async (t) => {
  for (const proto of ['2', '3']) {
    const { tc, rc } = await startOraclePair(t, []);
    const seq: [string[], number][] = [
      [['HELLO', proto], 1],
      [['UNSUBSCRIBE'], 1],
      [['PUNSUBSCRIBE'], 1],
      [['SUNSUBSCRIBE'], 1],
      [['SUBSCRIBE', 'a', 'b', 'a'], 3],
      [['PSUBSCRIBE', 'a*', 'h?llo', 'a*'], 3],
      [['SSUBSCRIBE', 's1', 's2'], 2],
      [['PING'], 1],
      [['PING', 'x'], 1],
      [['ECHO', 'e'], 1],
      [['CONFIG', 'GET', 'maxclients'], 1],
      [['UNSUBSCRIBE', 'b', 'zz'], 2],
      [['PUNSUBSCRIBE', 'h?llo'], 1],
      [['SUNSUBSCRIBE', 's2', 's1'], 2],
      [['PUNSUBSCRIBE'], 1],
      [['UNSUBSCRIBE', 'a'], 1],
      [['UNSUBSCRIBE'], 1],
      [['PING'], 1],
      [['SUBSCRIBE'], 1],
      [['PUBLISH', 'a'], 1],
      [['PUBSUB', 'CHANNELS', 'a', 'b'], 1],
      [['PUBSUB', 'NOPE'], 1],
      [['PUBSUB', 'NUMPAT', 'x'], 1],
      [['PUBSUB', 'HELP'], 1],
      [['SUBSCRIBE', 'q'], 1],
      [['RESET'], 1],
      [['PING'], 1],
    ];
    await sameBytes(
      t,
      tc,
      rc,
      seq.map((s) => s[0]),
      seq.map((s) => s[1]),
    );
    // Messages, as a publisher on another connection sends them.
    const tp = await rawConnect(tc.sock.remotePort!);
    const rp = await rawConnect(rc.sock.remotePort!);
    t.teardown(() => {
      tp.end();
      rp.end();
    });
    await sameBytes(
      t,
      tc,
      rc,
      [
        ['HELLO', proto],
        ['SUBSCRIBE', 'm'],
        ['PSUBSCRIBE', 'm*'],
      ],
      [1, 1, 1],
    );
    for (const [sub, pub] of [
      [tc, tp],
      [rc, rp],
    ] as const) {
      await pub.ask(resp('PUBLISH', 'm', 'payload'));
      await pub.ask(resp('PUBLISH', 'mx', 'p2'));
      await sub.until(replies(4));
    }
    t.equal(tc.data().toString(), rc.data().toString(), 'message and pmessage frames');
  }
});

t.test('CONFIG client-output-buffer-limit matches redis-server', async (t) => {
  const { tc, rc } = await startOraclePair(t, []);
  const cases = [
    ['CONFIG', 'GET', 'client-output-buffer-limit'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 512kb 1'],
    ['CONFIG', 'GET', 'client-output-buffer-limit'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 512kb'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub  1mb 512kb 1'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'master 1 2 3'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'bogus 1 2 3'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 10mbs 1 3'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal -1 1 3'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 1 -3'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 1 x'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', 'replica 1 2 3 NORMAL 4gb 5k +6'],
    ['CONFIG', 'GET', 'client-output-buffer-limit'],
    ['CONFIG', 'SET', 'client-output-buffer-limit', ''],
    ['CONFIG', 'GET', 'client-output-buffer-limit'],
  ];
  await sameBytes(
    t,
    tc,
    rc,
    cases,
    cases.map(() => 1),
  );
});

t.test('a subscriber that never reads is disconnected; memory stays bounded', async (t) => {
  const own = await startTessera(['--client-output-buffer-limit', 'pubsub', '1mb', '256kb', '1']);
  t.teardown(() => own.stop());
  const rss = (): number =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${own.proc.pid}/status`, 'utf8'))![1]) * 1024;
  const pub = await rawConnect(own.port);
  const sub = await rawConnect(own.port);
  const r = new Redis({ port: own.port });
  t.teardown(() => {
    pub.end();
    sub.end();
    r.disconnect();
  });
  t.same(await r.config('GET', 'client-output-buffer-limit'), [
    'client-output-buffer-limit',
    'normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 262144 1',
  ]);
  await sub.ask(resp('SUBSCRIBE', 'flood'), replies(1));
  sub.sock.pause(); // never read again
  const before = rss();
  // 200 MB of messages, pipelined in batches; the publisher reads its replies.
  const one = resp('PUBLISH', 'flood', 'x'.repeat(4096));
  const batch = Buffer.concat(Array.from({ length: 100 }, () => one));
  let publishes = 0;
  while (publishes < 50000) {
    if (!pub.sock.write(batch)) await new Promise((r) => pub.sock.once('drain', r));
    publishes += 100;
  }
  await pub.until((b) => b.length >= publishes * 4, 60000);
  t.match(pub.data().toString(), /^(:1\r\n)+(:0\r\n)+$/, 'received by the subscriber until it was cut off');
  t.same(await r.call('PUBSUB', 'NUMSUB', 'flood'), ['flood', 0]);
  t.equal(await r.call('CLIENT', 'LIST', 'TYPE', 'pubsub'), '');
  const grown = rss() - before;
  t.ok(
    grown < 100 * 1024 * 1024,
    `server RSS grew by ${(grown / 1048576).toFixed(1)} MB for 200 MB published`,
  );
  sub.sock.resume();
  await sub.closed;
  t.ok(sub.isClosed(), 'the subscriber connection was closed');
  t.match(own.output(), /output buffer limits/);
  const metrics = await fetch(`http://127.0.0.1:${own.metricsPort}/metrics`).then((res) => res.text());
  t.match(metrics, /tessera_client_output_limit_disconnections_total 1/);
});

t.test('normal clients stay unlimited by default; a normal limit applies when set', async (t) => {
  const own = await startTessera([]);
  t.teardown(() => own.stop());
  const r = new Redis({ port: own.port });
  t.teardown(() => r.disconnect());
  await r.set('big', 'v'.repeat(2 * 1024 * 1024));
  t.equal((await r.get('big'))!.length, 2 * 1024 * 1024, 'a 2 MB reply with normal 0 0 0');
  await r.config('SET', 'client-output-buffer-limit', 'normal 1mb 0 0');
  const c = await rawConnect(own.port);
  c.write(resp('GET', 'big'));
  await c.closed;
  t.ok(c.isClosed(), 'closed once its output reached the hard limit');
  t.ok(c.data().length < 2 * 1024 * 1024, 'without the whole reply');
});
