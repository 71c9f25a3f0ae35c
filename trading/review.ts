import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { timeframeToMs } from './market-data/index.ts';

// The daily review of running bots (issue 22, item 4): plain figures per bot, no model — how
// far its realised equity fell from its peak against how far its backtest fell, its losing
// streak, whether its market feed went stale, how many of its orders failed in the last day.
// The bot-review workflow turns the flags into one digest per trader.

/** A streak of this many losing trades in a row is flagged. */
export const LOSING_STREAK_FLAG = 4;
/** This many rejected or expired orders within a day are flagged. */
export const ORDER_FAILURES_FLAG = 3;
/** A feed whose newest candle is older than this many bars is stale. */
export const STALE_FEED_BARS = 3;

export interface BotReviewFigures {
  readonly botId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly symbols: readonly string[];
  readonly timeframe: string;
  /** Largest fall of realised equity (stake + closed profits) from its peak, in percent. */
  readonly drawdownPct: number;
  /** Its backtest's largest fall (the assistant's draft's, else the newest matching one), or null. */
  readonly backtestDrawdownPct: number | null;
  /** Losing closed trades in a row, the newest last. */
  readonly losingStreak: number;
  /** Pairs whose newest cached candle is older than STALE_FEED_BARS bars (or none cached). */
  readonly staleSymbols: readonly string[];
  /** Orders rejected or expired in the last 24 hours. */
  readonly orderFailures24h: number;
}

export type ReviewFlag =
  | { readonly kind: 'drawdown'; readonly drawdownPct: number; readonly backtestDrawdownPct: number }
  | { readonly kind: 'losing_streak'; readonly trades: number }
  | { readonly kind: 'stale_feed'; readonly symbols: readonly string[] }
  | { readonly kind: 'order_failures'; readonly orders: number };

const round2 = (value: number) => Math.round(value * 100) / 100;

/** What deserves the trader's attention in one bot's figures. */
export function reviewFlags(f: BotReviewFigures): ReviewFlag[] {
  const flags: ReviewFlag[] = [];
  if (f.backtestDrawdownPct !== null && f.drawdownPct > f.backtestDrawdownPct)
    flags.push({ kind: 'drawdown', drawdownPct: f.drawdownPct, backtestDrawdownPct: f.backtestDrawdownPct });
  if (f.losingStreak >= LOSING_STREAK_FLAG) flags.push({ kind: 'losing_streak', trades: f.losingStreak });
  if (f.staleSymbols.length > 0) flags.push({ kind: 'stale_feed', symbols: f.staleSymbols });
  if (f.orderFailures24h >= ORDER_FAILURES_FLAG) flags.push({ kind: 'order_failures', orders: f.orderFailures24h });
  return flags;
}

/** Realised drawdown (percent) and the losing streak at the end, from closed profits in order. */
export function equityFigures(stakeQuote: number, profitsQuote: readonly number[]): { drawdownPct: number; losingStreak: number } {
  let equity = stakeQuote;
  let peak = stakeQuote;
  let worst = 0;
  let streak = 0;
  for (const profit of profitsQuote) {
    equity += profit;
    if (equity > peak) peak = equity;
    else if (peak > 0) worst = Math.max(worst, (peak - equity) / peak);
    streak = profit < 0 ? streak + 1 : 0;
  }
  return { drawdownPct: round2(worst * 100), losingStreak: streak };
}

