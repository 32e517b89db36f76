/**
 * The engine of one load-generator thread: picks commands by weight, encodes them from
 * templates into a connection's output buffer, checks every reply (resp/values.ts), counts and
 * times the ones inside the measurement window, and drives closed-loop or open-loop sending.
 * Lifecycle (connect, timers, result) is in worker.ts.
 */
import { performance } from 'node:perf_hooks';
import { KeyChooser } from '../gen/keys.ts';
import { Rng } from '../gen/rng.ts';
import { writeDigits, parseIntAt } from '../resp/digits.ts';
import {
  buildTemplate,
  FIELD_DIGITS,
  keyPrefix,
  replyBound,
  SCORE_DIGITS,
  type Template,
} from '../resp/commands.ts';
import { isUnknownCommand, lineEnd, lineText, scanReply } from '../resp/reply.ts';
import { KEY_DIGITS, ValueCodec } from '../resp/values.ts';
import { newHistogram, type Histogram } from '../stats/histogram.ts';
import { nilAllowed, type MixEntry, type Workload } from '../workload/types.ts';
import type { LoadConnection } from './connection.ts';
import type { RunTask } from './task.ts';

const MAX_SAMPLES = 5;
const State = { IDLE: 0, RUNNING: 1, STOPPING: 2, DONE: 3 } as const;

export class Generator {
  readonly task: RunTask;
  readonly mix: MixEntry[];
  readonly templates: Template[];
  private readonly cumulative: Float64Array;
  private readonly rng: Rng;
  private readonly chooser: KeyChooser;
  private readonly codec: ValueCodec;
  private readonly nilOk: boolean;
  readonly maxKeys: number;
  private version = 0;
  private readonly progress: Float64Array;

  state: number = State.IDLE;
  /** performance.now() domain: when sending starts and the measurement window. */
  tStart = 0;
  tMeasure = 0;
  tEnd = Infinity;
  /** Preload: requests still to send (-1 = unlimited). */
  private remaining = -1;
  readonly open: boolean;

  readonly hist: Histogram = newHistogram();
  readonly service: Histogram | null;
  readonly ops: Float64Array;
  readonly errors: Float64Array;
  readonly unsupported: Float64Array;
  mismatches = 0;
  misses = 0;
  readonly samples: string[] = [];

  conns: LoadConnection[] = [];
  private onDone: (() => void) | null = null;
  private onFail: ((e: Error) => void) | null = null;

  constructor(task: RunTask) {
    this.task = task;
    const w: Workload = task.workload;
    const preload = task.phase === 'preload';
    this.mix = preload
      ? [{ command: 'SET', share: 1, ttl: 0, keys: 1, fields: 1, count: 1 }]
      : w.mix.map((m) => ({ ...m }));
    this.templates = this.mix.map((m) => buildTemplate(m, w.prefix, w.valueSize));
    this.cumulative = new Float64Array(this.mix.length);
    let c = 0;
    this.mix.forEach((m, i) => (this.cumulative[i] = c += m.share));
    this.cumulative[this.mix.length - 1] = 1; // float sums may end at 0.9999…
    this.rng = new Rng(task.seed * 1000003 + task.thread * 7919 + (preload ? 1 : 0));
    const share = Math.ceil(w.keys / task.threads);
    this.chooser = preload
      ? new KeyChooser(w.keys, 'sequential', 1, this.rng, task.preloadFrom)
      : new KeyChooser(w.keys, w.distribution, w.skew, this.rng, task.thread * share);
    if (preload) this.remaining = task.preloadTo - task.preloadFrom;
    this.codec = new ValueCodec(w.valueSize);
    this.nilOk = nilAllowed(w);
    this.maxKeys = Math.max(...this.templates.map((t) => t.keys));
    this.open = !preload && w.mode === 'open';
    this.service = this.open ? newHistogram() : null;
    this.progress = new Float64Array(task.progress);
    const n = this.mix.length;
    this.ops = new Float64Array(n);
    this.errors = new Float64Array(n);
    this.unsupported = new Float64Array(n);
  }

  /** Largest encoded request and reply, to size connection buffers. */
  bufferSizes(): { cmd: number; reply: number } {
    let cmd = 0;
    let reply = 0;
    this.templates.forEach((t, i) => {
      cmd = Math.max(cmd, t.bytes.length);
      reply = Math.max(reply, replyBound(t, this.mix[i]!));
    });
    return { cmd, reply };
  }

  whenDone(resolve: () => void, reject: (e: Error) => void): void {
    this.onDone = resolve;
    this.onFail = reject;
  }

  fail(e: Error): void {
    if (this.state === State.DONE) return;
    this.state = State.DONE;
    this.onFail?.(e);
  }

