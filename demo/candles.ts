import type { Database } from '../db/index.ts';
import { BUNDLED_CANDLES_DIR, BundledReplayMarket, bundledCandles, timeframeToMs, upsertCandles } from '../trading/index.ts';

// The demo's candle cache (issue 17): a fresh `npm start` draws BTC/USDT charts and runs
// backtests without a download. The bars are the bundled Binance files in candles/
// (candles/SOURCES.md: real BTC/USDT spot klines, MIT, Binance's terms for the data), laid on
// the wall clock exactly as the replayed market the demo's paper bots trade on lays them
// (BundledReplayMarket: four weeks of December 2024 played forward and backward in turn, every
// timeframe resampled from the same 1m bars). So a cached candle and the price a demo trade or
// a paper bot's fill was made at are the same bar, and the timeframes agree. The files' own
// dates (2024) would leave every chart of the last weeks empty.

/** The pair and timeframes that ship as files (candles/binance_BTCUSDT_<timeframe>.csv). */
export const DEMO_CANDLE_SYMBOL = 'BTC/USDT';
export const DEMO_CANDLE_TIMEFRAMES = ['1m', '5m', '15m', '1h'] as const;
/** The exchange the cache files them under: the one `data import` and `GET /candles` default to. */
export const DEMO_CANDLE_EXCHANGE = 'binance';

export interface DemoCandleImport {
  readonly timeframe: string;
  readonly bars: number;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Puts the replay's BTC/USDT bars into the candle cache (upsertCandles, as `data import` does),
 * as many of each timeframe as its bundled file holds (a month of 1m and 5m, a year of 15m and
 * 1h, for backtests), ending with the last bar closed at `now`. Bars already cached at
 * the same times are replaced, so running it again changes nothing.
 */
export async function importDemoCandles(db: Database, options: { now?: () => number } = {}): Promise<DemoCandleImport[]> {
  const nowMs = (options.now ?? Date.now)();
  const imported: DemoCandleImport[] = [];
  for (const timeframe of DEMO_CANDLE_TIMEFRAMES) {
    const series = bundledCandles(DEMO_CANDLE_SYMBOL, timeframe);
    if (!series) throw new Error(`The bundled ${DEMO_CANDLE_SYMBOL} ${timeframe} candles are missing from ${BUNDLED_CANDLES_DIR}.`);
    const barMs = timeframeToMs(timeframe);
    const market = new BundledReplayMarket({ timeframe, now: () => nowMs });
    const lastClosedOpenMs = Math.floor(nowMs / barMs) * barMs - barMs;
    const fromMs = lastClosedOpenMs - (series.length - 1) * barMs;
    const rows = await market.fetchCandles(DEMO_CANDLE_SYMBOL, timeframe, fromMs, series.length);
    await upsertCandles(db, { exchange: DEMO_CANDLE_EXCHANGE, symbol: DEMO_CANDLE_SYMBOL, timeframe }, rows);
    imported.push({ timeframe, bars: rows.length, fromMs: rows[0]![0]!, toMs: rows[rows.length - 1]![0]! });
  }
  return imported;
}
