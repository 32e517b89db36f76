#!/usr/bin/env node
// tessera-admin: operator CLI (STATS table, CONFIG, INFO, SLOWLOG, PING). Runs from TypeScript
// sources; needs Node >= 26 (type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 26) {
  process.stderr.write(`tessera-admin needs Node >= 26 (this is ${process.version}).\n`);
  process.exit(1);
}
await import('../src/admin/main.ts');
