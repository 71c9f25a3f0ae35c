import { and, asc, eq, gt, gte, sql } from 'drizzle-orm';
import { notifications, queryRows, type Database, type Department } from '../db/index.ts';
import { deliveryChannels } from './channel.ts';

// The outbox read as a stream of events, for the web events stream (GET /api/v1/events). Every
// producer — the bot runner in any worker process, the tools, the approvals, the backtest jobs —
// already queues what a person is told here, in the transaction of the event; Telegram delivers
// the same rows. Reading them back, rather than a second bus, keeps one source of truth that
// crosses processes by itself (the database every process shares) and needs no rows of its own.

/** One queued notification as the web stream sees it (the first delivery channel's row of it). */
export interface QueuedNotification {
  readonly id: string;
  readonly tenantId: string;
  readonly recipientUserId: string | null;
  readonly recipientDepartment: Department | null;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly createdAt: Date;
}

/**
 * Notifications queued after `after` (the database's clock), oldest first, at most `limit`; the
 * next page starts after the last row's `{ after: createdAt, afterId: id }`. Each notification
 * once: the first delivery channel's row, without the per-person copies the outbox makes of a
 * department row when it fans it out (dedupe key `…:user:<id>`; the department row itself is
 * returned, for its staff). Pages are ordered by the time in milliseconds (what a Date holds),
 * then the id: rows queued in one transaction share one time to the microsecond, and a page
 * boundary among them must neither repeat nor skip any (a burst of 1,000 in one transaction made
 * the reader ask for the same page forever).
 */
export async function notificationsQueuedAfter(db: Database, after: Date, limit = 1_000, afterId?: string): Promise<QueuedNotification[]> {
  const ms = sql`date_trunc('milliseconds', ${notifications.createdAt})`;
  return db
    .select({
      id: notifications.id,
      tenantId: notifications.tenantId,
      recipientUserId: notifications.recipientUserId,
      recipientDepartment: notifications.recipientDepartment,
      type: notifications.type,
      payload: notifications.payload,
      createdAt: notifications.createdAt,
    })
    .from(notifications)
    .where(
      and(
        eq(notifications.channel, deliveryChannels()[0]),
        afterId === undefined
          ? gt(notifications.createdAt, after)
          : and(
              gte(notifications.createdAt, after),
              sql`(${ms}, ${notifications.id}) > (${after.toISOString()}::timestamptz, ${afterId}::uuid)`,
            ),
        sql`not (${notifications.recipientUserId} is not null and coalesce(${notifications.dedupeKey}, '') like '%:user:' || ${notifications.recipientUserId}::text)`,
      ),
    )
    .orderBy(ms, asc(notifications.id))
    .limit(limit);
}

/** The database's clock now (where a reader of notificationsQueuedAfter starts). */
export async function outboxClock(db: Database): Promise<Date> {
  const [row] = await queryRows<{ now: string | Date }>(db, sql`select now() as now`);
  if (!row) throw new Error('the database did not answer select now()');
  return new Date(row.now);
}

const queuedListeners = new Set<() => void>();

/**
 * The PostgreSQL channel enqueueNotification NOTIFYs (at its transaction's commit) when it
 * queued something: a reader in another process LISTENing on it reads the outbox at once
 * instead of on its next poll.
 */
export const OUTBOX_QUEUED_CHANNEL = 'botcriptofy_outbox_queued';

/**
 * Calls `listener` after every enqueueNotification in this process (it may not be committed
 * yet: a reader looks again on its own schedule). Lets the web stream skip its poll interval
 * for events made here; returns the undo.
 */
export function onNotificationQueued(listener: () => void): () => void {
  queuedListeners.add(listener);
  return () => {
    queuedListeners.delete(listener);
  };
}

/** enqueueNotification's hook. */
export function announceQueued(): void {
  for (const listener of queuedListeners) listener();
}
