import t from 'tap';
import { Redis } from 'ioredis';
import { startTessera } from '../helpers/server.ts';

t.test('daemon answers basic commands through ioredis', async (t) => {
  const srv = await startTessera();
  t.teardown(() => srv.stop());
  const r = new Redis({ port: srv.port, lazyConnect: true });
  await r.connect();
  t.teardown(() => r.disconnect());
  t.equal(await r.ping(), 'PONG');
  t.equal(await r.set('k', 'v'), 'OK');
  t.equal(await r.get('k'), 'v');
  t.equal(await r.get('missing'), null);
});
