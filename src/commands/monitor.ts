import { E } from '../protocol/redis-errors.ts';
import type { LocalContext } from '../server/local.ts';

/** MONITOR and CLIENT PAUSE / UNPAUSE (main thread). */

function monitor(c: LocalContext): void {
  c.srv.monitor.clients.add(c.conn);
  c.out.ok();
}

function pause(c: LocalContext): void {
  const v = c.str(0);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    return c.out.error('ERR timeout is not an integer or out of range');
  }
  let all = true;
  if (c.argc === 2) {
    if (c.is(1, 'WRITE')) all = false;
    else if (!c.is(1, 'ALL')) return c.out.error(E.SYNTAX);
  } else if (c.argc > 2) return c.out.error(E.SYNTAX);
  c.srv.pause.start(Number(v), all);
  c.out.ok();
}

function unpause(c: LocalContext): void {
  c.srv.pause.stop();
  c.out.ok();
}

export const monitorHandlers: Record<string, (c: LocalContext) => void> = {
  monitor,
  'client|pause': pause,
  'client|unpause': unpause,
};
