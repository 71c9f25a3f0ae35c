import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { departments, notifications, runsStatementsOneAtATime, type Database } from '../db/index.ts';
import { deliveryChannels } from './channel.ts';
import { parsePayload, type NotificationType } from './templates.ts';
import { announceQueued, OUTBOX_QUEUED_CHANNEL } from './web-events.ts';

// The one way into the outbox: every producer (workflows, billing, trading, the doors) queues
// through enqueueNotification, so every payload is checked against its type's schema here.

const recipientSchema = z.union([z.object({ userId: z.uuid() }).strict(), z.object({ department: z.enum(departments) }).strict()]);

const enqueueSchema = z.object({
  tenantId: z.uuid(),
  to: recipientSchema,
  type: z.string().min(1).max(60),
  payload: z.record(z.string(), z.unknown()),
  /** Same key twice → queued once per channel (e.g. a replayed webhook: `${event.id}:trader`). */
  dedupeKey: z.string().min(1).max(300).optional(),
  /** Not before this instant (e.g. a reminder). */
  notBefore: z.date().optional(),
});

export type EnqueueNotificationInput = z.input<typeof enqueueSchema> & { readonly type: NotificationType | (string & {}) };

/**
 * Queues one notification in the outbox (call it inside the transaction of the event that
 * causes it, so both commit or neither does). The payload is checked against its type now,
 * so a producer's mistake fails at the producer, not later in the sender. A department as
 * recipient reaches every linked staff member of it, each once. One row per delivery channel;
 * returns the first channel's row id, or `created: false` when the dedupe key was already queued.
 */
export async function enqueueNotification(db: Database, input: EnqueueNotificationInput): Promise<{ id: string | null; created: boolean }> {
  const parsed = enqueueSchema.parse(input);
  const payload = parsePayload(parsed.type, parsed.payload);
  const rows = await db
    .insert(notifications)
    .values(
      deliveryChannels().map((channel) => ({
        tenantId: parsed.tenantId,
        recipientUserId: 'userId' in parsed.to ? parsed.to.userId : null,
        recipientDepartment: 'department' in parsed.to ? parsed.to.department : null,
        channel,
        type: parsed.type,
        payload,
        dedupeKey: parsed.dedupeKey ?? null,
        nextAttemptAt: parsed.notBefore ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: notifications.id, channel: notifications.channel });
  if (rows.length > 0) {
    announceQueued();
    // Other processes' readers (a server's LISTEN); the embedded engine runs in one process.
    if (!runsStatementsOneAtATime(db)) await db.execute(sql`select pg_notify(${OUTBOX_QUEUED_CHANNEL}, '')`);
  }
  const first = rows.find((row) => row.channel === deliveryChannels()[0]) ?? rows[0];
  return first ? { id: first.id, created: true } : { id: null, created: false };
}
