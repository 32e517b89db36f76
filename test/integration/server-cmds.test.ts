/**
 * Server and introspection commands: INFO, TIME, COMMAND, CONFIG, error strings and SHUTDOWN.
 * Error texts and COMMAND metadata are compared with a real redis-server.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';
import { rawConnect, replies, resp, startOraclePair, type RawClient } from '../helpers/raw.ts';

const { tes, red, tc, rc } = await startOraclePair(t, ['--shards', '2']);
const r = new Redis({ port: tes.port, lazyConnect: true });
const o = new Redis({ port: red.port, lazyConnect: true });
await Promise.all([r.connect(), o.connect()]);
t.teardown(() => {
  r.disconnect();
  o.disconnect();
});

const ask = (c: RawClient, args: string[]): Promise<string> => c.ask(resp(...args), replies(1));

/** INFO text → { section: { field: value } }, checking the line format on the way. */
function parseInfo(
  text: string,
  t: { ok: (v: unknown, m: string) => void },
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cur: Record<string, string> | null = null;
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if (line.startsWith('# ')) {
      cur = out[line.slice(2).toLowerCase()] = {};
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0 || cur === null) {
      t.ok(false, `malformed INFO line ${JSON.stringify(line)}`);
      continue;
    }
    cur[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

t.test('INFO sections and field format', async (t) => {
  await r.flushall();
  await r.set('info:a', '1');
  await r.set('info:b', '2', 'EX', 100);
  const raw = await r.info();
  t.notOk(raw.includes('\n') && raw.split('\r\n').some((l) => l.includes('\n')), 'lines end with CRLF');
  const info = parseInfo(raw, t);
  for (const s of ['server', 'clients', 'memory', 'stats', 'keyspace', 'shards']) t.ok(info[s], `has # ${s}`);
  t.equal(info.server!.redis_version, '7.0.15');
  t.equal(info.server!.tcp_port, String(tes.port));
  t.equal(info.server!.redis_mode, 'standalone');
  t.match(info.server!.process_id, /^\d+$/);
  t.match(info.server!.uptime_in_seconds, /^\d+$/);
  t.ok(Number(info.clients!.connected_clients) >= 2, 'counts connected clients');
  t.match(info.memory!.used_memory, /^\d+$/);
  t.ok(Number(info.memory!.used_memory) > 0, 'used_memory > 0');
  t.match(info.memory!.used_memory_human, /^\d+(\.\d+)?[BKMGT]$/);
  t.match(info.stats!.total_commands_processed, /^\d+$/);
  t.equal(info.shards!.shards, '2');
  t.match(info.shards!.shard0, /^keys=\d+,expires=\d+,memory=\d+,ops=\d+/);
  // Shard stats are published periodically; wait for the keyspace line to catch up.
  let db0 = info.keyspace!.db0;
  for (let i = 0; i < 30 && db0 !== 'keys=2,expires=1,avg_ttl=0'; i++) {
    await new Promise((res) => setTimeout(res, 100));
    db0 = parseInfo(await r.info('keyspace'), t).keyspace!.db0;
  }
  t.equal(db0, 'keys=2,expires=1,avg_ttl=0', 'db0 line');

  const one = parseInfo(await r.info('clients'), t);
  t.same(Object.keys(one), ['clients'], 'INFO clients has one section');
  const two = parseInfo((await r.call('INFO', 'server', 'MEMORY')) as string, t);
  t.same(Object.keys(two), ['server', 'memory'], 'several sections, case-insensitive');
  const all = parseInfo(await r.info('all'), t);
  t.ok(all.commandstats, 'INFO all includes commandstats');
  t.match(all.commandstats!.cmdstat_set, /^calls=\d+,/);
  t.equal(await r.info('nosuchsection'), '', 'unknown section is empty');
});

t.test('TIME', async (t) => {
  const [s, us] = (await r.time()) as unknown as [string, string];
  t.match(s, /^\d+$/);
  t.match(us, /^\d+$/);
  t.ok(Number(us) < 1_000_000, 'microseconds < 1e6');
  t.ok(Math.abs(Number(s) - Date.now() / 1000) < 5, 'seconds close to now');
  t.equal(await ask(tc, ['TIME', 'x']), await ask(rc, ['TIME', 'x']), 'arity error');
});

t.test('unknown commands and wrong arity use Redis wording', async (t) => {
  const cases = [
    ['FOOBAR', 'a', 'b'],
    ['FOOBAR'],
    ['foobar', 'x'.repeat(200), 'y'],
    ['FOOBAR', 'line\r\nbreak'],
    ['GET'],
    ['GET', 'a', 'b'],
    ['SET', 'a'],
    ['MSET', 'a', 'b', 'c'],
    ['CONFIG'],
    ['CONFIG', 'NOSUCH'],
    ['CLIENT', 'NOSUCH', 'x'],
    ['COMMAND', 'NOSUCH'],
    ['OBJECT', 'NOSUCH', 'k'],
    ['PING', 'a', 'b'],
  ];
  for (const c of cases)
    t.equal(await ask(tc, c), await ask(rc, c), JSON.stringify(c.join(' ').slice(0, 60)));
});

t.test('COMMAND COUNT / LIST / INFO / DOCS', async (t) => {
  const count = (await r.call('COMMAND', 'COUNT')) as number;
  const all = (await r.call('COMMAND')) as unknown[][];
  t.equal(all.length, count, 'COMMAND lists COUNT commands');
  t.ok(count > 40, `implements a fair number (${count})`);
  const list = (await r.command('LIST')) as string[];
  for (const name of ['get', 'set', 'ping', 'config', 'client'])
    t.ok(list.includes(name), `LIST has ${name}`);
  const pat = ((await r.command('LIST', 'FILTERBY', 'PATTERN', 'get*')) as string[]).sort();
  t.ok(pat.length > 0 && pat.every((n) => n.startsWith('get')), 'FILTERBY PATTERN');
  const redisGets = ((await o.command('LIST', 'FILTERBY', 'PATTERN', 'get*')) as string[]).filter((n) =>
    list.includes(n),
  );
  t.same(pat, redisGets.sort(), 'same matches as Redis for implemented commands');
  const acl = (await r.command('LIST', 'FILTERBY', 'ACLCAT', 'string')) as string[];
  t.ok(acl.includes('get') && !acl.includes('ping'), 'FILTERBY ACLCAT');

  const names = [
    'get',
    'set',
    'mset',
    'del',
    'expire',
    'lcs',
    'ping',
    'rename',
    'config',
    'client',
    'object',
  ];
  const mine = (await r.command('INFO', ...names)) as unknown[][];
  const theirs = (await o.command('INFO', ...names)) as unknown[][];
  for (let i = 0; i < names.length; i++) {
    t.same(
      mine[i]!.slice(0, 7),
      theirs[i]!.slice(0, 7),
      `COMMAND INFO ${names[i]}: name arity flags keys acl`,
    );
  }
  const cfg = mine[names.indexOf('config')]!;
  const subs = (cfg[9] as unknown[][]).map((s) => s[0]);
  t.ok(subs.includes('config|get') && subs.includes('config|set'), 'subcommands listed');
  const none = (await r.command('INFO', 'nosuchcmd')) as unknown[];
  t.same(none, [null], 'unknown command → nil entry');

  for (const name of ['get', 'set', 'lcs']) {
    t.same(await r.command('DOCS', name), await o.command('DOCS', name), `COMMAND DOCS ${name}`);
  }
  t.same(await r.command('DOCS', 'nosuchcmd'), [], 'DOCS of unknown command is empty');
});

t.test('COMMAND GETKEYS matches Redis', async (t) => {
  const cases = [
    ['SET', 'k', 'v'],
    ['GET', 'k'],
    ['MSET', 'a', '1', 'b', '2'],
    ['DEL', 'a', 'b', 'c'],
    ['RENAME', 'a', 'b'],
    ['LCS', 'a', 'b'],
    ['EXPIRE', 'k', '10'],
    ['OBJECT', 'ENCODING', 'k'],
    ['PING'],
    ['GET'],
    ['NOSUCH', 'a'],
    ['CONFIG', 'GET', 'x'],
  ];
  for (const c of cases) {
    const args = ['COMMAND', 'GETKEYS', ...c];
    t.equal(await ask(tc, args), await ask(rc, args), c.join(' '));
  }
  t.equal(await ask(tc, ['COMMAND', 'GETKEYS']), await ask(rc, ['COMMAND', 'GETKEYS']), 'no args');
});

t.test('CONFIG GET with globs', async (t) => {
  const get = async (...pats: string[]): Promise<Record<string, string>> => {
    const flat = (await r.config('GET', ...(pats as [string]))) as string[];
    const m: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) m[flat[i]!] = flat[i + 1]!;
    return m;
  };
  t.same(await get('maxclients'), { maxclients: '10000' });
  t.same(await get('MAXCLIENTS'), { MAXCLIENTS: '10000' }, 'exact names answer as written');
  t.same(await get('port'), { port: String(tes.port) });
  const star = await get('*');
  for (const k of ['port', 'bind', 'maxclients', 'timeout', 'databases', 'requirepass', 'protected-mode'])
    t.ok(k in star, `* includes ${k}`);
  t.equal(star.databases, '16');
  t.equal(star['protected-mode'], 'yes');
  const m = await get('max*');
  t.ok('maxclients' in m && Object.keys(m).every((k) => k.startsWith('max')), 'max* glob');
  const q = await get('t?meout');
  t.same(q, { timeout: '0' }, '? glob');
  t.same(await get('nosuch'), {}, 'unknown name → empty');
  const multi = await get('port', 'timeout', 'port');
  t.same(Object.keys(multi).sort(), ['port', 'timeout'], 'several patterns, no duplicates');
  t.equal(await ask(tc, ['CONFIG', 'GET']), await ask(rc, ['CONFIG', 'GET']), 'arity error like Redis');
});

t.test('CONFIG SET valid, invalid, immutable', async (t) => {
  t.equal(await r.config('SET', 'timeout', '123'), 'OK');
  t.same(await r.config('GET', 'timeout'), ['timeout', '123']);
  t.equal(await r.call('CONFIG', 'SET', 'timeout', '0', 'maxclients', '5000'), 'OK', 'several at once');
  t.same(await r.config('GET', 'maxclients'), ['maxclients', '5000']);
  t.equal(await r.config('SET', 'protected-mode', 'YES'), 'OK', 'bool is case-insensitive');
  t.equal(await r.config('SET', 'proto-max-bulk-len', '1mb'), 'OK', 'memory units');
  t.same(await r.config('GET', 'proto-max-bulk-len'), ['proto-max-bulk-len', '1048576']);
  await r.config('SET', 'proto-max-bulk-len', '512mb');

  const cases = [
    ['CONFIG', 'SET', 'maxclients', 'abc'],
    ['CONFIG', 'SET', 'timeout', '-1'],
    ['CONFIG', 'SET', 'databases', '4'],
    ['CONFIG', 'SET', 'nosuch', '1'],
    ['CONFIG', 'SET', 'timeout', '1', 'timeout', '2'],
    ['CONFIG', 'SET', 'protected-mode', 'maybe'],
    ['CONFIG', 'SET', 'proto-max-bulk-len', '12zz'],
    ['CONFIG', 'SET', 'timeout'],
    ['CONFIG', 'SET', 'timeout', '1', 'maxclients'],
    ['CONFIG', 'SET', 'timeout', '7', 'maxclients', 'x'],
  ];
  for (const c of cases) t.equal(await ask(tc, c), await ask(rc, c), c.slice(2).join(' '));
  t.same(await r.config('GET', 'timeout'), ['timeout', '0'], 'a failed multi-set changes nothing');
  // Redis 7 can change port at runtime; Tessera keeps it immutable (no rebinding yet).
  t.equal(
    await ask(tc, ['CONFIG', 'SET', 'port', '7000']),
    "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n",
  );
  const lvl = await ask(tc, ['CONFIG', 'SET', 'loglevel', 'bogus']);
  t.match(
    lvl,
    /^-ERR CONFIG SET failed \(possibly related to argument 'loglevel'\) - argument\(s\) must be one of/,
  );
  await r.config('SET', 'maxclients', '10000');
});

t.test('CONFIG RESETSTAT', async (t) => {
  for (let i = 0; i < 5; i++) await r.ping();
  t.equal(await r.config('RESETSTAT'), 'OK');
  const stats = parseInfo(await r.info('stats'), t).stats!;
  t.ok(Number(stats.total_commands_processed) <= 2, `commands reset (${stats.total_commands_processed})`);
  t.ok(Number(stats.total_net_input_bytes) < 200, 'net input reset');
  t.notOk(parseInfo(await r.info('commandstats'), t).commandstats?.cmdstat_ping, 'commandstats reset');
});

t.test('SHUTDOWN makes the daemon exit 0 without a reply', async (t) => {
  const s = await startTessera();
  const c = await rawConnect(s.port);
  t.equal(await c.ask(resp('SHUTDOWN', 'BOGUS'), replies(1)), '-ERR syntax error\r\n');
  t.equal(await c.ask(resp('SHUTDOWN', 'ABORT'), replies(1)), '-ERR No shutdown in progress.\r\n');
  const before = c.data().length;
  c.write(resp('SHUTDOWN', 'NOSAVE'));
  await c.closed;
  t.equal(c.data().length, before, 'no reply bytes before close');
  const code = await new Promise<number | null>((res) => {
    if (s.proc.exitCode !== null) return res(s.proc.exitCode);
    s.proc.once('exit', (code) => res(code));
  });
  t.equal(code, 0, 'exit code 0');
  await s.stop();
});
