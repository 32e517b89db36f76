/**
 * client-output-buffer-limit: Redis's parsing (merge into the current value, all-or-nothing
 * validation) and checkClientOutputBufferLimits' hard/soft decision, soft time included.
 */
import t from 'tap';
import { mergeLimits, OBUF_DEFAULT, OutputLimits, type LimitedClient } from '../../src/server/obuf-limits.ts';

t.test('mergeLimits: classes merge into the current value, canonical output', async (t) => {
  t.equal(
    mergeLimits('pubsub 1mb 512kb 1', OBUF_DEFAULT),
    'normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 1',
  );
  t.equal(
    mergeLimits('REPLICA 1k 2 +3 normal 4gb 5b 0', OBUF_DEFAULT),
    'normal 4294967296 5 0 slave 1000 2 3 pubsub 33554432 8388608 60',
  );
  t.equal(mergeLimits('', OBUF_DEFAULT), OBUF_DEFAULT, 'an empty value changes nothing');
  t.same(mergeLimits('pubsub 1 2', OBUF_DEFAULT), {
    error: 'Wrong number of arguments in buffer limit configuration.',
  });
  t.same(mergeLimits('pubsub  1 2 3', OBUF_DEFAULT), {
    error: 'Wrong number of arguments in buffer limit configuration.',
  });
  t.same(mergeLimits('master 1 2 3', OBUF_DEFAULT), {
    error: 'Invalid client class specified in buffer limit configuration.',
  });
  for (const bad of ['normal 1x 2 3', 'normal -1 2 3', 'normal 1 2 -3', 'normal 1 2 3s', 'normal 1 2 -']) {
    t.same(
      mergeLimits(bad, OBUF_DEFAULT),
      { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' },
      bad,
    );
  }
  t.same(
    mergeLimits('pubsub 1 1 1 normal 1 x 1', OBUF_DEFAULT),
    { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' },
    'a bad later group rejects the whole value',
  );
});

function client(bytes: number, subscribed = true): LimitedClient & { bytes: number } {
  return {
    bytes,
    subscribed,
    softLimitSince: 0,
    outputBytes() {
      return this.bytes;
    },
  };
}

t.test('exceeded: hard limit at once, soft limit only after its seconds', async (t) => {
  const l = new OutputLimits('normal 0 0 0 slave 0 0 0 pubsub 1000 100 2');
  t.notOk(l.exceeded(client(99)), 'below both');
  t.ok(l.exceeded(client(1000)), 'at the hard limit');
  t.notOk(l.exceeded(client(5000, false)), 'normal clients are unlimited');
  t.notOk(l.normalLimited);
  const c = client(500);
  const t0 = 1_000_000_000;
  t.notOk(l.exceeded(c, t0), 'soft limit first seen');
  t.equal(c.softLimitSince, t0 / 1000);
  t.notOk(l.exceeded(c, t0 + 2000), 'still within the soft seconds');
  t.ok(l.exceeded(c, t0 + 3000), 'above the soft limit for longer than its seconds');
  c.bytes = 10;
  t.notOk(l.exceeded(c, t0 + 4000), 'back below: the clock resets');
  t.equal(c.softLimitSince, 0);
  l.set('normal 10 0 0 slave 0 0 0 pubsub 0 0 0');
  t.ok(l.normalLimited);
  t.ok(l.exceeded(client(10, false)));
  t.notOk(l.exceeded(client(1e9)), 'pubsub 0 0 0 disables it');
});
