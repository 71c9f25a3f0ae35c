export { GridError, combinationAt, countCombinations, parseGrid, type ParameterGrid } from './grid.ts';
export { optimize, rankingMetrics, type OptimizeOptions, type OptimizeResult, type RankedResult, type RankingMetric } from './search.ts';
