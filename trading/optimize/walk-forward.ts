import { runBacktest, type BacktestMetrics, type BacktestOptions } from '../backtest/engine.ts';
import { sliceCandles, type CandleSeries } from '../market-data/index.ts';
import { getStrategy, parseStrategyParameters } from '../strategies/index.ts';
import type { ParameterGrid } from './grid.ts';
import { DEFAULT_MIN_TRADES, optimize, type RankedResult } from './search.ts';

// Walk-forward review of a bot's parameters.
//
// Windows are ROLLING, not anchored: the series is cut into `folds + inSampleSegments` equal
// segments; fold k optimises on segments [k, k + inSampleSegments) and tests on the segment
// right after. Rolling keeps every fold's in-sample window the same length, so each fold's
// winner is picked on as much data as the next one (an anchored window would let the later
// folds' old data outweigh the recent regime the bot trades in) and every fold costs the same.
//
// Every window is backtested on its own (no warm-up bars borrowed from the window before), for
// the chosen and the current parameters alike, so both start each window flat and equal.

/**
 * Out of sample, the chosen parameters must keep at least half the return per segment they showed
 * in sample: parameters fitted to noise shine in sample and fade after it (Pardo's usual threshold).
 */
export const MIN_EFFICIENCY = 0.5;

export interface WalkForwardOptions {
  readonly strategy: string;
  readonly grid: ParameterGrid;
  /** The bot's parameters now; names outside the grid are held at these values. */
  readonly current: Record<string, number>;
  /** Number of in-sample → out-of-sample folds (default 5). */
  readonly folds?: number;
  /** In-sample window length in segments; each out-of-sample window is one segment (default 3). */
  readonly inSampleSegments?: number;
  /**
   * Minimum closed trades: an in-sample combination needs this many to be ranked, and the chosen
   * parameters need this many across all out-of-sample windows to be proposed (default DEFAULT_MIN_TRADES).
   */
  readonly minTrades?: number;
  readonly workers: number;
  readonly backtest?: BacktestOptions;
}

/** The figures a reader compares, for one window. */
export interface WindowFigures {
  readonly totalReturnPct: number;
  readonly trades: number;
  readonly maxDrawdownPct: number;
  readonly winRatePct: number | null;
}

export interface WalkForwardFold {
  readonly fold: number;
  /** Candle times (ms) of each window: first candle's open time, last candle's open time. */
  readonly inSample: { readonly fromMs: number; readonly toMs: number; readonly candles: number };
  readonly outOfSample: { readonly fromMs: number; readonly toMs: number; readonly candles: number };
  /**
   * The in-sample winner; null when no combination closed minTrades trades with a return above 0 %
   * in sample (the fold then keeps the current parameters).
   */
  readonly chosen: {
    readonly parameters: Record<string, number>;
    readonly inSample: WindowFigures;
    readonly outOfSample: WindowFigures;
  } | null;
  readonly current: { readonly inSample: WindowFigures; readonly outOfSample: WindowFigures };
}

export type NoProposalReason =
  | 'no_recent_winner' // the last fold's in-sample search found no combination with minTrades trades
  | 'same_parameters' // the last fold's winner is the bot's current parameters
  | 'too_few_trades' // the chosen parameters closed fewer than minTrades trades out of sample
  | 'lost_out_of_sample' // the chosen parameters' compounded out-of-sample return is not above 0
  | 'not_better_overall' // …nor above the current parameters' on the same windows
  | 'not_better_in_most_folds' // …or they beat the current ones in no more than half the folds
  | 'low_efficiency'; // out of sample they kept less than MIN_EFFICIENCY of their in-sample return per segment

export interface WalkForwardResult {
  readonly strategy: string;
  readonly current: Record<string, number>;
  readonly folds: WalkForwardFold[];
  readonly minTrades: number;
  /** Compounded over the out-of-sample windows, in percent; folds without a winner count the current parameters. */
  readonly chosenOutOfSampleReturnPct: number;
  readonly currentOutOfSampleReturnPct: number;
  readonly chosenOutOfSampleTrades: number;
  /** Folds whose chosen parameters returned strictly more out of sample than the current ones. */
  readonly foldsBeaten: number;
  /**
   * Walk-forward efficiency: the chosen parameters' mean out-of-sample return per segment over their
   * mean in-sample return per segment (folds with a winner); null when no fold had one.
   */
  readonly efficiency: number | null;
  /** The parameters to switch to (the last fold's winner), or null with the reasons why not. */
  readonly proposal: Record<string, number> | null;
  readonly reasons: NoProposalReason[];
  readonly elapsedMs: number;
}

