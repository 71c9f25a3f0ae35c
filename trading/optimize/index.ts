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
