import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Ajv } from 'ajv';
import { ConfigError } from '../../src/util/errors.ts';
import { loadConfig, type Config } from '../../src/config/load.ts';
import { LiveConfig } from '../../src/config/live.ts';
import { PARAMS, findParam, formatValue, parseMemory, paramSchema } from '../../src/config/params.ts';
import { createLogger, redactConfig, setLogLevel, toPinoLevel } from '../../src/observability/logger.ts';
import schema from '../../config/schema.json' with { type: 'json' };
import defaults from '../../config/default.json' with { type: 'json' };

const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
let fileNo = 0;
function writeConfig(content: unknown): string {
  const path = join(dir, `cfg-${fileNo++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Runs fn and returns the ConfigError it throws; anything else fails the test. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

t.test('schema and defaults agree with the parameter table', async (t) => {
  const props = schema.properties as Record<string, { description?: string; default?: unknown }>;
  t.same(Object.keys(props).sort(), PARAMS.map((p) => p.name).sort(), 'one schema property per param');
  for (const [name, prop] of Object.entries(props)) {
    t.ok(prop.description, `${name} has a description`);
    t.ok('default' in prop, `${name} has a default`);
    t.same((defaults as Record<string, unknown>)[name], prop.default, `${name} default matches default.json`);
  }
  for (const name of ['shards', 'ring-size', 'active-expire-budget-ms']) {
    t.match(props[name]!.description, /Tessera-specific/, `${name} says it is Tessera-specific`);
  }
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
  t.ok(validate(defaults), 'default.json validates against the schema');
  const cfg = loadConfig([], {});
  t.equal(cfg.action, 'run');
  t.equal(cfg.port, 6379);
  t.same(cfg.bind, ['127.0.0.1']);
  t.equal(cfg.sources.port, 'default');
  t.equal(cfg.configFile, null);
});

t.test('precedence: flag > env > file > default', async (t) => {
  const file = writeConfig({ port: 7000, hz: 20, timeout: 5, maxclients: 50 });
  const env = { TESSERA_PORT: '7001', TESSERA_HZ: '30', TESSERA_MAXCLIENTS: '60' };
  const cfg = loadConfig(['--config', file, '--port', '7002'], env);
  t.equal(cfg.port, 7002, 'flag beats env');
  t.equal(cfg.sources.port, '--port');
  t.equal(cfg.hz, 30, 'env beats file');
  t.equal(cfg.sources.hz, 'TESSERA_HZ');
  t.equal(cfg.timeout, 5, 'file beats default');
  t.equal(cfg.sources.timeout, file);
  t.equal(cfg['tcp-keepalive'], 300, 'default');
  t.equal(cfg.configFile, file);

  const positional = loadConfig([file, '--hz', '40'], {});
  t.equal(positional.port, 7000, 'bare first argument is the config file');
  t.equal(positional.hz, 40);
  t.equal(loadConfig([], { TESSERA_PROTO_MAX_BULK_LEN: '2mb' })['proto-max-bulk-len'], 2 * 1024 * 1024);
  t.equal(loadConfig([], { TESSERA_REQUIREPASS: 'pw' }).requirepass, 'pw');
  t.equal(loadConfig([], { TESSERA_NOT_A_PARAM: 'x' }).port, 6379, 'unknown TESSERA_* env ignored');
});

t.test('byte units, booleans, enums', async (t) => {
  t.equal(parseMemory('1gb'), 1073741824);
  t.equal(parseMemory('1GB'), 1073741824);
  t.equal(parseMemory('512mb'), 536870912);
  t.equal(parseMemory('100k'), 100000);
  t.equal(parseMemory('100kb'), 102400);
  t.equal(parseMemory('2m'), 2000000);
  t.equal(parseMemory('3g'), 3000000000);
  t.equal(parseMemory('7b'), 7);
  t.equal(parseMemory('4096'), 4096);
  for (const bad of ['12xb', '', '-1', '1.5mb', ' 1mb', 'mb', '99999999999999999999']) {
    t.equal(parseMemory(bad), undefined, `'${bad}' rejected`);
  }
  const cfg = loadConfig(['--client-query-buffer-limit', '2GB', '--ring-size', '100k'], {});
  t.equal(cfg['client-query-buffer-limit'], 2147483648);
  t.equal(cfg['ring-size'], 100000);
  const e = configError(() => loadConfig(['--ring-size', '12xb'], {}));
  t.match(e.message, /ring-size = 12xb \(from --ring-size\): must be a memory value/);
  t.equal(e.field, 'ring-size');

  t.equal(loadConfig(['--protected-mode', 'no'], {})['protected-mode'], false);
  t.equal(loadConfig(['--protected-mode', 'YES'], {})['protected-mode'], true);
  t.equal(loadConfig(['--protected-mode'], {})['protected-mode'], true, 'bare bool flag means yes');
  t.equal(loadConfig([writeConfig({ 'protected-mode': false })], {})['protected-mode'], false);
  t.equal(loadConfig([writeConfig({ 'protected-mode': 'no' })], {})['protected-mode'], false);
  t.equal(loadConfig([writeConfig({ 'ring-size': '8mb' })], {})['ring-size'], 8 * 1024 * 1024);
  t.equal(loadConfig(['--loglevel', 'WARNING'], {}).loglevel, 'warning', 'enums case-insensitive');
});

t.test('list params from the CLI', async (t) => {
  t.same(loadConfig(['--bind', '127.0.0.1', '::1', '--port', '1'], {}).bind, ['127.0.0.1', '::1']);
  t.same(
    loadConfig(['--bind', '127.0.0.1', '--bind', '::1'], {}).bind,
    ['127.0.0.1', '::1'],
    'repeat appends',
  );
  t.same(loadConfig(['--bind', '*'], {}).bind, ['*']);
  t.same(loadConfig(['--bind', '0.0.0.0', '-::1'], {}).bind, ['0.0.0.0', '-::1']);
  t.same(
    loadConfig([], { TESSERA_BIND: '10.0.0.1  ::1' }).bind,
    ['10.0.0.1', '::1'],
    'env list split on spaces',
  );
  t.same(loadConfig([writeConfig({ bind: ['::1'] })], {}).bind, ['::1']);
  const e = configError(() => loadConfig(['--bind'], {}));
  t.match(e.message, /bind .*\(from --bind\): needs at least one value/);
  const dup = configError(() => loadConfig(['--bind', '::1', '::1'], {}));
  t.match(dup.message, /bind = ::1 ::1 \(from --bind\): must NOT have duplicate items/);
});

t.test('error messages name field, value, rule and source', async (t) => {
  let e = configError(() => loadConfig(['--porrt', '1'], {}));
  t.match(e.message, /^unknown config parameter 'porrt' \(from --porrt\)/);
  t.match(e.message, /did you mean 'port'/);
  t.equal(e.field, 'porrt');
  t.equal(e.code, 'TSR_CONFIG_INVALID');

  e = configError(() => loadConfig(['--port', '70000'], {}));
  t.equal(e.message, 'invalid config: port = 70000 (from --port): must be <= 65535');
  t.equal(e.field, 'port');

  e = configError(() => loadConfig([], { TESSERA_HZ: '0' }));
  t.equal(e.message, 'invalid config: hz = 0 (from TESSERA_HZ): must be >= 1');

  e = configError(() => loadConfig(['--port', 'abc'], {}));
  t.equal(e.message, 'invalid config: port = abc (from --port): must be an integer');

  const file = writeConfig({ port: 'x', maxclients: [1], dir: 5 });
  e = configError(() => loadConfig([file], {}));
  t.match(e.message, `port = x (from ${file}): must be an integer`);
  t.match(e.message, `maxclients = [1] (from ${file}): must be integer`, 'wrong JSON type');
  t.match(e.message, `dir = 5 (from ${file}): must be string`);
  t.equal(e.field, 'port', 'field is the first bad parameter');

  e = configError(() => loadConfig(['--loglevel', 'loud'], {}));
  t.match(e.message, /loglevel = loud \(from --loglevel\): must be one of: debug, verbose, notice, warning/);

  e = configError(() => loadConfig(['--protected-mode', 'maybe'], {}));
  t.equal(e.message, "invalid config: protected-mode = maybe (from --protected-mode): must be 'yes' or 'no'");

  e = configError(() => loadConfig(['--port', '1', '2'], {}));
  t.match(e.message, /port = 1 2 \(from --port\): expects a single value/);

  e = configError(() => loadConfig(['--hz', 'x', '--port', '70000'], {}));
  t.match(e.message, /port = 70000.*; .*hz = x/, 'all problems reported at once');

  e = configError(() => loadConfig([writeConfig({ nope: 1 })], {}));
  t.match(e.message, /unknown config parameter 'nope' \(from .*cfg-\d+\.json\)/);

  e = configError(() => loadConfig(['--port', '1', 'stray'], {}));
  t.match(e.message, /unexpected argument|expects a single value/);
  e = configError(() => loadConfig(['--config', 'a.json', 'b.json'], {}));
  t.match(e.message, /--config takes one path/);
});

t.test('secret values are not echoed in errors', async (t) => {
  const e = configError(() => loadConfig([writeConfig({ requirepass: 42 })], {}));
  t.match(e.message, /requirepass = \(redacted\)/);
  t.notMatch(e.message, /42/);
});

t.test('config file not found / invalid JSON', async (t) => {
  const missing = join(dir, 'missing.json');
  let e = configError(() => loadConfig([missing], {}));
  t.match(e.message, missing);
  t.match(e.message, /ENOENT/);
  e = configError(() => loadConfig(['--config', missing], {}));
  t.match(e.message, missing);
  const bad = writeConfig('{ "port": 1,, }');
  e = configError(() => loadConfig([bad], {}));
  t.match(e.message, `invalid JSON in config file '${bad}'`);
  const arr = writeConfig([1, 2]);
  e = configError(() => loadConfig([arr], {}));
  t.match(e.message, `config file '${arr}' must contain a JSON object`);
  e = configError(() => loadConfig([arr, '--config', arr], {}));
  t.match(e.message, /config file given twice/);
  t.equal(
    loadConfig([writeConfig({ $schema: '../config/schema.json', hz: 11 })], {}).hz,
    11,
    '$schema ignored',
  );
});

t.test('--help / --version', async (t) => {
  t.equal(loadConfig(['--help'], {}).action, 'help');
  t.equal(loadConfig(['-h'], {}).action, 'help');
  t.equal(
    loadConfig(['--port', 'bad', '--version'], {}).action,
    'version',
    'no validation when asking for version',
  );
  t.equal(loadConfig(['-v'], {}).action, 'version');
  t.equal(loadConfig([join(dir, 'missing.json'), '--help'], {}).action, 'help', 'file not read for --help');
});

function live(argv: string[] = []): { cfg: Config; lc: LiveConfig } {
  const cfg = loadConfig(argv, {});
  return { cfg, lc: new LiveConfig(cfg) };
}

t.test('LiveConfig get / getMatching', async (t) => {
  const { lc } = live(['--requirepass', 's3cret', '--bind', '127.0.0.1', '::1']);
  t.equal(lc.get('port'), 6379);
  t.equal(lc.get('PORT'), 6379, 'case-insensitive');
  t.same(
    lc.getMatching('*max*'),
    [
      ['maxclients', '10000'],
      ['proto-max-bulk-len', '536870912'],
      ['slowlog-max-len', '128'],
      ['maxmemory', '0'],
      ['maxmemory-policy', 'noeviction'],
      ['maxmemory-samples', '5'],
    ],
    'glob over names, bytes as plain integers',
  );
  t.same(lc.getMatching('PROTECTED-*'), [['protected-mode', 'yes']], 'bools as yes/no, nocase glob');
  t.same(lc.getMatching('bind'), [['bind', '127.0.0.1 ::1']], 'lists space-separated');
  t.same(lc.getMatching('requirepass'), [['requirepass', 's3cret']], 'secrets returned as Redis does');
  t.same(lc.getMatching('Port'), [['Port', '6379']], 'exact name answered as written');
  t.same(lc.getMatching('nope'), []);
  t.same(lc.getMatching('h?', 'hz', '[ht]*'), [
    ['hz', '10'],
    ['timeout', '0'],
    ['tcp-keepalive', '300'],
  ]);
  t.equal(lc.getMatching('*').length, PARAMS.length);
  t.equal(formatValue(findParam('protected-mode')!, false), 'no');
});

t.test('LiveConfig set: applies, notifies, validates', async (t) => {
  const { lc } = live();
  const seen: Array<[string, unknown]> = [];
  const off = lc.onChange((name, value) => seen.push([name, value]));
  lc.set([
    ['maxclients', '100'],
    ['proto-max-bulk-len', '2mb'],
    ['protected-mode', 'no'],
    ['LogLevel', 'Warning'],
    ['hz', '10'],
  ]);
  t.equal(lc.get('maxclients'), 100);
  t.equal(lc.get('proto-max-bulk-len'), 2097152);
  t.equal(lc.get('protected-mode'), false);
  t.equal(lc.get('loglevel'), 'warning');
  t.same(
    seen,
    [
      ['maxclients', 100],
      ['proto-max-bulk-len', 2097152],
      ['protected-mode', false],
      ['loglevel', 'warning'],
    ],
    'listeners see changed params only, with typed values',
  );
  off();
  lc.set([['hz', '11']]);
  t.equal(seen.length, 4, 'unsubscribed');
});

t.test('LiveConfig set: exact Redis error strings', async (t) => {
  const { lc } = live();
  const cases: Array<[Array<[string, string]>, string]> = [
    [[['porrt', '1']], "ERR Unknown option or number of arguments for CONFIG SET - 'porrt'"],
    [
      [['DIR', '/tmp']],
      "ERR CONFIG SET failed (possibly related to argument 'DIR') - can't set immutable config",
    ],
    [
      [['maxclients', 'abc']],
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer",
    ],
    [
      [['MaxClients', '0']],
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 1000000 inclusive",
    ],
    [
      [['protected-mode', 'maybe']],
      "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'",
    ],
    [
      [['loglevel', 'loud']],
      "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: " +
        'debug, verbose, notice, warning, nothing, trace, info, warn, error, fatal, silent',
    ],
    [
      [['proto-max-bulk-len', '12xb']],
      "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value",
    ],
    [
      [['proto-max-bulk-len', '1k']],
      "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 536870912 inclusive",
    ],
    [
      [
        ['hz', '5'],
        ['HZ', '6'],
      ],
      "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter",
    ],
  ];
  for (const [pairs, expected] of cases) {
    const e = configError(() => lc.set(pairs));
    t.equal(e.message, expected);
  }
  t.equal(lc.get('hz'), 10, 'nothing changed');
});

t.test('LiveConfig set is atomic', async (t) => {
  const { lc } = live();
  let calls = 0;
  lc.onChange(() => calls++);
  const e = configError(() =>
    lc.set([
      ['maxclients', '5'],
      ['timeout', '30'],
      ['hz', '9999'],
    ]),
  );
  t.match(e.message, /argument 'hz'.*between 1 and 500 inclusive/);
  t.equal(lc.get('maxclients'), 10000, 'earlier pair not applied');
  t.equal(lc.get('timeout'), 0);
  t.equal(calls, 0, 'no listener called');

  configError(() =>
    lc.set([
      ['timeout', '30'],
      ['shards', '2'],
    ]),
  );
  t.equal(lc.get('timeout'), 0, 'immutable in the batch blocks the whole batch');

  // A listener that refuses (like a failing Redis apply function) rolls everything back.
  const { lc: lc2 } = live();
  const log: Array<[string, unknown]> = [];
  lc2.onChange((n, v) => log.push([n, v]));
  lc2.onChange((n) => {
    if (n === 'tcp-keepalive') throw new Error('cannot apply');
  });
  const e2 = configError(() =>
    lc2.set([
      ['timeout', '30'],
      ['tcp-keepalive', '60'],
    ]),
  );
  t.equal(e2.message, "ERR CONFIG SET failed (possibly related to argument 'tcp-keepalive') - cannot apply");
  t.equal(lc2.get('timeout'), 0);
  t.equal(lc2.get('tcp-keepalive'), 300);
  t.same(
    log,
    [
      ['timeout', 30],
      ['tcp-keepalive', 60],
      ['timeout', 0],
      ['tcp-keepalive', 300],
    ],
    'old values re-announced',
  );
});

t.test('every immutable param is rejected by CONFIG SET', async (t) => {
  const { lc } = live();
  for (const p of PARAMS.filter((p) => !p.mutable)) {
    const e = configError(() => lc.set([[p.name, String(paramSchema(p.name).default)]]));
    t.match(e.message, "can't set immutable config");
  }
});

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => out };
}

t.test('logger redacts secrets', async (t) => {
  const { stream, text } = capture();
  const log = createLogger({
    level: 'notice',
    name: 'test',
    bindings: { auth: 'bound-s3cret' },
    destination: stream,
  });
  const cfg = loadConfig(['--requirepass', 's3cret'], {});
  log.info({ config: cfg }, 'effective config');
  log.info({ requirepass: 's3cret', nested: { deeper: { password: 's3cret', pass: 's3cret' } } }, 'x');
  log.info({ config: redactConfig(cfg) }, 'redacted copy');
  log.debug('hidden at notice');
  const out = text();
  t.notMatch(out, 's3cret');
  t.match(out, '(redacted)');
  t.match(out, '"msg":"effective config"');
  t.notMatch(out, 'hidden at notice', 'notice maps to info');
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(lines.length, 3, 'JSON lines');
  t.equal(lines[0]!.name, 'test');

  setLogLevel(log, 'debug');
  log.debug('now visible');
  t.match(text(), 'now visible');
  log.level = 'silent';
  log.error('dropped');
  t.notMatch(text(), 'dropped');

  t.equal(redactConfig(cfg).requirepass, '(redacted)');
  t.equal(cfg.requirepass, 's3cret', 'original untouched');
  t.equal(redactConfig(loadConfig([], {})).requirepass, '', 'empty secret stays empty');
  t.equal(toPinoLevel('warning'), 'warn');
  t.equal(toPinoLevel('nothing'), 'silent');
  t.equal(toPinoLevel('verbose'), 'debug');
  t.equal(toPinoLevel('fatal'), 'fatal');
  t.throws(() => toPinoLevel('loud'));
});
