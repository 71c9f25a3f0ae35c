import os from 'node:os';
import {
  DEFAULT_MIN_TRADES,
  getStrategy,
  loadCandleFile,
  optimize,
  parseGrid,
  parseParameterAssignments,
  rankingMetrics,
  type RankingMetric,
} from '../../trading/engine.ts';
import { UsageError } from '../../errors/index.ts';
import { printTable } from '../table.ts';

export { backtestCommand, type BacktestCommandOptions } from './backtest.ts';

export interface OptimizeCommandOptions {
  strategy: string;
  data: string;
  grid: string;
  param: string[];
  metric: string;
  /** From `--min-trades`: a string when typed, a number when a caller passes one; default DEFAULT_MIN_TRADES. */
  minTrades?: string | number;
  workers?: number;
  top: number;
  fee: number;
  cash: number;
  json?: boolean;
}

export async function optimizeCommand(options: OptimizeCommandOptions): Promise<void> {
  if (!(rankingMetrics as readonly string[]).includes(options.metric)) {
    throw new UsageError(`--metric must be one of ${rankingMetrics.join(', ')}; got "${options.metric}"`);
  }
  const metric = options.metric as RankingMetric;
  const minTrades = parseMinTrades(options.minTrades);
  getStrategy(options.strategy);
  const grid = parseGrid(options.grid);
  const series = loadCandleFile(options.data);
  const workers = options.workers ?? os.availableParallelism();
  const showProgress = process.stderr.isTTY && !options.json;
  const result = await optimize(series, {
    strategy: options.strategy,
    grid,
    fixed: parseParameterAssignments(options.param),
    metric,
    minTrades,
    workers,
    backtest: { feeRate: options.fee, startingCash: options.cash },
    ...(showProgress ? { onProgress: progressBar } : {}),
  });
  if (showProgress) process.stderr.write('\n');
  if (result.evaluated === 0) {
    throw new UsageError(`No combination of the grid is valid for ${options.strategy}: ${result.firstInvalidReason ?? ''}`);
  }
  const top = result.ranked.slice(0, options.top);
  if (options.json) {
    console.log(JSON.stringify({ ...result, ranked: top, workers }));
    return;
  }
  console.log(
    `${result.evaluated} combinations of ${options.strategy} on ${series.length} candles in ${(result.elapsedMs / 1000).toFixed(2)} s ` +
      `with ${workers} worker${workers > 1 ? 's' : ''} (${(result.candlesPerSecond / 1e6).toFixed(1)} M candles/s)` +
      (result.invalid ? `; ${result.invalid} skipped as invalid (${result.firstInvalidReason})` : ''),
  );
  if (result.ranked.length === 0) {
    console.log(
      `No combination made at least ${minTrades} trade${minTrades === 1 ? '' : 's'}: all ${result.tooFewTrades} set aside, the most was ${result.mostTrades}; ` +
        `lower --min-trades (e.g. --min-trades ${result.mostTrades}) to rank them.`,
    );
    return;
  }
  if (minTrades > 0) {
    console.log(
      `Ranked ${result.ranked.length} by ${metricLabels[metric]}; ${result.tooFewTrades} set aside for fewer than ${minTrades} trades (--min-trades ${minTrades})`,
    );
  }
  // The ranking metric comes first, labelled like the other figures, and is not repeated among them.
  const others = tableFigures.filter((figure) => figure !== metric);
  const names = Object.keys(grid);
  const header = ['#', ...names, metricLabels[metric], 'trades', ...others.map((figure) => metricLabels[figure])];
  const rows = top.map((entry, i) => [
    String(i + 1),
    ...names.map((name) => String(entry.parameters[name])),
    format(entry.metrics[metric]),
    String(entry.metrics['trades']),
    ...others.map((figure) => format(entry.metrics[figure])),
  ]);
  printTable(header, rows, () => true);
}

/** Column titles of the ranking metrics, as the table prints them. */
const metricLabels: Record<RankingMetric, string> = {
  totalReturnPct: 'return %',
  finalEquity: 'final equity',
  sharpe: 'sharpe',
  profitFactor: 'profit factor',
  winRatePct: 'win %',
  maxDrawdownPct: 'drawdown %',
};

/** Figures every table shows after the trades, besides the ranking metric. */
const tableFigures: readonly RankingMetric[] = ['totalReturnPct', 'maxDrawdownPct', 'winRatePct'];

/** `--min-trades`: a whole number, 0 or more; anything else is a usage error (exit 2). */
export function parseMinTrades(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_MIN_TRADES;
  const text = String(value).trim();
  const parsed = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(parsed)) {
    throw new UsageError(`--min-trades must be a whole number, 0 or more; got "${value}"`);
  }
  return parsed;
}

function progressBar(done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
}

function format(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toFixed(2);
}
