import os from 'node:os';
import {
  DEFAULT_MIN_TRADES,
  detectGaps,
  getStrategy,
  inferTimeframeMs,
  loadCandleFile,
  loadCandles,
  optimize,
  parseGrid,
  parseParameterAssignments,
  parseStrategyParameters,
  rankingMetrics,
  runBacktest,
  timeframeToMs,
  type CandleSeries,
  type RankingMetric,
} from '../../trading/engine.ts';
import { UsageError } from '../../errors/index.ts';
import { printTable } from '../table.ts';

export interface BacktestCommandOptions {
  strategy: string;
  /** A candle file, or else the cache's candles of `pair` (`timeframe`, `exchange`, `from`, `to`). */
  data?: string;
  pair?: string;
  timeframe?: string;
  from?: string;
  to?: string;
  exchange?: string;
  param: string[];
  fee: number;
  cash: number;
  slippage: number;
  json?: boolean;
  tradeList?: boolean;
}

/**
 * Runs one backtest on a candle file or on the candle cache (`--pair`); `elapsedMs` covers the
 * backtest only, `loadMs` the file or the query.
 */
export async function backtestCommand(options: BacktestCommandOptions): Promise<void> {
  const strategy = getStrategy(options.strategy);
  const parameters = parseStrategyParameters(strategy, parseParameterAssignments(options.param));
  if ((options.data === undefined) === (options.pair === undefined))
    throw new UsageError('backtest needs candles: --data FILE or --pair PAIR --timeframe TF (one of the two)');
  const loadStarted = performance.now();
  let series: CandleSeries;
  let from: 'cache' | 'file' | 'database';
  let dataLabel: string;
  if (options.data !== undefined) {
    for (const option of ['pair', 'timeframe', 'from', 'to'] as const)
      if (options[option] !== undefined) throw new UsageError(`--${option} goes with --pair, not with --data`);
    ({ series, from } = loadCandles(options.data));
    dataLabel = options.data;
  } else {
    // Only a cache backtest loads the database (a file backtest stays lean: test/cli/lazy-start.test.ts).
    const cached = await loadCacheCandles(options as BacktestCommandOptions & { pair: string });
    series = cached.series;
    from = 'database';
    dataLabel = cached.label;
  }
  const loadMs = performance.now() - loadStarted;
  const started = performance.now();
  const result = runBacktest(series, strategy, parameters, {
    feeRate: options.fee,
    startingCash: options.cash,
    slippage: options.slippage,
  });
  const elapsedMs = performance.now() - started;
  const timeframeMs = inferTimeframeMs(series);
  const gaps = timeframeMs ? detectGaps(series, timeframeMs) : [];
  const { tradeList, equityCurve, ...metrics } = result;
  const summary = {
    ...metrics,
    elapsedMs: round(elapsedMs, 3),
    loadMs: round(loadMs, 3),
    candlesPerSecond: Math.round(series.length / (elapsedMs / 1000)),
    from: new Date(series.time[0]!).toISOString(),
    to: new Date(series.time[series.length - 1]!).toISOString(),
    gaps: gaps.length,
    missingBars: gaps.reduce((sum, gap) => sum + gap.missingBars, 0),
    ...(options.tradeList ? { tradeList, equityCurve } : {}),
  };
  if (options.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  const pct = (value: number | null) => (value === null ? '–' : `${value.toFixed(2)} %`);
  console.log(
    [
      `Strategy        ${result.strategy} ${JSON.stringify(parameters)}`,
      `Data            ${dataLabel}: ${series.length} candles, ${summary.from} → ${summary.to}${gaps.length ? `, ${summary.missingBars} missing bars in ${gaps.length} gaps` : ''}`,
      `Trades          ${result.trades} closed${result.openQuantity > 0 ? ', 1 still open' : ''}${result.rejectedOrders ? `, ${result.rejectedOrders} buys rejected (cash)` : ''}`,
      `Final equity    ${result.finalEquity.toFixed(2)} (from ${result.startingCash.toFixed(2)})`,
      `Total return    ${pct(result.totalReturnPct)}`,
      `Max drawdown    ${pct(result.maxDrawdownPct)}`,
      `Win rate        ${pct(result.winRatePct)}`,
      `Profit factor   ${result.profitFactor === null ? '–' : result.profitFactor.toFixed(3)}`,
      `Sharpe          ${result.sharpe === null ? '–' : result.sharpe.toFixed(3)}`,
      `Exposure        ${pct(result.exposurePct)}`,
      `Fees paid       ${result.feesPaid.toFixed(2)}`,
      `Time            ${summary.elapsedMs.toFixed(2)} ms backtest (${(summary.candlesPerSecond / 1e6).toFixed(1)} M candles/s), ${summary.loadMs.toFixed(1)} ms loading${from === 'cache' ? ' (binary cache)' : from === 'database' ? ' (candle cache)' : ''}`,
    ].join('\n'),
  );
}

/** `backtest --pair`: the cached bars of the pair and timeframe in [--from, --to] (whole UTC days). */
async function loadCacheCandles(options: BacktestCommandOptions & { pair: string }): Promise<{ series: CandleSeries; label: string }> {
  if (options.timeframe === undefined) throw new UsageError('--pair needs --timeframe (e.g. --timeframe 5m)');
  const { parseDateOption } = await import('./market-data.ts');
  const [{ loadCachedCandles }, { withRuntime }] = await Promise.all([import('../../trading/index.ts'), import('../open-runtime.ts')]);
  const symbol = options.pair.trim().toUpperCase();
  if (!/^[A-Z0-9]+\/[A-Z0-9]+$/.test(symbol)) throw new UsageError(`--pair: expected a pair such as BTC/USDT, got "${options.pair}"`);
  try {
    timeframeToMs(options.timeframe);
  } catch {
    throw new UsageError(`--timeframe: expected a timeframe such as 1m, 5m, 1h, got "${options.timeframe}"`);
  }
  const key = { exchange: options.exchange ?? 'binance', symbol, timeframe: options.timeframe };
  const range = {
    ...(options.from === undefined ? {} : { fromMs: parseDateOption('--from', options.from, 'start') }),
    ...(options.to === undefined ? {} : { toMs: parseDateOption('--to', options.to, 'end') }),
  };
  const series = await withRuntime(({ database }) => loadCachedCandles(database.db, key, range));
  const label = `${key.exchange} ${key.symbol} ${key.timeframe}`;
  if (series.length === 0) {
    const within = options.from || options.to ? ` from ${options.from ?? 'the start'} to ${options.to ?? 'the end'}` : '';
    throw new UsageError(
      `No cached candles of ${label}${within}: fetch them with \`botcriptofy data download --exchange ${key.exchange} --pairs ${key.symbol} --timeframes ${key.timeframe}${options.from ? ` --since ${options.from}` : ''}\` (see \`data list\`)`,
    );
  }
  return { series, label };
}

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

function round(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}
