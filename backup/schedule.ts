import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { pruneBackups } from './manifest.ts';
import { createBackup, type CreateBackupOptions, type CreatedBackup } from './service.ts';

export interface ScheduledBackupResult extends CreatedBackup {
  /** Manifests of the older backups deleted to keep `retentionCount`. */
  readonly pruned: readonly string[];
}

/**
 * The daily backup: a backup into the configured folder, then the oldest ones beyond
 * `retentionCount` deleted (only once the new one is written, so a failed night never leaves
 * fewer backups than before).
 */
export async function runScheduledBackup(
  options: CreateBackupOptions & { readonly retentionCount: number },
): Promise<ScheduledBackupResult> {
  const created = await createBackup(options);
  return { ...created, pruned: pruneBackups(options.outDir, options.retentionCount) };
}

/**
 * When the newest backup of this database was made (any process, any folder), from the audit
 * log's `backup.create` rows of the last `withinDays` days (read through the time index, so
 * the whole log is never scanned); null when there is none that recent.
 */
export async function lastBackupAt(db: Database, options: { withinDays?: number } = {}): Promise<Date | null> {
  const days = options.withinDays ?? 8;
  const [row] = await queryRows<{ at: string | Date | null }>(
    db,
    sql`select max(occurred_at) as at from audit_log
        where occurred_at > now() - make_interval(days => ${days}) and action = 'backup.create' and outcome = 'ok'`,
  );
  return row?.at ? new Date(row.at) : null;
}
