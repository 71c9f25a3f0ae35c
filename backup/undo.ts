import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { ProductError, type ErrorCategory } from '../errors/index.ts';

// A restore whose result fails its check must not leave that result behind: an unchecked
// database would be refused by a retry as "live data", and `start` would run on it. What the
// restore created in the (empty) server database is dropped again; the embedded folder is
// removed by the caller. Objects are told apart by what existed before the restore began.

/** The restore failed and was undone: the original reason, then what was put back. */
export class RestoreUndoneError extends ProductError {
  readonly category: ErrorCategory;
  constructor(cause: unknown, undone: string) {
    // One line, whatever the cause's message holds (a failed query's text spans several).
    const reason = (cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, ' ').trim();
    super(`${reason.replace(/[.\s]+$/, '')}. ${undone.replace(/\s+/g, ' ')}`);
    this.name = 'RestoreUndoneError';
    this.category = cause instanceof ProductError ? cause.category : 'unavailable';
    this.cause = cause;
  }
}

/** Schemas a restore may create objects in (the catalogue's and the extensions' internals excluded). */
const USER_SCHEMA = sql`n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'`;
/** Not a member of an extension (dropped with it). */
const notExtensionMember = (oid: ReturnType<typeof sql>) =>
  sql`not exists (select 1 from pg_depend d where d.objid = ${oid} and d.deptype = 'e')`;

interface DatabaseObjects {
  readonly extensions: Set<string>;
  readonly schemas: Set<string>;
  readonly relations: Set<string>;
  readonly types: Set<string>;
  readonly routines: Set<string>;
}

type Listed = {
  readonly oid: string;
  readonly name: string;
  readonly kind: string;
};

async function list(db: Database): Promise<Record<keyof DatabaseObjects, Listed[]>> {
  return {
    extensions: await queryRows<Listed>(db, sql`select oid::text as oid, quote_ident(extname) as name, 'x' as kind from pg_extension`),
    schemas: await queryRows<Listed>(
      db,
      sql`select n.oid::text as oid, quote_ident(n.nspname) as name, 'n' as kind from pg_namespace n where ${USER_SCHEMA}`,
    ),
    relations: await queryRows<Listed>(
      db,
      sql`select c.oid::text as oid, c.oid::regclass::text as name, c.relkind::text as kind from pg_class c
          join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and ${USER_SCHEMA} and ${notExtensionMember(sql`c.oid`)}`,
    ),
    types: await queryRows<Listed>(
      db,
      sql`select t.oid::text as oid, t.oid::regtype::text as name, t.typtype::text as kind from pg_type t
          join pg_namespace n on n.oid = t.typnamespace
          where t.typtype in ('e', 'd', 'r', 'm', 'c') and ${USER_SCHEMA} and ${notExtensionMember(sql`t.oid`)}
            and (t.typtype <> 'c' or (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c')`,
    ),
    routines: await queryRows<Listed>(
      db,
      sql`select p.oid::text as oid, p.oid::regprocedure::text as name, p.prokind::text as kind from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace where ${USER_SCHEMA} and ${notExtensionMember(sql`p.oid`)}`,
    ),
  };
}

/** What the database holds before a restore writes to it. */
export async function objectsBeforeRestore(db: Database): Promise<DatabaseObjects> {
  const listed = await list(db);
  const oids = (rows: Listed[]) => new Set(rows.map((row) => row.oid));
  return {
    extensions: oids(listed.extensions),
    schemas: oids(listed.schemas),
    relations: oids(listed.relations),
    types: oids(listed.types),
    routines: oids(listed.routines),
  };
}

const RELATION_KEYWORD: Record<string, string> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  f: 'foreign table',
};

/**
 * Drops everything created since `before` (extensions and schemas with their contents, then
 * tables, views, sequences, types and routines in schemas that were there), and returns the
 * number of objects dropped. Each drop cascades and tolerates what an earlier one took along.
 */
export async function dropCreatedSince(db: Database, before: DatabaseObjects): Promise<number> {
  const now = await list(db);
  const statements: string[] = [];
  const created = (key: keyof DatabaseObjects) => now[key].filter((row) => !before[key].has(row.oid));
  for (const row of created('extensions')) statements.push(`drop extension if exists ${row.name} cascade`);
  for (const row of created('schemas')) statements.push(`drop schema if exists ${row.name} cascade`);
  // Tables first: their identity and serial sequences, and views on them, go with them (an
  // owned sequence cannot be dropped on its own; the later `if exists` then skips it).
  const order = 'rpfmvS';
  const relations = created('relations').sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  for (const row of relations) statements.push(`drop ${RELATION_KEYWORD[row.kind]} if exists ${row.name} cascade`);
  for (const row of created('types')) statements.push(`drop ${row.kind === 'd' ? 'domain' : 'type'} if exists ${row.name} cascade`);
  for (const row of created('routines')) statements.push(`drop routine if exists ${row.name} cascade`);
  if (statements.length === 0) return 0;
  // One transaction: the database is back as it was, or untouched by the undo.
  await db.transaction(async (tx) => {
    // "drop cascades to …" and "does not exist, skipping" are expected here, not news.
    await tx.execute(sql`set local client_min_messages = warning`);
    for (const statement of statements) await tx.execute(sql.raw(statement));
  });
  return statements.length;
}
