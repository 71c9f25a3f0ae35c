import type { CandleSeries } from '../market-data/index.ts';
// gaps.ts, not the folder's index: the index's candle store would load the database drivers with the engine.
import { inferTimeframeMs } from '../market-data/gaps.ts';
// types.ts, not the folder's index: the index's parameter schemas would load zod with the engine.
import { ENTER, EXIT, type StrategyRules, type StrategyRunner } from '../strategies/types.ts';

// Execution model (long-only spot), chosen so results can be reproduced by hand:
// - The strategy sees bar i only when it has closed. A signal at bar i's close becomes an
//   order that fills at bar i+1's open (± slippage). An order submitted on the last bar
//   never fills.
// - Entry size: `stakeFraction × cash / close` of the signal bar. A buy whose cost plus fee
//   exceeds the cash at the fill is rejected; the strategy may signal again on a later bar.
// - Fees: `feeRate × fill notional`, paid from cash on each side.
// - Stop loss and take profit are levels from the entry fill price, checked against each
//   bar's low and high from the entry bar on. If one bar touches both, the stop loss is
//   assumed to come first (the conservative reading). A bar that opens beyond a level fills
//   at its open (a gap), otherwise at the level, then slippage applies.
// - Equity is marked at every close: cash + quantity × close. Drawdown, Sharpe and exposure
//   come from that series; final equity = cash + quantity × last close.

export interface BacktestOptions {
  /** Fee per side as a fraction of the fill notional (0.001 = 0.1 %). */
  readonly feeRate?: number;
  /** Adverse price move on every fill, as a fraction (0.0005 = 0.05 %). */
  readonly slippage?: number;
  /** Starting cash in quote currency. */
  readonly startingCash?: number;
  /** Fraction of cash committed per entry. */
  readonly stakeFraction?: number;
  /** Points kept of the equity curve (evenly spaced, last bar included). */
  readonly equityCurvePoints?: number;
  /** Bar length for annualising Sharpe; inferred from the timestamps when absent. */
  readonly timeframeMs?: number;
}

export type ExitReason = 'signal' | 'stop_loss' | 'take_profit';

export interface BacktestTrade {
  readonly entryIndex: number;
  readonly exitIndex: number;
  readonly entryTime: number;
  readonly exitTime: number;
  readonly quantity: number;
  readonly entryPrice: number;
  readonly exitPrice: number;
  readonly entryFee: number;
  readonly exitFee: number;
  /** Net of both fees, in quote currency. */
  readonly profit: number;
  /** Net profit over the entry cost (quantity × entry price + entry fee), in percent. */
  readonly profitPct: number;
  readonly exitReason: ExitReason;
}

export interface BacktestMetrics {
  readonly candles: number;
  /** Closed round trips. */
  readonly trades: number;
  readonly startingCash: number;
  readonly finalEquity: number;
  readonly totalReturnPct: number;
  readonly maxDrawdownPct: number;
  /** Null without closed trades. */
  readonly winRatePct: number | null;
  /** Gross profit / gross loss; null when there is no losing trade. */
  readonly profitFactor: number | null;
  /** Annualised from per-bar equity returns (crypto trades every day); null when flat. */
  readonly sharpe: number | null;
  /** Share of bars with an open position, in percent. */
  readonly exposurePct: number;
  readonly feesPaid: number;
  readonly rejectedOrders: number;
  /** Quantity still held at the end (counted in final equity at the last close). */
  readonly openQuantity: number;
}

export interface BacktestResult extends BacktestMetrics {
  readonly strategy: string;
  readonly parameters: Record<string, number>;
  readonly tradeList: BacktestTrade[];
  readonly equityCurve: { time: number; equity: number }[];
}

const YEAR_MS = 365 * 86_400_000;

// The slots of a backtest's `state`: the account's numbers, which Account changes, and the
// bar loop's running figures, carried from one slice of bars to the next (see simulateBars).
const CASH = 0;
const QUANTITY = 1;
const ENTRY_PRICE = 2;
const ENTRY_FEE = 3;
const STOP_PRICE = 4;
const TAKE_PRICE = 5;
const PENDING_QUANTITY = 6;
const FEES = 7;
const PEAK = 8;
const MAX_DRAWDOWN = 9;
const PREVIOUS_EQUITY = 10;
const RETURNS_MEAN = 11;
const RETURNS_M2 = 12;
const GROSS_PROFIT = 13;
const GROSS_LOSS = 14;
const STATE_SLOTS = 15;

