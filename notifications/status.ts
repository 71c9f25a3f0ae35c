import { and, eq, sql } from 'drizzle-orm';
import { deliveryChannels } from './channel.ts';
import { notifications, type Database } from '../db/index.ts';

// Reading the outbox for those who report on it (the executive report's system step) or need
// a queued row back (a workflow resumed after it queued its notice), so no producer reads the
// table itself.

/** The row queued under a dedupe key (the first delivery channel's, as enqueueNotification returns it), if any. */
export async function queuedNotificationId(db: Database, dedupeKey: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: notifications.id })
    .from(notifications)
    .where(and(eq(notifications.dedupeKey, dedupeKey), eq(notifications.channel, deliveryChannels()[0])));
  return row?.id;
}

/** Rows still to deliver (pending) and rows that failed for good, over every channel. */
export async function outboxCounts(db: Database): Promise<{ pending: number; failed: number }> {
  const [row] = await db
    .select({
      pending: sql<number>`count(*) filter (where ${notifications.status} = 'pending')::int`,
      failed: sql<number>`count(*) filter (where ${notifications.status} = 'failed')::int`,
    })
    .from(notifications);
  return { pending: Number(row?.pending ?? 0), failed: Number(row?.failed ?? 0) };
}
