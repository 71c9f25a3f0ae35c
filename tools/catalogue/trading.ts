import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  assertTenantScope,
  botModes,
  bots,
  botStatuses,
  backtests,
  exchangeAccounts,
  getScoped,
  paperBalances,
  positions,
  queryRows,
  selectScoped,
  tenants,
  tenantScope,
  trades,
  tradeStatuses,
  users,
  type Database,
  type TenantScope,
} from '../../db/index.ts';
import { botCounts, lastDays, todayUtc, tradingPnl } from '../../figures/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { BillingError, checkBacktestQuota } from '../../billing/index.ts';
import {
  BotRunner,
  CHART_INDICATORS,
  cachedChartCandles,
  countCachedCandles,
  MAX_CHART_CANDLES,
  createBot,
  DEFAULT_RISK_LIMITS,
  getBacktest,
  queueBacktest,
  downloadMissingCandles,
  ensureCandles,
  getStrategy,
  loadCachedCandles,
  MarketDataUnavailableError,
  notifyBotEvent,
  parseStrategyParameters,
  runBacktest,
  saveBacktest,
  sliceCandles,
  splitSymbol,
  startBot,
  STRATEGIES,
  stopBot,
  timeframeToMs,
  type BacktestTrade,
  type BotEvent,
  type CandleSeries,
  type ChartCandles,
} from '../../trading/index.ts';
import { UsageError } from '../../errors/index.ts';
import { defineTool, type ToolAccess, type ToolContext } from '../types.ts';
import pkg from '../../package.json' with { type: 'json' };

/**
 * The most bars one backtest may download (and a backtest of recent candles run on): a year of
 * 5-minute bars, the longest range run_backtest accepts (365 days) at its finest timeframe.
 * submit_backtest's ranges are free, so there it binds: only the newest this many are downloaded.
 */
const MAX_ON_DEMAND_CANDLES = 105_120;

const traderEmail = z.email().optional().describe("the trader's email (staff only; traders see their own account)");
const symbol = z.string().regex(/^[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}$/, { error: 'expected a symbol such as BTC/USDT' });
const botRow = z.object({
  id: z.string(),
  name: z.string(),
  strategy: z.string(),
  symbols: z.array(z.string()),
  mode: z.string(),
  status: z.string(),
  stakeQuote: z.string(),
});

/** A bot as the operators' tools show it: with its owner (the trader's email) and its times. */
const listedBot = botRow.extend({
  owner: z.string().nullable(),
  timeframe: z.string(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  lastTickAt: z.string().nullable(),
});
const detailedBot = listedBot.extend({
  parameters: z.record(z.string(), z.unknown()),
  /** The trader's cap on positions held at once; null: the operator's risk limit alone. */
  maxOpenPositions: z.number().nullable(),
  stoppedAt: z.string().nullable(),
  hasExchangeAccount: z.boolean(),
});

/** market_candles' answer per chart kept in memory (trading/candle-chart.ts). */
const candleAnswers = new WeakMap<ChartCandles, { symbol: string; timeframe: string } & ChartCandles>();

/** run_backtest's answer: the stored backtest's id and its figures. */
export const backtestRunSchema = z.object({
  backtestId: z.string(),
  strategy: z.string(),
  symbol: z.string(),
  candles: z.number(),
  trades: z.number(),
  finalEquity: z.number(),
  totalReturnPct: z.number(),
  maxDrawdownPct: z.number(),
  winRatePct: z.number().nullable(),
});
export type BacktestRun = z.infer<typeof backtestRunSchema>;

/** bot_details' answer: the bot, its open positions and its trade counts. */
export const botDetailsSchema = z.object({
  bot: detailedBot,
  positions: z.array(
    z.object({
      symbol: z.string(),
      amountBase: z.string(),
      entryPriceQuote: z.string(),
      stopLossQuote: z.string().nullable(),
      takeProfitQuote: z.string().nullable(),
      openedAt: z.string(),
    }),
  ),
  trades: z.object({
    open: z.number(),
    closed: z.number(),
    wins: z.number(),
    profitQuote: z.number(),
    /** Today's result (figures' today_result: trades closed since 00:00 UTC), the window's start with it. */
    today: z.object({ since: z.string(), closed: z.number(), profitQuote: z.number() }),
  }),
});
export type BotDetails = z.infer<typeof botDetailsSchema>;

type BotSelect = typeof bots.$inferSelect;
const iso = (value: Date | null) => (value ? value.toISOString() : null);
const listed = (b: BotSelect, owner: string | null) => ({
  id: b.id,
  name: b.name,
  owner,
  strategy: b.strategyName,
  symbols: b.symbols,
  timeframe: b.timeframe,
  mode: b.mode,
  status: b.status,
  stakeQuote: b.stakeQuote,
  lastError: b.lastError,
  createdAt: b.createdAt.toISOString(),
  startedAt: iso(b.startedAt),
  lastTickAt: iso(b.lastTickAt),
});
const detailed = (b: BotSelect, owner: string | null) => ({
  ...listed(b, owner),
  parameters: b.parameters,
  maxOpenPositions: b.maxOpenPositions,
  stoppedAt: iso(b.stoppedAt),
  hasExchangeAccount: b.exchangeAccountId !== null,
});

/**
 * list_bots for one trader: the bots (oldest first), the totals by status and the owner's email
 * (ownerEmails' rule) read by one statement — the API's GET /bots, asked often, costs one
 * round trip to the database instead of three.
 */
async function scopedBotList(
  db: Database,
  scope: TenantScope,
  input: { readonly status?: BotSelect['status'] | undefined; readonly limit: number },
): Promise<{ bots: ReturnType<typeof listed>[]; total: number; byStatus: Record<string, number> }> {
  assertTenantScope(scope);
  const [row] = await queryRows<{ bots: string; by_status: string; owner: string | null }>(
    db,
    sql`select
          (select coalesce(json_agg(b order by b.created_at, b.id), '[]')
             from (select id, name, strategy_name, symbols, timeframe, mode, status, stake_quote::text as stake_quote, last_error,
                          created_at, started_at, last_tick_at
                     from ${bots}
                    where tenant_id = ${scope.tenantId} ${input.status ? sql`and status = ${input.status}` : sql``}
                    order by created_at, id limit ${input.limit}) b)::text as bots,
          (select coalesce(json_object_agg(status, n), '{}')
             from (select status, count(*)::int as n from ${bots} where tenant_id = ${scope.tenantId} group by status) c)::text as by_status,
          (select email from ${users} where tenant_id = ${scope.tenantId} order by created_at, id limit 1) as owner`,
  );
  type Row = {
    id: string;
    name: string;
    strategy_name: string;
    symbols: string[];
    timeframe: string;
    mode: BotSelect['mode'];
    status: BotSelect['status'];
    stake_quote: string;
    last_error: string | null;
    created_at: string;
    started_at: string | null;
    last_tick_at: string | null;
  };
  const time = (value: string | null) => (value === null ? null : new Date(value).toISOString());
  const byStatus = JSON.parse(row!.by_status) as Record<string, number>;
  const total = input.status ? (byStatus[input.status] ?? 0) : Object.values(byStatus).reduce((sum, n) => sum + n, 0);
  const listedBots = (JSON.parse(row!.bots) as Row[]).map((b) => ({
    id: b.id,
    name: b.name,
    owner: row!.owner,
    strategy: b.strategy_name,
    symbols: b.symbols,
    timeframe: b.timeframe,
    mode: b.mode,
    status: b.status,
    stakeQuote: b.stake_quote,
    lastError: b.last_error,
    createdAt: new Date(b.created_at).toISOString(),
    startedAt: time(b.started_at),
    lastTickAt: time(b.last_tick_at),
  }));
  return { bots: listedBots, total, byStatus };
}

/** Each tenant's trader: the email of its first user (a trader's account has one). */
async function ownerEmails(db: Database, tenantIds: readonly string[]): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  if (tenantIds.length === 0) return owners;
  const rows = await db
    .select({ tenantId: users.tenantId, email: users.email })
    .from(users)
    .where(inArray(users.tenantId, [...new Set(tenantIds)]))
    .orderBy(asc(users.createdAt), asc(users.id));
  for (const row of rows) if (!owners.has(row.tenantId)) owners.set(row.tenantId, row.email);
  return owners;
}

