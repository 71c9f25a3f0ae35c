import { and, desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { bots, departments, notificationLevels, notificationPreferences, notifications, orders, trades, users, type Database, type NotificationLevel } from '../../db/index.ts';
import type { BotEvent } from '../../trading/runner/events.ts';
import { numberToDecimal } from '../../i18n/index.ts';
import { notificationTypes, parsePayload, type NotificationType } from './templates.ts';

const recipientSchema = z.union([
  z.object({ userId: z.uuid() }).strict(),
  z.object({ department: z.enum(departments) }).strict(),
]);

const enqueueSchema = z.object({
  tenantId: z.uuid(),
  to: recipientSchema,
  type: z.string().min(1).max(60),
  payload: z.record(z.string(), z.unknown()),
  /** Same key twice → queued once (e.g. a replayed webhook: `${event.id}:trader`). */
  dedupeKey: z.string().min(1).max(300).optional(),
  /** Not before this instant (e.g. a reminder). */
  notBefore: z.date().optional(),
});

export type EnqueueNotificationInput = z.input<typeof enqueueSchema> & { readonly type: NotificationType | (string & {}) };

/**
 * Queues one notification in the outbox (call it inside the transaction of the event that
 * causes it, so both commit or neither does). The payload is checked against its type now,
 * so a producer's mistake fails at the producer, not later in the sender. A department as
 * recipient reaches every linked staff member of it, each once. Returns the row id, or
 * `created: false` when the dedupe key was already queued.
 */
export async function enqueueNotification(db: Database, input: EnqueueNotificationInput): Promise<{ id: string | null; created: boolean }> {
  const parsed = enqueueSchema.parse(input);
  const payload = parsePayload(parsed.type, parsed.payload);
  const [row] = await db
    .insert(notifications)
    .values({
      tenantId: parsed.tenantId,
      recipientUserId: 'userId' in parsed.to ? parsed.to.userId : null,
      recipientDepartment: 'department' in parsed.to ? parsed.to.department : null,
      type: parsed.type,
      payload,
      dedupeKey: parsed.dedupeKey ?? null,
      nextAttemptAt: parsed.notBefore ?? null,
    })
    .onConflictDoNothing()
    .returning({ id: notifications.id });
  return row ? { id: row.id, created: true } : { id: null, created: false };
}

/** A type name a preference may use: a notification type, or `*` for all of them. */
export const preferenceTypeSchema = z.union([z.enum(notificationTypes as [NotificationType, ...NotificationType[]]), z.literal('*')]);

/**
 * Sets how a person receives one type of notification: `on`, `silent` (delivered without
 * sound) or `off` (not delivered; the row is marked skipped). `*` sets every type that has
 * no setting of its own.
 */
export async function setNotificationPreference(db: Database, userId: string, type: NotificationType | '*', level: NotificationLevel): Promise<void> {
  const args = z.object({ userId: z.uuid(), type: preferenceTypeSchema, level: z.enum(notificationLevels) }).parse({ userId, type, level });
  await db
    .insert(notificationPreferences)
    .values({ userId: args.userId, type: args.type, level: args.level })
    .onConflictDoUpdate({ target: [notificationPreferences.userId, notificationPreferences.type], set: { level: args.level, updatedAt: new Date() } });
}

/** A person's settings: every type with the level in force (absent = on; `*` applies to the rest). */
export async function getNotificationPreferences(db: Database, userId: string): Promise<Record<NotificationType, NotificationLevel>> {
  const rows = await db.select().from(notificationPreferences).where(eq(notificationPreferences.userId, z.uuid().parse(userId)));
  const byType = new Map(rows.map((row) => [row.type, row.level]));
  const fallback = byType.get('*') ?? 'on';
  return Object.fromEntries(notificationTypes.map((type) => [type, byType.get(type) ?? fallback])) as Record<NotificationType, NotificationLevel>;
}

/**
 * Turns a trading bot's event into a notification for the trader (the BotRunner's
 * `onEvent`). Figures are read back from the rows the runner just wrote (exact decimals, and
 * the trade or order id as dedupe key, so an event reported twice is queued once).
 */
export async function notifyBotEvent(db: Database, event: BotEvent): Promise<{ id: string | null; created: boolean }[]> {
  const [bot] = await db.select({ name: bots.name }).from(bots).where(and(eq(bots.id, event.botId), eq(bots.tenantId, event.tenantId)));
  const recipients = await db.select({ id: users.id }).from(users).where(and(eq(users.tenantId, event.tenantId), eq(users.status, 'active')));
  const botName = bot?.name;
  let type: NotificationType;
  let payload: Record<string, unknown>;
  let dedupe: string | undefined;
  switch (event.type) {
    case 'trade_opened': {
      const [trade] = await db
        .select()
        .from(trades)
        .where(and(eq(trades.botId, event.botId), eq(trades.symbol, event.symbol), eq(trades.status, 'open')))
        .orderBy(desc(trades.openedAt))
        .limit(1);
      type = 'trade_opened';
      payload = { botId: event.botId, botName, symbol: event.symbol, tradeId: trade?.id, amountBase: trade?.amountBase ?? numberToDecimal(event.amountBase), priceQuote: trade?.openPriceQuote ?? numberToDecimal(event.priceQuote) };
      dedupe = trade ? `trade_opened:${trade.id}` : undefined;
      break;
    }
    case 'trade_closed': {
      const [trade] = await db
        .select()
        .from(trades)
        .where(and(eq(trades.botId, event.botId), eq(trades.symbol, event.symbol), eq(trades.status, 'closed')))
        .orderBy(desc(trades.closedAt))
        .limit(1);
      type = event.reason === 'stop_loss' ? 'stop_loss_hit' : 'trade_closed';
      payload = {
        botId: event.botId,
        botName,
        symbol: event.symbol,
        tradeId: trade?.id,
        amountBase: trade?.amountBase ?? numberToDecimal(event.amountBase),
        openPriceQuote: trade?.openPriceQuote ?? undefined,
        closePriceQuote: trade?.closePriceQuote ?? numberToDecimal(event.priceQuote),
        profitQuote: trade?.profitQuote ?? numberToDecimal(event.profitQuote),
        profitPct: trade?.profitPct ?? undefined,
        reason: event.reason,
      };
      dedupe = trade ? `trade_closed:${trade.id}` : undefined;
      break;
    }
    case 'risk_refusal': {
      const [order] = await db
        .select({ id: orders.id })
        .from(orders)
        .where(and(eq(orders.botId, event.botId), eq(orders.symbol, event.symbol), eq(orders.status, 'rejected')))
        .orderBy(desc(orders.createdAt))
        .limit(1);
      type = 'risk_refusal';
      payload = { botId: event.botId, botName, symbol: event.symbol, rule: event.rule, reason: event.reason };
      dedupe = order ? `risk_refusal:${order.id}` : undefined;
      break;
    }
    case 'bot_paused':
      type = 'bot_paused';
      payload = { botId: event.botId, botName, reason: event.reason };
      break;
  }
  const clean = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>; // drops undefined fields
  const results = [];
  for (const user of recipients) {
    results.push(
      await enqueueNotification(db, { tenantId: event.tenantId, to: { userId: user.id }, type, payload: clean, ...(dedupe ? { dedupeKey: `${dedupe}:${user.id}` } : {}) }),
    );
  }
  return results;
}

