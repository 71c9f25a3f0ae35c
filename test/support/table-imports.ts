import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { is } from 'drizzle-orm';
import { PgTable, PgView } from 'drizzle-orm/pg-core';
import * as schema from '../../db/schema/index.ts';
import { importsIn, ROOT, rel } from './source-files.ts';

// For the architecture tests that keep tables inside the domain (doors-no-tables,
// decisions-no-tables): which tables, and which query builders, a file imports.

/** Every drizzle table (or view) db/schema exports, by export name: found, not listed by hand. */
export const TABLES: ReadonlySet<string> = new Set(
  Object.entries(schema).flatMap(([name, value]) => (is(value, PgTable) || is(value, PgView) ? [name] : [])),
);

/** The tables a db/ module exports (for `import * as db`, `export *` and dynamic imports of it). */
const tablesOfModule = new Map<string, Promise<string[]>>();
function tablesExportedBy(target: string): Promise<string[]> {
  let tables = tablesOfModule.get(target);
  if (!tables) {
    tables = import(pathToFileURL(path.join(ROOT, target)).href).then((module: Record<string, unknown>) =>
      Object.keys(module).filter((name) => TABLES.has(name) && (is(module[name], PgTable) || is(module[name], PgView))),
    );
    tablesOfModule.set(target, tables);
  }
  return tables;
}

/** What a file (its path from the repository root, and its text) imports of the tables: each table it takes from db/, each drizzle-orm query builder. */
export async function tableImportOffences(name: string, source: string): Promise<string[]> {
  const file = path.join(ROOT, name);
  const offences: string[] = [];
  for (const { specifier, names, typeOnly } of importsIn(source)) {
    if (specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/')) {
      if (!typeOnly) offences.push(`imports ${specifier} (${names.join(', ')}): query builders belong in a domain module`);
      continue;
    }
    if (!specifier.startsWith('.')) continue;
    const target = rel(path.resolve(path.dirname(file), specifier));
    if (!target.startsWith('db/')) continue;
    const tables = names.includes('*') ? await tablesExportedBy(target) : names.filter((imported) => TABLES.has(imported));
    if (tables.length > 0) offences.push(`imports the table${tables.length > 1 ? 's' : ''} ${tables.join(', ')} from ${target}`);
  }
  return offences;
}
