import type { Database } from '../../db/index.ts';
import { REPLAY_WINDOW, replayWindowCandles, timeframeToMs, upsertCandles, type CandleSeries } from '../market-data/index.ts';
import type { MarketRules } from '../risk/index.ts';
import { ExchangeRejectedError, type MarketDataSource } from './types.ts';

/** One bar of the bundled replay as it lies on the wall clock. */
export interface ReplayedBar {
  /** Wall-clock open time (ms); the bar closes at `openMs` + the timeframe. */
  readonly openMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * The bar of `symbol` at `timeframe` that the bundled replay lays on the wall clock at `atMs`
 * (the one in progress then), or undefined for a symbol without bundled candles. This is the
 * mapping BundledReplayMarket serves, so prices taken here are the ones a bot trading the
 * replay sees (its last price at t is `replayedPrice(symbol, timeframe, t)`): the demo prices
 * its seeded trades with them.
 */
export function replayedBar(symbol: string, timeframe: string, atMs: number): ReplayedBar | undefined {
  const series = replayWindowCandles(symbol, timeframe);
  if (!series) return undefined;
  const barMs = timeframeToMs(timeframe);
  const openMs = Math.floor(atMs / barMs) * barMs;
  return { openMs, ...recordedBarAt(series, openMs, barMs) };
}

/** The replay's last price at `atMs`: the close of the last bar closed by then, as `lastPrice` answers. */
export function replayedPrice(symbol: string, timeframe: string, atMs: number): number | undefined {
  return replayedBar(symbol, timeframe, atMs - timeframeToMs(timeframe))?.close;
}

/**
 * The recorded bar laid at wall-clock open time `openMs`. The window plays forward, then
 * backward, then forward again (a period of two windows): wall time W falls in pass
 * floor(W / window); an even pass plays bar (W mod window) / barMs as recorded, an odd one the
 * bar that far from the end, reversed (its open and close swapped). So the price runs on
 * without a jump where one pass turns into the next: the last bar of a pass closes where the
 * next one opens.
 */
function recordedBarAt(series: CandleSeries, openMs: number, barMs: number): Omit<ReplayedBar, 'openMs'> {
  const window = REPLAY_WINDOW.lengthMs;
  const pass = Math.floor(openMs / window);
  const slot = (openMs - pass * window) / barMs;
  if (pass % 2 === 0)
    return {
      open: series.open[slot]!,
      high: series.high[slot]!,
      low: series.low[slot]!,
      close: series.close[slot]!,
      volume: series.volume[slot]!,
    };
  const i = series.length - 1 - slot;
  return { open: series.close[i]!, high: series.high[i]!, low: series.low[i]!, close: series.open[i]!, volume: series.volume[i]! };
}

/** The exchange the replay's bars are cached under: they are Binance's (candles/SOURCES.md), as the demo's cache files them. */
export const REPLAY_CACHE_EXCHANGE = 'binance';
/**
 * Bars a replayed market writes into the candle cache the first time it serves a pair: a bot
 * page's chart (1,000 bars) with its indicators' warm-up (200), so the chart has no hole between
 * the cache as it was (the demo's seed) and the bars the bots trade now.
 */
export const REPLAY_CACHE_BACKFILL_BARS = 1_200;

/**
 * A market replayed in real time from the candles that ship with the repository, for paper
 * bots when no exchange can be reached (the demo on a machine without internet). Recorded
 * bars are laid on the wall clock: four weeks of December 2024 (REPLAY_WINDOW), the same for
 * every timeframe, played forward and backward in turn (recordedBarAt), so the feed never ends
 * and never jumps, and a 5m and a 1h chart at the same moment show the same market. A bar
 * closes when its wall-clock time is up, exactly as on an exchange. Prices follow the bot's own
 * timeframe, so its candles and its fills agree.
 */
export class BundledReplayMarket implements MarketDataSource {
  private readonly timeframe: string;
  private readonly barMs: number;
  private readonly now: () => number;
  private readonly rules: MarketRules;
  private readonly cache: Database | undefined;
  /** Per symbol: the newest bar open time written into the cache, and the write under way. */
  private readonly cached = new Map<string, { lastOpenMs: number; writing: Promise<void> }>();