/**
 * The rule: the walk-forward proposes the last fold's in-sample winner only when, over the same
 * out-of-sample windows, the chosen parameters (each fold's own winner)
 *   1. closed at least `minTrades` trades in total,
 *   2. compounded to a return above 0 % and above the current parameters' compounded return, and
 *   3. returned strictly more than the current parameters in a majority (> half) of the folds, and
 *   4. kept at least MIN_EFFICIENCY of their in-sample return per segment out of sample;
 * where a fold's winner is the in-sample best with minTrades trades and a return above 0 %;
 * and the last winner differs from the current parameters. Otherwise it proposes nothing.
 * The last fold's winner is proposed because it was picked on the most recent in-sample window
 * and has itself been tested out of sample on the most recent one.
 */
export async function walkForward(series: CandleSeries, options: WalkForwardOptions): Promise<WalkForwardResult> {
  const started = performance.now();
  const strategy = getStrategy(options.strategy);
  const folds = options.folds ?? 5;
  const inSampleSegments = options.inSampleSegments ?? 3;
  const minTrades = options.minTrades ?? DEFAULT_MIN_TRADES;
  if (!Number.isSafeInteger(folds) || folds < 1) throw new RangeError(`folds must be a whole number, 1 or more; got ${folds}`);
  if (!Number.isSafeInteger(inSampleSegments) || inSampleSegments < 1)
    throw new RangeError(`inSampleSegments must be a whole number, 1 or more; got ${inSampleSegments}`);
  const current = parseStrategyParameters(strategy, options.current);
  const fixed = Object.fromEntries(Object.entries(current).filter(([name]) => !(name in options.grid)));
  const segments = folds + inSampleSegments;
  const segmentLength = Math.floor(series.length / segments);
  const warmup = strategy.warmupBars(current);
  if (segmentLength <= warmup + 1)
    throw new RangeError(
      `${series.length} candles are too few for ${folds} folds of ${segments} segments (each needs more than ${warmup + 1})`,
    );
  // The segments end at the series' last candle, so the most recent data is always tested.
  const offset = series.length - segments * segmentLength;
  const backtestOptions = options.backtest ?? {};
  const figures = (window: CandleSeries, parameters: Record<string, number>) =>
    windowFigures(runBacktest(window, strategy, parameters, { ...backtestOptions, equityCurvePoints: 2 }));

  const results: WalkForwardFold[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const inStart = offset + fold * segmentLength;
    const outStart = inStart + inSampleSegments * segmentLength;
    const inSample = sliceCandles(series, inStart, outStart);
    const outOfSample = sliceCandles(series, outStart, outStart + segmentLength);
    const search = await optimize(inSample, {
      strategy: options.strategy,
      grid: options.grid,
      fixed,
      minTrades,
      workers: options.workers,
      backtest: backtestOptions,
    });
    const best = deterministicWinner(search.ranked);
    const winner = best && (best.metrics['totalReturnPct'] ?? 0) > 0 ? best : null;
    results.push({
      fold: fold + 1,
      inSample: span(inSample),
      outOfSample: span(outOfSample),
      chosen: winner
        ? { parameters: winner.parameters, inSample: windowFigures(winner.metrics), outOfSample: figures(outOfSample, winner.parameters) }
        : null,
      current: { inSample: figures(inSample, current), outOfSample: figures(outOfSample, current) },
    });
  }

  const chosenOutOfSample = results.map((fold) => (fold.chosen ?? fold.current).outOfSample);
  const compound = (windows: WindowFigures[]) => (windows.reduce((growth, w) => growth * (1 + w.totalReturnPct / 100), 1) - 1) * 100;
  const chosenOutOfSampleReturnPct = compound(chosenOutOfSample);
  const currentOutOfSampleReturnPct = compound(results.map((fold) => fold.current.outOfSample));
  const chosenOutOfSampleTrades = chosenOutOfSample.reduce((sum, w) => sum + w.trades, 0);
  const foldsBeaten = results.filter(
    (fold) => fold.chosen && fold.chosen.outOfSample.totalReturnPct > fold.current.outOfSample.totalReturnPct,
  ).length;

  const withWinner = results.flatMap((fold) => (fold.chosen ? [fold.chosen] : []));
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const inSamplePerSegment = mean(withWinner.map((chosen) => chosen.inSample.totalReturnPct / inSampleSegments));
  const efficiency =
    withWinner.length === 0 ? null : mean(withWinner.map((chosen) => chosen.outOfSample.totalReturnPct)) / inSamplePerSegment;

  const reasons: NoProposalReason[] = [];
  const last = results.at(-1)!.chosen;
  if (!last) reasons.push('no_recent_winner');
  else if (sameParameters(last.parameters, current)) reasons.push('same_parameters');
  if (chosenOutOfSampleTrades < minTrades) reasons.push('too_few_trades');
  if (chosenOutOfSampleReturnPct <= 0) reasons.push('lost_out_of_sample');
  if (chosenOutOfSampleReturnPct <= currentOutOfSampleReturnPct) reasons.push('not_better_overall');
  if (foldsBeaten * 2 <= folds) reasons.push('not_better_in_most_folds');
  if (efficiency === null || efficiency < MIN_EFFICIENCY) reasons.push('low_efficiency');

  return {
    strategy: options.strategy,
    current,
    folds: results,
    minTrades,
    chosenOutOfSampleReturnPct,
    currentOutOfSampleReturnPct,
    chosenOutOfSampleTrades,
    foldsBeaten,
    efficiency,
    proposal: reasons.length === 0 && last ? last.parameters : null,
    reasons,
    elapsedMs: performance.now() - started,
  };
}

