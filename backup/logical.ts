import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import postgres from 'postgres';
import { z } from 'zod';
import { migrationsFolder } from '../db/index.ts';
import { BackupCorruptError, type BackupManifest } from './manifest.ts';
import { UsageError } from '../errors/index.ts';

/**
 * The logical dump: a server's data copied through SQL alone, for when no pg_dump as new as the
 * server is installed (the container image ships none; compose and Helm run PostgreSQL 17).
 * It holds data only — the schema comes back from the product's own migrations, applied up to
 * the level the dump records — so it restores into the version that made it (or a newer one,
 * whose later migrations then run at its next start).
 *
 * The file is one gzip stream of lines:
 *   1. a header JSON line: {format, formatVersion, migrations [{hash, createdAt}], tables [names], sequences [{name, value}]};
 *   2. per table, a JSON line {table, columns, rows}, then that many lines of COPY text format
 *      (tab-separated, `\N` for null, newlines and backslashes escaped, so one row is one line),
 *      then a line `\.` (COPY's own end marker, which no data line can be: a data backslash is `\\`).
 * Every table is read with `COPY (SELECT columns FROM table) TO STDOUT` in the snapshot the
 * manifest's counts come from (a TimescaleDB hypertable's rows are in its chunks, which only a
 * SELECT on the hypertable reads). The drizzle migrations table is dumped like any other.
 */

export const LOGICAL_FORMAT = 'botcriptofy-logical-dump';

const headerSchema = z.object({
  format: z.literal(LOGICAL_FORMAT),
  formatVersion: z.literal(1),
  migrations: z.array(z.object({ hash: z.string(), createdAt: z.number().int() })),
  tables: z.array(z.string()),
  sequences: z.array(z.object({ name: z.string(), value: z.number().int().nullable() })),
});
type LogicalHeader = z.infer<typeof headerSchema>;

const sectionSchema = z.object({
  table: z.string().regex(/^[^.]+\.[^.]+$/),
  columns: z.array(z.string().min(1)).min(1),
  rows: z.number().int().min(0),
});

const END_OF_TABLE = '\\.';
const MIGRATIONS_TABLE = 'drizzle.__drizzle_migrations';
const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const qualified = (name: string) =>
  name
    .split('.')
    .map((part) => quoteIdent(part))
    .join('.');

/** Schemas that are PostgreSQL's or an extension's own (as the inventory's). */
const SYSTEM_SCHEMA_FILTER = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%' and n.nspname not like '\\_timescaledb%' and n.nspname not like 'timescaledb\\_%'`;

/**
 * Writes the logical dump of the database at `url` to `file`, reading in the exported
 * `snapshot` (the one the manifest's counts were taken in); `rowsByTable` are those counts,
 * and every table must give exactly that many rows.
 */
export async function writeLogicalDump(
  url: string,
  snapshot: string,
  rowsByTable: Readonly<Record<string, number>>,
  file: string,
): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client.begin('isolation level repeatable read read only', async (tx) => {
      await tx.unsafe(`set transaction snapshot '${snapshot.replaceAll("'", "''")}'`);
      const columns = await tx<{ name: string; column: string }[]>`
        select n.nspname || '.' || c.relname as name, a.attname as column
        from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid
        where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
          and ${tx.unsafe(SYSTEM_SCHEMA_FILTER)}
        order by 1, a.attnum`;
      const columnsByTable = new Map<string, string[]>();
      for (const row of columns) columnsByTable.set(row.name, [...(columnsByTable.get(row.name) ?? []), row.column]);
      const tables = await dependencyOrder(tx, Object.keys(rowsByTable));
      const sequences = await tx<{ name: string; value: string | null }[]>`
        select schemaname || '.' || sequencename as name, last_value::text as value from pg_sequences
        where schemaname not in ('pg_catalog', 'information_schema') and schemaname not like '\\_timescaledb%' and schemaname not like 'timescaledb\\_%'
        order by 1`;
      const migrations = tables.includes(MIGRATIONS_TABLE)
        ? await tx<
            { hash: string; created_at: string }[]
          >`select hash, created_at::text from drizzle.__drizzle_migrations order by created_at`
        : [];
      const header: LogicalHeader = {
        format: LOGICAL_FORMAT,
        formatVersion: 1,
        migrations: migrations.map((row) => ({ hash: row.hash, createdAt: Number(row.created_at) })),
        tables,
        sequences: sequences.map((row) => ({ name: row.name, value: row.value === null ? null : Number(row.value) })),
      };
      const gzip = zlib.createGzip({ level: 6 });
      const written = pipeline(gzip, fs.createWriteStream(file, { mode: 0o600 }));
      const write = async (text: string) => {
        if (!gzip.write(text)) await once(gzip, 'drain');
      };
      try {
        await write(`${JSON.stringify(header)}\n`);
        for (const table of tables) {
          const names = columnsByTable.get(table);
          if (!names) throw new Error(`${table} has no columns to copy`);
          const rows = rowsByTable[table]!;
          await write(`${JSON.stringify({ table, columns: names, rows })}\n`);
          const select = `select ${names.map(quoteIdent).join(', ')} from ${qualified(table)}`;
          let lines = 0;
          const stream = await tx.unsafe(`copy (${select}) to stdout`).readable();
          // Read in flowing mode, each chunk handed to gzip at once (gzip buffers while the file
          // catches up; backpressure is applied between tables): postgres.js pauses its socket
          // when a COPY stream's buffer is full, and when that happens on the last chunk it is
          // never resumed and the transaction hangs (porsager/postgres#917, #499) — seen here.
          await new Promise<void>((resolve, reject) => {
            stream.on('data', (chunk: Buffer) => {
              for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
              gzip.write(chunk);
            });
            stream.on('end', resolve);
            stream.on('error', reject);
          });
          if (lines !== rows) throw new Error(`${table} gave ${lines} rows in the snapshot that counted ${rows}`);
          await write(`${END_OF_TABLE}\n`);
        }
      } finally {
        gzip.end();
        await written;
      }
    });
  } finally {
    await client.end({ timeout: 2 });
  }
}

