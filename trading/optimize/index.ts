export { GridError, combinationAt, countCombinations, parseGrid, type ParameterGrid } from './grid.ts';
export {
  DEFAULT_MIN_TRADES,
  optimize,
  rankingMetrics,
  type OptimizeOptions,
  type OptimizeResult,
  type RankedResult,
  type RankingMetric,
} from './search.ts';
export {
  MIN_EFFICIENCY,
  neighbourhoodGrid,
  walkForward,
  type NoProposalReason,
  type WalkForwardFold,
  type WalkForwardOptions,
  type WalkForwardResult,
  type WindowFigures,
} from './walk-forward.ts';
