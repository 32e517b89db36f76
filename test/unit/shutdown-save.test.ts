/** The decision a shard makes about snapshots at shutdown (persistence/shutdown-save.ts). */
import t from 'tap';
import {
  planShutdown,
  SHUTDOWN_SNAPSHOT_MIN_WAL as MIN,
  type ShutdownState,
} from '../../src/persistence/shutdown-save.ts';

const base: ShutdownState = {
  mode: 'default',
  logging: true,
  autoPct: 100,
  running: false,
  tail: 0,
  size: 0,
};
const plan = (s: Partial<ShutdownState>): string => planShutdown({ ...base, ...s });

t.test('neither SAVE nor NOSAVE', async (t) => {
  t.equal(plan({}), 'none', 'nothing logged: nothing to do');
  t.equal(plan({ tail: MIN - 1 }), 'none', 'below the floor: the replay is short');
  t.equal(plan({ tail: MIN }), 'fresh', 'no snapshot yet and 1 MiB of WAL');
  t.equal(plan({ tail: 30 * MIN, size: 100 * MIN }), 'none', 'WAL small next to the snapshot');
  t.equal(plan({ tail: 50 * MIN, size: 100 * MIN }), 'fresh', 'WAL half the snapshot');
  t.equal(plan({ running: true, tail: 20 * MIN, size: 100 * MIN }), 'finish', 'a running one is finished');
  t.equal(
    plan({ running: true, tail: 60 * MIN, size: 100 * MIN }),
    'fresh',
    '…or replaced when its tail is large',
  );
  t.equal(plan({ autoPct: 0, tail: 60 * MIN }), 'none', 'automatic snapshots off');
  t.equal(plan({ autoPct: 0, running: true, tail: 60 * MIN }), 'finish', 'a BGSAVE is still finished');
  t.equal(plan({ logging: false, tail: 60 * MIN }), 'none', 'appendonly no');
});

t.test('SAVE and NOSAVE', async (t) => {
  t.equal(plan({ mode: 'save' }), 'fresh', 'SAVE: always a snapshot');
  t.equal(plan({ mode: 'save', logging: false, autoPct: 0 }), 'fresh', 'whatever the settings');
  t.equal(plan({ mode: 'save', running: true, tail: 0 }), 'finish', 'a running one already is the state');
  t.equal(plan({ mode: 'save', running: true, tail: 10 }), 'fresh', 'unless something was logged since');
  t.equal(plan({ mode: 'nosave', tail: 60 * MIN }), 'none', 'NOSAVE: nothing new');
  t.equal(plan({ mode: 'nosave', running: true }), 'abort', 'and a running one is dropped');
});
