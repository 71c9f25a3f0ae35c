import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { queryRows, tableExists, type DatabaseHandle } from './client.ts';
// The journal lists the shipped migrations in order; its tags name their SQL files.
import journal from './migrations/meta/_journal.json' with { type: 'json' };

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Advisory-lock key reserved for migrations (any constant; "BCFY" in ASCII). */
const MIGRATION_LOCK_KEY = 0x42434659;

export interface MigrationStatus {
  /** Migrations shipped with this build. */
  readonly expected: number;
  readonly applied: number;
  readonly pending: number;
  /** Tag of the newest shipped migration, e.g. `0001_audit_append_only_and_candle_hypertable`. */
  readonly latest: string | undefined;
}

/** Applies pending migrations; safe to run from several processes at once. */
export async function runMigrations(handle: DatabaseHandle): Promise<MigrationStatus> {
  await handle.withExclusiveLock(MIGRATION_LOCK_KEY, async () => {
    if (handle.driver === 'pglite') {
      await migratePglite(handle.db as unknown as PgliteDatabase<Record<string, never>>, { migrationsFolder });
    } else {
      await migratePostgres(handle.db as unknown as PostgresJsDatabase<Record<string, never>>, { migrationsFolder });
    }
  });
  return migrationStatus(handle);
}

export async function migrationStatus(handle: DatabaseHandle): Promise<MigrationStatus> {
  const shipped = readMigrationFiles({ migrationsFolder });
  const latest = journal.entries.at(-1)?.tag;
  if (!(await tableExists(handle.db, '__drizzle_migrations', 'drizzle'))) {
    return { expected: shipped.length, applied: 0, pending: shipped.length, latest };
  }
  const rows = await queryRows<{ created_at: string | number }>(handle.db, sql`select created_at from drizzle.__drizzle_migrations`);
  const appliedAt = new Set(rows.map((row) => Number(row.created_at)));
  const pending = shipped.filter((migration) => !appliedAt.has(migration.folderMillis)).length;
  return { expected: shipped.length, applied: rows.length, pending, latest };
}
