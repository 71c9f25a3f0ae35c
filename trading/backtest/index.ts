export {
  backtestMetrics,
  runBacktest,
  type BacktestMetrics,
  type BacktestOptions,
  type BacktestResult,
  type BacktestTrade,
  type ExitReason,
} from './engine.ts';
export { findRecentBacktest, getBacktest, saveBacktest, type BacktestRecordInput } from './store.ts';
export {
  INTERRUPTED_BACKTEST_ERROR,
  queueBacktest,
  recoverStaleBacktests,
  runQueuedBacktest,
  type QueuedBacktestInput,
  type QueuedBacktestOutcome,
} from './queue.ts';
export { loadBacktestUpload, storeBacktestUpload } from './uploads.ts';
