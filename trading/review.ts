import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { timeframeToMs } from './market-data/index.ts';
import { MAX_DRAFT_BACKTEST_DRAWDOWN_PCT } from './drafts/index.ts';

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
/** The window a bot's recent return is compared over with its backtest's returns over the same length. */
export const REVIEW_WINDOW_DAYS = 30;
/** Days a paper bot from the assistant runs before the review suggests live (the workflow's default). */
export const PAPER_PERIOD_DAYS = 7;
const DAY_MS = 86_400_000;

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
  readonly mode: string;
  /** Whole days since it was last started (null: no start recorded). */
  readonly daysRunning: number | null;
  /** Closed trades, all time, and their realised profit as a percentage of the stake. */
  readonly closedTrades: number;
  readonly returnPct: number;
  /** Realised profit of trades closed in the last REVIEW_WINDOW_DAYS, percent of the stake; null when it ran less than that. */
  readonly windowReturnPct: number | null;
  /** The lowest and highest return its backtest made over any REVIEW_WINDOW_DAYS (the assistant's draft's), or null. */
  readonly backtestWindowRangePct: { readonly lowPct: number; readonly highPct: number } | null;
  /** Its backtest's return over the whole year (the draft's), or null. */
  readonly backtestReturnPct: number | null;
  /** It was started by the trader's assistant from a draft. */
  readonly fromDraft: boolean;
}

export type ReviewFlag =
  | { readonly kind: 'drawdown'; readonly drawdownPct: number; readonly backtestDrawdownPct: number }
  | { readonly kind: 'losing_streak'; readonly trades: number }
  | { readonly kind: 'stale_feed'; readonly symbols: readonly string[] }
  | { readonly kind: 'order_failures'; readonly orders: number }
  | { readonly kind: 'outside_backtest'; readonly returnPct: number; readonly lowPct: number; readonly highPct: number };

const round2 = (value: number) => Math.round(value * 100) / 100;

/** What deserves the trader's attention in one bot's figures. */
export function reviewFlags(f: BotReviewFigures): ReviewFlag[] {
  const flags: ReviewFlag[] = [];
  if (f.backtestDrawdownPct !== null && f.drawdownPct > f.backtestDrawdownPct)
    flags.push({ kind: 'drawdown', drawdownPct: f.drawdownPct, backtestDrawdownPct: f.backtestDrawdownPct });
  if (f.losingStreak >= LOSING_STREAK_FLAG) flags.push({ kind: 'losing_streak', trades: f.losingStreak });
  if (f.staleSymbols.length > 0) flags.push({ kind: 'stale_feed', symbols: f.staleSymbols });
  if (f.orderFailures24h >= ORDER_FAILURES_FLAG) flags.push({ kind: 'order_failures', orders: f.orderFailures24h });
  const range = f.backtestWindowRangePct;
  if (f.windowReturnPct !== null && range && (f.windowReturnPct < range.lowPct || f.windowReturnPct > range.highPct))
    flags.push({ kind: 'outside_backtest', returnPct: f.windowReturnPct, lowPct: range.lowPct, highPct: range.highPct });
  return flags;
}

/** A paper bot of the assistant's that ran its paper period: the evidence for suggesting live (the trader decides). */
export interface PaperReady {
  readonly days: number;
  readonly trades: number;
  readonly returnPct: number;
  readonly backtestReturnPct: number | null;
}

/**
 * Whether the review suggests going live: a paper bot from a draft, running at least `paperDays`,
 * nothing flagged, and a backtest that fell no more than MAX_DRAFT_BACKTEST_DRAWDOWN_PCT (a draft
 * beyond it may run on paper, never be suggested for real money).
 */
export function paperReady(f: BotReviewFigures, flags: readonly ReviewFlag[], paperDays = PAPER_PERIOD_DAYS): PaperReady | null {
  if (f.mode !== 'paper' || !f.fromDraft || f.daysRunning === null || f.daysRunning < paperDays || flags.length > 0) return null;
  if (f.backtestDrawdownPct !== null && f.backtestDrawdownPct > MAX_DRAFT_BACKTEST_DRAWDOWN_PCT) return null;
  return { days: f.daysRunning, trades: f.closedTrades, returnPct: f.returnPct, backtestReturnPct: f.backtestReturnPct };
}

/**
 * The lowest and highest return over any `windowMs` of an equity curve (points in time order):
 * each point against the first point at least `windowMs` later. Null when the curve is shorter.
 */
