/**
 * Starting the daemon: invalid flags, env vars and config files are refused with a message
 * naming the field, the value and the rule; precedence is flag > env > file; secrets never
 * reach the logs.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ROOT, freePort } from '../helpers/server.ts';
import { rawConnect, replies, resp } from '../helpers/raw.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the daemon expecting it to exit by itself (bad configuration). */
function runToExit(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [path.join(ROOT, 'src/main.ts'), ...args, '--dir', path.join(tmp, 'data')],
      {
        cwd: tmp,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

interface Daemon {
  port: number;
  output: () => string;
  stop: () => Promise<number | null>;
}

/**
 * Runs the daemon until it is ready; the port is read from its ready line. The metrics endpoint
 * is off so parallel daemons do not collide on its default port.
 */
function runReady(args: string[], env: Record<string, string> = {}): Promise<Daemon> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [path.join(ROOT, 'src/main.ts'), ...args, '--dir', path.join(tmp, 'data'), '--metrics-port', '0'],
      {
        cwd: tmp,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`not ready:\n${out}`));
    }, 20000);
    const onData = (d: Buffer): void => {
      out += d;
      const m = /"port":(\d+)[^\n]*Ready to accept connections/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          output: () => out,
          stop: async () => {
            if (p.exitCode === null) p.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', (d: Buffer) => (out += d));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready:\n${out}`));
    });
  });
}

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
}

t.test('invalid flags are refused with field, value and rule', async (t) => {
  // Value problems are all reported in one message, so one run checks many rules.
  const all = await runToExit([
    ...['--port', '70000', '--shards', 'abc', '--maxclients', '0', '--protected-mode', 'maybe'],
    ...['--proto-max-bulk-len', '12zz', '--loglevel', 'loud', '--timeout', '-3'],
  ]);
  t.equal(all.code, 2, 'exit code 2');
  for (const p of [
    /port = 70000 \(from --port\): must be <= 65535/,
    /shards = abc \(from --shards\): must be an integer/,
    /maxclients = 0 \(from --maxclients\): must be >= 1/,
    /protected-mode = maybe \(from --protected-mode\): must be 'yes' or 'no'/,
    /proto-max-bulk-len = 12zz \(from --proto-max-bulk-len\): must be a memory value/,
    /loglevel = loud \(from --loglevel\): must be one of: debug/,
    /timeout = -3 \(from --timeout\): must be >= 0/,
  ])
    t.match(all.err, p);
  t.notMatch(all.out, /Ready to accept/, 'never became ready');

  const cases: [string[], RegExp][] = [
    [['--port', '-1'], /port = -1 \(from --port\): must be >= 0/],
    [['--nosuch', '1'], /unknown config parameter 'nosuch'/],
    [['--prot', '1'], /unknown config parameter 'prot'.*did you mean 'port'/],
    [['--port'], /port.*missing value/],
    [['--port', '1', '2'], /port.*single value/],
    [['stray'], /cannot read config file 'stray'/],
  ];
  for (const [args, p] of cases) {
    const r = await runToExit(args);
    t.not(r.code, 0, `${args.join(' ')} exits non-zero`);
    t.not(r.code, null, `${args.join(' ')} exits by itself`);
    t.match(r.err, p, `${args.join(' ')}: ${p}`);
  }
});

t.test('bad config files', async (t) => {
  const bad = file('bad.json', '{ "port": 7000, ');
  let r = await runToExit([bad]);
  t.not(r.code, 0);
  t.match(r.err, /invalid JSON in config file/);
  t.match(r.err, bad);

  const wrongType = file('wrongtype.json', JSON.stringify({ maxclients: 'lots', timeout: true }));
  r = await runToExit(['--config', wrongType]);
  t.not(r.code, 0);
  t.match(r.err, /maxclients = lots/);
  t.match(r.err, /timeout = true/);
  t.match(r.err, `from ${wrongType}`);

  const unknown = file('unknown.json', JSON.stringify({ prot: 1 }));
  r = await runToExit([unknown]);
  t.match(r.err, /unknown config parameter 'prot'/);

  const arr = file('arr.json', '[1,2]');
  r = await runToExit([arr]);
  t.match(r.err, /must contain a JSON object/);

  r = await runToExit([], { TESSERA_PORT: 'eighty' });
  t.not(r.code, 0);
  t.match(r.err, /port = eighty \(from TESSERA_PORT\): must be an integer/);
});

t.test('precedence: flag > env (TESSERA_PORT) > file', async (t) => {
  const [pf, pe, pc] = [await freePort(), await freePort(), await freePort()];
  const cfg = file('prec.json', JSON.stringify({ port: pf, timeout: 11, maxclients: 111 }));
  const check = async (d: Daemon, port: number, timeout: string, maxclients: string): Promise<void> => {
    t.equal(d.port, port, `listening on ${port}`);
    const r = new Redis({ port: d.port, lazyConnect: true });
    await r.connect();
    t.same(await r.config('GET', 'timeout'), ['timeout', timeout]);
    t.same(await r.config('GET', 'maxclients'), ['maxclients', maxclients]);
    r.disconnect();
    t.equal(await d.stop(), 0, 'clean exit on SIGTERM');
  };
  await check(await runReady([cfg]), pf, '11', '111');
  await check(await runReady([cfg], { TESSERA_PORT: String(pe), TESSERA_TIMEOUT: '22' }), pe, '22', '111');
  await check(
    await runReady([cfg, '--port', String(pc)], { TESSERA_PORT: String(pe), TESSERA_TIMEOUT: '22' }),
    pc,
    '22',
    '111',
  );
});

t.test('--requirepass never appears in the logs, even at debug level', async (t) => {
  const secret = 's3cret-Xyzzy';
  const d = await runReady(['--port', '0', '--requirepass', secret, '--loglevel', 'debug']);
  const c = await rawConnect(d.port);
  t.match(await c.ask(resp('AUTH', 'wrong'), replies(1)), /^-WRONGPASS/);
  t.equal(await c.ask(resp('AUTH', secret), replies(1)), '+OK\r\n');
  t.equal(await c.ask(resp('CONFIG', 'SET', 'requirepass', `${secret}-2`), replies(1)), '+OK\r\n');
  t.equal(await c.ask(resp('CONFIG', 'SET', 'loglevel', 'debug'), replies(1)), '+OK\r\n');
  c.write('*1\r\n$x\r\n'); // a protocol error is logged at debug
  await c.closed;
  t.equal(await d.stop(), 0);
  const out = d.output();
  t.match(out, /effective configuration/, 'the configuration was logged');
  t.match(out, /requirepass/, 'the field is named');
  t.notMatch(out, secret, 'secret value never logged');

  const r = await runToExit(['--requirepass', secret, '--port', '70000']);
  t.notMatch(r.err + r.out, secret, 'not in startup errors either');
  const f = file('secret.json', JSON.stringify({ requirepass: 12345678 }));
  const r2 = await runToExit([f, '--loglevel', 'debug']);
  t.match(r2.err, /requirepass = \(redacted\)/, 'a bad secret is reported redacted');
  t.notMatch(r2.err, '12345678');
});

t.test('--help and --version exit 0', async (t) => {
  const h = await runToExit(['--help']);
  t.equal(h.code, 0);
  t.match(h.out, /Usage: tessera-server/);
  const v = await runToExit(['--version']);
  t.equal(v.code, 0);
  t.match(v.out, /redis 7\.0\.15 compatible/);
});
