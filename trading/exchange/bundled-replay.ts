import { bundledCandles, timeframeToMs, type CandleSeries } from '../market-data/index.ts';
import type { MarketRules } from '../risk/index.ts';
import { ExchangeRejectedError, type MarketDataSource } from './types.ts';

/**
 * A market replayed in real time from the candles that ship with the repository, for paper
 * bots when no exchange can be reached (the demo on a machine without internet). Recorded
 * bars are laid on the wall clock: the bar that opens at wall-clock time W is recorded bar
 * `(W / barMs) mod n`, so the feed never ends (it loops; at the seam the price jumps once,
 * every n bars — 29 days of 5m, a year of 1h) and a bar closes when its wall-clock time is
 * up, exactly as on an exchange. Prices follow the bot's own timeframe, so its candles and
 * its fills agree.
 */
export class BundledReplayMarket implements MarketDataSource {
  private readonly timeframe: string;
  private readonly barMs: number;
  private readonly now: () => number;
  private readonly rules: MarketRules;

  constructor(options: { timeframe: string; now?: () => number; rules?: MarketRules }) {
    this.timeframe = options.timeframe;
    this.barMs = timeframeToMs(options.timeframe);
    this.now = options.now ?? Date.now;
    this.rules = options.rules ?? { minAmountBase: 0.00001, amountStepBase: 0.00001, minNotionalQuote: 5 };
  }

  async fetchCandles(symbol: string, timeframe: string, sinceMs?: number, limit = 1000): Promise<number[][]> {
    if (timeframe !== this.timeframe) throw new ExchangeRejectedError(`this replayed market serves ${this.timeframe} candles, not ${timeframe}`);
    const series = this.series(symbol);
    const lastClosedOpen = Math.floor(this.now() / this.barMs) * this.barMs - this.barMs;
    const first = sinceMs === undefined ? lastClosedOpen - (limit - 1) * this.barMs : Math.ceil(sinceMs / this.barMs) * this.barMs;
    const rows: number[][] = [];
    for (let open = first; open <= lastClosedOpen && rows.length < limit; open += this.barMs) {
      const i = this.indexAt(series, open);
      rows.push([open, series.open[i]!, series.high[i]!, series.low[i]!, series.close[i]!, series.volume[i]!]);
    }
    return rows;
  }

  /** Close of the last closed bar. */
  async lastPrice(symbol: string): Promise<number> {
    const series = this.series(symbol);
    const lastClosedOpen = Math.floor(this.now() / this.barMs) * this.barMs - this.barMs;
    return series.close[this.indexAt(series, lastClosedOpen)]!;
  }

  async marketRules(): Promise<MarketRules> {
    return this.rules;
  }

  private indexAt(series: CandleSeries, openMs: number): number {
    const bar = Math.floor(openMs / this.barMs);
    return ((bar % series.length) + series.length) % series.length;
  }

  private series(symbol: string): CandleSeries {
    const series = bundledCandles(symbol, this.timeframe);
    if (!series) throw new ExchangeRejectedError(`no replayed market data for ${symbol}`);
    return series;
  }
}
