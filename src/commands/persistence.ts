/**
 * SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE. Every one of them takes a fork-less snapshot of every
 * shard (src/persistence): a snapshot is both Redis's RDB file and its AOF base, after which
 * the WAL it covers is deleted. SAVE answers once the snapshot is on disk but, unlike Redis,
 * does not block other clients meanwhile (the shards keep serving).
 */
import { E, PERSIST_E } from '../protocol/redis-errors.ts';
import type { LocalContext } from '../server/local.ts';
import type { CommandDef } from './types.ts';

function save(c: LocalContext): void {
  const p = c.srv.persistence;
  if (p.saving === 'rdb') return c.out.error(PERSIST_E.BGSAVE_IN_PROGRESS);
  const conn = c.conn;
  const seq = c.seq;
  c.deferred = true;
  p.save('rdb', (ok) => {
    const reply = Buffer.from(ok ? '+OK\r\n' : `-${PERSIST_E.SAVE_FAILED}\r\n`);
    c.srv.deliver(conn, seq, reply);
  });
}

/** BGSAVE [SCHEDULE] (Redis bgsaveCommand). */
function bgsave(c: LocalContext): void {
  let schedule = false;
  if (c.argc > 0) {
    if (c.argc === 1 && c.is(0, 'SCHEDULE')) schedule = true;
    else return c.out.error(E.SYNTAX);
  }
  const p = c.srv.persistence;
  const running = p.saving;
  if (running === 'rdb') return c.out.error(PERSIST_E.BGSAVE_IN_PROGRESS);
  if (running !== null) {
    if (!schedule) {
      return c.out.error(PERSIST_E.BGSAVE_OTHER_CHILD);
    }
    p.scheduleRdb();
    return c.out.simple('Background saving scheduled');
  }
  p.save('rdb', () => {});
  c.out.simple('Background saving started');
}

function bgrewriteaof(c: LocalContext): void {
  const p = c.srv.persistence;
  const running = p.saving;
  if (running === 'aof') return c.out.error(PERSIST_E.REWRITE_IN_PROGRESS);
  if (running !== null) {
    p.aofScheduled = true;
    return c.out.simple('Background append only file rewriting scheduled');
  }
  p.save('aof', () => {});
  c.out.simple('Background append only file rewriting started');
}

function lastsave(c: LocalContext): void {
  c.out.integer(c.srv.persistence.lastSave);
}

export const persistenceCommands: CommandDef[] = ['save', 'bgsave', 'bgrewriteaof', 'lastsave'].map(
  (name) => ({
    name,
    route: 'local',
  }),
);

export const persistenceHandlers: Record<string, (c: LocalContext) => void> = {
  save,
  bgsave,
  bgrewriteaof,
  lastsave,
};