/**
 * Restores a logical dump into the empty database at `url`, in one transaction (all or
 * nothing): the product's migrations up to the dump's level (the migration SQL this build
 * ships, the dump's own rows of the migrations table), then every table by `COPY … FROM STDIN`
 * with foreign keys' referenced tables first, then the sequences. The audit log's triggers
 * refuse only UPDATE, DELETE and TRUNCATE, so its rows load as written, hashes and all; no
 * trigger is disabled (which would need a superuser's session_replication_role).
 */
export async function restoreLogicalDump(url: string, dumpPath: string, manifest: BackupManifest): Promise<void> {
  const lines = readline.createInterface({
    input: fs.createReadStream(dumpPath).pipe(zlib.createGunzip()),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const iterator = lines[Symbol.asyncIterator]();
  const what = `backup ${manifest.dump.file}`;
  const nextLine = async (): Promise<string | undefined> => {
    try {
      const next = await iterator.next();
      return next.done ? undefined : next.value;
    } catch (error) {
      throw new BackupCorruptError(`${what} is not a readable gzip stream: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const parseLine = <T>(line: string | undefined, schema: z.ZodType<T>, part: string): T => {
    try {
      return schema.parse(JSON.parse(line ?? ''));
    } catch {
      throw new BackupCorruptError(`${what} is not a logical dump this build reads: its ${part} is missing or malformed`);
    }
  };
  const header = parseLine(await nextLine(), headerSchema, 'header');
  const shipped = readMigrationFiles({ migrationsFolder });
  const shippedAt = new Map(shipped.map((migration) => [migration.folderMillis, migration]));
  const unknown = header.migrations.filter((migration) => !shippedAt.has(migration.createdAt));
  if (unknown.length > 0)
    throw new UsageError(
      `${what} was made at a migration level this build does not have (${unknown.length} migrations it does not ship): restore it with product version ${manifest.productVersion} or newer`,
    );
  const level = Math.max(0, ...header.migrations.map((migration) => migration.createdAt));
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client.begin(async (tx) => {
      // The schema as it was: drizzle's own migrations table, then every shipped migration up to the dump's level.
      await tx.unsafe('create schema if not exists "drizzle"');
      await tx.unsafe(
        'create table if not exists "drizzle"."__drizzle_migrations" (id serial primary key, hash text not null, created_at bigint)',
      );
      for (const migration of shipped.filter((candidate) => candidate.folderMillis <= level))
        for (const statement of migration.sql) if (statement.trim()) await tx.unsafe(statement);
      // Deferrable foreign keys are checked at the commit, so a cycle between tables (the dump
      // writes the rest parents first) still loads.
      await tx.unsafe('set constraints all deferred');
      const sections = new Map<string, true>();
      for (let count = 0; count < header.tables.length; count++) {
        const section = parseLine(await nextLine(), sectionSchema, `table section ${count + 1}`);
        if (!header.tables.includes(section.table) || sections.has(section.table))
          throw new BackupCorruptError(`${what}: its section for ${section.table} is not one its header lists once`);
        sections.set(section.table, true);
        if (manifest.tables[section.table] !== section.rows)
          throw new BackupCorruptError(
            `${what} does not match its manifest: ${section.table}: ${section.rows} rows, manifest ${manifest.tables[section.table] ?? 'has no such table'} rows`,
          );
        const [exists] = await tx<{ ok: boolean }[]>`select to_regclass(${qualified(section.table)}) is not null as ok`;
        if (!exists?.ok)
          throw new BackupCorruptError(
            `${what}: ${section.table} is not a table of the product's migrations at the dump's level, and the logical dump restores only those (a pg_dump backup copies every table)`,
          );
        const target = await tableColumns(tx, section.table);
        const missing = section.columns.filter((column) => !target.has(column));
        if (missing.length > 0)
          throw new BackupCorruptError(
            `${what}: ${section.table} has columns the migrated schema lacks (${missing.join(', ')}): the dump and its recorded migration level disagree`,
          );
        const copy = await tx
          .unsafe(`copy ${qualified(section.table)} (${section.columns.map(quoteIdent).join(', ')}) from stdin`)
          .writable();
        const done = new Promise<void>((resolve, reject) => {
          copy.on('finish', resolve);
          copy.on('error', reject);
        });
        let rows = 0;
        let batch = '';
        for (;;) {
          const line = await nextLine();
          if (line === undefined) throw new BackupCorruptError(`${what} ends inside ${section.table}'s rows`);
          if (line === END_OF_TABLE) break;
          rows++;
          batch += `${line}\n`;
          if (batch.length >= 1 << 16) {
            if (!copy.write(batch)) await once(copy, 'drain');
            batch = '';
          }
        }
        if (batch) copy.write(batch);
        copy.end();
        await done;
        if (rows !== section.rows)
          throw new BackupCorruptError(`${what}: ${section.table} holds ${rows} rows, its section says ${section.rows}`);
      }
      if ((await nextLine()) !== undefined) throw new BackupCorruptError(`${what} has data after its last table`);
      for (const sequence of header.sequences) {
        const [exists] = await tx<{ ok: boolean }[]>`select to_regclass(${qualified(sequence.name)}) is not null as ok`;
        if (!exists?.ok) continue;
        if (sequence.value === null) await tx`select setval(${qualified(sequence.name)}::regclass, 1, false)`;
        else await tx`select setval(${qualified(sequence.name)}::regclass, ${sequence.value}, true)`;
      }
    });
  } catch (error) {
    if (error instanceof BackupCorruptError || error instanceof UsageError) throw error;
    throw new BackupCorruptError(`${what} could not be restored: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    lines.close();
    await client.end({ timeout: 2 });
  }
}

async function tableColumns(tx: postgres.TransactionSql, table: string): Promise<Set<string>> {
  const rows = await tx<{ column: string }[]>`
    select a.attname as column from pg_attribute a
    where a.attrelid = ${qualified(table)}::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''`;
  return new Set(rows.map((row) => row.column));
}

/**
 * Tables in an order that loads every table after the tables its foreign keys reference (a
 * table's references to itself are checked at its COPY's end, so they need no order). A cycle
 * — none in the product's schema today — keeps its tables in name order: restore defers the
 * deferrable keys to the commit, and a non-deferrable one in a cycle fails there, naming it.
 */
async function dependencyOrder(tx: postgres.TransactionSql, tables: readonly string[]): Promise<string[]> {
  const references = await tx<{ child: string; parent: string }[]>`
    select cn.nspname || '.' || c.relname as child, pn.nspname || '.' || p.relname as parent
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid join pg_namespace cn on cn.oid = c.relnamespace
    join pg_class p on p.oid = k.confrelid join pg_namespace pn on pn.oid = p.relnamespace
    where k.contype = 'f'`;
  const parents = new Map<string, Set<string>>(tables.map((table) => [table, new Set<string>()]));
  for (const { child, parent } of references)
    if (child !== parent && parents.has(child) && parents.has(parent)) parents.get(child)!.add(parent);
  const ordered: string[] = [];
  const placed = new Set<string>();
  let remaining = [...tables].sort();
  while (remaining.length > 0) {
    const ready = remaining.filter((table) => [...parents.get(table)!].every((parent) => placed.has(parent)));
    const next = ready.length > 0 ? ready : [remaining[0]!];
    for (const table of next) {
      ordered.push(table);
      placed.add(table);
    }
    remaining = remaining.filter((table) => !placed.has(table));
  }
  return ordered;
}
