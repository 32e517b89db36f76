import t from 'tap';
import fc from 'fast-check';
import { TimingWheel } from '../../src/store/timing-wheel.ts';

const SEC = 1000;
const HOUR = 3600 * SEC;
const DAY = 24 * HOUR;

type Op = { kind: 'add'; offset: number; count: number } | { kind: 'advance'; delta: number; budget: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    offset: fc.oneof(
      fc.integer({ min: -SEC, max: SEC }),
      fc.integer({ min: -SEC, max: 30 * DAY }),
      fc.integer({ min: 0, max: 2 * HOUR }),
    ),
    count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 20 })),
  }),
  fc.record({
    kind: fc.constant('advance' as const),
    delta: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 50 }) },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 10 * 60 * SEC }) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 10 * DAY }) },
      { weight: 1, arbitrary: fc.integer({ min: -5 * SEC, max: 0 }) },
    ),
    budget: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(1e9)),
  }),
);

const startArb = fc.oneof(
  fc.constant(0),
  fc.constant(1_700_000_000_000),
  fc.integer({ min: 0, max: 2 ** 41 }),
  // just before level-2 / level-3 / top-block boundaries for a 10 ms tick
  fc.constantFrom(10 * 2 ** 14 - 3, 10 * 2 ** 20 - 7, 10 * 2 ** 26 - 1, 10 * 2 ** 26 * 25),
);

t.test('model: fires each entry once, never early, and is caught up when it says so', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 7, 10),
      startArb,
      fc.array(opArb, { maxLength: 60 }),
      (tickMs, start, ops) => {
        const wheel = new TimingWheel(tickMs, start);
        const model = new Map<number, number>();
        const fired = new Set<number>();
        let now = start;
        let next = 0;
        const fire = (h: number): void => {
          const at = model.get(h);
          if (at === undefined) throw new Error(`unknown handle ${h}`);
          if (fired.has(h)) throw new Error(`handle ${h} fired twice`);
          if (at > now) throw new Error(`handle ${h} fired at ${now}, before ${at}`);
          fired.add(h);
        };
        const unfiredDue = (): boolean => {
          for (const [h, at] of model) if (at <= now && !fired.has(h)) return true;
          return false;
        };
        for (const op of ops) {
          if (op.kind === 'add') {
            for (let i = 0; i < op.count; i++) {
              model.set(next, now + op.offset);
              wheel.add(next++, now + op.offset);
            }
          } else {
            now += op.delta;
            const more = wheel.advance(now, fire, op.budget);
            if (more !== unfiredDue()) return false;
            if (!more) {
              const wait = wheel.msUntilNextDue(now);
              for (const [h, at] of model) if (!fired.has(h) && at < now + wait) return false;
            }
          }
          if (wheel.size !== model.size - fired.size) return false;
        }
        // Drain everything; budgets must still make progress.
        now = Math.max(now, ...model.values()) + 1;
        for (let guard = 0; wheel.advance(now, fire, 7); guard++) if (guard > 1e5) return false;
        return fired.size === model.size && wheel.size === 0 && wheel.msUntilNextDue(now) === Infinity;
      },
    ),
    { numRuns: 300 },
  );
  t.pass('model property holds');
});

t.test('100k entries due at the same time fire across budgeted calls', async (t) => {
  const start = 1_000_000;
  const at = start + 5000;
  const n = 100_000;
  const wheel = new TimingWheel(10, start);
  for (let i = 0; i < n; i++) wheel.add(i, at);
  t.equal(wheel.size, n);
  const wait = wheel.msUntilNextDue(start);
  t.ok(wait > 0 && wait <= 5000, `msUntilNextDue ${wait}`);

  const seen = new Uint8Array(n);
  let dup = 0;
  let count = 0;
  const fire = (h: number): void => {
    if (seen[h]) dup++;
    seen[h] = 1;
    count++;
  };
  t.equal(wheel.advance(at - 1, fire, 1e9), false);
  t.equal(count, 0, 'nothing fires a millisecond early');
  t.equal(wheel.msUntilNextDue(at - 1), 1);

  let calls = 0;
  let more = true;
  while (more) {
    const before = count;
    more = wheel.advance(at, fire, 1000);
    calls++;
    if (count - before > 1000) t.fail('budget exceeded');
  }
  t.equal(calls, 100, 'exactly n / budget calls');
  t.equal(count, n);
  t.equal(dup, 0);
  t.equal(wheel.size, 0);
  t.equal(wheel.msUntilNextDue(at), Infinity);
});

