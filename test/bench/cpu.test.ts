import t from 'tap';
import { cpuSeconds, CpuWindow, schedstatSeconds, statSeconds } from '../../bench/stats/cpu.ts';

t.test('server CPU from /proc: schedstat and stat agree on a busy process', async (t) => {
  const w = new CpuWindow(process.pid);
  w.mark('begin');
  const s0 = statSeconds(process.pid)!;
  const end = Date.now() + 150;
  while (Date.now() < end); // burn ~150 ms of CPU on this thread
  w.mark('end');
  const s1 = statSeconds(process.pid)!;
  t.ok(w.seconds()! > 0.1 && w.seconds()! < 1, `window saw ${w.seconds()} s`);
  t.ok(Math.abs(s1 - s0 - w.seconds()!) < 0.05, 'stat ticks agree within a few ticks');
  t.ok(schedstatSeconds(process.pid)! > 0);
  t.equal(cpuSeconds(2 ** 30), null, 'no such process');
  t.equal(new CpuWindow(null).seconds(), null);
});
