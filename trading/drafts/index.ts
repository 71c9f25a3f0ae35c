export {
  describeBot,
  DRAFT_STRATEGIES,
  DRAFT_TIMEFRAMES,
  draftHintsSchema,
  MAX_DRAFT_BACKTEST_DRAWDOWN_PCT,
  readNumber,
  reviewDescribedBot,
  type DescribedBot,
  type DraftField,
  type DraftHints,
  type DraftIssue,
  type DraftLimits,
  type DraftQuestion,
  type DraftStrategy,
  type DraftTimeframe,
  type ReviewedDraft,
} from './describe.ts';
export { getBotDraft, openBotDrafts, saveBotDraft, updateBotDraft, type BotDraft, type NewBotDraft } from './store.ts';
export { backtestBesideBuyAndHold, type BacktestBesideBuyAndHold } from './curves.ts';
export { botHistory, type BotHistory, type BotHistoryEntry } from './history.ts';