t.test('entries cascade from levels 1-3 and overflow, firing exactly on time', async (t) => {
  for (const start of [0, 123_456_789, 1_700_000_000_000]) {
    const tickMs = 10;
    const wheel = new TimingWheel(tickMs, start);
    const offsets = [
      25, // level 0
      3 * SEC, // level 1
      200 * SEC, // level 2
      5 * HOUR, // level 3
      7 * DAY + 17, // level 3 or overflow depending on alignment
      10 * DAY + 3, // overflow
      29 * DAY + 999, // overflow, several top-level wraps later
    ];
    // Land some entries exactly on block boundaries and one ms before them.
    for (const span of [2 ** 8, 2 ** 14, 2 ** 20, 2 ** 26]) {
      const boundary = (Math.floor(start / tickMs / span) + 1) * span * tickMs;
      offsets.push(boundary - start, boundary - start - 1, boundary - start + span * tickMs);
    }
    const ats = offsets.map((o) => start + o);
    ats.forEach((at, h) => wheel.add(h, at));
    const order = ats.map((at, h) => [at, h] as const).sort((a, b) => a[0] - b[0]);
    const fired: number[] = [];
    let ok = true;
    for (const [at, h] of order) {
      if (wheel.advance(at - 1, (x) => fired.push(x), 1e9)) ok = false;
      if (fired.includes(h)) {
        t.fail(`start ${start}: handle ${h} fired before ${at}`);
        ok = false;
      }
      if (wheel.advance(at, (x) => fired.push(x), 1e9)) ok = false;
      if (!fired.includes(h)) {
        t.fail(`start ${start}: handle ${h} not fired at ${at}`);
        ok = false;
      }
    }
    t.ok(ok, `start ${start}: every entry fired exactly at its time`);
    t.equal(fired.length, ats.length);
    t.equal(new Set(fired).size, ats.length, 'no duplicates');
  }
});

t.test('stepping tick by tick across a level-2 boundary', async (t) => {
  const tickMs = 10;
  const start = (2 ** 14 - 300) * tickMs;
  const wheel = new TimingWheel(tickMs, start);
  const ats: number[] = [];
  for (let i = 0; i < 500; i++) ats.push(start + ((i * 7919) % (600 * tickMs)));
  ats.forEach((at, h) => wheel.add(h, at));
  let late = 0;
  let early = 0;
  let count = 0;
  for (let now = start; now <= start + 600 * tickMs; now += 3) {
    wheel.advance(
      now,
      (h) => {
        count++;
        if (ats[h]! > now) early++;
        if (now - ats[h]! >= 3) late++;
      },
      1e9,
    );
  }
  t.equal(count, ats.length);
  t.equal(early, 0);
  t.equal(late, 0, 'fires in the first advance that reaches its time');
});

t.test('re-entrancy, clear, odd times', async (t) => {
  const wheel = new TimingWheel(10, 5000);
  const fired: number[] = [];
  wheel.add(1, 5100);
  wheel.add(2, -Infinity);
  wheel.add(3, Infinity);
  t.throws(() => wheel.add(4, NaN));
  t.throws(() => new TimingWheel(0, 0));
  t.equal(wheel.msUntilNextDue(5000), 0, 'the -Infinity entry is due');
  t.equal(
    wheel.advance(
      5100,
      (h) => {
        fired.push(h);
        if (h === 1) {
          wheel.add(10, 5050); // past: fires in this same advance
          wheel.add(11, 5100); // now: fires in this same advance
          wheel.add(12, 5101); // current tick but later: waits
          wheel.add(13, 9000);
          t.throws(() => wheel.advance(5100, () => {}, 1), 'advance is not re-entrant');
        }
      },
      1e9,
    ),
    false,
  );
  t.same(
    fired.sort((a, b) => a - b),
    [1, 2, 10, 11],
  );
  t.equal(wheel.msUntilNextDue(5100), 1);
  t.equal(
    wheel.advance(5101, (h) => fired.push(h), 1e9),
    false,
  );
  t.equal(fired.at(-1), 12);
  t.equal(wheel.size, 2, 'the 9000 entry and the +Infinity one');

  // time going backwards: entries wait for the clock, nothing breaks
  wheel.add(20, 5050);
  t.equal(
    wheel.advance(5000, (h) => fired.push(h), 1e9),
    false,
  );
  t.notOk(fired.includes(20));
  t.equal(
    wheel.advance(5050, (h) => fired.push(h), 1e9),
    false,
  );
  t.ok(fired.includes(20));

  t.equal(
    wheel.advance(100 * DAY, (h) => fired.push(h), 1e9),
    false,
  );
  t.ok(fired.includes(13));
  t.notOk(fired.includes(3), 'an Infinity expiry never fires');
  t.equal(wheel.size, 1);
  t.equal(wheel.msUntilNextDue(100 * DAY), Infinity, 'only the Infinity entry is left');

  wheel.clear();
  t.equal(wheel.size, 0);
  wheel.add(30, 100 * DAY + 20);
  t.equal(
    wheel.advance(100 * DAY + 20, (h) => fired.push(h), 1e9),
    false,
  );
  t.equal(fired.at(-1), 30);
});