/**
 * One bot and the tenant it belongs to. A trader finds only their own; staff name the trader
 * by email, or give only the id (any trader's bot: the policy already allowed them the tool).
 */
async function findBot(ctx: ToolContext, botId: string, email: string | undefined): Promise<{ bot: BotSelect; scope: TenantScope }> {
  if (ctx.actor.kind === 'trader' || email) {
    const scope = await traderScope(ctx, email);
    const bot = await getScoped(ctx.db, scope, bots, botId);
    if (!bot) throw new ToolRefusal('not_found', `No bot ${botId} in this account.`);
    return { bot, scope };
  }
  const [bot] = await ctx.db.select().from(bots).where(eq(bots.id, botId));
  if (!bot) throw new ToolRefusal('not_found', `No bot ${botId}.`);
  return { bot, scope: tenantScope(bot.tenantId) };
}

/**
 * What the cache lacks of a range, downloaded when the context has an exchange (only within the
 * plan's daily backtest quota, which the caller checks first), the range clipped to the bars that
 * have closed and to the newest MAX_ON_DEMAND_CANDLES. False when there is no exchange or it did
 * not answer: the cache answers alone.
 */
async function downloadMissing(
  ctx: ToolContext,
  key: { exchange: string; symbol: string; timeframe: string },
  from: Date,
  to: Date,
): Promise<boolean> {
  const source = ctx.marketData;
  if (!source) return false;
  try {
    // One retry: a person waits for this answer, and the cache answers if the exchange does not.
    const download = { retry: { attempts: 2, initialDelayMs: 250 } };
    await downloadMissingCandles(ctx.db, { ...key, from, to, now: ctx.now(), maxCandles: MAX_ON_DEMAND_CANDLES, source, download });
    return true;
  } catch (error) {
    // The exchange is down or not used: the backtest runs on what is cached (it says how many candles it used).
    if (!(error instanceof MarketDataUnavailableError)) throw error;
    return false;
  }
}

/** A range's cached candles (clipped as downloadMissing clips it), after downloadMissing. */
async function onDemandCandles(
  ctx: ToolContext,
  key: { exchange: string; symbol: string; timeframe: string },
  from: Date,
  to: Date,
): Promise<{ series: CandleSeries; downloaded: boolean }> {
  const downloaded = await downloadMissing(ctx, key, from, to);
  const { series } = await ensureCandles(ctx.db, { ...key, from, to, now: ctx.now(), maxCandles: MAX_ON_DEMAND_CANDLES });
  return { series, downloaded };
}

/**
 * The last `days` of a pair's candles: what the cache lacks is downloaded first when an exchange
 * is at hand; without one (or when it fails) the cache answers, and when it holds nothing in the
 * range, its newest stretch of the same length.
 */
export async function recentCandles(
  ctx: ToolContext,
  input: { symbol: string; timeframe: '5m' | '15m' | '1h' | '4h' | '1d'; days: number },
): Promise<CandleSeries> {
  const key = { exchange: 'binance', symbol: input.symbol, timeframe: input.timeframe };
  const now = ctx.now();
  let { series, downloaded } = await onDemandCandles(ctx, key, new Date(now.getTime() - input.days * 86_400_000), now);
  if (series.length === 0 && !downloaded) {
    // No exchange at hand: use the newest cached stretch of the same length.
    const all = await loadCachedCandles(ctx.db, key);
    const bars = Math.ceil((input.days * 86_400_000) / timeframeToMs(input.timeframe));
    series = sliceCandles(all, all.length - bars);
  }
  return series;
}

/**
 * A backtest of `days` of recent candles, stored in the scope's account (run_backtest's and the
 * trader's assistant's backtest_draft): within the plan's daily quota, what the cache lacks is
 * downloaded first when the context has an exchange; without one, the newest cached stretch.
 */
export async function backtestRecentCandles(
  ctx: ToolContext,
  scope: TenantScope,
  input: {
    strategy: string;
    symbol: string;
    timeframe: '5m' | '15m' | '1h' | '4h' | '1d';
    days: number;
    parameters: Record<string, number>;
  },
): Promise<{ result: ReturnType<typeof runBacktest>; series: CandleSeries; backtestId: string }> {
  const quota = await checkBacktestQuota(ctx.db, scope, ctx.now());
  if (!quota.allowed) throw new ToolRefusal('forbidden', quota.reason);
  const series = await recentCandles(ctx, input);
  const strategy = getStrategy(input.strategy);
  let parameters: Record<string, number>;
  try {
    parameters = parseStrategyParameters(strategy, input.parameters);
  } catch (error) {
    throw new ToolRefusal('forbidden', (error as Error).message);
  }
  if (series.length <= strategy.warmupBars(parameters))
    throw new ToolRefusal('not_found', `Not enough ${input.timeframe} candles of ${input.symbol} to backtest (have ${series.length}).`);
  const started = performance.now();
  const result = runBacktest(series, strategy, parameters);
  const backtestId = await saveBacktest(ctx.db, scope, {
    symbol: input.symbol,
    timeframe: input.timeframe,
    feeRate: 0.001,
    result,
    elapsedMs: performance.now() - started,
    rangeStart: new Date(series.time[0]!),
    rangeEnd: new Date(series.time[series.length - 1]!),
    ...(ctx.actor.kind === 'system' ? {} : { requestedByUserId: ctx.actor.userId }),
  });
  return { result, series, backtestId };
}

/** A write tool that starts or stops one of the scoped trader's bots. */
function botControlTool<N extends 'start_bot' | 'stop_bot'>(name: N, description: string, access: ToolAccess, action: typeof startBot) {
  return defineTool({
    name,
    description,
    domain: 'trading',
    effect: 'write',
    access,
    input: z.strictObject({ botId: z.uuid(), email: traderEmail }),
    output: z.object({ botId: z.string(), status: z.string() }),
    ...(name === 'start_bot'
      ? {
          // Live trading starts only by a person: the owner's own confirmation at a door, or an
          // approval by the Security head or the CEO when anyone else (an agent) asks.
          approverDepartment: 'security' as const,
          summarize: (input: { botId: string }, locale: 'pt-BR' | 'en') =>
            locale === 'en'
              ? `Start bot ${input.botId} in LIVE mode (real money)`
              : `Iniciar o robô ${input.botId} em modo REAL (dinheiro de verdade)`,
          tenantOf: async (ctx: ToolContext, input: { botId: string; email?: string | undefined }) => (await botScope(ctx, input)).tenantId,
          explain: async (ctx: ToolContext, input: { botId: string; email?: string | undefined }) => {
            const scope = await botScope(ctx, input);
            const bot = await getScoped(ctx.db, scope, bots, input.botId);
            if (!bot) return { blocked: `No bot ${input.botId} in this account.` };
            const owner = (await ownerEmails(ctx.db, [scope.tenantId])).get(scope.tenantId);
            return {
              bot: { name: bot.name, mode: bot.mode, stakeQuote: bot.stakeQuote },
              ...(owner ? { customer: { name: null, email: owner } } : {}),
              ...(bot.status === 'frozen'
                ? { blocked: 'This bot is frozen by Security; it cannot be started until the freeze is lifted.' }
                : {}),
            };
          },
          needsApproval: async (ctx: ToolContext, input: { botId: string; email?: string | undefined }) => {
            if (ctx.liveTradingConfirmed) return false;
            const [bot] = await ctx.db.select({ mode: bots.mode, status: bots.status }).from(bots).where(eq(bots.id, input.botId));
            return bot?.mode === 'live' && bot.status !== 'running';
          },
        }
      : {}),
    async execute(ctx, input) {
      const bot = await action(ctx.db, await botScope(ctx, input), input.botId);
      return { botId: bot.id, status: bot.status };
    },
  });
}

