/** README's "Supported commands" table is generated from the command table: keep them in sync. */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { commandsTable } from '../../src/commands/commands-doc.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = readme.indexOf('| group | commands |');
const end = readme.indexOf('\n\n', start);
t.ok(start >= 0, 'README has the commands table');
t.equal(
  readme.slice(start, end + 1),
  commandsTable(),
  'README table == node scripts/gen-commands-table.ts (regenerate it after adding commands)',
);