  closed(_c: LoadConnection): void {
    if (this.state === State.RUNNING || this.state === State.STOPPING) {
      this.fail(new Error('connection closed by the server'));
    }
  }

  /** Begin sending: closed loop fills every window, open loop starts its schedule. */
  start(): void {
    this.state = State.RUNNING;
    const now = performance.now();
    if (this.open) {
      const total = this.task.totalConnections;
      const interval = (1000 * total) / this.task.workload.rate;
      this.conns.forEach((c, i) => {
        c.interval = interval;
        // Stagger connections over one interval so the aggregate stream is smooth, not bursts.
        c.dueBase = this.tStart + ((this.task.connOffset + i) / total) * interval;
      });
      this.tick();
      return;
    }
    for (const c of this.conns) {
      this.fillClosed(c, now);
      c.flush();
    }
    if (this.remaining === 0 && this.inFlight() === 0) this.stop(); // an empty preload range
  }

  /**
   * Stop sending; finish once every in-flight request is answered. `force` (the drain grace
   * period ran out) finishes anyway; what is still in flight is reported as unanswered.
   */
  stop(force = false): void {
    if (this.state === State.RUNNING) {
      // Open loop: send what fell due since the last timer tick, so only requests a full
      // window really held back count as backlog (not the timer's granularity).
      if (this.open) this.tick();
      this.state = State.STOPPING;
    }
    if (this.state !== State.STOPPING) return;
    if (force) {
      this.state = State.DONE;
      this.onDone?.();
    } else this.checkDrained();
  }

  /** After the run: closing our own sockets must not count as the server hanging up. */
  shutdown(): void {
    this.state = State.DONE;
  }

  inFlight(): number {
    let n = 0;
    for (const c of this.conns) n += c.count;
    return n;
  }

  /** Open loop: requests that were due before the window closed but never sent. */
  backlog(): number {
    let n = 0;
    if (!this.open) return 0;
    for (const c of this.conns) {
      const due = Math.ceil((this.tEnd - c.dueBase) / c.interval);
      for (let i = c.issued; i < due; i++) {
        const t = c.dueBase + i * c.interval;
        if (t < this.tMeasure) continue;
        // Count them at the latency they had reached when the window closed (a lower bound),
        // so a target that stalls cannot hide its stall by not being asked (coordinated omission).
        this.hist.recordValue(Math.max(1, Math.round((this.tEnd - t) * 1000)));
        n++;
      }
    }
    return n;
  }

  private readonly tick = (): void => {
    if (this.state !== State.RUNNING) return;
    const now = performance.now();
    for (const c of this.conns) {
      this.sendDue(c, now);
      c.flush();
    }
    if (now < this.tEnd) setTimeout(this.tick, 1);
  };

  private sendDue(c: LoadConnection, now: number): void {
    while (c.free) {
      const due = c.dueBase + c.issued * c.interval;
      if (due > now || due >= this.tEnd) return;
      this.encode(c, due, now);
      c.issued++;
    }
  }

  private fillClosed(c: LoadConnection, now: number): void {
    if (now >= this.tEnd) return;
    while (c.free && this.remaining !== 0) {
      this.encode(c, now, now);
      if (this.remaining > 0) this.remaining--;
    }
  }

  afterReplies(c: LoadConnection, replies: number, now: number): void {
    this.progress[this.task.thread]! += replies;
    if (this.state === State.RUNNING) {
      if (this.open) this.sendDue(c, now);
      else this.fillClosed(c, now);
      c.flush();
      if (this.remaining === 0 && this.inFlight() === 0) this.stop();
    } else if (this.state === State.STOPPING) this.checkDrained();
  }

  private checkDrained(): void {
    if (this.state === State.STOPPING && this.inFlight() === 0) {
      this.state = State.DONE;
      this.onDone?.();
    }
  }

