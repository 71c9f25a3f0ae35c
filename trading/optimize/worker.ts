import { parentPort, workerData } from 'node:worker_threads';
// The engine alone, not backtest/index.ts: its store would load the database drivers into every worker thread.
import { backtestMetrics, runBacktest, type BacktestOptions } from '../backtest/engine.ts';
import type { CandleSeries } from '../market-data/index.ts';
import { getStrategy, parseStrategyParameters } from '../strategies/index.ts';
import { combinationAt, type ParameterGrid } from './grid.ts';

// One optimisation worker: it shares the candles (SharedArrayBuffers) with the main thread
// and runs the combinations it is handed, answering with the metrics only.

export interface WorkerInput {
  readonly strategy: string;
  readonly grid: ParameterGrid;
  readonly fixed: Record<string, number>;
  readonly options: BacktestOptions;
  readonly columns: Record<'time' | 'open' | 'high' | 'low' | 'close' | 'volume', SharedArrayBuffer>;
}

export type WorkerMessage =
  | {
      readonly kind: 'result';
      readonly index: number;
      readonly parameters: Record<string, number>;
      readonly metrics: Record<string, number | null>;
    }
  | { readonly kind: 'invalid'; readonly index: number; readonly reason: string }
  | { readonly kind: 'idle' };

const input = workerData as WorkerInput;
const view = (buffer: SharedArrayBuffer) => new Float64Array(buffer);
const series: CandleSeries = {
  length: view(input.columns.time).length,
  time: view(input.columns.time),
  open: view(input.columns.open),
  high: view(input.columns.high),
  low: view(input.columns.low),
  close: view(input.columns.close),
  volume: view(input.columns.volume),
};
const strategy = getStrategy(input.strategy);

parentPort!.on('message', (batch: { from: number; to: number }) => {
  for (let index = batch.from; index < batch.to; index++) {
    const combination = { ...input.fixed, ...combinationAt(input.grid, index) };
    let parameters: Record<string, number>;
    try {
      parameters = parseStrategyParameters(strategy, combination);
    } catch (error) {
      parentPort!.postMessage({ kind: 'invalid', index, reason: (error as Error).message } satisfies WorkerMessage);
      continue;
    }
    const metrics = { ...backtestMetrics(runBacktest(series, strategy, parameters, { ...input.options, equityCurvePoints: 2 })) };
    parentPort!.postMessage({ kind: 'result', index, parameters, metrics } satisfies WorkerMessage);
  }
  parentPort!.postMessage({ kind: 'idle' } satisfies WorkerMessage);
});
