export * from './market-data/index.ts';
export * from './indicators/index.ts';
export * from './strategies/index.ts';
export * from './backtest/index.ts';
export * from './optimize/index.ts';
export * from './risk/index.ts';
export * from './exchange/index.ts';
export * from './runner/index.ts';
export {
  BotControlError,
  botOwner,
  createBot,
  freezableCount,
  frozenExchangeAccountsMarked,
  getBot,
  killSwitchEngaged,
  newestActiveExchangeAccount,
  recordStoppedBotError,
  startBot,
  stopBot,
  tradingVenue,
  type NewBot,
  type TradingMode,
} from './bots.ts';
export { botEquityCurve, backtestEquityCurve, ChartDataError, type EquityCurve } from './equity-curves.ts';
export {
  CHART_INDICATORS,
  cachedChartCandles,
  chartCandles,
  countChartCandles,
  MAX_CHART_CANDLES,
  WARMUP_BARS,
  type ChartCandles,
  type ChartIndicator,
} from './candle-chart.ts';
export * from './drafts/index.ts';
export {
  equityFigures,
  LOSING_STREAK_FLAG,
  ORDER_FAILURES_FLAG,
  PAPER_PERIOD_DAYS,
  paperReady,
  REVIEW_WINDOW_DAYS,
  reviewFlags,
  runningBotReviewFigures,
  STALE_FEED_BARS,
  windowReturnRangePct,
  type BotReviewFigures,
  type PaperReady,
  type ReviewFlag,
} from './review.ts';
export {
  BotVersionError,
  changeBotParameters,
  listBotVersions,
  rollbackBotVersion,
  type BotParametersChange,
  type BotVersion,
} from './bot-versions.ts';
