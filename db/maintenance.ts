import { sql } from 'drizzle-orm';
import type { Database, DatabaseHandle } from './client.ts';

/**
 * Refreshes the planner's statistics. A PostgreSQL server's autovacuum does this by itself
 * in time; right after a bulk load (the demo company) nothing has yet, and the planner,
 * guessing one row per table, picks plans that read whole tables.
 */
export async function analyzeDatabase(db: Database): Promise<void> {
  await db.execute(sql`analyze`);
}

/**
 * What autovacuum does on a server, for the embedded database, which has no background
 * processes: dead rows reclaimed and statistics refreshed. Blocks other statements while it
 * runs (the embedded engine runs one at a time), so it is scheduled, not continuous. A no-op
 * on a PostgreSQL server, whose autovacuum does it better. Returns the time taken, in ms.
 */
export async function maintainEmbeddedDatabase(handle: Pick<DatabaseHandle, 'db' | 'driver'>): Promise<number | undefined> {
  if (handle.driver !== 'pglite') return undefined;
  const started = performance.now();
  await handle.db.execute(sql`vacuum (analyze)`);
  return Math.round(performance.now() - started);
}