function windowFigures(metrics: Partial<Record<keyof BacktestMetrics, number | null>>): WindowFigures {
  return {
    totalReturnPct: metrics.totalReturnPct ?? 0,
    trades: metrics.trades ?? 0,
    maxDrawdownPct: metrics.maxDrawdownPct ?? 0,
    winRatePct: metrics.winRatePct ?? null,
  };
}

function span(window: CandleSeries) {
  return { fromMs: window.time[0]!, toMs: window.time[window.length - 1]!, candles: window.length };
}

/**
 * The ranking's first entry, ties broken by the parameters themselves: the workers answer in
 * no fixed order, so equal returns would otherwise make the winner depend on thread timing.
 */
function deterministicWinner(ranked: readonly RankedResult[]): RankedResult | null {
  const best = ranked[0];
  if (!best) return null;
  const top = best.metrics['totalReturnPct'];
  const tied = ranked.filter((entry) => entry.metrics['totalReturnPct'] === top);
  return tied.reduce((a, b) => (parameterKey(b.parameters) < parameterKey(a.parameters) ? b : a));
}

function parameterKey(parameters: Record<string, number>): string {
  return JSON.stringify(Object.entries(parameters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sameParameters(a: Record<string, number>, b: Record<string, number>): boolean {
  return parameterKey(a) === parameterKey(b);
}

/** The factors a review tries each parameter at, around its current value. */
const NEIGHBOURHOOD = [0.6, 0.8, 1, 1.25, 1.5] as const;

/**
 * The grid a bot's review searches: each parameter at NEIGHBOURHOOD × its current value (whole
 * numbers stay whole, at least 2), except `held` ones (by default the stop loss and take profit:
 * the trader's own risk choices, not the review's to loosen). Values a strategy refuses (e.g. an
 * RSI level of 100) are counted as invalid by the search and skipped.
 */
export function neighbourhoodGrid(
  current: Record<string, number>,
  held: readonly string[] = ['stopLossPct', 'takeProfitPct'],
): ParameterGrid {
  const grid: ParameterGrid = {};
  for (const [name, value] of Object.entries(current)) {
    if (held.includes(name)) continue;
    const values = NEIGHBOURHOOD.map((factor) =>
      Number.isInteger(value) ? Math.max(2, Math.round(value * factor)) : Number((value * factor).toFixed(4)),
    );
    grid[name] = [...new Set(values)];
  }
  return grid;
}
