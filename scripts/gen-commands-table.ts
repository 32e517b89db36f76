/**
 * Prints README's "Supported commands" table from the command table itself (grouped by Redis's
 * ACL data-type categories), so the README lists exactly what is implemented:
 *   node scripts/gen-commands-table.ts
 * test/unit/readme-commands.test.ts fails when README and the table disagree.
 */
import { commandsTable } from '../src/commands/commands-doc.ts';

process.stdout.write(commandsTable());
