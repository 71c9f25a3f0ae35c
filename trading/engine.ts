// The trading engine alone: candle files, indicators, strategies, backtests and the parameter
// search. Nothing here reaches the database, an exchange, Redis or the agents, so a file backtest
// (`botcriptofy backtest --data FILE`) loads these modules and no driver or SDK; trading/index.ts
// is the whole of trading/ for everything else. test/cli/lazy-start.test.ts keeps it that way.
export { allocateCandles, candlesFromRows, sliceCandles, type CandleSeries } from './market-data/candles.ts';
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
} from './market-data/load.ts';
export { candleCacheDir, candleCacheFile, CANDLE_CACHE_VERSION, type CandleCacheOptions } from './market-data/cache.ts';
export { detectGaps, inferTimeframeMs, type CandleGap } from './market-data/gaps.ts';
export { msToTimeframe, timeframeSchema, timeframeToMs } from './market-data/timeframe.ts';
export * from './indicators/index.ts';
export * from './strategies/index.ts';
export {
  runBacktest,
  type BacktestMetrics,
  type BacktestOptions,
  type BacktestResult,
  type BacktestTrade,
  type ExitReason,
} from './backtest/engine.ts';
export * from './optimize/index.ts';
