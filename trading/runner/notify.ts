import { and, desc, eq } from 'drizzle-orm';
import { bots, orders, trades, users, type Database } from '../../db/index.ts';
import { numberToDecimal } from '../../i18n/index.ts';
import { enqueueNotification, type NotificationType } from '../../notifications/index.ts';
import type { BotEvent } from './events.ts';

// Trading as a producer of notifications: a bot's events become notices for the trader,
// queued through the notifications layer like every other producer's.

/**
 * Turns a trading bot's event into a notification for the trader (the BotRunner's
 * `onEvent`). Figures are read back from the rows the runner just wrote (exact decimals, and
 * the trade or order id as dedupe key, so an event reported twice is queued once).
 */
export async function notifyBotEvent(db: Database, event: BotEvent): Promise<{ id: string | null; created: boolean }[]> {
  const [bot] = await db
    .select({ name: bots.name })
    .from(bots)
    .where(and(eq(bots.id, event.botId), eq(bots.tenantId, event.tenantId)));
  const recipients = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, event.tenantId), eq(users.status, 'active')));
  const botName = bot?.name;
  let type: NotificationType;
  let payload: Record<string, unknown>;
  let dedupe: string | undefined;
  switch (event.type) {
    case 'trade_opened': {
      const trade = await latestTrade(db, event.botId, event.symbol, 'open');
      type = 'trade_opened';
      payload = {
        botId: event.botId,
        botName,
        symbol: event.symbol,
        tradeId: trade?.id,
        amountBase: trade?.amountBase ?? numberToDecimal(event.amountBase),
        priceQuote: trade?.openPriceQuote ?? numberToDecimal(event.priceQuote),
      };
      dedupe = trade ? `trade_opened:${trade.id}` : undefined;
      break;
    }
    case 'trade_closed': {
      const trade = await latestTrade(db, event.botId, event.symbol, 'closed');
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
      await enqueueNotification(db, {
        tenantId: event.tenantId,
        to: { userId: user.id },
        type,
        payload: clean,
        ...(dedupe ? { dedupeKey: `${dedupe}:${user.id}` } : {}),
      }),
    );
  }
  return results;
}

/** The bot's trade on the symbol the event is about: the newest open one, or the newest closed one. */
async function latestTrade(db: Database, botId: string, symbol: string, status: 'open' | 'closed') {
  const [trade] = await db
    .select()
    .from(trades)
    .where(and(eq(trades.botId, botId), eq(trades.symbol, symbol), eq(trades.status, status)))
    .orderBy(desc(status === 'open' ? trades.openedAt : trades.closedAt))
    .limit(1);
  return trade;
}

/**
 * A bot started or stopped (trading/bots.ts): a `bot_status` notice for every active person of
 * its tenant, queued in the caller's transaction with the status change itself.
 */
export async function notifyBotStatus(
  db: Database,
  bot: { readonly id: string; readonly tenantId: string; readonly name: string },
  previousStatus: string,
  status: string,
): Promise<void> {
  const recipients = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, bot.tenantId), eq(users.status, 'active')));
  for (const user of recipients) {
    await enqueueNotification(db, {
      tenantId: bot.tenantId,
      to: { userId: user.id },
      type: 'bot_status',
      payload: { botId: bot.id, botName: bot.name, previousStatus, status },
    });
  }
}
