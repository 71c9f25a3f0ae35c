// A file backtest with the strategy's default parameters, and nothing more: candle files, the
// strategies' rules and defaults, the backtest. No zod either (about a third of such a run's
// CPU when it was loaded; a strategy's parameter schemas are in engine.ts and index.ts, for any
// caller that takes parameters in). test/cli/lazy-start.test.ts keeps it that way.
export type { CandleSeries } from './market-data/candles.ts';
export { CandleDataError, loadCandles, type LoadedCandles } from './market-data/load.ts';
export { detectGaps, inferTimeframeMs } from './market-data/gaps.ts';
export { STRATEGY_RULES, StrategyError, strategyRules } from './strategies/rules.ts';
export type { StrategyRules } from './strategies/types.ts';
export { backtestMetrics, runBacktest, type BacktestResult } from './backtest/engine.ts';