/**
 * The account a bot control acts on: the trader's (or the one staff name). An approved action
 * runs as the system with the requester's arguments, which name no one when a trader asked
 * for their own bot: then the bot's own account.
 */
async function botScope(ctx: ToolContext, input: { botId: string; email?: string | undefined }): Promise<TenantScope> {
  if (ctx.actor.kind === 'system' && !input.email) {
    const [bot] = await ctx.db.select({ tenantId: bots.tenantId }).from(bots).where(eq(bots.id, input.botId));
    if (!bot) throw new ToolRefusal('not_found', `No bot ${input.botId}.`);
    return tenantScope(bot.tenantId);
  }
  return traderScope(ctx, input.email);
}

/** What force_exit answers: each position it tried to close, and how that went. */
export const forceExitResultSchema = z.object({
  botId: z.string(),
  exits: z.array(
    z.object({
      symbol: z.string(),
      outcome: z.string(),
      amountBase: z.string(),
      priceQuote: z.string().nullable(),
      profitQuote: z.string().nullable(),
      reason: z.string().nullable(),
    }),
  ),
});
export type ForceExitResult = z.infer<typeof forceExitResultSchema>;

export const tradingTools = [
  defineTool({
    name: 'bots_overview',
    description: "List a trader's bots with strategy, symbols, mode and status.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({ email: traderEmail }),
    output: z.object({
      bots: z.array(
        botRow.extend({
          /** Why it paused or failed (the runner's words; doors map them to a sentence for the reader). */
          lastError: z.string().nullable(),
          startedAt: z.string().nullable(),
          lastTickAt: z.string().nullable(),
          /** /stopentry: the bot opens no new position (its exits still run). */
          entriesStopped: z.boolean(),
          /** The bot's own cap on open positions (the runner holds entries back at it); null: only the operator's risk limit. */
          maxOpenPositions: z.number().nullable(),
        }),
      ),
      running: z.number(),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await selectScoped(ctx.db, scope, bots, { orderBy: [bots.createdAt, bots.id] });
      return {
        bots: rows.map((b) => ({
          id: b.id,
          name: b.name,
          strategy: b.strategyName,
          symbols: b.symbols,
          mode: b.mode,
          status: b.status,
          stakeQuote: b.stakeQuote,
          lastError: b.lastError,
          startedAt: iso(b.startedAt),
          lastTickAt: iso(b.lastTickAt),
          entriesStopped: b.entriesStoppedAt !== null,
          maxOpenPositions: b.maxOpenPositions,
        })),
        running: rows.filter((b) => b.status === 'running').length,
      };
    },
  }),
  defineTool({
    name: 'trading_pnl',
    description: 'Profit and loss of closed trades over the last N days, for one trader or the whole platform.',
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({ email: traderEmail, days: z.number().int().min(1).max(365).default(30) }),
    output: z.object({
      days: z.number(),
      closedTrades: z.number(),
      wins: z.number(),
      profitQuote: z.number(),
      winRatePct: z.number().nullable(),
    }),
    async execute(ctx, input) {
      const scopedTenantId = ctx.actor.kind === 'trader' || input.email ? (await traderScope(ctx, input.email)).tenantId : null;
      return { days: input.days, ...(await tradingPnl(ctx.db, lastDays(ctx.now(), input.days), scopedTenantId)) };
    },
  }),
  defineTool({
    name: 'open_positions',
    description: "A trader's open positions with entry price, stop loss and take profit.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['security', 'support'], traders: true },
    input: z.strictObject({
      email: traderEmail,
      withPrices: z.boolean().default(false).describe("also each position's current price from its bot's exchange (slower)"),
    }),
    output: z.object({
      positions: z.array(
        z.object({
          botId: z.string(),
          symbol: z.string(),
          amountBase: z.string(),
          entryPriceQuote: z.string(),
          stopLossQuote: z.string().nullable(),
          takeProfitQuote: z.string().nullable(),
          openedAt: z.string(),
          /** The last price on the bot's exchange (withPrices); null when not asked or the exchange did not answer. */
          priceQuote: z.number().nullable(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await selectScoped(ctx.db, scope, positions);
      const prices = new Map<string, number | null>();
      if (input.withPrices && ctx.trading && rows.length > 0) {
        const owners = await selectScoped(ctx.db, scope, bots, {
          where: inArray(
            bots.id,
            rows.map((p) => p.botId),
          ),
        });
        const byId = new Map(owners.map((b) => [b.id, b]));
        // Each bot's exchange asked at once, 3 s at most: a person waits for this answer.
        await Promise.all(
          rows.map(async (p) => {
            const bot = byId.get(p.botId);
            let price: number | null = null;
            try {
              if (bot) {
                const exchange = await ctx.trading!.exchangeFor(bot);
                price = await Promise.race([
                  exchange.lastPrice(p.symbol),
                  new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('timed out')), 3_000).unref()),
                ]);
              }
            } catch {
              price = null; // the exchange did not answer: the position is shown without its price
            }
            prices.set(p.id, Number.isFinite(price) ? price : null);
          }),
        );
      }
      return {
        positions: rows.map((p) => ({
          botId: p.botId,
          symbol: p.symbol,
          amountBase: p.amountBase,
          entryPriceQuote: p.averageEntryPriceQuote,
          stopLossQuote: p.stopLossPriceQuote,
          takeProfitQuote: p.takeProfitPriceQuote,
          openedAt: p.openedAt.toISOString(),
          priceQuote: prices.get(p.id) ?? null,
        })),
      };
    },
  }),
  defineTool({
    name: 'risk_status',
    description: "Paused, failing or frozen bots and today's result: one trader's, or the platform's (staff, no email).",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['security', 'support'], traders: true },
    input: z.strictObject({ email: traderEmail }),
    output: z.object({
      attention: z.array(z.object({ botId: z.string(), name: z.string(), status: z.string(), reason: z.string().nullable() })),
      /** Every bot needing attention (the list shows at most 20 on the platform). */
      attentionTotal: z.number(),
      runningBots: z.number(),
      todayProfitQuote: z.number(),
    }),
    async execute(ctx, input) {
      const today = todayUtc(ctx.now());
      if (ctx.actor.kind !== 'trader' && !input.email) {
        // The platform at a glance (staff only: a trader always gets their own account).
        const counts = await botCounts(ctx.db);
        const troubled = await ctx.db
          .select()
          .from(bots)
          .where(inArray(bots.status, ['paused', 'error', 'frozen']))
          .orderBy(desc(bots.updatedAt))
          .limit(20);
        return {
          attention: troubled.map((b) => ({ botId: b.id, name: b.name, status: b.status, reason: b.lastError })),
          attentionTotal: counts.attention,
          runningBots: counts.runningBots,
          todayProfitQuote: (await tradingPnl(ctx.db, today)).profitQuote,
        };
      }
      const scope = await traderScope(ctx, input.email);
      const own = await selectScoped(ctx.db, scope, bots);
      const troubled = own.filter((b) => b.status === 'paused' || b.status === 'error' || b.status === 'frozen');
      return {
        attention: troubled.map((b) => ({ botId: b.id, name: b.name, status: b.status, reason: b.lastError })),
        attentionTotal: troubled.length,
        runningBots: own.filter((b) => b.status === 'running').length,
        todayProfitQuote: (await tradingPnl(ctx.db, today, scope.tenantId)).profitQuote,
      };
    },
  }),
  botControlTool('stop_bot', "Stop one of a trader's bots by its id.", { departments: ['security', 'support'], traders: true }, stopBot),
  botControlTool(
    'start_bot',
    "Start one of a trader's bots by its id (plan limits apply).",
    { departments: ['support'], traders: true },
    startBot,
  ),
  defineTool({
    // Telegram's /backtest calls this tool too (telegram/trader.ts), so both download on demand.
    name: 'run_backtest',
    description: 'Backtest a strategy on recent candles of a symbol and store the result (plan limits apply).',
    domain: 'trading',
    effect: 'write',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({
      strategy: z.enum(['rsi', 'rsi-reference', 'macd-cross', 'ema-cross', 'bollinger-reversion']).default('rsi'),
      symbol: z
        .string()
        .regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, { error: 'expected a symbol such as BTC/USDT' })
        .default('BTC/USDT'),
      timeframe: z.enum(['5m', '15m', '1h', '4h', '1d']).default('1h'),
      days: z.number().int().min(1).max(365).default(30),
      /** The strategy's parameters (its defaults for any left out). */
      parameters: z.record(z.string(), z.number()).optional(),
      email: traderEmail,
    }),
    output: backtestRunSchema,
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const { result, backtestId } = await backtestRecentCandles(ctx, scope, { ...input, parameters: input.parameters ?? {} });
      const round = (value: number) => Math.round(value * 100) / 100;
      return {
        backtestId,
        strategy: result.strategy,
        symbol: input.symbol,
        candles: result.candles,
        trades: result.trades,
        finalEquity: round(result.finalEquity),
        totalReturnPct: round(result.totalReturnPct),
        maxDrawdownPct: round(result.maxDrawdownPct),
        winRatePct: result.winRatePct === null ? null : round(result.winRatePct),
      };
    },
  }),
  defineTool({
    // The API's POST /backtests: stored queued here (the quota counts it at once), run by a job.
    name: 'submit_backtest',
    description: 'Queue a backtest of a strategy on a symbol over a range, downloading missing candles (plan limits apply).',
    domain: 'trading',
    effect: 'write',
    access: { departments: ['support'], traders: true },
    input: z
      .strictObject({
        strategy: z.string().refine((name) => STRATEGIES.has(name), { error: `a strategy: ${[...STRATEGIES.keys()].join(', ')}` }),
        /** The strategy's parameters (its defaults for any left out). */
        parameters: z.record(z.string(), z.number()).optional(),
        symbol,
        timeframe: z.enum(['1m', '5m', '15m', '1h', '4h', '1d']),
        from: z.iso.datetime({ offset: true }).optional().describe('first bar (default: 30 days before `to`)'),
        to: z.iso.datetime({ offset: true }).optional().describe('last bar (default: now)'),
        feeRate: z.number().min(0).max(0.01).default(0.001).describe('fee per side, a fraction (0.001 = 0.1 %)'),
        startingCashQuote: z.number().positive().max(1_000_000_000).default(10_000),
        email: traderEmail,
      })
      .refine((input) => !input.from || !input.to || input.from < input.to, { error: '`from` must be before `to`', path: ['from'] }),
    output: z.object({ backtestId: z.string(), status: z.enum(['queued']), candles: z.number() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const now = ctx.now();
      const to = input.to ? new Date(input.to) : now;
      const from = input.from ? new Date(input.from) : new Date(to.getTime() - 30 * 86_400_000);
      const strategy = getStrategy(input.strategy);
      // A wrong parameter is the caller's usage error (StrategyError: usage, 400 at the API).
      const parameters = parseStrategyParameters(strategy, input.parameters ?? {});
      const quota = await checkBacktestQuota(ctx.db, scope, now);
      // Over the plan's daily quota: a conflict with the plan (409 at the API, as start_bot's bot limit).
      if (!quota.allowed) throw new BillingError(quota.reason);
      const key = { exchange: 'binance', symbol: input.symbol, timeframe: input.timeframe };
      // Within the quota, what the cache lacks of the range is downloaded first when an exchange is
      // at hand (not read back: the job reads the candles when it runs).
      await downloadMissing(ctx, key, from, to);
      const candles = await countCachedCandles(ctx.db, key, { fromMs: from.getTime(), toMs: to.getTime() });
      if (candles <= strategy.warmupBars(parameters))
        throw new ToolRefusal(
          'not_found',
          `Not enough cached ${input.timeframe} candles of ${input.symbol} from ${from.toISOString()} to ${to.toISOString()} (have ${candles}); download them first (botcriptofy data download).`,
        );
      const backtestId = await queueBacktest(
        ctx.db,
        scope,
        {
          strategy: input.strategy,
          parameters,
          symbol: input.symbol,
          timeframe: input.timeframe,
          rangeStart: from,
          rangeEnd: to,
          feeRate: input.feeRate,
          startingCash: input.startingCashQuote,
          ...(ctx.actor.kind === 'system' ? {} : { requestedByUserId: ctx.actor.userId }),
        },
        now,
      );
      return { backtestId, status: 'queued' as const, candles };
    },
  }),
  defineTool({
    name: 'backtest_result',
    description: 'One backtest by its id: its settings, status and, once finished, metrics, trades and equity curve.',
    domain: 'trading',
    effect: 'read',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({ backtestId: z.uuid(), email: traderEmail }),
    output: z.object({
      backtest: z.object({
        id: z.string(),
        strategy: z.string(),
        parameters: z.record(z.string(), z.unknown()),
        symbol: z.string(),
        timeframe: z.string(),
        rangeStart: z.string().nullable(),
        rangeEnd: z.string().nullable(),
        feeRate: z.string(),
        startingCashQuote: z.string(),
        status: z.enum(['queued', 'running', 'succeeded', 'failed']),
        error: z.string().nullable(),
        createdAt: z.string(),
        finishedAt: z.string().nullable(),
      }),
      /** Null until it succeeded. */
      metrics: z
        .object({
          candles: z.number(),
          trades: z.number(),
          finalEquity: z.number(),
          totalReturnPct: z.number(),
          maxDrawdownPct: z.number(),
          winRatePct: z.number().nullable(),
          profitFactor: z.number().nullable(),
          sharpe: z.number().nullable(),
          exposurePct: z.number(),
          feesPaid: z.number(),
          elapsedMs: z.number().nullable(),
        })
        .nullable(),
      trades: z.array(
        z.object({
          entryTime: z.string(),
          exitTime: z.string(),
          quantity: z.number(),
          entryPrice: z.number(),
          exitPrice: z.number(),
          profit: z.number(),
          profitPct: z.number(),
          exitReason: z.string(),
        }),
      ),
      equityCurve: z.array(z.object({ time: z.string(), equity: z.number() })),
    }),
    async execute(ctx, input) {
      // A trader finds only their own; staff by the trader's email, or any by id (the policy allowed them the tool).
      let scope: TenantScope;
      if (ctx.actor.kind === 'trader' || input.email) scope = await traderScope(ctx, input.email);
      else {
        const [row] = await ctx.db.select({ tenantId: backtests.tenantId }).from(backtests).where(eq(backtests.id, input.backtestId));
        if (!row) throw new ToolRefusal('not_found', `No backtest ${input.backtestId}.`);
        scope = tenantScope(row.tenantId);
      }
      const found = await getBacktest(ctx.db, scope, input.backtestId);
      if (!found) throw new ToolRefusal('not_found', `No backtest ${input.backtestId} in this account.`);
      const { backtest: b, result } = found;
      const metrics = result?.metrics as { feesPaid?: number; profitFactor?: number | null; sharpe?: number | null } | undefined;
      const time = (ms: number) => new Date(ms).toISOString();
      return {
        backtest: {
          id: b.id,
          strategy: b.strategyName,
          parameters: b.parameters,
          symbol: b.symbol,
          timeframe: b.timeframe,
          rangeStart: iso(b.rangeStart),
          rangeEnd: iso(b.rangeEnd),
          feeRate: b.feeRate,
          startingCashQuote: b.startingCashQuote,
          status: b.status,
          error: b.error,
          createdAt: b.createdAt.toISOString(),
          finishedAt: iso(b.finishedAt),
        },
        metrics: result
          ? {
              candles: result.candles,
              trades: result.closedTrades,
              finalEquity: Number(result.finalEquityQuote),
              totalReturnPct: Number(result.totalReturnPct),
              maxDrawdownPct: Number(result.maxDrawdownPct),
              winRatePct: result.winRatePct === null ? null : Number(result.winRatePct),
              profitFactor: metrics?.profitFactor ?? null,
              sharpe: metrics?.sharpe ?? null,
              exposurePct: result.exposurePct === null ? 0 : Number(result.exposurePct),
              feesPaid: metrics?.feesPaid ?? 0,
              elapsedMs: result.elapsedMs,
            }
          : null,
        trades: ((result?.tradeList ?? []) as BacktestTrade[]).map((t) => ({
          entryTime: time(t.entryTime),
          exitTime: time(t.exitTime),
          quantity: t.quantity,
          entryPrice: t.entryPrice,
          exitPrice: t.exitPrice,
          profit: t.profit,
          profitPct: t.profitPct,
          exitReason: t.exitReason,
        })),
        equityCurve: ((result?.equityCurve ?? []) as { time: number; equity: number }[]).map((p) => ({
          time: time(p.time),
          equity: p.equity,
        })),
      };
    },
  }),
  defineTool({
    // The API's GET /candles: market data, no tenant's (the cache is shared by every bot).
    name: 'market_candles',
    description: 'Cached candles of a symbol over a range, with RSI, MACD or Bollinger bands on request.',
    domain: 'trading',
    effect: 'read',
    access: { departments: ['support', 'finance', 'security'], traders: true },
    input: z
      .strictObject({
        symbol,
        timeframe: z.enum(['1m', '5m', '15m', '1h', '4h', '1d']),
        from: z.iso.datetime({ offset: true }).optional().describe('first bar (default: 500 bars before `to`)'),
        to: z.iso.datetime({ offset: true }).optional().describe('last bar (default: the bar open now)'),
        indicators: z.array(z.enum(CHART_INDICATORS)).max(3).default([]),
        exchange: z.enum(['binance']).default('binance'),
      })
      .refine((input) => !input.from || !input.to || input.from < input.to, { error: '`from` must be before `to`', path: ['from'] }),
    output: z.object({
      symbol: z.string(),
      timeframe: z.string(),
      candles: z.array(
        z.object({ time: z.string(), open: z.number(), high: z.number(), low: z.number(), close: z.number(), volume: z.number() }),
      ),
      indicators: z.object({
        rsi: z.object({ period: z.number(), values: z.array(z.number().nullable()) }).optional(),
        macd: z
          .object({
            fast: z.number(),
            slow: z.number(),
            signal: z.number(),
            values: z.array(z.object({ macd: z.number(), signal: z.number(), histogram: z.number() }).nullable()),
          })
          .optional(),
        bollinger: z
          .object({
            period: z.number(),
            stdDevs: z.number(),
            values: z.array(z.object({ lower: z.number(), middle: z.number(), upper: z.number() }).nullable()),
          })
          .optional(),
      }),
    }),
    async execute(ctx, input) {
      const barMs = timeframeToMs(input.timeframe);
      // By default up to the bar open now (its open time): the same bars as "now", and one range
      // (so one entry of the chart cache) for every request during that bar, not one per millisecond.
      const toMs = input.to ? Date.parse(input.to) : Math.floor(ctx.now().getTime() / barMs) * barMs;
      const fromMs = input.from ? Date.parse(input.from) : toMs - 500 * barMs;
      const key = { exchange: input.exchange, symbol: input.symbol, timeframe: input.timeframe };
      // From memory while the range's cached bars are unchanged (trading/candle-chart.ts).
      const { count, chart } = await cachedChartCandles(ctx.db, key, { fromMs, toMs }, input.indicators, MAX_CHART_CANDLES);
      if (!chart) throw new UsageError(`The range holds ${count} candles; at most ${MAX_CHART_CANDLES} per request: narrow from/to.`);
      // The chart is kept (its key holds the symbol and timeframe), so is its answer: the same
      // frozen object each time, validated and written as JSON once (tools/immutable-results.ts).
      let answer = candleAnswers.get(chart);
      if (!answer) {
        answer = Object.freeze({ symbol: input.symbol, timeframe: input.timeframe, ...chart });
        candleAnswers.set(chart, answer);
      }
      return answer;
    },
  }),
  defineTool({
    name: 'pnl_by_period',
    description: "Closed trades' profit per day, week or month, newest first, for one trader or the whole platform.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({
      period: z.enum(['day', 'week', 'month']).default('day'),
      count: z.number().int().min(1).max(60).default(7),
      email: traderEmail,
    }),
    output: z.object({
      period: z.string(),
      rows: z.array(z.object({ start: z.string(), closedTrades: z.number(), wins: z.number(), profitQuote: z.number() })),
      totalProfitQuote: z.number(),
    }),
    async execute(ctx, input) {
      const scopedTenantId = ctx.actor.kind === 'trader' || input.email ? (await traderScope(ctx, input.email)).tenantId : null;
      // Periods in UTC: the current one and the count − 1 before it, empty ones included.
      const unit = sql.raw(`'${input.period}'`);
      // The total is summed over the unrounded trades (exact numeric), so it equals /profit for the same days to the cent.
      const rows = await queryRows<{ start: string; n: string; wins: string; profit: string | null; total: string | null }>(
        ctx.db,
        sql`with periods as (
              select generate_series(date_trunc(${unit}, ${ctx.now().toISOString()}::timestamptz at time zone 'UTC') - ${`${input.count - 1} ${input.period}`}::interval,
                                     date_trunc(${unit}, ${ctx.now().toISOString()}::timestamptz at time zone 'UTC'), ${`1 ${input.period}`}::interval) as start
            )
            select to_char(p.start, 'YYYY-MM-DD') as start, count(t.id)::bigint as n,
                   count(t.id) filter (where t.profit_quote > 0)::bigint as wins, sum(t.profit_quote)::text as profit,
                   (sum(sum(t.profit_quote)) over ())::text as total
            from periods p
            left join trades t on t.status = 'closed'
              and date_trunc(${unit}, t.closed_at at time zone 'UTC') = p.start
              ${scopedTenantId ? sql`and t.tenant_id = ${scopedTenantId}` : sql``}
            group by p.start order by p.start desc`,
      );
      const round = (value: number) => Math.round(value * 100) / 100;
      const out = rows.map((r) => ({
        start: r.start,
        closedTrades: Number(r.n),
        wins: Number(r.wins),
        profitQuote: round(Number(r.profit ?? 0)),
      }));
      return { period: input.period, rows: out, totalProfitQuote: round(Number(rows[0]?.total ?? 0)) };
    },
  }),
  defineTool({
    name: 'bot_balances',
    description: "A trader's wallet per bot: the paper wallet of paper bots, the exchange account of live bots.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['security', 'support'], traders: true },
    input: z.strictObject({ email: traderEmail }),
    output: z.object({
      bots: z.array(
        z.object({
          botId: z.string(),
          name: z.string(),
          mode: z.string(),
          status: z.string(),
          stakeQuote: z.string(),
          assets: z.record(z.string(), z.number()).nullable(),
          note: z.string().nullable(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await selectScoped(ctx.db, scope, bots, { orderBy: [bots.createdAt, bots.id] });
      const wallets = await selectScoped(ctx.db, scope, paperBalances);
      const out = [];
      for (const bot of rows) {
        let assets: Record<string, number> | null = null;
        let note: string | null = null;
        if (bot.mode === 'paper') {
          const own = wallets.filter((w) => w.botId === bot.id);
          const quote = bot.symbols[0] ? splitSymbol(bot.symbols[0]).quote : 'USDT';
          assets =
            own.length > 0
              ? Object.fromEntries(own.map((w) => [w.asset, Number(w.amount)]))
              : { [quote]: Number(bot.paperBalanceQuote ?? bot.stakeQuote) };
        } else if (!ctx.trading) {
          note = 'the exchange account is not reachable from here';
        } else {
          try {
            const exchange = await ctx.trading.exchangeFor(bot);
            const all = await Promise.race([
              exchange.balances(),
              new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('timed out')), 5_000).unref()),
            ]);
            assets = Object.fromEntries(Object.entries(all).filter(([, amount]) => amount > 0));
          } catch (error) {
            note = `the exchange did not answer (${(error as Error).message.slice(0, 120)})`;
          }
        }
        out.push({ botId: bot.id, name: bot.name, mode: bot.mode, status: bot.status, stakeQuote: bot.stakeQuote, assets, note });
      }
      return { bots: out };
    },
  }),
  defineTool({
    name: 'force_exit',
    description: "Close a trader's bot's open positions now with market sells (one symbol, or all of the bot's).",
    domain: 'trading',
    effect: 'write',
    access: { departments: ['security'], traders: true },
    input: z.strictObject({ botId: z.uuid(), symbol: symbol.optional(), email: traderEmail }),
    output: forceExitResultSchema,
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const bot = await getScoped(ctx.db, scope, bots, input.botId);
      if (!bot) throw new ToolRefusal('not_found', `No bot ${input.botId} in this account.`);
      if (bot.status === 'frozen')
        throw new ToolRefusal('forbidden', 'This bot is frozen by Security; its positions cannot be traded until the freeze is lifted.');
      if (!ctx.trading) throw new Error('the trading engine is not available here');
      const events: BotEvent[] = [];
      const runner = new BotRunner(
        {
          db: ctx.db,
          exchange: await ctx.trading.exchangeFor(bot),
          limits: ctx.trading.limits,
          killSwitch: () => ctx.trading!.killSwitch(),
          onEvent: (event) => events.push(event),
        },
        bot,
      );
      const exits = await runner.forceExit(input.symbol);
      // A forced exit is a closed trade like any other: the account's people hear of it where
      // they are (Telegram, the web events stream), as the workers' runner does for its exits.
      for (const event of events) await notifyBotEvent(ctx.db, event);
      return { botId: bot.id, exits };
    },
  }),
  // The operators' bot commands (botcriptofy bots …): the platform's bots, one bot, a new bot.
  defineTool({
    name: 'list_bots',
    description: "Bots with owner, strategy, symbols, mode and status: one trader's, or every trader's (staff, no email).",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({
      status: z.enum(botStatuses).optional().describe('only bots in this status'),
      email: traderEmail,
      limit: z.number().int().min(1).max(1000).default(100).describe('at most this many bots, oldest first'),
    }),
    output: z.object({ bots: z.array(listedBot), total: z.number(), byStatus: z.record(z.string(), z.number()) }),
    async execute(ctx, input) {
      const statusFilter = input.status ? eq(bots.status, input.status) : undefined;
      const order = [asc(bots.createdAt), asc(bots.id)];
      let rows: BotSelect[];
      let counts: { status: string; n: number }[];
      if (ctx.actor.kind === 'trader' || input.email) {
        // One trader's: their bots, the totals by status and the owner in one statement.
        const scope = await traderScope(ctx, input.email);
        return scopedBotList(ctx.db, scope, input);
      } else {
        // The platform (staff only: a trader always gets their own account).
        rows = await ctx.db
          .select()
          .from(bots)
          .where(statusFilter)
          .orderBy(...order)
          .limit(input.limit);
        counts = await ctx.db.select({ status: bots.status, n: sql<number>`count(*)::int` }).from(bots).groupBy(bots.status);
      }
      const owners = await ownerEmails(
        ctx.db,
        rows.map((b) => b.tenantId),
      );
      const byStatus = Object.fromEntries(counts.map((c) => [c.status, Number(c.n)]));
      const total = input.status ? (byStatus[input.status] ?? 0) : Object.values(byStatus).reduce((sum, n) => sum + n, 0);
      return { bots: rows.map((b) => listed(b, owners.get(b.tenantId) ?? null)), total, byStatus };
    },
  }),
  defineTool({
    name: 'bot_details',
    description: 'One bot by its id: owner, strategy and parameters, symbols, mode, status, open positions and closed trades.',
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({ botId: z.uuid(), email: traderEmail }),
    output: botDetailsSchema,
    async execute(ctx, input) {
      const { bot, scope } = await findBot(ctx, input.botId, input.email);
      const owners = await ownerEmails(ctx.db, [bot.tenantId]);
      const held = await selectScoped(ctx.db, scope, positions, { where: eq(positions.botId, bot.id), orderBy: asc(positions.symbol) });
      const today = todayUtc(ctx.now());
      const [[row], todays] = await Promise.all([
        queryRows<{ open: number; closed: number; wins: number; profit: string | null }>(
          ctx.db,
          sql`select count(*) filter (where status = 'open')::int as open, count(*) filter (where status = 'closed')::int as closed,
                   count(*) filter (where status = 'closed' and profit_quote > 0)::int as wins, sum(profit_quote) filter (where status = 'closed')::text as profit
            from trades where tenant_id = ${scope.tenantId} and bot_id = ${bot.id}`,
        ),
        tradingPnl(ctx.db, today, scope.tenantId, bot.id),
      ]);
      return {
        bot: detailed(bot, owners.get(bot.tenantId) ?? null),
        positions: held.map((p) => ({
          symbol: p.symbol,
          amountBase: p.amountBase,
          entryPriceQuote: p.averageEntryPriceQuote,
          stopLossQuote: p.stopLossPriceQuote,
          takeProfitQuote: p.takeProfitPriceQuote,
          openedAt: p.openedAt.toISOString(),
        })),
        trades: {
          open: Number(row?.open ?? 0),
          closed: Number(row?.closed ?? 0),
          wins: Number(row?.wins ?? 0),
          profitQuote: Math.round(Number(row?.profit ?? 0) * 100) / 100,
          today: { since: today.from.toISOString(), closed: todays.closedTrades, profitQuote: todays.profitQuote },
        },
      };
    },
  }),
  defineTool({
    name: 'list_bot_trades',
    description: "One bot's trades, newest first: symbol, amount, open and close prices, fee, profit and why it closed.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({
      botId: z.uuid(),
      status: z.enum(tradeStatuses).optional().describe('only open or only closed trades'),
      limit: z.number().int().min(1).max(500).default(100).describe('at most this many trades'),
      before: z.iso.datetime({ offset: true }).optional().describe('only trades opened before this instant (the next page)'),
      email: traderEmail,
    }),
    output: z.object({
      botId: z.string(),
      trades: z.array(
        z.object({
          id: z.string(),
          symbol: z.string(),
          status: z.enum(tradeStatuses),
          amountBase: z.string(),
          openPriceQuote: z.string(),
          closePriceQuote: z.string().nullable(),
          feeQuote: z.string(),
          profitQuote: z.string().nullable(),
          profitPct: z.string().nullable(),
          exitReason: z.string().nullable(),
          openedAt: z.string(),
          closedAt: z.string().nullable(),
        }),
      ),
      /** Pass as `before` for the next page; null when this page is the last. */
      nextBefore: z.string().nullable(),
    }),
    async execute(ctx, input) {
      // The bot is found in the trader's account first: another tenant's bot id is "not found".
      const { bot, scope } = await findBot(ctx, input.botId, input.email);
      const rows = await selectScoped(ctx.db, scope, trades, {
        where: and(
          eq(trades.botId, bot.id),
          input.status ? eq(trades.status, input.status) : undefined,
          input.before ? lt(trades.openedAt, new Date(input.before)) : undefined,
        ),
        orderBy: [desc(trades.openedAt), desc(trades.id)],
        limit: input.limit + 1,
      });
      const page = rows.slice(0, input.limit);
      return {
        botId: bot.id,
        trades: page.map((t) => ({
          id: t.id,
          symbol: t.symbol,
          status: t.status,
          amountBase: t.amountBase,
          openPriceQuote: t.openPriceQuote,
          closePriceQuote: t.closePriceQuote,
          feeQuote: t.feeQuote,
          profitQuote: t.profitQuote,
          profitPct: t.profitPct,
          exitReason: t.exitReason,
          openedAt: t.openedAt.toISOString(),
          closedAt: iso(t.closedAt),
        })),
        nextBefore: rows.length > input.limit ? page[page.length - 1]!.openedAt.toISOString() : null,
      };
    },
  }),
  defineTool({
    name: 'create_bot',
    description: "Create a bot, stopped, in a trader's account (paper by default; start it with start_bot).",
    domain: 'trading',
    effect: 'write',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({
      name: z.string().trim().min(1).max(100),
      strategy: z.string().refine((name) => STRATEGIES.has(name), { error: `a strategy: ${[...STRATEGIES.keys()].join(', ')}` }),
      symbols: z
        .array(symbol)
        .min(1)
        .max(20)
        .refine((list) => new Set(list).size === list.length, { error: 'each symbol once' }),
      timeframe: z.enum(['5m', '15m', '1h', '4h', '1d']).default('1h'),
      /** Cash the bot may commit, in quote currency (USDT). */
      stakeQuote: z.number().positive().max(1_000_000_000),
      mode: z.enum(botModes).default('paper'),
      /** The strategy's parameters (its defaults for any left out). */
      parameters: z.record(z.string(), z.number()).optional(),
      /** No new entry while the bot holds this many positions (the operator's risk limit applies too). */
      maxOpenPositions: z.number().int().min(1).max(20).optional(),
      email: traderEmail,
    }),
    output: z.object({ bot: detailedBot }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const [tenant] = await ctx.db.select({ kind: tenants.kind }).from(tenants).where(eq(tenants.id, scope.tenantId));
      if (tenant?.kind !== 'trader')
        throw new ToolRefusal('forbidden', `${input.email ?? 'This account'} is not a trader's account; bots belong to traders.`);
      let parameters: Record<string, number>;
      try {
        parameters = parseStrategyParameters(getStrategy(input.strategy), input.parameters ?? {});
      } catch (error) {
        throw new ToolRefusal('forbidden', (error as Error).message);
      }
      // A live bot trades on the trader's newest active exchange account (as the onboarding does).
      const [account] =
        input.mode === 'live'
          ? await selectScoped(ctx.db, scope, exchangeAccounts, {
              where: eq(exchangeAccounts.status, 'active'),
              orderBy: desc(exchangeAccounts.createdAt),
              limit: 1,
            })
          : [];
      if (input.mode === 'live' && !account)
        throw new ToolRefusal('forbidden', 'A live bot needs an active exchange API key; connect one first.');
      // A paper bot gets its paper wallet (its stake) with it, in the same transaction.
      const { bot } = await createBot(ctx.db, scope, {
        name: input.name,
        strategyName: input.strategy,
        parameters,
        symbols: input.symbols,
        timeframe: input.timeframe,
        mode: input.mode,
        stakeQuote: String(input.stakeQuote),
        exchangeAccountId: account?.id ?? null,
        maxOpenPositions: input.maxOpenPositions ?? null,
      });
      const owners = await ownerEmails(ctx.db, [scope.tenantId]);
      return { bot: detailed(bot, owners.get(scope.tenantId) ?? null) };
    },
  }),
];