export function windowReturnRangePct(
  curve: readonly { readonly time: number; readonly equity: number }[],
  windowMs: number,
): { lowPct: number; highPct: number } | null {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  let j = 0;
  for (let i = 0; i < curve.length; i++) {
    const start = curve[i]!;
    if (j < i) j = i;
    while (j < curve.length && curve[j]!.time - start.time < windowMs) j++;
    if (j >= curve.length) break;
    if (!(start.equity > 0)) continue;
    const change = ((curve[j]!.equity - start.equity) / start.equity) * 100;
    if (change < low) low = change;
    if (change > high) high = change;
  }
  return Number.isFinite(low) ? { lowPct: round2(low), highPct: round2(high) } : null;
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
    mode: string;
    started_at: string | null;
  }>(
    db,
    sql`select id, tenant_id, name, strategy_name, symbols, timeframe, stake_quote::text as stake_quote, mode::text as mode, started_at::text as started_at
        from bots where status = 'running' order by id`,
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
  const windowProfits = new Map<string, number>();
  const windowStart = now.getTime() - REVIEW_WINDOW_DAYS * DAY_MS;
  for (const row of await queryRows<{ bot_id: string; profit: string; closed_at: string | null }>(
    db,
    sql`select t.bot_id, t.profit_quote::text as profit, t.closed_at::text as closed_at from trades t join bots b on b.id = t.bot_id
        where b.status = 'running' and t.status = 'closed' and t.profit_quote is not null order by t.bot_id, t.closed_at, t.id`,
  )) {
    const list = profits.get(row.bot_id) ?? [];
    list.push(Number(row.profit));
    profits.set(row.bot_id, list);
    if (row.closed_at && new Date(row.closed_at).getTime() >= windowStart)
      windowProfits.set(row.bot_id, (windowProfits.get(row.bot_id) ?? 0) + Number(row.profit));
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
  const draftBots = new Set<string>();
  const draftRanges = new Map<string, { lowPct: number; highPct: number }>();
  const draftReturns = new Map<string, number>();
  for (const row of await queryRows<{ bot_id: string; summary: unknown }>(
    db,
    sql`select d.bot_id, d.backtest_summary as summary from bot_drafts d join bots b on b.id = d.bot_id where b.status = 'running'`,
  )) {
    draftBots.add(row.bot_id);
    const summary = (typeof row.summary === 'string' ? JSON.parse(row.summary) : row.summary) as {
      backtests?: { maxDrawdownPct: number; totalReturnPct?: number; windowReturnRangePct?: { lowPct: number; highPct: number } | null }[];
    };
    const backtests = summary?.backtests ?? [];
    const falls = backtests.map((b) => b.maxDrawdownPct);
    if (falls.length > 0) fromDrafts.set(row.bot_id, Math.max(...falls));
    // Several pairs: the widest range any of them made (the bot is flagged only outside all of them).
    const ranges = backtests.flatMap((b) => (b.windowReturnRangePct ? [b.windowReturnRangePct] : []));
    if (ranges.length > 0)
      draftRanges.set(row.bot_id, {
        lowPct: Math.min(...ranges.map((r) => r.lowPct)),
        highPct: Math.max(...ranges.map((r) => r.highPct)),
      });
    const returns = backtests.flatMap((b) => (typeof b.totalReturnPct === 'number' ? [b.totalReturnPct] : []));
    if (returns.length > 0) draftReturns.set(row.bot_id, round2(returns.reduce((a, b) => a + b, 0) / returns.length));
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
    const stake = Number(bot.stake_quote);
    const closed = profits.get(bot.id) ?? [];
    const { drawdownPct, losingStreak } = equityFigures(stake, closed);
    const startedMs = bot.started_at ? new Date(bot.started_at).getTime() : null;
    const daysRunning = startedMs === null ? null : Math.floor((now.getTime() - startedMs) / DAY_MS);
    const pctOfStake = (value: number) => (stake > 0 ? round2((value / stake) * 100) : 0);
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
      mode: bot.mode,
      daysRunning,
      closedTrades: closed.length,
      returnPct: pctOfStake(closed.reduce((a, b) => a + b, 0)),
      windowReturnPct: daysRunning !== null && daysRunning >= REVIEW_WINDOW_DAYS ? pctOfStake(windowProfits.get(bot.id) ?? 0) : null,
      backtestWindowRangePct: draftRanges.get(bot.id) ?? null,
      backtestReturnPct: draftReturns.get(bot.id) ?? null,
      fromDraft: draftBots.has(bot.id),
    };
  });
}
