/**
 * Config at run time: CONFIG REWRITE writes the running config back to the file atomically
 * (round trip through a restart), SIGHUP reloads the file (valid change applied, invalid file
 * or immutable change refused with a warning), and the secret never reaches the logs.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startTessera, type Proc } from '../helpers/server.ts';
import { rawConnect, replies, resp } from '../helpers/raw.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tessera-cfgrt-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

const SECRET = 'Sekr1t-Zyzzyva';

async function client(p: Proc, password?: string): Promise<Redis> {
  const r = new Redis({ port: p.port, lazyConnect: true, password });
  await r.connect();
  return r;
}

/** Waits until the daemon's output matches `re` (the log is JSON lines on stdout). */
async function logged(p: Proc, re: RegExp, timeoutMs = 5000): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const line = p
      .output()
      .split('\n')
      .find((l) => re.test(l));
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no log line matching ${re}:\n${p.output()}`);
}

t.test('CONFIG REWRITE round trip, atomically, secret kept in the file only', async (t) => {
  const file = path.join(tmp, 'rewrite.json');
  writeFileSync(file, JSON.stringify({ $schema: '../config/schema.json', timeout: 7, hz: 10 }, null, 2), {
    mode: 0o640,
  });
  const s = await startTessera(['--config', file, '--loglevel', 'notice', '--requirepass', SECRET]);
  const r = await client(s, SECRET);
  t.equal(await r.config('SET', 'maxclients', '321', 'slowlog-max-len', '64', 'timeout', '0'), 'OK');
  t.equal(await r.config('REWRITE'), 'OK');
  const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const keys = Object.keys(written);
  t.equal(keys[0], '$schema', '$schema kept, first');
  t.same(keys.slice(1), [...keys.slice(1)].sort(), 'parameters in name order');
  t.equal(written.maxclients, 321, 'CONFIG SET value written');
  t.equal(written['slowlog-max-len'], 64);
  t.equal(written.timeout, 0, 'a parameter from the file stays even at its default');
  t.equal(written.hz, 10, 'a default value that was in the file stays');
  t.notOk('databases' in written, 'defaults not in the file are not added');
  t.equal(written.requirepass, SECRET, 'the secret is kept in the config file');
  t.equal(statSync(file).mode & 0o777, 0o640, 'file permissions kept');
  t.same(
    readdirSync(tmp).filter((f) => f.includes('.tmp')),
    [],
    'no temp file left behind',
  );
  r.disconnect();
  t.equal(await s.stop(), 0);
  t.match(s.output(), /CONFIG REWRITE executed with success/);
  t.notMatch(s.output(), SECRET, 'the secret never reaches the log');

  // Restart from the rewritten file: the values are back.
  const s2 = await startTessera(['--config', file]);
  const r2 = await client(s2, SECRET);
  t.same(await r2.config('GET', 'maxclients'), ['maxclients', '321'], 'round trip through a restart');
  t.same(await r2.config('GET', 'slowlog-max-len'), ['slowlog-max-len', '64']);
  r2.disconnect();
  await s2.stop();
});

t.test('CONFIG REWRITE without a config file answers Redis error', async (t) => {
  const s = await startTessera();
  const r = await client(s);
  await t.rejects(r.config('REWRITE'), /^ERR The server is running without a config file$/);
  r.disconnect();
  await s.stop();
});

t.test('SIGHUP reloads the file: valid change applied, bad file and immutable change refused', async (t) => {
  const file = path.join(tmp, 'hup.json');
  writeFileSync(file, JSON.stringify({ maxclients: 100 }));
  const s = await startTessera(['--config', file, '--loglevel', 'notice', '--shards', '1']);
  const r = await client(s);
  t.same(await r.config('GET', 'maxclients'), ['maxclients', '100']);

  writeFileSync(file, JSON.stringify({ maxclients: 200, timeout: 30, requirepass: '' }));
  s.proc.kill('SIGHUP');
  const ok = await logged(s, /SIGHUP: config file reloaded"/);
  t.match(ok, /"changed":\["maxclients","timeout"\]/, 'logs which parameters changed');
  t.same(await r.config('GET', 'maxclients'), ['maxclients', '200'], 'applied');
  t.same(await r.config('GET', 'timeout'), ['timeout', '30']);

  writeFileSync(file, '{ "maxclients": 300, ');
  s.proc.kill('SIGHUP');
  t.match(await logged(s, /config file is invalid/), /invalid JSON/, 'says why');
  writeFileSync(file, JSON.stringify({ maxclients: 0 }));
  s.proc.kill('SIGHUP');
  t.match(await logged(s, /maxclients = 0.*must be >= 1/), /"level":40/, 'schema violation: warning');
  writeFileSync(file, JSON.stringify({ maxclients: 400, databases: 4 }));
  s.proc.kill('SIGHUP');
  t.match(await logged(s, /need a restart/), /"params":\["databases"\]/, 'names the immutable parameter');
  t.same(await r.config('GET', 'maxclients'), ['maxclients', '200'], 'nothing applied from a refused file');
  t.same(await r.config('GET', 'databases'), ['databases', '16']);

  writeFileSync(file, JSON.stringify({ maxclients: 200, timeout: 30, requirepass: SECRET }));
  s.proc.kill('SIGHUP');
  const secret = await logged(s, /"changed":\["requirepass"\]/);
  t.notMatch(secret, SECRET, 'a changed secret is named, not shown');
  const fresh = await rawConnect(s.port);
  t.match(
    await fresh.ask(resp('GET', 'x'), replies(1)),
    /^-NOAUTH/,
    'the new password applies to new clients',
  );
  fresh.end();
  t.ok(s.proc.exitCode === null, 'still running');
  r.disconnect();
  t.equal(await s.stop(), 0);
  t.notMatch(s.output(), SECRET);
});
