import { sql } from 'drizzle-orm';
import { GENESIS_HASH, verifyAuditChain } from '../audit/index.ts';
import { queryRows, type Database } from '../db/index.ts';
import { BackupCorruptError, type AuditHead, type BackupManifest } from './manifest.ts';

/**
 * What a database holds, as a backup's manifest records it and a restore is checked against:
 * every table's row count, the audit chain's head, the migration level. Read in one
 * transaction's snapshot when given one.
 */
export interface Inventory {
  readonly tables: Record<string, number>;
  readonly totalRows: number;
  readonly auditHead: AuditHead;
  readonly migrations: BackupManifest['migrations'];
  readonly serverVersion: string;
  readonly timescaledb: string | null;
}

/** Schemas that are PostgreSQL's or an extension's own, not the product's data. */
const SYSTEM_SCHEMAS = sql`table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg\\_%' and table_schema not like '\\_timescaledb%' and table_schema not like 'timescaledb\\_%'`;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The product's tables (`schema.table`), sorted. */
export async function listTables(db: Database): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select table_schema || '.' || table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and ${SYSTEM_SCHEMAS} order by 1`,
  );
  return rows.map((row) => row.name);
}

export async function takeInventory(db: Database): Promise<Inventory> {
  const tables = await listTables(db);
  const counts: Record<string, number> = {};
  if (tables.length > 0) {
    // One statement for every count: one snapshot even outside a transaction, one round trip.
    const parts = tables.map((name) => {
      const [schema, table] = name.split('.') as [string, string];
      return `select ${`'${name.replaceAll("'", "''")}'`} as name, count(*)::bigint::text as rows from ${quoteIdent(schema)}.${quoteIdent(table)}`;
    });
    for (const row of await queryRows<{ name: string; rows: string }>(db, sql.raw(parts.join(' union all '))))
      counts[row.name] = Number(row.rows);
  }
  const totalRows = Object.values(counts).reduce((sum, rows) => sum + rows, 0);
  const hasAudit = tables.includes('public.audit_log');
  const [head] = hasAudit
    ? await queryRows<{ id: number | null; hash: string | null }>(db, sql`select id, hash from audit_log order by id desc limit 1`)
    : [];
  const hasMigrations = tables.includes('drizzle.__drizzle_migrations');
  const [migrations] = hasMigrations
    ? await queryRows<{ applied: number; latest: string | null }>(
        db,
        sql`select count(*)::int as applied, max(created_at)::text as latest from drizzle.__drizzle_migrations`,
      )
    : [];
  const [server] = await queryRows<{ version: string; timescaledb: string | null }>(
    db,
    sql`select current_setting('server_version') as version, (select extversion from pg_extension where extname = 'timescaledb') as timescaledb`,
  );
  return {
    tables: counts,
    totalRows,
    auditHead: {
      rows: counts['public.audit_log'] ?? 0,
      lastId: head?.id === undefined || head.id === null ? null : Number(head.id),
      lastHash: head?.hash ?? GENESIS_HASH,
    },
    migrations: { applied: migrations?.applied ?? 0, latestCreatedAt: migrations?.latest ? Number(migrations.latest) : null },
    serverVersion: server?.version ?? 'unknown',
    timescaledb: server?.timescaledb ?? null,
  };
}

export interface RestoreCheck {
  readonly tables: number;
  readonly totalRows: number;
  readonly auditRowsVerified: number;
  readonly auditHead: AuditHead;
}

/**
 * Checks a restored database against its manifest: the same tables with the same row counts,
 * the audit chain intact from its first row, and its head the one recorded. Throws naming the
 * first difference.
 */
export async function checkAgainstManifest(db: Database, manifest: BackupManifest, what: string): Promise<RestoreCheck> {
  const found = await takeInventory(db);
  const names = new Set([...Object.keys(manifest.tables), ...Object.keys(found.tables)]);
  const differences: string[] = [];
  for (const name of [...names].sort()) {
    const expected = manifest.tables[name];
    const actual = found.tables[name];
    if (expected !== actual)
      differences.push(
        `${name}: ${actual === undefined ? 'missing' : `${actual} rows`}, manifest ${expected === undefined ? 'has no such table' : `${expected} rows`}`,
      );
  }
  if (differences.length > 0)
    throw new BackupCorruptError(
      `${what} does not match its manifest: ${differences.slice(0, 3).join('; ')}${differences.length > 3 ? ` (and ${differences.length - 3} more tables)` : ''}`,
    );
  const chain = await verifyAuditChain(db);
  if (!chain.ok) throw new BackupCorruptError(`${what}: the audit chain is broken — ${chain.message}`);
  const head = manifest.auditHead;
  if (chain.rowsChecked !== head.rows || chain.lastId !== head.lastId || chain.lastHash !== head.lastHash)
    throw new BackupCorruptError(
      `${what}: the audit chain ends at row ${chain.lastId ?? 'none'} (${chain.lastHash.slice(0, 16)}…), the manifest recorded row ${head.lastId ?? 'none'} (${head.lastHash.slice(0, 16)}…)`,
    );
  return { tables: names.size, totalRows: found.totalRows, auditRowsVerified: chain.rowsChecked, auditHead: head };
}
