import { readFileSync } from 'node:fs';
import t from 'tap';
import * as errors from '../../src/util/errors.ts';

// Like fastify's error docs: every code the code base defines is documented, and vice versa.
t.test('docs/errors.md lists exactly the codes in src/util/errors.ts', async (t) => {
  const source = readFileSync(new URL('../../src/util/errors.ts', import.meta.url), 'utf8');
  const codes = new Set([...source.matchAll(/'(TSR_[A-Z_]+)'/g)].map((m) => m[1]!));
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set([...doc.matchAll(/`(TSR_[A-Z_]+)`/g)].map((m) => m[1]!));
  t.same([...codes].sort(), [...documented].sort());
});

t.test('errors carry their code and cause', async (t) => {
  const cause = new Error('root');
  const e = new errors.ShardError('boom', { cause });
  t.equal(e.code, 'TSR_SHARD');
  t.equal(e.cause, cause);
  t.ok(e instanceof errors.TesseraError);
  t.equal(new errors.ConfigError('bad', 'port').field, 'port');
});
