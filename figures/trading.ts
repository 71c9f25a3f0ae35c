import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../db/index.ts';
import { lastDays, todayUtc, type FigureDefinition, type Window } from './window.ts';

// The company's trading figures: ONE function and ONE definition each (the finance ones are in
// billing/figures.ts). Every surface that prints them (the CEO's KPIs, the executive report,
// Telegram, the offline templates) computes them here, or through the tool that does, and says
// the window next to the figure. Amounts are in the quote currency (USDT).

/** The standard window of the trading figures; a surface showing another one says which. */
export const TRADING_WINDOWS = {
  /** Trading result, closed trades and win rate. */
  pnlDays: 30,
} as const;

export const TRADING_FIGURES: readonly FigureDefinition[] = [
  {
    id: 'trading_pnl',
    label: 'Trading result (P&L)',
    formula: 'sum of the profit of the trades closed in the window (net of fees, in USDT), rounded to 0.01',
    window: `last ${TRADING_WINDOWS.pnlDays} days; the executive report: its period (24 h or 7 days); Telegram /profit: the days asked for`,
    source: 'tradingPnl',
  },
  {
    id: 'closed_trades',
    label: 'Closed trades',
    formula: 'trades whose status is closed and that closed in the window',
    window: `last ${TRADING_WINDOWS.pnlDays} days (as the trading result)`,
    source: 'tradingPnl',
  },
  {
    id: 'win_rate',
    label: 'Win rate',
    formula: 'closed trades with a profit above zero ÷ closed trades, in percent to 0.1; none without closed trades',
    window: `last ${TRADING_WINDOWS.pnlDays} days (as the trading result)`,
    source: 'tradingPnl',
  },
  {
    id: 'today_result',
    label: "Today's result",
    formula: "the trading result of the trades closed today (the company, a trader, or one bot: the dashboard's bots list)",
    window: 'today since 00:00 UTC',
    source: 'tradingPnl(todayUtc)',
  },
  { id: 'running_bots', label: 'Running bots', formula: 'bots whose status is running', window: 'now', source: 'botCounts' },
  {
    id: 'bots_needing_attention',
    label: 'Bots needing attention',
    formula: 'bots paused, in error or frozen',
    window: 'now',
    source: 'botCounts',
  },
];

export interface TradingPnl {
  readonly closedTrades: number;
  readonly wins: number;
  /** Sum of the closed trades' profit, rounded to 0.01. */
  readonly profitQuote: number;
  /** wins ÷ closedTrades in percent, to 0.1; null without closed trades. */
  readonly winRatePct: number | null;
}

/** Win rate: winners ÷ closed trades, in percent to 0.1; null without closed trades. */
export function winRatePct(wins: number, closedTrades: number): number | null {
  return closedTrades > 0 ? Math.round((wins / closedTrades) * 1000) / 10 : null;
}

/** Trading result, closed trades and win rate of the trades closed in the window: the platform's, one tenant's, or one bot's. */
export async function tradingPnl(db: Database, window: Window, tenantId?: string | null, botId?: string): Promise<TradingPnl> {
  const [row] = await queryRows<{ n: string; wins: string; profit: string | null }>(
    db,
    sql`select count(*)::bigint as n, count(*) filter (where profit_quote > 0)::bigint as wins, sum(profit_quote)::text as profit
        from trades where status = 'closed' and closed_at >= ${window.from.toISOString()}::timestamptz and closed_at < ${window.to.toISOString()}::timestamptz
        ${tenantId ? sql`and tenant_id = ${tenantId}` : sql``} ${botId ? sql`and bot_id = ${botId}` : sql``}`,
  );
  const closedTrades = Number(row?.n ?? 0);
  const wins = Number(row?.wins ?? 0);
  return { closedTrades, wins, profitQuote: Math.round(Number(row?.profit ?? 0) * 100) / 100, winRatePct: winRatePct(wins, closedTrades) };
}

/** Running bots and bots needing attention (paused, error, frozen), now, on the platform. */
export async function botCounts(db: Database): Promise<{ runningBots: number; attention: number }> {
  const [row] = await queryRows<{ running: string; attention: string }>(
    db,
    sql`select count(*) filter (where status = 'running') as running, count(*) filter (where status in ('paused', 'error', 'frozen')) as attention from bots`,
  );
  return { runningBots: Number(row?.running ?? 0), attention: Number(row?.attention ?? 0) };
}

export { lastDays, todayUtc };