/** The figures of every running bot, as of `now` (a few set-based queries, whatever the number of bots). */
export async function runningBotReviewFigures(db: Database, now: Date): Promise<BotReviewFigures[]> {
  const running = await queryRows<{
    id: string;
    tenant_id: string;
    name: string;
    strategy_name: string;
    symbols: string[] | string;
    timeframe: string;
    stake_quote: string;
  }>(
    db,
    sql`select id, tenant_id, name, strategy_name, symbols, timeframe, stake_quote::text as stake_quote from bots where status = 'running' order by id`,
  );
  if (running.length === 0) return [];
  const symbolsOf = (value: string[] | string): string[] =>
    Array.isArray(value)
      ? value
      : value
          .replace(/^\{|\}$/g, '')
          .split(',')
          .filter(Boolean);

  const profits = new Map<string, number[]>();
  for (const row of await queryRows<{ bot_id: string; profit: string }>(
    db,
    sql`select t.bot_id, t.profit_quote::text as profit from trades t join bots b on b.id = t.bot_id
        where b.status = 'running' and t.status = 'closed' and t.profit_quote is not null order by t.bot_id, t.closed_at, t.id`,
  )) {
    const list = profits.get(row.bot_id) ?? [];
    list.push(Number(row.profit));
    profits.set(row.bot_id, list);
  }

  const failures = new Map<string, number>();
  for (const row of await queryRows<{ bot_id: string; n: string | number }>(
    db,
    sql`select o.bot_id, count(*) as n from orders o join bots b on b.id = o.bot_id
        where b.status = 'running' and o.status in ('rejected', 'expired') and o.created_at >= ${new Date(now.getTime() - 86_400_000).toISOString()}::timestamptz
        group by o.bot_id`,
  ))
    failures.set(row.bot_id, Number(row.n));

  // The assistant's draft's backtest (its own record of the bot's settings), else the tenant's
  // newest finished backtest of the same strategy, pair and timeframe.
  const fromDrafts = new Map<string, number>();
  for (const row of await queryRows<{ bot_id: string; summary: unknown }>(
    db,
    sql`select d.bot_id, d.backtest_summary as summary from bot_drafts d join bots b on b.id = d.bot_id where b.status = 'running'`,
  )) {
    const summary = (typeof row.summary === 'string' ? JSON.parse(row.summary) : row.summary) as {
      backtests?: { maxDrawdownPct: number }[];
    };
    const falls = (summary?.backtests ?? []).map((b) => b.maxDrawdownPct);
    if (falls.length > 0) fromDrafts.set(row.bot_id, Math.max(...falls));
  }
  const fromBacktests = new Map<string, number>();
  for (const row of await queryRows<{ bot_id: string; dd: string }>(
    db,
    sql`select distinct on (b.id) b.id as bot_id, r.max_drawdown_pct::text as dd
        from bots b
        join backtests t on t.tenant_id = b.tenant_id and t.strategy_name = b.strategy_name and t.timeframe = b.timeframe and t.symbol = b.symbols[1]
        join backtest_results r on r.backtest_id = t.id
        where b.status = 'running'
        order by b.id, t.created_at desc`,
  ))
    fromBacktests.set(row.bot_id, Number(row.dd));

  // Each running pair's newest cached candle (one index lookup per pair and timeframe).
  const feeds = new Map<string, number | null>();
  for (const bot of running)
    for (const symbol of symbolsOf(bot.symbols)) {
      const key = `${symbol}|${bot.timeframe}`;
      if (feeds.has(key)) continue;
      const [row] = await queryRows<{ last: string | null }>(
        db,
        sql`select max(open_time)::text as last from candles where exchange = 'binance' and symbol = ${symbol} and timeframe = ${bot.timeframe}`,
      );
      feeds.set(key, row?.last ? new Date(row.last).getTime() : null);
    }

  return running.map((bot) => {
    const symbols = symbolsOf(bot.symbols);
    const barMs = timeframeToMs(bot.timeframe);
    const { drawdownPct, losingStreak } = equityFigures(Number(bot.stake_quote), profits.get(bot.id) ?? []);
    return {
      botId: bot.id,
      tenantId: bot.tenant_id,
      name: bot.name,
      symbols,
      timeframe: bot.timeframe,
      drawdownPct,
      backtestDrawdownPct: fromDrafts.get(bot.id) ?? fromBacktests.get(bot.id) ?? null,
      losingStreak,
      staleSymbols: symbols.filter((symbol) => {
        const last = feeds.get(`${symbol}|${bot.timeframe}`);
        return last === null || last === undefined || now.getTime() - last > (STALE_FEED_BARS + 1) * barMs;
      }),
      orderFailures24h: failures.get(bot.id) ?? 0,
    };
  });
}
