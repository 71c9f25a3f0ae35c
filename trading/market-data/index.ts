export { allocateCandles, candlesFromRows, sliceCandles, type CandleSeries } from './candles.ts';
export { CandleDataError, loadCandleFile, parseCandleCsv, parseFreqtradeJson } from './load.ts';
export { detectGaps, inferTimeframeMs, type CandleGap } from './gaps.ts';
export { msToTimeframe, timeframeSchema, timeframeToMs } from './timeframe.ts';
export { BUNDLED_CANDLES_DIR, BUNDLED_SYMBOLS, bundledCandles, resampleCandles } from './bundled.ts';
export { loadCachedCandles, syncCandles, upsertCandles, type CandleKey, type SyncReport } from './store.ts';