// The slots of the bar loop's whole counts (`counts`), carried from slice to slice like `state`'s.
const PENDING = 0;
const BARS_IN_MARKET = 1;
const RETURNS_COUNT = 2;
const NEXT_POINT = 3;
const COUNT_SLOTS = 4;

// The order waiting for the next open.
const NONE = 0;
const BUY = 1;
const SELL = 2;

// Why a position closed (EXIT_REASONS' indexes).
const EXIT_SIGNAL = 1;
const EXIT_STOP_LOSS = 2;
const EXIT_TAKE_PROFIT = 3;

const EXIT_REASONS: readonly ExitReason[] = ['signal', 'signal', 'stop_loss', 'take_profit'];

// The slots of one closed trade in Account's trade buffer.
const TRADE_ENTRY_INDEX = 0;
const TRADE_EXIT_INDEX = 1;
const TRADE_QUANTITY = 2;
const TRADE_ENTRY_PRICE = 3;
const TRADE_EXIT_PRICE = 4;
const TRADE_ENTRY_FEE = 5;
const TRADE_EXIT_FEE = 6;
const TRADE_EXIT_REASON = 7;
const TRADE_FIELDS = 8;

function doubled(buffer: Float64Array): Float64Array {
  const larger = new Float64Array(buffer.length * 2);
  larger.set(buffer);
  return larger;
}

/**
 * The simulated account: a buy filled or rejected, a position closed, a point of the equity
 * curve, with the arithmetic, and its order, that the loop always had. A closed trade is kept
 * as numbers in a Float64Array rather than as an object: made in the loop, the objects of
 * 15,000 trades cost a single cold run of 1.3 M bars a fifth of its time (+10 ms on ~50, 31
 * interleaved new processes), mostly in collecting and moving young objects.
 * The objects are made when the result's trade list is first read, which a caller that wants
 * only the figures (`backtestMetrics`: the CLI without --trade-list, the optimizer) never does.
 */
class Account {
  readonly equityCurve: { time: number; equity: number }[] = [];
  /** The bar whose open filled the position held, or -1. */
  entryIndex = -1;
  rejected = 0;
  tradeCount = 0;
  /** Closed trades with a profit above zero. */
  wins = 0;
  /** TRADE_FIELDS numbers a closed trade; doubled when full. */
  private closed: Float64Array = new Float64Array(64 * TRADE_FIELDS);

  private readonly state: Float64Array;
  private readonly time: ArrayLike<number>;
  private readonly feeRate: number;
  private readonly slippage: number;
  private readonly stopFactor: number;
  private readonly takeFactor: number;

  constructor(state: Float64Array, time: ArrayLike<number>, feeRate: number, slippage: number, stopFactor: number, takeFactor: number) {
    this.state = state;
    this.time = time;
    this.feeRate = feeRate;
    this.slippage = slippage;
    this.stopFactor = stopFactor;
    this.takeFactor = takeFactor;
  }

  /** The buy submitted at the previous close fills at bar i's open, or is rejected for want of cash. */
  fillBuy(i: number, open: number): void {
    const state = this.state;
    const price = open * (1 + this.slippage);
    const pendingQuantity = state[PENDING_QUANTITY]!;
    const cost = pendingQuantity * price;
    const fee = cost * this.feeRate;
    if (cost + fee <= state[CASH]!) {
      state[CASH] = state[CASH]! - (cost + fee);
      state[FEES] = state[FEES]! + fee;
      state[QUANTITY] = pendingQuantity;
      state[ENTRY_PRICE] = price;
      state[ENTRY_FEE] = fee;
      this.entryIndex = i;
      state[STOP_PRICE] = this.stopFactor < 0 ? -1 : price * this.stopFactor;
      state[TAKE_PRICE] = this.takeFactor < 0 ? Number.POSITIVE_INFINITY : price * this.takeFactor;
    } else {
      this.rejected++;
    }
  }

