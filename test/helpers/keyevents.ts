/**
 * Keyspace notifications a command sequence produces: subscribes to every keyevent of db 0,
 * runs the commands on another connection, then a SET of `endKey` that marks the end of the
 * stream. Returns "event key" strings in order (empty when nothing arrived).
 */
import { rawConnect, resp } from './raw.ts';
import { RawClient, type Arg } from './resp-client.ts';

export async function keyEvents(port: number, cmds: Arg[][], endKey: string): Promise<string[]> {
  const sub = await rawConnect(port);
  const c = await RawClient.connect(port);
  try {
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    await sub.ask(resp('PSUBSCRIBE', '__keyevent@0__:*'));
    await c.pipeline([...cmds, ['SET', endKey, '1']]);
    await sub.until((d) => d.includes(endKey), 3000).catch(() => null);
    const text = sub.data().toString('latin1');
    return [...text.matchAll(/__keyevent@0__:([a-z]+)\r\n\$\d+\r\n([^\r]*)/g)].map((m) => `${m[1]} ${m[2]}`);
  } finally {
    sub.end();
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    c.close();
  }
}
