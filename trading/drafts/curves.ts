import { backtests, getScoped, type Database, type TenantScope } from '../../db/index.ts';
import { backtestEquityCurve, ChartDataError, type EquityCurve } from '../equity-curves.ts';
import { loadCachedCandles } from '../market-data/index.ts';

// A draft's backtest as the trader sees it on Telegram (issue 22): the strategy's equity
// beside holding the coin over the same candles, both from the same starting cash. Read under
// the trader's tenant scope: another trader's backtest id is "not found".

/** Points of the buy-and-hold line at most (a chart is ~960 px wide). */
const MAX_POINTS = 500;

export interface BacktestBesideBuyAndHold {
  readonly strategy: EquityCurve;
  /** Starting cash × close ÷ first close, over the backtest's cached candles. */
  readonly buyAndHold: readonly { readonly at: Date; readonly equityQuote: number }[];
  readonly symbol: string;
  readonly timeframe: string;
}

export async function backtestBesideBuyAndHold(db: Database, scope: TenantScope, backtestId: string): Promise<BacktestBesideBuyAndHold> {
  const row = await getScoped(db, scope, backtests, backtestId);
  if (!row) throw new ChartDataError(`backtest ${backtestId} not found`);
  const strategy = await backtestEquityCurve(db, scope, backtestId);
  const series = await loadCachedCandles(
    db,
    { exchange: 'binance', symbol: row.symbol, timeframe: row.timeframe },
    { ...(row.rangeStart ? { fromMs: row.rangeStart.getTime() } : {}), ...(row.rangeEnd ? { toMs: row.rangeEnd.getTime() } : {}) },
  );
  const cash = Number(row.startingCashQuote);
  const first = series.close[0];
  const buyAndHold: { at: Date; equityQuote: number }[] = [];
  if (first !== undefined && first > 0 && series.length > 0) {
    const stride = Math.max(1, Math.ceil(series.length / MAX_POINTS));
    for (let i = 0; i < series.length; i += stride)
      buyAndHold.push({ at: new Date(series.time[i]!), equityQuote: (cash * series.close[i]!) / first });
    const last = series.length - 1;
    if (last % stride !== 0) buyAndHold.push({ at: new Date(series.time[last]!), equityQuote: (cash * series.close[last]!) / first });
  }
  return { strategy, buyAndHold, symbol: row.symbol, timeframe: row.timeframe };
}