  /** The position held closes in bar i at `price` less slippage, for `reason`. */
  close(i: number, price: number, reason: number): void {
    const state = this.state;
    const exitPrice = price * (1 - this.slippage);
    const quantity = state[QUANTITY]!;
    const entryPrice = state[ENTRY_PRICE]!;
    const entryFee = state[ENTRY_FEE]!;
    const notional = quantity * exitPrice;
    const fee = notional * this.feeRate;
    state[CASH] = state[CASH]! + (notional - fee);
    state[FEES] = state[FEES]! + fee;
    const cost = quantity * entryPrice + entryFee;
    const profit = notional - fee - cost;
    // The sums over trades in the order they close, as the figures were always summed.
    if (profit > 0) {
      this.wins++;
      state[GROSS_PROFIT] = state[GROSS_PROFIT]! + profit;
    } else state[GROSS_LOSS] = state[GROSS_LOSS]! - profit;
    let at = this.tradeCount * TRADE_FIELDS;
    if (at === this.closed.length) this.closed = doubled(this.closed);
    const closed = this.closed;
    closed[at++] = this.entryIndex;
    closed[at++] = i;
    closed[at++] = quantity;
    closed[at++] = entryPrice;
    closed[at++] = exitPrice;
    closed[at++] = entryFee;
    closed[at++] = fee;
    closed[at] = reason;
    this.tradeCount++;
    state[QUANTITY] = 0;
  }

  /** The closed trades as objects, in the order they closed. */
  trades(): BacktestTrade[] {
    const closed = this.closed;
    const time = this.time;
    const list: BacktestTrade[] = [];
    for (let t = 0; t < this.tradeCount; t++) {
      const at = t * TRADE_FIELDS;
      const entryIndex = closed[at + TRADE_ENTRY_INDEX]!;
      const exitIndex = closed[at + TRADE_EXIT_INDEX]!;
      const quantity = closed[at + TRADE_QUANTITY]!;
      const entryPrice = closed[at + TRADE_ENTRY_PRICE]!;
      const exitPrice = closed[at + TRADE_EXIT_PRICE]!;
      const entryFee = closed[at + TRADE_ENTRY_FEE]!;
      const exitFee = closed[at + TRADE_EXIT_FEE]!;
      // As `close` computed them: the same operations in the same order give the same numbers.
      const cost = quantity * entryPrice + entryFee;
      const profit = quantity * exitPrice - exitFee - cost;
      list.push({
        entryIndex,
        exitIndex,
        entryTime: time[entryIndex]!,
        exitTime: time[exitIndex]!,
        quantity,
        entryPrice,
        exitPrice,
        entryFee,
        exitFee,
        profit,
        profitPct: (profit / cost) * 100,
        exitReason: EXIT_REASONS[closed[at + TRADE_EXIT_REASON]!]!,
      });
    }
    return list;
  }

  /** A point of the equity curve at bar i's close. */
  mark(i: number, equity: number): void {
    this.equityCurve.push({ time: this.time[i]!, equity });
  }
}

/**
 * What the bar loop reads, and where one slice of bars leaves the running figures for the next
 * (`state` and `counts`). NEXT_POINT is the bar of the equity curve's next point: every
 * `stride` bars from the first, and the last bar.
 */
interface BarLoop {
  readonly series: CandleSeries;
  readonly runner: StrategyRunner;
  /** The strategy reads only closes and is not handed the other columns (StrategyRunner.nextClose). */
  readonly closeOnly: boolean;
  readonly account: Account;
  readonly state: Float64Array;
  readonly counts: Int32Array;
  readonly stakeFraction: number;
  readonly hasExits: boolean;
  readonly stride: number;
}

// The bars run in slices, each a call of simulateBars. V8 compiles a function that is called
// again and again as a whole and uses that code from its next call on; a loop that runs once
// over every bar can only be compiled while it runs (on-stack replacement), and in that code
// the running figures kept in locals were boxed: a heap object for each, on every bar. In a
// slice they are locals in registers, carried from slice to slice through `state` and `counts`.
// A single cold run of 1.3 M bars: 55.2 -> 46.6 ms (medians of 31 interleaved new processes).
const SLICE_BARS = 1024;

