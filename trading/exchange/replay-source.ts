import type { CandleSeries } from '../market-data/index.ts';
import type { MarketRules } from '../risk/index.ts';
import { ExchangeRejectedError, type MarketDataSource } from './types.ts';

/**
 * Market data replayed from recorded candles with a movable clock: the paper exchange and
 * bot runner see exactly the bars that had closed at `now`. Used to replay history through
 * the live code path (tests, benchmarks, demos without network).
 */
export class ReplayMarketData implements MarketDataSource {
  private readonly data: ReadonlyMap<string, CandleSeries>;
  private readonly barMs: number;
  private readonly rules: MarketRules;
  /** The replay clock, ms since the epoch. */
  now: number;

  constructor(series: ReadonlyMap<string, CandleSeries>, options: { barMs: number; now: number; rules?: MarketRules }) {
    this.data = series;
    this.barMs = options.barMs;
    this.now = options.now;
    this.rules = options.rules ?? { minAmountBase: 0.00001, amountStepBase: 0.00001, minNotionalQuote: 5 };
  }

  async fetchCandles(symbol: string, _timeframe: string, sinceMs?: number, limit = 1000): Promise<number[][]> {
    const series = this.series(symbol);
    // Only bars whose close time has passed: a bar opened at t closes at t + barMs.
    const closedEnd = lowerBound(series.time, this.now - this.barMs + 1);
    const start = sinceMs === undefined ? Math.max(0, closedEnd - limit) : lowerBound(series.time, sinceMs);
    const end = Math.min(closedEnd, start + limit);
    const rows: number[][] = [];
    for (let i = start; i < end; i++) {
      rows.push([series.time[i]!, series.open[i]!, series.high[i]!, series.low[i]!, series.close[i]!, series.volume[i]!]);
    }
    return rows;
  }

  /** Close of the last bar that has closed at `now`. */
  async lastPrice(symbol: string): Promise<number> {
    const series = this.series(symbol);
    const index = lowerBound(series.time, this.now - this.barMs + 1) - 1;
    if (index < 0) throw new Error(`no price for ${symbol} at ${new Date(this.now).toISOString()}`);
    return series.close[index]!;
  }

  private series(symbol: string): CandleSeries {
    const series = this.data.get(symbol);
    if (!series) throw new ExchangeRejectedError(`no market data for ${symbol}`);
    return series;
  }

  async marketRules(): Promise<MarketRules> {
    return this.rules;
  }
}

function lowerBound(times: Float64Array, value: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
