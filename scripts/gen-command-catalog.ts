/**
 * Regenerates src/commands/catalog.json from a real redis-server: arity, flags, key positions,
 * ACL categories and COMMAND DOCS for every command Tessera implements. Redis is the spec, so
 * the metadata is copied from it rather than typed by hand.
 *   node scripts/gen-command-catalog.ts [port]   (needs redis-server on PATH)
 */
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

const names: string[] = JSON.parse(
  readFileSync(new URL('../src/commands/catalog-names.json', import.meta.url), 'utf8'),
);
const port = Number(process.argv[2] ?? 6391);
const srv = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
  stdio: 'ignore',
});
await sleep(300);
const r = new Redis({ port, lazyConnect: true });
await r.connect();
await r.call('HELLO', '2');
const out: Record<string, unknown> = {};
for (const name of names) {
  const [base, sub] = name.split('|');
  const info = (await r.call('COMMAND', 'INFO', base!)) as unknown[][];
  let entry = info[0];
  if (!entry) throw new Error(`redis does not know ${name}`);
  if (sub) {
    const subs = entry[9] as unknown[][];
    entry = subs.find((s) => s[0] === name) ?? null!;
    if (!entry) throw new Error(`no subcommand ${name}`);
  }
  const docsRaw = (await r.call('COMMAND', 'DOCS', base!)) as unknown[];
  let docs = toObj(docsRaw[1] as unknown[]);
  if (sub)
    docs = toObj(
      ((docs['subcommands'] as unknown[]) ?? []).reduce<unknown[]>(
        (acc, v, i, arr) => (v === name ? (arr[i + 1] as unknown[]) : acc),
        [],
      ),
    );
  delete docs['subcommands'];
  out[name] = {
    arity: entry[1],
    flags: entry[2],
    firstKey: entry[3],
    lastKey: entry[4],
    step: entry[5],
    categories: entry[6],
    docs,
  };
}
// Tessera-only commands (not in Redis) are written by hand in catalog.json; keep them.
const TESSERA_ONLY = ['stats'];
const previous = JSON.parse(
  readFileSync(new URL('../src/commands/catalog.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
for (const name of TESSERA_ONLY) if (previous[name] !== undefined) out[name] = previous[name];
writeFileSync(new URL('../src/commands/catalog.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${names.length} commands`);
r.disconnect();
srv.kill();

function toObj(arr: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < arr.length; i += 2) {
    const v = arr[i + 1];
    o[String(arr[i])] =
      Array.isArray(v) && String(arr[i]) !== 'history' && String(arr[i]) !== 'doc_flags'
        ? normalizeArgs(v)
        : v;
  }
  return o;
}
function normalizeArgs(v: unknown[]): unknown {
  // arguments: list of maps (as flat arrays) → list of objects
  if (v.length > 0 && Array.isArray(v[0])) return v.map((x) => toObj(x as unknown[]));
  return v;
}
