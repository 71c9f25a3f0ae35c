import { ProductError } from '../errors/index.ts';
import { and, eq, sql } from 'drizzle-orm';
import { checkBotStart } from '../billing/index.ts';
import {
  assertTenantScope,
  bots,
  configEntries,
  exchangeAccounts,
  getScoped,
  paperBalances,
  type BotMode,
  type Database,
  type TenantScope,
} from '../db/index.ts';
import { splitSymbol } from './exchange/types.ts';
import { notifyBotStatus } from './runner/notify.ts';

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

/** The bot's state or the owner's plan forbids the change (already running, over the plan's bot limit). */
export class BotControlError extends ProductError {
  readonly category = 'conflict' as const;
  readonly upgradeTo: string | undefined;
  constructor(message: string, upgradeTo?: string) {
    super(message);
    this.name = 'BotControlError';
    this.upgradeTo = upgradeTo;
  }
}

/** A bot to create; validated by the caller (strategy, parameters, plan, exchange account). */
export interface NewBot {
  /** A stable id makes the creation idempotent (a workflow step run again); by default a new one. */
  readonly id?: string;
  readonly name: string;
  readonly strategyName: string;
  readonly parameters: Record<string, unknown>;
  readonly symbols: string[];
  readonly timeframe: string;
  readonly mode: BotMode;
  /** Cash the bot may commit, in its quote currency: an exact decimal. */
  readonly stakeQuote: string;
  /** The exchange account a live bot trades on. */
  readonly exchangeAccountId: string | null;
  /** The trader's cap on positions held at once (the runner opens none past it); absent or null: the operator's risk limit alone. */
  readonly maxOpenPositions?: number | null;
}

/**
 * Creates a trader's bot, stopped — the one way the product creates bots (create_bot, which
 * `botcriptofy bots create` calls, and the bot-onboarding workflow). A paper bot gets its paper
 * wallet in the same transaction: its stake in the quote currency of its first symbol, exactly
 * (the decimal as stored, as the paper exchange keeps balances), so its first entry is paid for
 * instead of sized to nothing and refused by the risk gate. A live bot gets no paper wallet: it
 * trades its exchange account. With `id`, asking again returns the bot already there, its wallet
 * left as it is (funded only if it has none), never funded twice.
 */
export async function createBot(
  db: Database,
  scope: TenantScope,
  values: NewBot,
): Promise<{ bot: typeof bots.$inferSelect; created: boolean }> {
  assertTenantScope(scope);
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(bots)
      .values({
        ...values,
        tenantId: scope.tenantId,
        status: 'stopped',
        // Its own record of its wallet's cash, as the demo's paper bots have.
        paperBalanceQuote: values.mode === 'paper' ? values.stakeQuote : null,
      })
      .onConflictDoNothing()
      .returning();
    const bot = inserted ?? (values.id === undefined ? undefined : await getScoped(tx, scope, bots, values.id));
    if (!bot) throw new BotControlError(`Bot ${values.id ?? ''} exists in another account.`);
    if (bot.mode === 'paper') await fundPaperWallet(tx, bot);
    return { bot, created: inserted !== undefined };
  });
}

/** A paper bot's wallet at creation: its stake in its quote currency, unless it already has one. */
async function fundPaperWallet(db: Database, bot: typeof bots.$inferSelect): Promise<void> {
  const { quote } = splitSymbol(bot.symbols[0]!);
  await db
    .insert(paperBalances)
    .values({ botId: bot.id, tenantId: bot.tenantId, asset: quote, amount: bot.stakeQuote })
    .onConflictDoNothing();
}

/** Starts a trader's bot after the plan checks; the runner picks it up on its next tick. */
export async function startBot(db: Database, scope: TenantScope, botId: string): Promise<typeof bots.$inferSelect> {
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) throw new BotControlError(`No bot ${botId} in this account.`);
  if (bot.status === 'running') return bot;
  if (bot.status === 'frozen')
    throw new BotControlError('This bot is frozen by Security; it cannot be started until the freeze is lifted.');
  const entitlement = await checkBotStart(db, scope, bot);
  if (!entitlement.allowed) throw new BotControlError(entitlement.reason, entitlement.upgradeTo);
  return db.transaction(async (tx) => {
    const [started] = await tx
      .update(bots)
      .set({ status: 'running', startedAt: new Date(), lastError: null, updatedAt: new Date() })
      .where(and(eq(bots.id, bot.id), eq(bots.tenantId, scope.tenantId)))
      .returning();
    await notifyBotStatus(tx, started!, bot.status, 'running');
    return started!;
  });
}