/** Closed trades of the scoped account (`days`: closed within the last N days; all time otherwise), as SQL. */
const closedWithin = (tenantId: string, now: Date, days: number | undefined) =>
  sql`t.tenant_id = ${tenantId} and t.status = 'closed'${days ? sql` and t.closed_at >= ${new Date(now.getTime() - days * 86_400_000).toISOString()}::timestamptz` : sql``}`;
const windowDays = z.number().int().min(1).max(3650).optional().describe('only trades closed in the last N days (all time when left out)');

/** freqtrade's /trades, /performance, /stats, /count, /health and /stopentry as a trader's own tools (Telegram, the API). */
export const traderReportTools = [
  defineTool({
    name: 'stop_entries',
    description: "Stop (or allow again) a trader's bot's new entries; its open positions still exit.",
    domain: 'trading',
    effect: 'write',
    access: { departments: ['security', 'support'], traders: true },
    input: z.strictObject({ botId: z.uuid(), stop: z.boolean().default(true), email: traderEmail }),
    output: z.object({ botId: z.string(), entriesStopped: z.boolean() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const [updated] = await ctx.db
        .update(bots)
        .set({ entriesStoppedAt: input.stop ? ctx.now() : null, updatedAt: ctx.now() })
        .where(and(eq(bots.id, input.botId), eq(bots.tenantId, scope.tenantId)))
        .returning({ id: bots.id, entriesStoppedAt: bots.entriesStoppedAt });
      if (!updated) throw new ToolRefusal('not_found', `No bot ${input.botId} in this account.`);
      return { botId: updated.id, entriesStopped: updated.entriesStoppedAt !== null };
    },
  }),
  defineTool({
    name: 'recent_trades',
    description: "A trader's latest closed trades across their bots, newest first: pair, bot, prices, profit and why it closed.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({ limit: z.number().int().min(1).max(50).default(10), email: traderEmail }),
    output: z.object({
      trades: z.array(
        z.object({
          id: z.string(),
          botId: z.string(),
          botName: z.string(),
          symbol: z.string(),
          amountBase: z.string(),
          openPriceQuote: z.string(),
          closePriceQuote: z.string().nullable(),
          profitQuote: z.string().nullable(),
          profitPct: z.string().nullable(),
          exitReason: z.string().nullable(),
          openedAt: z.string(),
          closedAt: z.string().nullable(),
        }),
      ),
      closedTotal: z.number(),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await queryRows<{
        id: string;
        bot_id: string;
        bot_name: string;
        symbol: string;
        amount_base: string;
        open_price_quote: string;
        close_price_quote: string | null;
        profit_quote: string | null;
        profit_pct: string | null;
        exit_reason: string | null;
        opened_at: string;
        closed_at: string | null;
        total: number;
      }>(
        ctx.db,
        sql`select t.id, t.bot_id, b.name as bot_name, t.symbol, t.amount_base::text, t.open_price_quote::text, t.close_price_quote::text,
                   t.profit_quote::text, t.profit_pct::text, t.exit_reason, t.opened_at::text, t.closed_at::text, count(*) over ()::int as total
            from trades t join bots b on b.id = t.bot_id
            where ${closedWithin(scope.tenantId, ctx.now(), undefined)}
            order by t.closed_at desc, t.id desc limit ${input.limit}`,
      );
      const at = (value: string | null) => (value ? new Date(value).toISOString() : null);
      return {
        trades: rows.map((r) => ({
          id: r.id,
          botId: r.bot_id,
          botName: r.bot_name,
          symbol: r.symbol,
          amountBase: r.amount_base,
          openPriceQuote: r.open_price_quote,
          closePriceQuote: r.close_price_quote,
          profitQuote: r.profit_quote,
          profitPct: r.profit_pct,
          exitReason: r.exit_reason,
          openedAt: at(r.opened_at)!,
          closedAt: at(r.closed_at),
        })),
        closedTotal: Number(rows[0]?.total ?? 0),
      };
    },
  }),
  defineTool({
    name: 'pair_performance',
    description: "A trader's closed trades per pair: how many, total profit (exact) and average profit %, best first.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({ days: windowDays, email: traderEmail }),
    output: z.object({
      pairs: z.array(z.object({ symbol: z.string(), trades: z.number(), profitQuote: z.string(), avgProfitPct: z.string().nullable() })),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await queryRows<{ symbol: string; n: number; profit: string; avg_pct: string | null }>(
        ctx.db,
        sql`select t.symbol, count(*)::int as n, coalesce(sum(t.profit_quote), 0)::numeric(38, 8)::text as profit,
                   round(avg(t.profit_pct), 4)::text as avg_pct
            from trades t where ${closedWithin(scope.tenantId, ctx.now(), input.days)}
            group by t.symbol order by sum(t.profit_quote) desc nulls last, t.symbol`,
      );
      return { pairs: rows.map((r) => ({ symbol: r.symbol, trades: Number(r.n), profitQuote: r.profit, avgProfitPct: r.avg_pct })) };
    },
  }),
  defineTool({
    name: 'trade_stats',
    description: "A trader's stats: exits by reason, winners' and losers' durations, profit factor, best pair, open trades.",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['finance', 'security', 'support'], traders: true },
    input: z.strictObject({ days: windowDays, email: traderEmail }),
    output: z.object({
      closedTrades: z.number(),
      exitReasons: z.array(z.object({ reason: z.string(), wins: z.number(), losses: z.number() })),
      avgWinSeconds: z.number().nullable(),
      avgLossSeconds: z.number().nullable(),
      avgSeconds: z.number().nullable(),
      /** The deepest fall of the cumulative closed profit from its running peak (starting at 0), exact. */
      maxDrawdownQuote: z.string(),
      /** Gross profit of winners over gross loss of losers (null without losers). */
      profitFactor: z.number().nullable(),
      bestPair: z.object({ symbol: z.string(), profitQuote: z.string() }).nullable(),
      worstPair: z.object({ symbol: z.string(), profitQuote: z.string() }).nullable(),
      openTrades: z.number(),
      runningBots: z.number(),
      /** The risk gate's limit of open positions per bot. */
      maxOpenPerBot: z.number(),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const where = closedWithin(scope.tenantId, ctx.now(), input.days);
      const reasons = await queryRows<{ reason: string; wins: number; losses: number }>(
        ctx.db,
        sql`select coalesce(t.exit_reason, 'other') as reason, count(*) filter (where t.profit_quote > 0)::int as wins,
                   count(*) filter (where t.profit_quote <= 0 or t.profit_quote is null)::int as losses
            from trades t where ${where} group by 1 order by count(*) desc, 1`,
      );
      const [totals] = await queryRows<{
        n: number;
        all_s: string | null;
        win_s: string | null;
        loss_s: string | null;
        gross_win: string | null;
        gross_loss: string | null;
      }>(
        ctx.db,
        sql`select count(*)::int as n, avg(extract(epoch from t.closed_at - t.opened_at))::text as all_s,
                   avg(extract(epoch from t.closed_at - t.opened_at)) filter (where t.profit_quote > 0)::text as win_s,
                   avg(extract(epoch from t.closed_at - t.opened_at)) filter (where t.profit_quote <= 0)::text as loss_s,
                   sum(t.profit_quote) filter (where t.profit_quote > 0)::text as gross_win,
                   (-sum(t.profit_quote) filter (where t.profit_quote < 0))::text as gross_loss
            from trades t where ${where}`,
      );
      const [drawdown] = await queryRows<{ dd: string }>(
        ctx.db,
        sql`with c as (select t.closed_at, t.id, sum(t.profit_quote) over (order by t.closed_at, t.id) as cum from trades t where ${where}),
                 m as (select cum, max(greatest(cum, 0)) over (order by closed_at, id rows unbounded preceding) as peak from c)
            select coalesce(max(peak - cum), 0)::numeric(38, 8)::text as dd from m`,
      );
      const pairs = await queryRows<{ symbol: string; profit: string }>(
        ctx.db,
        sql`select t.symbol, coalesce(sum(t.profit_quote), 0)::numeric(38, 8)::text as profit from trades t where ${where}
            group by t.symbol order by sum(t.profit_quote) desc nulls last, t.symbol`,
      );
      const [open] = await queryRows<{ open: number; running: number }>(
        ctx.db,
        sql`select (select count(*)::int from trades where tenant_id = ${scope.tenantId} and status = 'open') as open,
                   (select count(*)::int from bots where tenant_id = ${scope.tenantId} and status = 'running') as running`,
      );
      const grossWin = Number(totals?.gross_win ?? 0);
      const grossLoss = Number(totals?.gross_loss ?? 0);
      const seconds = (value: string | null | undefined) => (value == null ? null : Math.round(Number(value)));
      return {
        closedTrades: Number(totals?.n ?? 0),
        exitReasons: reasons.map((r) => ({ reason: r.reason, wins: Number(r.wins), losses: Number(r.losses) })),
        avgWinSeconds: seconds(totals?.win_s),
        avgLossSeconds: seconds(totals?.loss_s),
        avgSeconds: seconds(totals?.all_s),
        maxDrawdownQuote: drawdown?.dd ?? '0',
        profitFactor: grossLoss > 0 ? Math.round((grossWin / grossLoss) * 100) / 100 : null,
        bestPair: pairs[0] ? { symbol: pairs[0].symbol, profitQuote: pairs[0].profit } : null,
        worstPair: pairs.length > 1 ? { symbol: pairs.at(-1)!.symbol, profitQuote: pairs.at(-1)!.profit } : null,
        openTrades: Number(open?.open ?? 0),
        runningBots: Number(open?.running ?? 0),
        maxOpenPerBot: (ctx.trading?.limits ?? DEFAULT_RISK_LIMITS).maxOpenPositions,
      };
    },
  }),
  defineTool({
    name: 'trading_health',
    description: "The product's version and each of a trader's bots' last tick (freqtrade's /health and /version).",
    domain: 'trading',
    effect: 'read',
    access: { departments: ['security', 'support', 'settings'], traders: true },
    input: z.strictObject({ email: traderEmail }),
    output: z.object({
      version: z.string(),
      bots: z.array(z.object({ id: z.string(), name: z.string(), status: z.string(), lastTickAt: z.string().nullable() })),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await selectScoped(ctx.db, scope, bots, { orderBy: [bots.createdAt, bots.id] });
      return {
        version: pkg.version,
        bots: rows.map((b) => ({ id: b.id, name: b.name, status: b.status, lastTickAt: iso(b.lastTickAt) })),
      };
    },
  }),
];
