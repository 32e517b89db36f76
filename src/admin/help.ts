/** tessera-admin --help texts, per subcommand. */
export const MAIN_HELP = `Usage: tessera-admin [connection options] <command> [args] [--help]

Commands:
  stats [--watch [secs]] [--json]   per-shard and total figures (the STATS command)
  config get PATTERN                parameters matching a glob pattern
  config set NAME VALUE             change a parameter at run time
  config rewrite                    write the running config back to the server's config file
  info [section ...]                the INFO report
  slowlog [count] [--json]          the slow command log (SLOWLOG GET)
  ping                              check that the server answers, and how fast
  check-wal [--repair] [DIR]        verify (or repair) the WAL and snapshots of a data directory
  help [command]                    this text, or one command's help

Connection options (as in redis-cli):
  -h, --host HOST     server host (default 127.0.0.1)
  -p, --port PORT     server port (default 6379)
  -a, --pass PASS     password; prefer the TESSERA_PASSWORD environment variable,
                      since a command line is visible to other users of the machine
  --user USER         user name for AUTH (default: none, the default user)
  --timeout SECS      connect and reply timeout (default 5)
  --no-auth-warning   no warning when -a is used

Exit status: 0 success; 1 the server is unreachable, refused, or answered an error;
2 usage error, or a feature the server does not have.`;

export const HELP: Record<string, string> = {
  stats: `Usage: tessera-admin stats [--watch [secs]] [--json]

Shows the STATS command's figures as a table: one row per shard and a total row with ops/s
(averaged over the last ~5 s), commands executed, keys, keys with a TTL, memory, request ring
depth, expired and evicted keys, and WAL position/lag ('-' while persistence does not exist).

  --watch [secs]   refresh in place every secs seconds (default 1) until Ctrl-C
  --json           print the STATS reply as JSON (one line per refresh with --watch)`,
  config: `Usage: tessera-admin config get PATTERN [--json] [--show-secrets]
       tessera-admin config set NAME VALUE
       tessera-admin config rewrite

  get       parameters whose names match PATTERN (a glob: '*', 'max*'), one per line.
            Secret values (requirepass) are shown as (hidden) unless --show-secrets.
  set       CONFIG SET NAME VALUE: applies a mutable parameter at run time.
  rewrite   CONFIG REWRITE: writes the running configuration to the file the server was
            started with (fails if it was started without one).`,
  info: `Usage: tessera-admin info [section ...]

Prints the INFO report (all default sections, or the ones named: server, clients, memory,
stats, keyspace, shards, commandstats, all...).`,
  slowlog: `Usage: tessera-admin slowlog [count] [--json]

Shows the slowest recent commands (SLOWLOG GET [count], default 10): id, time, duration,
client and the command. Exits 2 if the server has no SLOWLOG command.`,
  ping: `Usage: tessera-admin ping

Sends PING and prints the reply with the round-trip time. Exits 1 if the server is
unreachable or refuses the connection.`,
  'check-wal': `Usage: tessera-admin check-wal [--repair] [DIR]

Verifies the data directory DIR (default ./data) offline, like redis-check-aof: every WAL
segment frame by frame (length and CRC-32C) and every snapshot's block checksums. A torn tail
(an unfinished last write, which the server truncates by itself at start) is reported; a bad
record in the middle fails the check (exit 1). --repair cuts a segment at its first bad record
(the records after it are lost; later segments of that shard are renamed *.bad) so the server
can start. Run it while the server is stopped.`,
  help: `Usage: tessera-admin help [command]

Prints the general help, or the help of one command.`,
};
