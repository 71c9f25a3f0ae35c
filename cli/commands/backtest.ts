import {
  backtestMetrics,
  detectGaps,
  inferTimeframeMs,
  loadCandles,
  runBacktest,
  strategyRules,
  type CandleSeries,
} from '../../trading/backtest-core.ts';
import { UsageError } from '../../errors/index.ts';

// `botcriptofy backtest`. A file backtest loads the engine's core only (trading/backtest-core.ts:
// no database, ccxt, Mastra or zod); the cache (--pair) and typed parameters load more when used.

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
  const strategy = strategyRules(options.strategy);
  // No --param: the defaults, which are what the schema gives for {} (test/trading/backtest.test.ts).
  // Parameters typed in are read through the schema, which loads zod only then.
  const parameters = options.param.length === 0 ? { ...strategy.defaults } : await typedParameters(options.strategy, options.param);
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
  const summary = {
    strategy: result.strategy,
    parameters: result.parameters,
    ...backtestMetrics(result),
    elapsedMs: round(elapsedMs, 3),
    loadMs: round(loadMs, 3),
    candlesPerSecond: Math.round(series.length / (elapsedMs / 1000)),
    from: new Date(series.time[0]!).toISOString(),
    to: new Date(series.time[series.length - 1]!).toISOString(),
    gaps: gaps.length,
    missingBars: gaps.reduce((sum, gap) => sum + gap.missingBars, 0),
    ...(options.tradeList ? { tradeList: result.tradeList, equityCurve: result.equityCurve } : {}),
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
  const { timeframeToMs } = await import('../../trading/engine.ts');
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

/** `--param` pairs checked against the strategy's schema (zod, loaded here). */
async function typedParameters(strategyName: string, pairs: readonly string[]): Promise<Record<string, number>> {
  const { getStrategy, parseParameterAssignments, parseStrategyParameters } = await import('../../trading/engine.ts');
  return parseStrategyParameters(getStrategy(strategyName), parseParameterAssignments(pairs));
}

function round(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}
