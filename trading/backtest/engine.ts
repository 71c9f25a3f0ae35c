import type { CandleSeries } from '../market-data/index.ts';
// gaps.ts, not the folder's index: the index's candle store would load the database drivers with the engine.
import { inferTimeframeMs } from '../market-data/gaps.ts';
// types.ts, not the folder's index: the index's parameter schemas would load zod with the engine.
import { ENTER, EXIT, type StrategyRules } from '../strategies/types.ts';

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

const NONE = 0;
const BUY = 1;
const SELL = 2;
const YEAR_MS = 365 * 86_400_000;

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
  const { time, open, high, low, close, volume } = series;

  const points = Math.max(2, options.equityCurvePoints ?? 500);
  const stride = Math.max(1, Math.ceil(n / points));
  const equityCurve: { time: number; equity: number }[] = [];
  const tradeList: BacktestTrade[] = [];

  let cash = startingCash;
  let quantity = 0;
  let entryPrice = 0;
  let entryFee = 0;
  let entryIndex = -1;
  let stopPrice = -1;
  let takePrice = Number.POSITIVE_INFINITY;
  let pending = NONE;
  let pendingQuantity = 0;
  let rejected = 0;
  let fees = 0;
  let peak = startingCash;
  let maxDrawdown = 0;
  let barsInMarket = 0;
  let previousEquity = startingCash;
  // Welford running mean/variance of per-bar returns: constant memory.
  let returnsCount = 0;
  let returnsMean = 0;
  let returnsM2 = 0;

  const closePosition = (i: number, price: number, reason: ExitReason) => {
    const notional = quantity * price;
    const fee = notional * feeRate;
    cash += notional - fee;
    fees += fee;
    const cost = quantity * entryPrice + entryFee;
    const profit = notional - fee - cost;
    tradeList.push({
      entryIndex,
      exitIndex: i,
      entryTime: time[entryIndex]!,
      exitTime: time[i]!,
      quantity,
      entryPrice,
      exitPrice: price,
      entryFee,
      exitFee: fee,
      profit,
      profitPct: (profit / cost) * 100,
      exitReason: reason,
    });
    quantity = 0;
  };

  for (let i = 0; i < n; i++) {
    const o = open[i]!;
    // 1. The order submitted at the previous close fills at this open.
    if (pending === BUY) {
      const price = o * (1 + slippage);
      const cost = pendingQuantity * price;
      const fee = cost * feeRate;
      if (cost + fee <= cash) {
        cash -= cost + fee;
        fees += fee;
        quantity = pendingQuantity;
        entryPrice = price;
        entryFee = fee;
        entryIndex = i;
        stopPrice = stopFactor < 0 ? -1 : price * stopFactor;
        takePrice = takeFactor < 0 ? Number.POSITIVE_INFINITY : price * takeFactor;
      } else {
        rejected++;
      }
    } else if (pending === SELL && quantity > 0) {
      closePosition(i, o * (1 - slippage), 'signal');
    }
    pending = NONE;

    // 2. Stops inside this bar (stop loss first when both are touched).
    if (quantity > 0) {
      if (low[i]! <= stopPrice) {
        closePosition(i, Math.min(o, stopPrice) * (1 - slippage), 'stop_loss');
      } else if (high[i]! >= takePrice) {
        closePosition(i, Math.max(o, takePrice) * (1 - slippage), 'take_profit');
      }
    }

    // 3. The strategy sees the closed bar and may submit an order for the next open.
    const c = close[i]!;
    const signal = runner.next(o, high[i]!, low[i]!, c, volume[i]!);
    if (i < n - 1) {
      if (signal === ENTER && quantity === 0) {
        pending = BUY;
        pendingQuantity = (stakeFraction * cash) / c;
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
      returnsMean += delta / returnsCount;
      returnsM2 += delta * (r - returnsMean);
    }
    previousEquity = equity;
    if (i % stride === 0 || i === n - 1) equityCurve.push({ time: time[i]!, equity });
  }

  const finalEquity = cash + quantity * close[n - 1]!;
  let wins = 0;
  let grossProfit = 0;
  let grossLoss = 0;
  for (const trade of tradeList) {
    if (trade.profit > 0) {
      wins++;
      grossProfit += trade.profit;
    } else grossLoss -= trade.profit;
  }
  const timeframeMs = options.timeframeMs ?? inferTimeframeMs(series) ?? 0;
  const std = returnsCount > 1 ? Math.sqrt(returnsM2 / (returnsCount - 1)) : 0;
  const sharpe = std > 0 && timeframeMs > 0 ? (returnsMean / std) * Math.sqrt(YEAR_MS / timeframeMs) : null;

  return {
    strategy: strategy.name,
    parameters,
    candles: n,
    trades: tradeList.length,
    startingCash,
    finalEquity,
    totalReturnPct: ((finalEquity - startingCash) / startingCash) * 100,
    maxDrawdownPct: maxDrawdown * 100,
    winRatePct: tradeList.length > 0 ? (wins / tradeList.length) * 100 : null,
    profitFactor: grossLoss > 0 ? grossProfit / grossLoss : null,
    sharpe,
    exposurePct: (barsInMarket / n) * 100,
    feesPaid: fees,
    rejectedOrders: rejected,
    openQuantity: quantity,
    tradeList,
    equityCurve,
  };
}