  /** Encode one request into c.out and record it in c's in-flight ring. */
  private encode(c: LoadConnection, intended: number, now: number): void {
    const r = this.rng.next();
    let idx = 0;
    while (this.cumulative[idx]! <= r) idx++;
    const t = this.templates[idx]!;
    const out = c.out;
    const base = c.outLen;
    const ranges = t.copyRanges;
    for (let i = 0; i < ranges.length; i += 2)
      t.bytes.copy(out, base + ranges[i]!, ranges[i]!, ranges[i + 1]!);
    const slot = c.nextSlot();
    const kb = slot * this.maxKeys;
    for (let j = 0; j < t.keys; j++) {
      const k = this.chooser.next();
      writeDigits(out, base + t.keyOffsets[j]!, KEY_DIGITS, k);
      c.keys[kb + j] = k;
    }
    if (t.values > 0) {
      this.version = this.version === 999999 ? 0 : this.version + 1;
      for (let j = 0; j < t.values; j++) {
        this.codec.write(out, base + t.valueOffsets[j]!, t.valueSize, c.keys[kb + j]!, this.version);
      }
    }
    if (t.fieldOffset >= 0) writeDigits(out, base + t.fieldOffset, FIELD_DIGITS, this.rng.below(t.fields));
    if (t.scoreOffset >= 0) writeDigits(out, base + t.scoreOffset, SCORE_DIGITS, this.version);
    c.outLen = base + t.bytes.length;
    c.kinds[slot] = idx;
    c.intended[slot] = intended;
    c.sent[slot] = now;
    c.pushed();
  }

  /** Account one complete reply buf[pos, end) for the request in `slot`. */
  reply(c: LoadConnection, slot: number, buf: Buffer, pos: number, end: number, now: number): void {
    const idx = c.kinds[slot]!;
    if (buf[pos] === 45) {
      if (isUnknownCommand(buf, pos, end)) this.unsupported[idx]!++;
      else {
        this.errors[idx]!++;
        this.sample(`${this.templates[idx]!.command}: ${lineText(buf, pos, end)}`);
      }
      return;
    }
    const verdict = this.check(this.templates[idx]!, c, slot, buf, pos, end);
    if (verdict < 0) {
      this.mismatches++;
      this.sample(this.describe(idx, c, slot, buf, pos, end));
      return;
    }
    if (now < this.tMeasure || now >= this.tEnd) return;
    this.ops[idx]!++;
    if (verdict === 1) this.misses++;
    this.hist.recordValue(Math.max(1, Math.round((now - c.intended[slot]!) * 1000)));
    this.service?.recordValue(Math.max(1, Math.round((now - c.sent[slot]!) * 1000)));
  }

  /** 0 = correct, 1 = allowed nil, -1 = wrong. */
  private check(t: Template, c: LoadConnection, slot: number, buf: Buffer, pos: number, end: number): number {
    const type = buf[pos];
    switch (t.reply) {
      case 'ok':
        return end - pos === 5 && type === 43 && buf[pos + 1] === 79 && buf[pos + 2] === 75 ? 0 : -1;
      case 'int':
        return type === 58 && !Number.isNaN(parseIntAt(buf, pos + 1, end - 2)) ? 0 : -1;
      case 'value':
        return this.checkBulk(buf, pos, end, c.keys[slot * this.maxKeys]!, t.command !== 'GET' || this.nilOk);
      case 'values': {
        if (type !== 42) return -1;
        const eol = lineEnd(buf, pos + 1, end);
        const n = parseIntAt(buf, pos + 1, eol);
        const mget = t.command === 'MGET';
        if (mget ? n !== t.keys : n < 0) return -1;
        let p = eol + 2;
        let verdict = 0;
        for (let j = 0; j < n; j++) {
          const e = scanReply(buf, p, end);
          const k = c.keys[slot * this.maxKeys + (mget ? j : 0)]!;
          const v = this.checkBulk(buf, p, e, k, mget && this.nilOk);
          if (v < 0) return -1;
          if (v > verdict) verdict = v;
          p = e;
        }
        return verdict;
      }
    }
  }

  private checkBulk(buf: Buffer, pos: number, end: number, k: number, nilOk: boolean): number {
    if (buf[pos] !== 36) return -1;
    if (buf[pos + 1] === 45) return nilOk ? 1 : -1; // $-1
    const eol = lineEnd(buf, pos + 1, end);
    return this.codec.check(buf, eol + 2, end - 2 - (eol + 2), k) ? 0 : -1;
  }

  private sample(text: string): void {
    if (this.samples.length < MAX_SAMPLES) this.samples.push(text);
  }

  /** Human-readable description of a wrong reply (error path only, so it may allocate). */
  private describe(
    idx: number,
    c: LoadConnection,
    slot: number,
    buf: Buffer,
    pos: number,
    end: number,
  ): string {
    const t = this.templates[idx]!;
    const keys: string[] = [];
    for (let j = 0; j < Math.min(t.keys, 3); j++) {
      const k = String(c.keys[slot * this.maxKeys + j]).padStart(KEY_DIGITS, '0');
      keys.push(keyPrefix(this.task.workload.prefix, t.command) + k);
    }
    const got = buf.toString('latin1', pos, Math.min(end, pos + 80));
    return `${t.command} ${keys.join(' ')}${t.keys > 3 ? ' …' : ''} → wrong reply ${JSON.stringify(got)}`;
  }
}
