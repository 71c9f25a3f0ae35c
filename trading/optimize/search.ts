import { Worker } from 'node:worker_threads';
import type { BacktestOptions } from '../backtest/index.ts';
import type { CandleSeries } from '../market-data/index.ts';
import { getStrategy } from '../strategies/index.ts';
import { countCombinations, type ParameterGrid } from './grid.ts';
import type { WorkerInput, WorkerMessage } from './worker.ts';

export const rankingMetrics = ['totalReturnPct', 'finalEquity', 'sharpe', 'profitFactor', 'winRatePct', 'maxDrawdownPct'] as const;
export type RankingMetric = (typeof rankingMetrics)[number];

/**
 * Combinations that closed fewer trades than this are left out of the ranking by default:
 * a handful of trades says more about luck than about the parameters.
 */
export const DEFAULT_MIN_TRADES = 10;

export interface OptimizeOptions {
  readonly strategy: string;
  readonly grid: ParameterGrid;
  /** Parameters held fixed for every combination (e.g. from --param). */
  readonly fixed?: Record<string, number>;
  readonly metric?: RankingMetric;
  /**
   * Rank only combinations that closed at least this many trades (default
   * DEFAULT_MIN_TRADES); the others are counted in `tooFewTrades`. 0 ranks every one.
   */
  readonly minTrades?: number;
  readonly workers: number;
  readonly backtest?: BacktestOptions;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface RankedResult {
  readonly parameters: Record<string, number>;
  readonly metrics: Record<string, number | null>;
}

export interface OptimizeResult {
  readonly combinations: number;
  /** Combinations backtested (valid ones), ranked or not. */
  readonly evaluated: number;
  /** Combinations refused by the strategy's parameter rules (e.g. rsiBuy ≥ rsiSell). */
  readonly invalid: number;
  readonly firstInvalidReason?: string;
  readonly metric: RankingMetric;
  /** The minimum number of closed trades a combination needed to be ranked. */
  readonly minTrades: number;
  /** Backtested combinations set aside for closing fewer than `minTrades` trades. */
  readonly tooFewTrades: number;
  /** The most trades any evaluated combination closed (0 when none was evaluated). */
  readonly mostTrades: number;
  /** Best first: the evaluated combinations with at least `minTrades` trades. */
  readonly ranked: RankedResult[];
  readonly elapsedMs: number;
  /** Candles backtested per second, all workers together. */
  readonly candlesPerSecond: number;
}

const BATCH = 8;

/** Runs every combination of the grid across `workers` threads and ranks the results. */
export async function optimize(series: CandleSeries, options: OptimizeOptions): Promise<OptimizeResult> {
  getStrategy(options.strategy); // fail fast on an unknown name
  const metric = options.metric ?? 'totalReturnPct';
  if (!rankingMetrics.includes(metric)) throw new RangeError(`metric must be one of ${rankingMetrics.join(', ')}; got "${String(metric)}"`);
  const minTrades = options.minTrades ?? DEFAULT_MIN_TRADES;
  if (!Number.isSafeInteger(minTrades) || minTrades < 0)
    throw new RangeError(`minTrades must be a whole number, 0 or more; got ${minTrades}`);
  const total = countCombinations(options.grid);
  const columns = shareColumns(series);
  const started = performance.now();
  const results: RankedResult[] = [];
  let invalid = 0;
  let firstInvalidReason: string | undefined;
  let next = 0;
  let done = 0;
  const workerCount = Math.max(1, Math.min(options.workers, total));
  const input: WorkerInput = {
    strategy: options.strategy,
    grid: options.grid,
    fixed: options.fixed ?? {},
    options: options.backtest ?? {},
    columns,
  };

  await Promise.all(
    Array.from({ length: workerCount }, () => {
      const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: input });
      return new Promise<void>((resolve, reject) => {
        const feed = () => {
          if (next >= total) {
            void worker.terminate().then(() => resolve());
            return;
          }
          const from = next;
          next = Math.min(total, next + BATCH);
          worker.postMessage({ from, to: next });
        };
        worker.on('message', (message: WorkerMessage) => {
          if (message.kind === 'idle') return feed();
          done++;
          if (message.kind === 'result') results.push({ parameters: message.parameters, metrics: message.metrics });
          else {
            invalid++;
            firstInvalidReason ??= message.reason;
          }
          options.onProgress?.(done, total);
        });
        worker.on('error', reject);
        feed();
      });
    }),
  );

  const elapsedMs = performance.now() - started;
  const ranked = results.filter((entry) => (entry.metrics['trades'] ?? 0) >= minTrades);
  // Lower is better only for drawdown; null metrics (e.g. no trades) rank last.
  const direction = metric === 'maxDrawdownPct' ? 1 : -1;
  ranked.sort((a, b) => {
    const x = a.metrics[metric] ?? null;
    const y = b.metrics[metric] ?? null;
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    return direction * (x - y);
  });
  return {
    combinations: total,
    evaluated: results.length,
    invalid,
    ...(firstInvalidReason ? { firstInvalidReason } : {}),
    metric,
    minTrades,
    tooFewTrades: results.length - ranked.length,
    mostTrades: results.reduce((most, entry) => Math.max(most, entry.metrics['trades'] ?? 0), 0),
    ranked,
    elapsedMs,
    candlesPerSecond: (results.length * series.length) / (elapsedMs / 1000),
  };
}

function shareColumns(series: CandleSeries): WorkerInput['columns'] {
  const share = (source: Float64Array) => {
    const buffer = new SharedArrayBuffer(source.length * Float64Array.BYTES_PER_ELEMENT);
    new Float64Array(buffer).set(source);
    return buffer;
  };
  return {
    time: share(series.time),
    open: share(series.open),
    high: share(series.high),
    low: share(series.low),
    close: share(series.close),
    volume: share(series.volume),
  };
}
