import { and, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { bots, positions, queryRows, selectScoped, trades } from '../../db/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { checkBacktestQuota } from '../../billing/index.ts';
import { getStrategy, loadCachedCandles, parseStrategyParameters, runBacktest, saveBacktest, sliceCandles, startBot, stopBot, syncCandles, timeframeToMs } from '../../trading/index.ts';
import { defineTool } from '../types.ts';

const traderEmail = z.email().optional().describe("the trader's email (staff only; traders see their own account)");
const botRow = z.object({ id: z.string(), name: z.string(), strategy: z.string(), symbols: z.array(z.string()), mode: z.string(), status: z.string(), stakeQuote: z.string() });

/** A write tool that starts or stops one of the scoped trader's bots. */
function botControlTool(name: string, description: string, action: typeof startBot) {
  return defineTool({
    name,
    description,
    domain: 'trading',
    effect: 'write',
    input: z.strictObject({ botId: z.uuid(), email: traderEmail }),
    output: z.object({ botId: z.string(), status: z.string() }),
    async execute(ctx, input) {
      const bot = await action(ctx.db, await traderScope(ctx, input.email), input.botId);
      return { botId: bot.id, status: bot.status };
    },
  });
}

export const tradingTools = [
  defineTool({
    name: 'bots_overview',
    description: "List a trader's bots with strategy, symbols, mode and status.",
    domain: 'trading',
    effect: 'read',
    input: z.strictObject({ email: traderEmail }),
    output: z.object({ bots: z.array(botRow), running: z.number() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await selectScoped(ctx.db, scope, bots, { orderBy: bots.createdAt });
      return {
        bots: rows.map((b) => ({ id: b.id, name: b.name, strategy: b.strategyName, symbols: b.symbols, mode: b.mode, status: b.status, stakeQuote: b.stakeQuote })),
        running: rows.filter((b) => b.status === 'running').length,
      };
    },
  }),
  defineTool({
    name: 'trading_pnl',
    description: 'Profit and loss of closed trades over the last N days, for one trader or the whole platform.',
    domain: 'trading',
    effect: 'read',
    input: z.strictObject({ email: traderEmail, days: z.number().int().min(1).max(365).default(30) }),
    output: z.object({ days: z.number(), closedTrades: z.number(), wins: z.number(), profitQuote: z.number(), winRatePct: z.number().nullable() }),
    async execute(ctx, input) {
      const since = new Date(ctx.now().getTime() - input.days * 86_400_000);
      const tenantFilter = ctx.actor.kind === 'trader' || input.email ? (await traderScope(ctx, input.email)).tenantId : null;
      const [row] = await queryRows<{ n: string; wins: string; profit: string | null }>(
        ctx.db,
        sql`select count(*)::bigint as n, count(*) filter (where profit_quote > 0)::bigint as wins, sum(profit_quote)::text as profit
            from trades where status = 'closed' and closed_at >= ${since.toISOString()}::timestamptz
            ${tenantFilter ? sql`and tenant_id = ${tenantFilter}` : sql``}`,
      );
      const closed = Number(row?.n ?? 0);
      const wins = Number(row?.wins ?? 0);
      return { days: input.days, closedTrades: closed, wins, profitQuote: Math.round(Number(row?.profit ?? 0) * 100) / 100, winRatePct: closed ? Math.round((wins / closed) * 1000) / 10 : null };
    },
  }),
  defineTool({
    name: 'open_positions',
    description: "A trader's open positions with entry price, stop loss and take profit.",
    domain: 'trading',
    effect: 'read',
    input: z.strictObject({ email: traderEmail }),
    output: z.object({ positions: z.array(z.object({ botId: z.string(), symbol: z.string(), amountBase: z.string(), entryPriceQuote: z.string(), stopLossQuote: z.string().nullable(), takeProfitQuote: z.string().nullable() })) }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const rows = await selectScoped(ctx.db, scope, positions);
      return { positions: rows.map((p) => ({ botId: p.botId, symbol: p.symbol, amountBase: p.amountBase, entryPriceQuote: p.averageEntryPriceQuote, stopLossQuote: p.stopLossPriceQuote, takeProfitQuote: p.takeProfitPriceQuote })) };
    },
  }),
  defineTool({
    name: 'risk_status',
    description: "A trader's bots that are paused, in error or frozen, with the reason, and today's realised result.",
    domain: 'trading',
    effect: 'read',
    input: z.strictObject({ email: traderEmail }),
    output: z.object({ attention: z.array(z.object({ botId: z.string(), name: z.string(), status: z.string(), reason: z.string().nullable() })), todayProfitQuote: z.number() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const troubled = await selectScoped(ctx.db, scope, bots, { where: inArray(bots.status, ['paused', 'error', 'frozen']) });
      const start = new Date(Math.floor(ctx.now().getTime() / 86_400_000) * 86_400_000);
      const today = await selectScoped(ctx.db, scope, trades, { where: and(eq(trades.status, 'closed'), gte(trades.closedAt, start)), orderBy: desc(trades.closedAt) });
      return {
        attention: troubled.map((b) => ({ botId: b.id, name: b.name, status: b.status, reason: b.lastError })),
        todayProfitQuote: Math.round(today.reduce((sum, t) => sum + Number(t.profitQuote ?? 0), 0) * 100) / 100,
      };
    },
  }),
  botControlTool('stop_bot', "Stop one of a trader's bots by its id.", stopBot),
  botControlTool('start_bot', "Start one of a trader's bots by its id (plan limits apply).", startBot),
  defineTool({
    name: 'run_backtest',
    description: 'Backtest a strategy on recent candles of a symbol and store the result (plan limits apply).',
    domain: 'trading',
    effect: 'write',
    input: z.strictObject({
      strategy: z.enum(['rsi', 'rsi-reference', 'macd-cross', 'ema-cross', 'bollinger-reversion']).default('rsi'),
      symbol: z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, { error: 'expected a symbol such as BTC/USDT' }).default('BTC/USDT'),
      timeframe: z.enum(['5m', '15m', '1h', '4h', '1d']).default('1h'),
      days: z.number().int().min(1).max(365).default(30),
      email: traderEmail,
    }),
    output: z.object({ backtestId: z.string(), strategy: z.string(), symbol: z.string(), candles: z.number(), trades: z.number(), finalEquity: z.number(), totalReturnPct: z.number(), maxDrawdownPct: z.number(), winRatePct: z.number().nullable() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const quota = await checkBacktestQuota(ctx.db, scope, ctx.now());
      if (!quota.allowed) throw new ToolRefusal('forbidden', quota.reason);
      const key = { exchange: 'binance', symbol: input.symbol, timeframe: input.timeframe };
      const toMs = ctx.now().getTime();
      const fromMs = toMs - input.days * 86_400_000;
      if (ctx.marketData) await syncCandles(ctx.db, ctx.marketData, key, { sinceMs: fromMs });
      let series = await loadCachedCandles(ctx.db, key, { fromMs, toMs });
      if (series.length === 0 && !ctx.marketData) {
        // No exchange at hand: use the newest cached stretch of the same length.
        const all = await loadCachedCandles(ctx.db, key);
        const bars = Math.ceil((input.days * 86_400_000) / timeframeToMs(input.timeframe));
        series = sliceCandles(all, all.length - bars);
      }
      const strategy = getStrategy(input.strategy);
      const parameters = parseStrategyParameters(strategy, {});
      if (series.length <= strategy.warmupBars(parameters)) throw new ToolRefusal('not_found', `Not enough ${input.timeframe} candles of ${input.symbol} to backtest (have ${series.length}).`);
      const started = performance.now();
      const result = runBacktest(series, strategy, parameters);
      const backtestId = await saveBacktest(ctx.db, scope, {
        symbol: input.symbol, timeframe: input.timeframe, feeRate: 0.001, result, elapsedMs: performance.now() - started,
        rangeStart: new Date(series.time[0]!), rangeEnd: new Date(series.time[series.length - 1]!),
        ...(ctx.actor.kind === 'system' ? {} : { requestedByUserId: ctx.actor.userId }),
      });
      const round = (value: number) => Math.round(value * 100) / 100;
      return {
        backtestId, strategy: result.strategy, symbol: input.symbol, candles: result.candles, trades: result.trades,
        finalEquity: round(result.finalEquity), totalReturnPct: round(result.totalReturnPct), maxDrawdownPct: round(result.maxDrawdownPct),
        winRatePct: result.winRatePct === null ? null : round(result.winRatePct),
      };
    },
  }),
];
