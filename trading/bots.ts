import { and, eq } from 'drizzle-orm';
import { checkBotStart } from '../billing/index.ts';
import { bots, configEntries, getScoped, type Database, type TenantScope } from '../db/index.ts';

export type TradingMode = 'paper' | 'live';

/**
 * Where a bot's orders go. Paper bots: the paper exchange. Live bots: the exchange's
 * sandbox/testnet, and real money only when the operator set TRADING_MODE=live *and* the bot
 * itself is in live mode.
 */
export function tradingVenue(botMode: 'paper' | 'live', tradingMode: TradingMode): 'paper' | 'sandbox' | 'live' {
  if (botMode === 'paper') return 'paper';
  return tradingMode === 'live' ? 'live' : 'sandbox';
}

export class BotControlError extends Error {
  readonly upgradeTo: string | undefined;
  constructor(message: string, upgradeTo?: string) {
    super(message);
    this.name = 'BotControlError';
    this.upgradeTo = upgradeTo;
  }
}

/** Starts a trader's bot after the plan checks; the runner picks it up on its next tick. */
export async function startBot(db: Database, scope: TenantScope, botId: string): Promise<typeof bots.$inferSelect> {
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) throw new BotControlError(`No bot ${botId} in this account.`);
  if (bot.status === 'running') return bot;
  if (bot.status === 'frozen') throw new BotControlError('This bot is frozen by Security; it cannot be started until the freeze is lifted.');
  const entitlement = await checkBotStart(db, scope, bot);
  if (!entitlement.allowed) throw new BotControlError(entitlement.reason, entitlement.upgradeTo);
  const [started] = await db
    .update(bots)
    .set({ status: 'running', startedAt: new Date(), lastError: null, updatedAt: new Date() })
    .where(and(eq(bots.id, bot.id), eq(bots.tenantId, scope.tenantId)))
    .returning();
  return started!;
}

export async function stopBot(db: Database, scope: TenantScope, botId: string): Promise<typeof bots.$inferSelect> {
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) throw new BotControlError(`No bot ${botId} in this account.`);
  const [stopped] = await db
    .update(bots)
    .set({ status: 'stopped', stoppedAt: new Date(), updatedAt: new Date() })
    .where(and(eq(bots.id, bot.id), eq(bots.tenantId, scope.tenantId)))
    .returning();
  return stopped!;
}

/** The kill switch: on when the environment forces it, or when staff set `trading.kill_switch`. */
export async function killSwitchEngaged(db: Database, forcedByEnvironment: boolean): Promise<boolean> {
  if (forcedByEnvironment) return true;
  const [entry] = await db.select({ value: configEntries.value }).from(configEntries).where(eq(configEntries.key, 'trading.kill_switch'));
  return entry?.value === true;
}
