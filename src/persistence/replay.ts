/**
 * Replays WAL records into a keyspace through the same shard handlers that executed them
 * (with a throw-away reply writer): CLOCK sets the time the following commands run at, so
 * lazy expiry and TTL arithmetic come out as they did originally; GROUP records are applied
 * only when recovery decided their multi-shard write is complete.
 */
import { Unpackr } from 'msgpackr';
import { commandByName } from '../commands/table.ts';
import type { CommandSpec, ShardContext } from '../commands/types.ts';
import { RespWriter } from '../protocol/writer.ts';
import { RequestView } from '../router/frames.ts';
import type { Keyspace } from '../store/keyspace.ts';
import { ENCODING, TYPE_STRING } from '../store/record.ts';
import { restoreObject } from '../store/object.ts';
import { forEachRecord, groupKey, K_CLOCK, K_CMD, K_GROUP, K_PUT, parseGroup } from './wal-format.ts';

const unpackr = new Unpackr({ useRecords: false });

export class Replayer {
  readonly ctx: ShardContext;
  private readonly view = new RequestView();
  private readonly specs = new Map<string, CommandSpec | null>();
  commands = 0;
  skippedGroups = 0;
  /** First few failures (a record that threw or named an unknown command). */
  readonly errors: string[] = [];
  errorCount = 0;

  readonly ks: Keyspace;
  private readonly skip: ReadonlySet<string>;

  constructor(base: ShardContext, ks: Keyspace, skip: ReadonlySet<string>) {
    this.ks = ks;
    this.skip = skip;
    // The shard's own context with this keyspace, request view and a reply sink nobody reads.
    this.ctx = {
      ...base,
      ks,
      req: this.view,
      out: new RespWriter(),
      notifyFlags: 0,
      events: [],
      propagated: [],
    };
  }

  /** Apply the records of one frame payload b[start, end). */
  frame(b: Uint8Array, start: number, end: number): void {
    forEachRecord(b, start, end, this.record);
  }

  private readonly record = (kind: number, b: Uint8Array, s: number, e: number): void => {
    switch (kind) {
      case K_CLOCK:
        this.ks.now = Buffer.from(b.buffer, b.byteOffset, b.byteLength).readDoubleLE(s);
        return;
      case K_CMD:
        return this.command(b, s, e);
      case K_PUT:
        return this.put(b, s, e);
      case K_GROUP: {
        const g = parseGroup(b, s, e);
        if (g === null) return this.fail('malformed group record');
        if (this.skip.has(groupKey(g.epoch, g.gid))) {
          this.skippedGroups++;
          return;
        }
        forEachRecord(b, g.body, e, this.record);
        return;
      }
      default:
        this.fail(`unknown record kind ${kind}`);
    }
  };

  private command(b: Uint8Array, s: number, e: number): void {
    const v = this.view;
    const name = decodeCommand(b, s, e, v);
    if (name === null) return this.fail('malformed command record');
    let spec = this.specs.get(name);
    if (spec === undefined) {
      spec = commandByName(name) ?? null;
      if (spec !== null && spec.shard === undefined) spec = null;
      this.specs.set(name, spec);
    }
    if (spec === null) return this.fail(`unknown command '${name}' in the WAL`);
    v.cmd = spec.index;
    this.ctx.out.reset();
    this.ctx.propagated.length = 0;
    try {
      spec.shard!(this.ctx);
      this.commands++;
    } catch (err) {
      this.fail(`${name}: ${(err as Error).message}`);
    }
  }

  private put(b: Uint8Array, s: number, e: number): void {
    const [db, key, type, expireAt, encoding, value] = unpackr.unpack(b.subarray(s, e)) as [
      number,
      Uint8Array,
      number,
      number,
      number,
      Uint8Array | Uint8Array[],
    ];
    const ks = this.ks;
    const h = ks.lookup(db, key, 0, key.length);
    if (expireAt !== 0 && expireAt <= ks.now) {
      if (h !== 0) ks.removeFound(h);
      return;
    }
    if (type === TYPE_STRING) {
      const v = value as Uint8Array;
      const nh = ks.writeString(db, h, key, 0, key.length, v.length, expireAt);
      ks.arena.u8(nh).set(v, ks.valueOffset(nh));
      ks.arena.u8(nh)[ks.arena.base(nh) + ENCODING] = encoding;
    } else {
      const items = (value as Uint8Array[]).map((x) => new Uint8Array(x));
      ks.writeObject(db, h, key, 0, key.length, restoreObject(type, items), expireAt);
    }
    this.commands++;
  }

  private fail(msg: string): void {
    this.errorCount++;
    if (this.errors.length < 5) this.errors.push(msg);
  }
}

let lastName = '';
const lastNameBytes = new Uint8Array(256);

/**
 * Decode a CMD record (msgpack [db, name, ...args]) straight into a RequestView whose
 * arguments point into b (no copies). Returns the command name, or null if malformed.
 */
export function decodeCommand(b: Uint8Array, s: number, e: number, v: RequestView): string | null {
  let p = s;
  const t = b[p++]!;
  let n: number;
  if ((t & 0xf0) === 0x90) n = t & 0x0f;
  else if (t === 0xdc) {
    n = (b[p]! << 8) | b[p + 1]!;
    p += 2;
  } else if (t === 0xdd) {
    n = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    p += 4;
  } else return null;
  if (n < 2) return null;
  const d = b[p++]!;
  let db: number;
  if (d < 0x80) db = d;
  else if (d === 0xcc) db = b[p++]!;
  else return null;
  const nt = b[p++]!;
  let nlen: number;
  if ((nt & 0xe0) === 0xa0) nlen = nt & 0x1f;
  else if (nt === 0xd9) nlen = b[p++]!;
  else return null;
  if (p + nlen > e) return null;
  // Runs of the same command are the rule: reuse the previous name's string when the bytes match.
  let same = nlen === lastName.length;
  for (let i = 0; same && i < nlen; i++) same = b[p + i] === lastNameBytes[i];
  if (!same) {
    lastName = '';
    for (let i = 0; i < nlen; i++) {
      lastName += String.fromCharCode(b[p + i]!);
      lastNameBytes[i] = b[p + i]!;
    }
  }
  const name = lastName;
  p += nlen;
  const argc = n - 2;
  if (argc > v.off.length) {
    let m = v.off.length;
    while (m < argc) m *= 2;
    v.off = new Int32Array(m);
    v.len = new Int32Array(m);
  }
  for (let i = 0; i < argc; i++) {
    const bt = b[p++]!;
    let len: number;
    if (bt === 0xc4 || bt === 0xd9) len = b[p++]!;
    else if (bt === 0xc5 || bt === 0xda) {
      len = (b[p]! << 8) | b[p + 1]!;
      p += 2;
    } else if (bt === 0xc6 || bt === 0xdb) {
      len = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      p += 4;
    } else if ((bt & 0xe0) === 0xa0) len = bt & 0x1f;
    else return null;
    if (p + len > e) return null;
    v.off[i] = p;
    v.len[i] = len;
    p += len;
  }
  if (p !== e) return null;
  v.u8 = b;
  v.argc = argc;
  v.db = db;
  v.flags = 0;
  v.connId = 0;
  v.seq = 0;
  return name;
}