/** Bars [from, to) of a backtest: fills, stops, the strategy's signal, the mark to market. */
function simulateBars(loop: BarLoop, from: number, to: number): void {
  const { series, runner, closeOnly, account, state, counts, stakeFraction, hasExits, stride } = loop;
  const { open, high, low, close, volume } = series;
  const last = series.length - 1;
  let pending = counts[PENDING]!;
  let barsInMarket = counts[BARS_IN_MARKET]!;
  let returnsCount = counts[RETURNS_COUNT]!;
  let nextPoint = counts[NEXT_POINT]!;
  let peak = state[PEAK]!;
  let maxDrawdown = state[MAX_DRAWDOWN]!;
  let previousEquity = state[PREVIOUS_EQUITY]!;
  // Welford's running mean and sum of squared deviations of the per-bar returns: constant memory.
  let returnsMean = state[RETURNS_MEAN]!;
  let returnsM2 = state[RETURNS_M2]!;

  for (let i = from; i < to; i++) {
    const o = open[i]!;
    // 1. The order submitted at the previous close fills at this open.
    if (pending !== NONE) {
      if (pending === BUY) account.fillBuy(i, o);
      else if (state[QUANTITY]! > 0) account.close(i, o, EXIT_SIGNAL);
      pending = NONE;
    }

    // 2. Stops inside this bar (stop loss first when both are touched), unless the position
    // was just closed at the open.
    if (hasExits && state[QUANTITY]! > 0) {
      const stopPrice = state[STOP_PRICE]!;
      const takePrice = state[TAKE_PRICE]!;
      if (low[i]! <= stopPrice) account.close(i, Math.min(o, stopPrice), EXIT_STOP_LOSS);
      else if (high[i]! >= takePrice) account.close(i, Math.max(o, takePrice), EXIT_TAKE_PROFIT);
    }

    // 3. The strategy sees the closed bar and may submit an order for the next open.
    const c = close[i]!;
    const signal = closeOnly ? runner.nextClose!(c) : runner.next(o, high[i]!, low[i]!, c, volume[i]!);
    const quantity = state[QUANTITY]!;
    const cash = state[CASH]!;
    if (i < last) {
      if (signal === ENTER && quantity === 0) {
        pending = BUY;
        state[PENDING_QUANTITY] = (stakeFraction * cash) / c;
      } else if (signal === EXIT && quantity > 0) {
        pending = SELL;
      }
    }

    // 4. Mark to market at the close.
    const equity = cash + quantity * c;
    if (quantity > 0) barsInMarket++;
    if (equity > peak) peak = equity;
    else {
      const drawdown = (peak - equity) / peak;
      if (drawdown > maxDrawdown) maxDrawdown = drawdown;
    }
    if (i > 0) {
      const r = equity / previousEquity - 1;
      returnsCount++;
      const delta = r - returnsMean;
      returnsMean = returnsMean + delta / returnsCount;
      returnsM2 = returnsM2 + delta * (r - returnsMean);
    }
    previousEquity = equity;
    if (i === nextPoint || i === last) {
      account.mark(i, equity);
      nextPoint += stride;
    }
  }

  counts[PENDING] = pending;
  counts[BARS_IN_MARKET] = barsInMarket;
  counts[RETURNS_COUNT] = returnsCount;
  counts[NEXT_POINT] = nextPoint;
  state[PEAK] = peak;
  state[MAX_DRAWDOWN] = maxDrawdown;
  state[PREVIOUS_EQUITY] = previousEquity;
  state[RETURNS_MEAN] = returnsMean;
  state[RETURNS_M2] = returnsM2;
}