  /**
   * With `cache`, the market writes the bars it has closed into the candle cache (upsertCandles,
   * under REPLAY_CACHE_EXCHANGE) whenever it is read, before it answers: what a bot trades on is
   * in the cache the charts read, as a market feed would have put it there (the offline demo has
   * no feed). The first read of a pair writes its last REPLAY_CACHE_BACKFILL_BARS bars.
   */
  constructor(options: { timeframe: string; now?: () => number; rules?: MarketRules; cache?: Database }) {
    this.timeframe = options.timeframe;
    this.barMs = timeframeToMs(options.timeframe);
    this.now = options.now ?? Date.now;
    this.rules = options.rules ?? { minAmountBase: 0.00001, amountStepBase: 0.00001, minNotionalQuote: 5 };
    this.cache = options.cache;
  }

  async fetchCandles(symbol: string, timeframe: string, sinceMs?: number, limit = 1000): Promise<number[][]> {
    if (timeframe !== this.timeframe)
      throw new ExchangeRejectedError(`this replayed market serves ${this.timeframe} candles, not ${timeframe}`);
    await this.writeClosedBars(symbol);
    return this.closedBars(symbol, sinceMs, limit);
  }

  /** The closed bars from `sinceMs` (or the last `limit`), oldest first. */
  private closedBars(symbol: string, sinceMs: number | undefined, limit: number): number[][] {
    const series = this.series(symbol);
    const lastClosedOpen = Math.floor(this.now() / this.barMs) * this.barMs - this.barMs;
    const first = sinceMs === undefined ? lastClosedOpen - (limit - 1) * this.barMs : Math.ceil(sinceMs / this.barMs) * this.barMs;
    const rows: number[][] = [];
    for (let open = first; open <= lastClosedOpen && rows.length < limit; open += this.barMs) {
      const bar = recordedBarAt(series, open, this.barMs);
      rows.push([open, bar.open, bar.high, bar.low, bar.close, bar.volume]);
    }
    return rows;
  }

  /** Writes the bars closed since the last write into the candle cache (with `cache`); one write at a time per symbol. */
  private async writeClosedBars(symbol: string): Promise<void> {
    const db = this.cache;
    if (!db) return;
    const lastClosedOpen = Math.floor(this.now() / this.barMs) * this.barMs - this.barMs;
    const state = this.cached.get(symbol) ?? { lastOpenMs: Number.NEGATIVE_INFINITY, writing: Promise.resolve() };
    this.cached.set(symbol, state);
    const write = state.writing.then(async () => {
      if (state.lastOpenMs >= lastClosedOpen) return;
      const first = Number.isFinite(state.lastOpenMs)
        ? state.lastOpenMs + this.barMs
        : lastClosedOpen - (REPLAY_CACHE_BACKFILL_BARS - 1) * this.barMs;
      const rows = this.closedBars(symbol, first, Math.round((lastClosedOpen - first) / this.barMs) + 1);
      if (rows.length === 0) return;
      await upsertCandles(db, { exchange: REPLAY_CACHE_EXCHANGE, symbol, timeframe: this.timeframe }, rows);
      state.lastOpenMs = rows.at(-1)![0]!;
    });
    // A failed write is tried again on the next read (the mark stays where it was).
    state.writing = write.catch(() => {});
    await write;
  }

  /** Close of the last closed bar. */
  async lastPrice(symbol: string): Promise<number> {
    await this.writeClosedBars(symbol);
    const price = replayedPrice(symbol, this.timeframe, this.now());
    if (price === undefined) throw new ExchangeRejectedError(`no replayed market data for ${symbol}`);
    return price;
  }

  async marketRules(): Promise<MarketRules> {
    return this.rules;
  }

  private series(symbol: string): CandleSeries {
    const series = replayWindowCandles(symbol, this.timeframe);
    if (!series) throw new ExchangeRejectedError(`no replayed market data for ${symbol}`);
    return series;
  }
}
