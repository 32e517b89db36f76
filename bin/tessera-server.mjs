#!/usr/bin/env -S node --max-semi-space-size=1
// Runs the daemon from its TypeScript sources; needs Node >= 26 (type stripping, .ts workers).
const [major] = process.versions.node.split('.').map(Number);
if (major < 26) {
  process.stderr.write(
    `tessera-server needs Node >= 26 (this is ${process.version}); use 'npm start' or 'make run'.\n`,
  );
  process.exit(1);
}
await import('../src/main.ts');