export function runBacktest(
  series: CandleSeries,
  strategy: StrategyRules,
  parameters: Record<string, number>,
  options: BacktestOptions = {},
): BacktestResult {
  const feeRate = options.feeRate ?? 0.001;
  const slippage = options.slippage ?? 0;
  const startingCash = options.startingCash ?? 10_000;
  const stakeFraction = options.stakeFraction ?? 0.95;
  const n = series.length;
  if (n === 0) throw new RangeError('No candles to backtest');
  const warmup = strategy.warmupBars(parameters);
  if (n <= warmup) throw new RangeError(`${strategy.name} needs more than ${warmup} candles to signal; got ${n}`);

  const runner = strategy.create(parameters);
  const exits = strategy.exits(parameters);
  const stopFactor = exits.stopLossPct === null ? -1 : 1 - exits.stopLossPct / 100;
  const takeFactor = exits.takeProfitPct === null ? -1 : 1 + exits.takeProfitPct / 100;
  const points = Math.max(2, options.equityCurvePoints ?? 500);
  const state = new Float64Array(STATE_SLOTS);
  state[CASH] = startingCash;
  state[STOP_PRICE] = -1;
  state[TAKE_PRICE] = Number.POSITIVE_INFINITY;
  state[PEAK] = startingCash;
  state[PREVIOUS_EQUITY] = startingCash;
  const account = new Account(state, series.time, feeRate, slippage, stopFactor, takeFactor);
  const loop: BarLoop = {
    series,
    runner,
    closeOnly: runner.nextClose !== undefined,
    account,
    state,
    counts: new Int32Array(COUNT_SLOTS),
    stakeFraction,
    // Without a stop loss or take profit the levels are never touched: their test is skipped.
    hasExits: stopFactor >= 0 || takeFactor >= 0,
    stride: Math.max(1, Math.ceil(n / points)),
  };
  for (let from = 0; from < n; from += SLICE_BARS) simulateBars(loop, from, Math.min(n, from + SLICE_BARS));
  const barsInMarket = loop.counts[BARS_IN_MARKET]!;
  const returnsCount = loop.counts[RETURNS_COUNT]!;

  const { equityCurve, rejected, tradeCount, wins } = account;
  const cash = state[CASH]!;
  const quantity = state[QUANTITY]!;
  const fees = state[FEES]!;
  const maxDrawdown = state[MAX_DRAWDOWN]!;
  const returnsMean = state[RETURNS_MEAN]!;
  const returnsM2 = state[RETURNS_M2]!;
  const finalEquity = cash + quantity * series.close[n - 1]!;
  const grossProfit = state[GROSS_PROFIT]!;
  const grossLoss = state[GROSS_LOSS]!;
  const timeframeMs = options.timeframeMs ?? inferTimeframeMs(series) ?? 0;
  const std = returnsCount > 1 ? Math.sqrt(returnsM2 / (returnsCount - 1)) : 0;
  const sharpe = std > 0 && timeframeMs > 0 ? (returnsMean / std) * Math.sqrt(YEAR_MS / timeframeMs) : null;

  const figures: Omit<BacktestResult, 'tradeList' | 'equityCurve'> = {
    strategy: strategy.name,
    parameters,
    candles: n,
    trades: tradeCount,
    startingCash,
    finalEquity,
    totalReturnPct: ((finalEquity - startingCash) / startingCash) * 100,
    maxDrawdownPct: maxDrawdown * 100,
    winRatePct: tradeCount > 0 ? (wins / tradeCount) * 100 : null,
    profitFactor: grossLoss > 0 ? grossProfit / grossLoss : null,
    sharpe,
    exposurePct: (barsInMarket / n) * 100,
    feesPaid: fees,
    rejectedOrders: rejected,
    openQuantity: quantity,
  };
  // The trade list is made on first read, then kept (see Account).
  let tradeList: BacktestTrade[] | undefined;
  const readTradeList = () => {
    if (tradeList === undefined) tradeList = account.trades();
    return tradeList;
  };
  return Object.defineProperties(figures, {
    tradeList: { enumerable: true, configurable: true, get: readTradeList },
    equityCurve: { enumerable: true, configurable: true, writable: true, value: equityCurve },
  }) as BacktestResult;
}

/** A result's figures alone, without its lists (reading none of them, so no trade list is made). */
export function backtestMetrics(result: BacktestResult): BacktestMetrics {
  return {
    candles: result.candles,
    trades: result.trades,
    startingCash: result.startingCash,
    finalEquity: result.finalEquity,
    totalReturnPct: result.totalReturnPct,
    maxDrawdownPct: result.maxDrawdownPct,
    winRatePct: result.winRatePct,
    profitFactor: result.profitFactor,
    sharpe: result.sharpe,
    exposurePct: result.exposurePct,
    feesPaid: result.feesPaid,
    rejectedOrders: result.rejectedOrders,
    openQuantity: result.openQuantity,
  };
}
