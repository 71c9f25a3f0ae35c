import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TABLES, tableImportOffences } from '../support/table-imports.ts';
import { importsIn, rel, ROOT, sourceFiles } from '../support/source-files.ts';

// Doors never read tables (issue 20): the CLI, the HTTP server and Telegram get their data
// through the tool layer (tools/: typed, permission-checked, audited) or domain functions that
// apply the tenant scope and audit (identity/, billing/, trading/, db/ helpers such as
// listStaff or tenantScope). A file under a door may import functions and types from db/, but
// no table object (`bots`, `customers`, `notifications`, … — every export of db/schema that is
// a drizzle table or view) and no drizzle-orm query builder. Read from the source, statically.

const DOORS = ['cli/', 'server/', 'telegram/'];

/**
 * Files still reading tables while their owners move them behind tools or domain functions.
 * Each entry must still offend (a clean file is taken off the list, so it can only shrink);
 * the goal is an empty list.
 */
const PENDING: ReadonlyMap<string, string> = new Map([]);

const doorFiles = DOORS.flatMap((door) => sourceFiles(path.join(ROOT, door))).map((file) => ({ file, name: rel(file) }));

describe('doors never read tables (issue 20)', () => {
  it('knows the tables from db/schema itself', () => {
    expect(TABLES.size).toBeGreaterThan(30);
    for (const table of ['users', 'bots', 'customers', 'notifications', 'approvals', 'telegramLinks'])
      expect(TABLES, table).toContain(table);
    // Enums, column helpers and types are not tables.
    for (const other of ['botStatuses', 'departments']) expect(TABLES.has(other), other).toBe(false);
  });

  it('reads every form of import (so a spelling cannot make the scan blind)', () => {
    const source = [
      "import { bots, tenantScope as scope, type Database } from '../db/index.ts';",
      "import type { users } from '../db/schema/index.ts';",
      "import * as db from '../db/index.ts';",
      'import {',
      '  customers,',
      '  listStaff,',
      "} from '../../db/index.ts';",
      "import Default, { eq } from 'drizzle-orm';",
      "export { approvals } from '../db/index.ts';",
      "export * from '../db/schema/index.ts';",
      "const lazy = await import('../db/index.ts');",
      "// import { invoices } from '../db/index.ts';",
      "/* import { payments } from '../db/index.ts'; */",
      "const url = 'http://example.com'; import { sql } from 'drizzle-orm';",
    ].join('\n');
    expect(importsIn(source)).toEqual([
      { specifier: '../db/index.ts', names: ['bots', 'tenantScope', 'Database'], typeOnly: false },
      { specifier: '../db/schema/index.ts', names: ['users'], typeOnly: true },
      { specifier: '../db/index.ts', names: ['*'], typeOnly: false },
      { specifier: '../../db/index.ts', names: ['customers', 'listStaff'], typeOnly: false },
      { specifier: 'drizzle-orm', names: ['eq', 'default'], typeOnly: false },
      { specifier: 'drizzle-orm', names: ['sql'], typeOnly: false },
      { specifier: '../db/index.ts', names: ['approvals'], typeOnly: false },
      { specifier: '../db/schema/index.ts', names: ['*'], typeOnly: false },
      { specifier: '../db/index.ts', names: ['*'], typeOnly: false },
    ]);
  });

  it('finds the doors’ files', () => {
    expect(doorFiles.length).toBeGreaterThan(30);
    for (const name of ['telegram/door.ts', 'server/app.ts', 'cli/main.ts']) expect(doorFiles.map((f) => f.name)).toContain(name);
  });

  it('no file under cli/, server/ or telegram/ imports a table or a query builder (but the pending ones)', async () => {
    const offences: string[] = [];
    const stillPending: string[] = [];
    for (const { file, name } of doorFiles) {
      const found = await tableImportOffences(name, fs.readFileSync(file, 'utf8'));
      if (PENDING.has(name)) {
        if (found.length > 0) stillPending.push(name);
        continue;
      }
      offences.push(...found.map((offence) => `${name} ${offence}`));
    }
    expect(offences).toEqual([]);
    // A pending file that no longer reads tables comes off the list.
    expect(stillPending.sort(), 'files in PENDING that read no table any more: take them off the list').toEqual([...PENDING.keys()].sort());
  });

  it('the scan catches a door that reads a table', async () => {
    // The door's approvals as they were before issue 20: they read `approvals`, `notifications` and `users`.
    const before =
      "import { and, eq } from 'drizzle-orm';\nimport { approvals, notifications, users, type Database } from '../db/index.ts';\nimport * as db from '../db/index.ts';\n";
    expect(await tableImportOffences('telegram/approvals.ts', before)).toEqual([
      'imports drizzle-orm (and, eq): query builders belong in a domain module',
      'imports the tables approvals, notifications, users from db/index.ts',
      expect.stringMatching(/^imports the tables .*\bbots\b.* from db\/index\.ts$/),
    ]);
    // Functions and types from db/ are fine.
    expect(await tableImportOffences('telegram/door.ts', "import { tenantScope, type Database } from '../db/index.ts';\n")).toEqual([]);
  });
});
