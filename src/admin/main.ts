/** tessera-admin entry point (bin/tessera-admin.mjs): runs one command and exits with its status. */
import { run } from './cli.ts';

const argv = process.argv.slice(2);
// A password given with -a is visible in `ps`: overwrite the process title (and with it the
// command line Linux shows) as soon as possible, like redis-cli does.
if (argv.some((a) => a === '-a' || a === '--pass')) process.title = 'tessera-admin';

// `tessera-admin stats --watch | head` closes the pipe: stop quietly, like other CLIs.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await run(argv, process.env, {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  tty: process.stdout.isTTY === true,
});