export async function stopBot(db: Database, scope: TenantScope, botId: string): Promise<typeof bots.$inferSelect> {
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) throw new BotControlError(`No bot ${botId} in this account.`);
  return db.transaction(async (tx) => {
    const [stopped] = await tx
      .update(bots)
      .set({ status: 'stopped', stoppedAt: new Date(), updatedAt: new Date() })
      .where(and(eq(bots.id, bot.id), eq(bots.tenantId, scope.tenantId)))
      .returning();
    if (bot.status !== 'stopped') await notifyBotStatus(tx, stopped!, bot.status, 'stopped');
    return stopped!;
  });
}

/** The kill switch: on when the environment forces it, or when staff set `trading.kill_switch`. */
export async function killSwitchEngaged(db: Database, forcedByEnvironment: boolean): Promise<boolean> {
  if (forcedByEnvironment) return true;
  const [entry] = await db.select({ value: configEntries.value }).from(configEntries).where(eq(configEntries.key, 'trading.kill_switch'));
  return entry?.value === true;
}

/** One of a tenant's bots (undefined when it is not theirs or gone). */
export async function getBot(db: Database, scope: TenantScope, botId: string): Promise<typeof bots.$inferSelect | undefined> {
  return getScoped(db, scope, bots, botId);
}

/** Whose bot this is and how it stands, for the system (an anomaly names a bot, not its owner). */
export async function botOwner(db: Database, botId: string): Promise<{ tenantId: string; status: string } | undefined> {
  const [bot] = await db.select({ tenantId: bots.tenantId, status: bots.status }).from(bots).where(eq(bots.id, botId));
  return bot;
}

/** Records why a stopped bot was not started (its `lastError`); a bot no longer stopped is left alone. */
export async function recordStoppedBotError(db: Database, scope: TenantScope, botId: string, message: string, at: Date): Promise<void> {
  assertTenantScope(scope);
  await db
    .update(bots)
    .set({ lastError: message.slice(0, 1000), updatedAt: at })
    .where(and(eq(bots.id, botId), eq(bots.tenantId, scope.tenantId), eq(bots.status, 'stopped')));
}

/** The tenant's newest active exchange account (the one a new live bot trades), if any. */
export async function newestActiveExchangeAccount(db: Database, scope: TenantScope): Promise<{ id: string } | undefined> {
  assertTenantScope(scope);
  const [account] = await db
    .select({ id: exchangeAccounts.id })
    .from(exchangeAccounts)
    .where(and(eq(exchangeAccounts.tenantId, scope.tenantId), eq(exchangeAccounts.status, 'active')))
    .orderBy(sql`${exchangeAccounts.createdAt} desc`)
    .limit(1);
  return account;
}

/** What a freeze of the tenant's keys would stop: its active exchange accounts plus its live bots not yet frozen. */
export async function freezableCount(db: Database, scope: TenantScope): Promise<number> {
  assertTenantScope(scope);
  const [active] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(exchangeAccounts)
    .where(and(eq(exchangeAccounts.tenantId, scope.tenantId), eq(exchangeAccounts.status, 'active')));
  const [live] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(bots)
    .where(and(eq(bots.tenantId, scope.tenantId), eq(bots.mode, 'live'), sql`${bots.status} <> 'frozen'`));
  return Number(active?.n ?? 0) + Number(live?.n ?? 0);
}

/** How many of the tenant's exchange accounts are frozen with `marker` (e.g. an incident's key) in their reason. */
export async function frozenExchangeAccountsMarked(db: Database, scope: TenantScope, marker: string): Promise<number> {
  assertTenantScope(scope);
  const [frozen] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(exchangeAccounts)
    .where(
      and(
        eq(exchangeAccounts.tenantId, scope.tenantId),
        eq(exchangeAccounts.status, 'frozen'),
        sql`${exchangeAccounts.frozenReason} like ${`%${marker}%`}`,
      ),
    );
  return Number(frozen?.n ?? 0);
}
