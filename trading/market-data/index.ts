export { allocateCandles, candlesFromRows, sliceCandles, type CandleSeries } from './candles.ts';
export {
  CandleDataError,
  loadCandleFile,
  loadCandles,
  parseCandleCsv,
  parseCandleCsvBytes,
  parseFreqtradeJson,
  parseFreqtradeJsonBytes,
  type LoadCandleOptions,
  type LoadedCandles,
} from './load.ts';
export { candleCacheDir, candleCacheFile, CANDLE_CACHE_VERSION, type CandleCacheOptions } from './cache.ts';
export { detectGaps, inferTimeframeMs, type CandleGap } from './gaps.ts';
export { msToTimeframe, timeframeSchema, timeframeToMs } from './timeframe.ts';
export { BUNDLED_CANDLES_DIR, BUNDLED_SYMBOLS, bundledCandles, REPLAY_WINDOW, replayWindowCandles, resampleCandles } from './bundled.ts';
export {
  cachedCandlesAfter,
  countCachedCandles,
  loadCachedCandles,
  syncCandles,
  upsertCandles,
  type CachedCandleRow,
  type CandleKey,
  type SyncReport,
} from './store.ts';
export {
  barsIn,
  downloadCandles,
  downloadMissingCandles,
  ensureCandles,
  exchangeWhenReachable,
  lastClosedBarMs,
  listCachedCandles,
  MarketDataUnavailableError,
  missingRanges,
  type CachedCandleSet,
  type CandleRange,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadReport,
  type EnsureCandlesRequest,
  type EnsuredCandles,
} from './download.ts';
