import { ProductError } from '../errors/index.ts';
import { and, asc, eq, sql } from 'drizzle-orm';
import { assertTenantScope, backtestResults, backtests, bots, getScoped, queryRows, type Database, type TenantScope } from '../db/index.ts';
import { numberToDecimal } from '../i18n/index.ts';

// Equity curves as data, read under a tenant scope: a bot's from its closed trades and a
// backtest's as the engine recorded it. Charts (telegram/charts) draw what they are handed;
// this is where the reading happens.

/** No such bot or backtest in the scope's tenant (another tenant's id reads as missing). */
export class ChartDataError extends ProductError {
  readonly category = 'not_found' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ChartDataError';
  }
}

/** A bot's equity over time, in its quote currency, as exact decimal strings. */
export interface EquityCurve {
  readonly title: string;
  /** USDT for the default pairs. */
  readonly quote: string;
  readonly startQuote: string;
  readonly points: readonly { readonly at: Date; readonly equityQuote: string }[];
  readonly closedTrades: number;
  readonly openPositions: number;
  /** `realised`: stake plus the closed trades' profit (a live bot); `backtest`: marked at every close. */
  readonly basis: 'realised' | 'backtest';
}

/** `BTC/USDT` → `USDT` (USDT when the symbol names none). */
const quoteOf = (symbol: string): string => symbol.split('/')[1] || 'USDT';

function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/\.?0+$/, '') || '0' : value;
}

/**
 * The equity curve of a trader's bot from its closed trades: the stake at the start, then
 * stake + cumulative net profit after each closed trade (summed in SQL numeric, exact). Only
 * the scope's own bot is found: another tenant's bot id is "not found".
 */
export async function botEquityCurve(db: Database, scope: TenantScope, botId: string): Promise<EquityCurve> {
  assertTenantScope(scope);
  const bot = await getScoped(db, scope, bots, botId);
  if (!bot) throw new ChartDataError(`bot ${botId} not found`);
  const rows = await queryRows<{ closed_at: string; opened_at: string; equity: string }>(
    db,
    sql`select closed_at::text as closed_at, opened_at::text as opened_at,
               (${bot.stakeQuote}::numeric + sum(profit_quote) over (order by closed_at, id))::text as equity
        from trades
        where tenant_id = ${scope.tenantId} and bot_id = ${bot.id} and status = 'closed' and closed_at is not null and profit_quote is not null
        order by closed_at, id`,
  );
  const [open] = await queryRows<{ n: string | number }>(
    db,
    sql`select count(*) as n from positions where tenant_id = ${scope.tenantId} and bot_id = ${bot.id}`,
  );
  const start = rows[0] ? new Date(rows[0].opened_at) : (bot.startedAt ?? bot.createdAt);
  const stake = trimDecimal(bot.stakeQuote);
  return {
    title: bot.name,
    quote: quoteOf(bot.symbols[0] ?? 'BTC/USDT'),
    startQuote: stake,
    points: [
      { at: start, equityQuote: stake },
      ...rows.map((row) => ({ at: new Date(row.closed_at), equityQuote: trimDecimal(row.equity) })),
    ],
    closedTrades: rows.length,
    openPositions: Number(open?.n ?? 0),
    basis: 'realised',
  };
}

/** The equity curve a backtest recorded (marked at each close, thinned by the engine), of the scope's tenant only. */
export async function backtestEquityCurve(db: Database, scope: TenantScope, backtestId: string): Promise<EquityCurve> {
  assertTenantScope(scope);
  const [row] = await db
    .select({
      strategy: backtests.strategyName,
      symbol: backtests.symbol,
      cash: backtests.startingCashQuote,
      curve: backtestResults.equityCurve,
      trades: backtestResults.closedTrades,
    })
    .from(backtestResults)
    .innerJoin(backtests, eq(backtests.id, backtestResults.backtestId))
    .where(and(eq(backtestResults.backtestId, backtestId), eq(backtestResults.tenantId, scope.tenantId)))
    .orderBy(asc(backtestResults.createdAt))
    .limit(1);
  if (!row) throw new ChartDataError(`backtest ${backtestId} not found`);
  const points = (row.curve as { time: number; equity: number }[]).map((p) => ({
    at: new Date(p.time),
    equityQuote: numberToDecimal(p.equity, 2),
  }));
  return {
    title: `${row.strategy} ${row.symbol} (backtest)`,
    quote: quoteOf(row.symbol),
    startQuote: trimDecimal(row.cash),
    points,
    closedTrades: row.trades,
    openPositions: 0,
    basis: 'backtest',
  };
}
