import { E, unknownSubcommand } from '../protocol/redis-errors.ts';
import type { RespWriter } from '../protocol/writer.ts';
import type { LocalContext } from '../server/local.ts';
import { globMatchString } from '../util/glob.ts';
import { commandByName, findCommand, topLevelCommands } from './table.ts';
import type { CommandSpec } from './types.ts';

/** COMMAND and its subcommands, answered from the table (metadata copied from Redis). */

function writeInfo(out: RespWriter, spec: CommandSpec): void {
  out.arrayHeader(10);
  out.bulkString(spec.name);
  out.integer(spec.arity);
  out.setHeader(spec.flags.length);
  for (const f of spec.flags) out.simple(f);
  out.integer(spec.firstKey);
  out.integer(spec.lastKey);
  out.integer(spec.step);
  out.setHeader(spec.categories.length);
  for (const c of spec.categories) out.simple(c);
  out.setHeader(0); // tips
  out.arrayHeader(0); // key specs
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  out.arrayHeader(subs.length);
  for (const s of subs) writeInfo(out, s);
}

function writeDocValue(out: RespWriter, v: unknown): void {
  if (typeof v === 'number') out.integer(v);
  else if (typeof v === 'string') out.bulkString(v);
  else if (Array.isArray(v)) {
    out.arrayHeader(v.length);
    for (const x of v) writeDocValue(out, x);
  } else if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    out.mapHeader(entries.length);
    for (const [k, x] of entries) {
      out.bulkString(k);
      // Redis sends flag lists as status replies (redis-cli asserts it when building hints).
      if ((k === 'flags' || k === 'doc_flags') && Array.isArray(x)) {
        out.arrayHeader(x.length);
        for (const f of x) out.simple(String(f));
      } else writeDocValue(out, x);
    }
  } else out.nullBulk();
}

function writeDocs(out: RespWriter, spec: CommandSpec): void {
  const docs = { ...spec.docs } as Record<string, unknown>;
  const entries = Object.entries(docs);
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  out.mapHeader(entries.length + (subs.length > 0 ? 1 : 0));
  for (const [k, v] of entries) {
    out.bulkString(k);
    if (k === 'doc_flags' && Array.isArray(v)) {
      out.setHeader(v.length);
      for (const f of v) out.simple(String(f));
    } else writeDocValue(out, v);
  }
  if (subs.length > 0) {
    out.bulkString('subcommands');
    out.mapHeader(subs.length);
    for (const s of subs) {
      out.bulkString(s.name);
      writeDocs(out, s);
    }
  }
}

function command(c: LocalContext): void {
  // The dispatcher hands COMMAND <unknown-subcommand> here; answer it like Redis.
  if (c.argc > 0) return c.out.error(unknownSubcommand(c.str(0), 'command'));
  const all = [...topLevelCommands()];
  c.out.arrayHeader(all.length);
  for (const spec of all) writeInfo(c.out, spec);
}

function info(c: LocalContext): void {
  const specs: (CommandSpec | undefined)[] = [];
  if (c.argc === 0) specs.push(...topLevelCommands());
  else for (let i = 0; i < c.argc; i++) specs.push(commandByName(c.str(i)));
  c.out.arrayHeader(specs.length);
  for (const s of specs) {
    if (s === undefined) c.out.nullArray();
    else writeInfo(c.out, s);
  }
}

function docs(c: LocalContext): void {
  const specs: CommandSpec[] = [];
  if (c.argc === 0) specs.push(...topLevelCommands());
  else {
    for (let i = 0; i < c.argc; i++) {
      const s = commandByName(c.str(i));
      if (s !== undefined) specs.push(s);
    }
  }
  c.out.mapHeader(specs.length);
  for (const s of specs) {
    c.out.bulkString(s.name);
    writeDocs(c.out, s);
  }
}

function list(c: LocalContext): void {
  let filter: (s: CommandSpec) => boolean = () => true;
  if (c.argc > 0) {
    if (c.argc !== 3 || !c.is(0, 'FILTERBY')) return c.out.error(E.SYNTAX);
    const v = c.str(2);
    if (c.is(1, 'PATTERN')) filter = (s) => globMatchString(v, s.name, true);
    else if (c.is(1, 'ACLCAT')) filter = (s) => s.categories.includes(`@${v.toLowerCase()}`);
    else if (c.is(1, 'MODULE')) filter = () => false;
    else return c.out.error(E.SYNTAX);
  }
  const names: string[] = [];
  for (const s of topLevelCommands()) {
    if (filter(s)) names.push(s.name);
    if (s.subcommands) for (const sub of s.subcommands.values()) if (filter(sub)) names.push(sub.name);
  }
  c.out.arrayHeader(names.length);
  for (const n of names) c.out.bulkString(n);
}

function getkeys(c: LocalContext): void {
  const args = Array.from({ length: c.argc }, (_, i) => c.arg(i));
  const first = args[0]!;
  let spec = findCommand(first, 0, first.length);
  if (spec === undefined) return c.out.error('ERR Invalid command specified');
  let base = 0;
  if (spec.subcommands && args.length > 1) {
    const sub = spec.subcommands.get(args[1]!.toString().toLowerCase());
    if (sub) {
      spec = sub;
      base = 0;
    }
  }
  if (spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity) {
    return c.out.error('ERR Invalid number of arguments specified for command');
  }
  if (spec.firstKey === 0) return c.out.error('ERR The command has no key arguments');
  const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
  const keys: Buffer[] = [];
  for (let i = spec.firstKey + base; i <= last && i < args.length; i += spec.step || 1) keys.push(args[i]!);
  c.out.arrayHeader(keys.length);
  for (const k of keys) c.out.bulk(k, 0, k.length);
}

export const introspectionHandlers: Record<string, (c: LocalContext) => void> = {
  command,
  'command|count': (c) => c.out.integer([...topLevelCommands()].length),
  'command|info': info,
  'command|docs': docs,
  'command|list': list,
  'command|getkeys': getkeys,
};
