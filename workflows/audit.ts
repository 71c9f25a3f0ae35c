import { sql } from 'drizzle-orm';
import { appendAudit } from '../audit/index.ts';
import { queryRows, type Database } from '../db/index.ts';

/**
 * Appends an audit entry once per key (kept in its details): a step that audited and then
 * was re-run after a crash writes nothing more. Runs are owned by one process at a time, so
 * the check and the append do not race.
 */
export async function auditOnce(db: Database, key: string, entry: Parameters<typeof appendAudit>[1]): Promise<void> {
  const [seen] = await queryRows(db, sql`select 1 from audit_log where action = ${entry.action} and details ->> 'key' = ${key} limit 1`);
  if (seen) return;
  await appendAudit(db, { ...entry, details: { ...(entry.details as Record<string, unknown> | undefined), key } });
}
