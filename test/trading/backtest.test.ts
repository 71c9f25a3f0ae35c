import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  STRATEGIES,
  STRATEGY_RULES,
  backtestMetrics,
  candlesFromRows,
  getStrategy,
  loadCandleFile,
  parseStrategyParameters,
  runBacktest,
  sliceCandles,
  strategyRules,
  type CandleSeries,
} from '../../trading/index.ts';
import { parkMiller } from '../support/random.ts';

const DATA = fileURLToPath(new URL('../../candles/', import.meta.url));

/** Bars from [open, close] pairs; high/low are the larger/smaller of the two unless given. */
function bars(rows: readonly (readonly [number, number, number?, number?])[]): CandleSeries {
  return candlesFromRows(
    rows.map(([open, close, high, low], i) => [i * 3_600_000, open, high ?? Math.max(open, close), low ?? Math.min(open, close), close, 1]),
  );
}

describe('the strategies without zod (trading/strategies/rules.ts), as a file backtest with no --param uses them', () => {
  it("have the catalogue's names in its order, and defaults equal to what each schema gives for {}, key for key in order", () => {
    expect([...STRATEGY_RULES.keys()]).toEqual([...STRATEGIES.keys()]);
    for (const [name, strategy] of STRATEGIES) {
      const parsed = parseStrategyParameters(strategy, {});
      const rules = strategyRules(name);
      expect(Object.entries(rules.defaults), name).toEqual(Object.entries(parsed));
      expect(strategy.defaults, name).toBe(rules.defaults);
    }
  });

  it("backtest exactly as the catalogue's strategies do, and name an unknown strategy the same way", () => {
    const series = loadCandleFile(`${DATA}binance_BTCUSDT_1h.csv`);
    for (const [name, strategy] of STRATEGIES) {
      const rules = strategyRules(name);
      expect(runBacktest(series, rules, { ...rules.defaults }), name).toEqual(
        runBacktest(series, strategy, parseStrategyParameters(strategy, {})),
      );
    }
    expect(() => strategyRules('nope')).toThrow(
      'Unknown strategy "nope". Available: rsi, rsi-reference, macd-cross, ema-cross, bollinger-reversion',
    );
    expect(() => getStrategy('nope')).toThrow(
      'Unknown strategy "nope". Available: rsi, rsi-reference, macd-cross, ema-cross, bollinger-reversion',
    );
  });
});

const reference = getStrategy('rsi-reference');
const rsi2 = parseStrategyParameters(reference, { rsiPeriod: 2 });

describe('rsi-reference, computed by hand (RSI(2) so every step fits in a comment)', () => {
  // bar  open close  change  avgGain avgLoss  RSI    action at the close
  //  0   100   100     –
  //  1   100   110    +10
  //  2   110   100    −10      5       5      50     –   (first RSI at index 2 = period)
  //  3   100    90    −10     2.5     7.5     25     buy 0.95 × 10000 / 90 = 105.5556
  //  4    92    95     +5     3.75    3.75    50     (buy filled at 92: cost 9711.1111 + fee 9.7111)
  //  5    95   105    +10     6.875   1.875   78.57  sell
  //  6   106   104     −1     3.4375  1.4375  70.51  (sold at 106: 11188.8889 − fee 11.1889; flat, so no sell)
  //  7   104   104      0                            last bar
  const series = bars([
    [100, 100],
    [100, 110],
    [110, 100],
    [100, 90],
    [92, 95],
    [95, 105],
    [106, 104],
    [104, 104],
  ]);

  it('gives the hand-computed trade and final equity', () => {
    const result = runBacktest(series, reference, rsi2, { feeRate: 0.001, startingCash: 10_000 });
    expect(result.trades).toBe(1);
    const [trade] = result.tradeList;
    const quantity = 9500 / 90;
    expect(trade).toMatchObject({ entryIndex: 4, exitIndex: 6, entryPrice: 92, exitPrice: 106, exitReason: 'signal' });
    expect(trade!.quantity).toBeCloseTo(quantity, 12);
    expect(trade!.entryFee).toBeCloseTo(9.7111111111, 9);
    expect(trade!.exitFee).toBeCloseTo(11.1888888889, 9);
    expect(trade!.profit).toBeCloseTo(1456.8777777778, 8);
    expect(result.finalEquity).toBeCloseTo(11456.8777777778, 8);
    expect(result.totalReturnPct).toBeCloseTo(14.568777777778, 9);
    expect(result.winRatePct).toBe(100);
    expect(result.exposurePct).toBeCloseTo((2 / 8) * 100, 12); // held at the closes of bars 4 and 5
  });

  it('rejects a buy the cash cannot cover at the open, and buys on the next signal', () => {
    // Bar 4 opens at 100: 105.5556 × 100 + fee > 10000, rejected. Its close (85) keeps RSI low,
    // so the strategy signals again (quantity 0.95 × 10000 / 85), filled at bar 5's open.
    const gap = bars([
      [100, 100],
      [100, 110],
      [110, 100],
      [100, 90],
      [100, 85],
      [86, 95],
      [95, 110],
      [111, 111],
    ]);
    const result = runBacktest(gap, reference, rsi2);
    expect(result.rejectedOrders).toBe(1);
    expect(result.tradeList[0]).toMatchObject({ entryIndex: 5, entryPrice: 86 });
    expect(result.tradeList[0]!.quantity).toBeCloseTo(9500 / 85, 12);
  });

  it('never fills an order submitted on the last bar', () => {
    const result = runBacktest(sliceCandles(series, 0, 4), reference, rsi2); // last bar is the buy signal
    expect(result.trades).toBe(0);
    expect(result.openQuantity).toBe(0);
    expect(result.finalEquity).toBe(10_000);
  });

  it('counts an open position at the last close in final equity', () => {
    const result = runBacktest(sliceCandles(series, 0, 5), reference, rsi2); // bought at 92, last close 95
    const quantity = 9500 / 90;
    expect(result.openQuantity).toBeCloseTo(quantity, 12);
    expect(result.finalEquity).toBeCloseTo(10_000 - quantity * 92 * 1.001 + quantity * 95, 8);
  });
});

describe('stops of the rsi strategy', () => {
  const rsi = getStrategy('rsi');
  const params = parseStrategyParameters(rsi, { rsiPeriod: 2 }); // stop −3 %, take +2 %

  it('takes profit at +2 % inside the bar', () => {
    // Entry at 92 (bar 4); take-profit level 93.84 is reached by bar 4's high.
    const result = runBacktest(
      bars([
        [100, 100],
        [100, 110],
        [110, 100],
        [100, 90],
        [92, 93, 94, 91.5],
        [93, 93],
      ]),
      rsi,
      params,
      { feeRate: 0 },
    );
    expect(result.tradeList[0]).toMatchObject({ entryIndex: 4, exitIndex: 4, exitReason: 'take_profit' });
    expect(result.tradeList[0]!.exitPrice).toBeCloseTo(93.84, 10);
  });

  it('assumes the stop loss first when a bar touches both levels', () => {
    const result = runBacktest(
      bars([
        [100, 100],
        [100, 110],
        [110, 100],
        [100, 90],
        [92, 92, 95, 89],
      ]),
      rsi,
      params,
      { feeRate: 0 },
    );
    expect(result.tradeList[0]).toMatchObject({ exitReason: 'stop_loss' });
    expect(result.tradeList[0]!.exitPrice).toBeCloseTo(92 * 0.97, 10);
  });

  it('fills at the open when the bar gaps through the stop', () => {
    const result = runBacktest(
      bars([
        [100, 100],
        [100, 110],
        [110, 100],
        [100, 90],
        [92, 91],
        [80, 82],
      ]),
      rsi,
      params,
      { feeRate: 0 },
    );
    expect(result.tradeList[0]).toMatchObject({ exitIndex: 5, exitPrice: 80, exitReason: 'stop_loss' });
  });

  it('applies slippage against the trader on both sides', () => {
    const series = bars([
      [100, 100],
      [100, 110],
      [110, 100],
      [100, 90],
      [92, 95],
      [95, 105],
      [106, 104],
      [104, 104],
    ]);
    const result = runBacktest(series, getStrategy('rsi-reference'), rsi2, { slippage: 0.01, feeRate: 0 });
    expect(result.tradeList[0]!.entryPrice).toBeCloseTo(92 * 1.01, 10);
    expect(result.tradeList[0]!.exitPrice).toBeCloseTo(106 * 0.99, 10);
  });
});

/** An independent, deliberately plain reading of the rsi-reference rules, for comparison. */
function plainRsiReference(series: CandleSeries, feeRate = 0.001, startingCash = 10_000) {
  const closes = Array.from(series.close);
  const period = 14;
  const rsiAt: number[] = closes.map(() => Number.NaN);
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= period; i++) {
    const change = closes[i]! - closes[i - 1]!;
    gain += Math.max(change, 0);
    loss += Math.max(-change, 0);
  }
  gain /= period;
  loss /= period;
  rsiAt[period] = gain + loss === 0 ? 50 : (100 * gain) / (gain + loss);
  for (let i = period + 1; i < closes.length; i++) {
    const change = closes[i]! - closes[i - 1]!;
    gain = (gain * (period - 1) + Math.max(change, 0)) / period;
    loss = (loss * (period - 1) + Math.max(-change, 0)) / period;
    rsiAt[i] = gain + loss === 0 ? 50 : (100 * gain) / (gain + loss);
  }
  let cash = startingCash;
  let held = 0;
  let order: { side: 'buy' | 'sell'; quantity: number } | null = null;
  const trades: { entry: number; exit: number; quantity: number }[] = [];
  let entry = -1;
  for (let i = 0; i < closes.length; i++) {
    if (order?.side === 'buy') {
      const cost = order.quantity * series.open[i]!;
      if (cost + cost * feeRate <= cash) {
        cash -= cost + cost * feeRate;
        held = order.quantity;
        entry = i;
      }
    } else if (order?.side === 'sell') {
      const proceeds = held * series.open[i]!;
      cash += proceeds - proceeds * feeRate;
      trades.push({ entry, exit: i, quantity: held });
      held = 0;
    }
    order = null;
    if (i === closes.length - 1) break;
    if (held === 0 && rsiAt[i]! < 40) order = { side: 'buy', quantity: (0.95 * cash) / closes[i]! };
    else if (held > 0 && rsiAt[i]! > 60) order = { side: 'sell', quantity: held };
  }
  return { trades, finalEquity: cash + held * closes.at(-1)! };
}

describe('rsi-reference on the Binance files in candles/', () => {
  const files = fs.readdirSync(DATA).filter((name) => name.endsWith('.csv'));

  it.each(files)('%s: every trade and the final equity agree with a plain reading of the rules', (file) => {
    const series = loadCandleFile(DATA + file);
    const ours = runBacktest(series, reference, parseStrategyParameters(reference, {}));
    const plain = plainRsiReference(series);
    expect(ours.trades).toBe(plain.trades.length);
    expect(ours.trades).toBeGreaterThan(50);
    ours.tradeList.forEach((trade, k) => {
      expect([trade.entryIndex, trade.exitIndex]).toEqual([plain.trades[k]!.entry, plain.trades[k]!.exit]);
    });
    expect(Math.abs(ours.finalEquity - plain.finalEquity) / plain.finalEquity).toBeLessThan(1e-9);
  });
});

describe('rsi-reference on the first 200 hours of candles/binance_BTCUSDT_1h.csv, worked out by hand', () => {
  // Worked out independently (a few lines of Python over the CSV, following the rules in the
  // issue): RSI(14) first value 65.2582 at bar 14; first RSI < 40 at bar 60 (31.7452), so
  // 0.95 × 10000 / close[60] is bought at bar 61's open 43702.89; RSI > 60 at bar 88 (62.8835),
  // sold at bar 89's open 44051.1; bought again at bar 170 (43632), sold at bar 181 (44636).
  it('has exactly those two trades and that final equity', () => {
    const series = sliceCandles(loadCandleFile(`${DATA}binance_BTCUSDT_1h.csv`), 0, 200);
    const result = runBacktest(series, reference, parseStrategyParameters(reference, {}));
    expect(result.tradeList.map((t) => [t.entryIndex, t.entryPrice, t.exitIndex, t.exitPrice])).toEqual([
      [61, 43702.89, 89, 44051.1],
      [170, 43632, 181, 44636],
    ]);
    expect(result.tradeList[0]!.quantity).toBeCloseTo(0.21737697835932096, 15);
    expect(result.tradeList[0]!.entryFee).toBeCloseTo(9.500002173769785, 10);
    expect(result.tradeList[0]!.profit).toBeCloseTo(56.617140449323415, 8);
    expect(result.tradeList[1]!.profit).toBeCloseTo(200.51127202271527, 8);
    expect(result.finalEquity).toBeCloseTo(10257.128412472039, 8);
  });
});

describe("a result's figures and its trade list (the list is made from the loop's numbers on first read)", () => {
  const series = loadCandleFile(`${DATA}binance_BTCUSDT_1h.csv`);

  it.each([...STRATEGY_RULES.keys()])('%s: the count, win rate, profit factor and each profit agree with the trades', (name) => {
    const strategy = getStrategy(name);
    const result = runBacktest(series, strategy, parseStrategyParameters(strategy, {}), { feeRate: 0.002, slippage: 0.0005 });
    const trades = result.tradeList;
    expect(trades.length).toBe(result.trades);
    expect(trades.length).toBeGreaterThan(10);
    let wins = 0;
    let grossProfit = 0;
    let grossLoss = 0;
    for (const trade of trades) {
      const cost = trade.quantity * trade.entryPrice + trade.entryFee;
      expect(trade.profit).toBe(trade.quantity * trade.exitPrice - trade.exitFee - cost);
      expect(trade.profitPct).toBe((trade.profit / cost) * 100);
      expect([trade.entryTime, trade.exitTime]).toEqual([series.time[trade.entryIndex], series.time[trade.exitIndex]]);
      if (trade.profit > 0) {
        wins++;
        grossProfit += trade.profit;
      } else grossLoss -= trade.profit;
    }
    expect(result.winRatePct).toBe((wins / trades.length) * 100);
    expect(result.profitFactor).toBe(grossLoss > 0 ? grossProfit / grossLoss : null);
    expect(result.tradeList).toBe(trades);
    const { tradeList: _t, equityCurve: _e, strategy: _s, parameters: _p, ...figures } = result;
    expect(backtestMetrics(result)).toEqual(figures);
    expect(Object.keys(JSON.parse(JSON.stringify(result)))).toEqual([
      'strategy',
      'parameters',
      ...Object.keys(figures),
      'tradeList',
      'equityCurve',
    ]);
  });
});

describe('drawdown and Sharpe from the equity at every close (the loop runs the bars in slices and carries its figures across)', () => {
  it.each(['binance_BTCUSDT_1h.csv', 'binance_BTCUSDT_1m.csv'])(
    '%s: the same numbers from a plain pass over the per-bar equity',
    (file) => {
      const series = loadCandleFile(DATA + file);
      const strategy = getStrategy('rsi');
      const result = runBacktest(series, strategy, parseStrategyParameters(strategy, {}), { equityCurvePoints: series.length });
      const equities = result.equityCurve.map((point) => point.equity);
      expect(equities).toHaveLength(series.length);
      let peak = 10_000;
      let maxDrawdown = 0;
      let mean = 0;
      let m2 = 0;
      for (let i = 0; i < equities.length; i++) {
        const equity = equities[i]!;
        if (equity > peak) peak = equity;
        else maxDrawdown = Math.max(maxDrawdown, (peak - equity) / peak);
        if (i === 0) continue;
        const r = equity / equities[i - 1]! - 1;
        const delta = r - mean;
        mean += delta / i;
        m2 += delta * (r - mean);
      }
      expect(result.maxDrawdownPct).toBe(maxDrawdown * 100);
      const timeframeMs = series.time[1]! - series.time[0]!;
      const sharpe = (mean / Math.sqrt(m2 / (equities.length - 2))) * Math.sqrt((365 * 86_400_000) / timeframeMs);
      expect(result.sharpe).toBe(sharpe);
      expect(result.finalEquity).toBe(equities.at(-1));
    },
  );
});

describe('a strategy that reads only closes (StrategyRunner.nextClose)', () => {
  const series = loadCandleFile(`${DATA}binance_BTCUSDT_1h.csv`);

  it.each([...STRATEGY_RULES.keys()])('%s: nextClose signals as next does, and a backtest without it gives the same result', (name) => {
    const strategy = getStrategy(name);
    const parameters = parseStrategyParameters(strategy, {});
    const viaNext = strategy.create(parameters);
    const viaClose = strategy.create(parameters);
    expect(viaClose.nextClose).toBeTypeOf('function');
    for (let i = 0; i < series.length; i++) {
      const signal = viaNext.next(series.open[i]!, series.high[i]!, series.low[i]!, series.close[i]!, series.volume[i]!);
      expect(viaClose.nextClose!(series.close[i]!)).toBe(signal);
    }
    // The same rules with a runner that offers only `next`: the engine hands it every column.
    const nextOnly = { ...strategy, create: (p: Record<string, number>) => ({ next: strategy.create(p).next }) };
    const options = { feeRate: 0.0015, slippage: 0.0002 };
    expect(runBacktest(series, nextOnly, parameters, options)).toEqual(runBacktest(series, strategy, parameters, options));
  });
});

describe('no strategy can look ahead', () => {
  // Same past, different futures: everything up to the cut must be identical.
  const n = 3000;
  const rows: number[][] = [];
  let price = 100;
  const random = parkMiller(7);
  for (let i = 0; i < n; i++) {
    const open = price;
    price *= 1 + (random() - 0.5) * 0.03;
    rows.push([i * 60_000, open, Math.max(open, price) * 1.002, Math.min(open, price) * 0.998, price, 1]);
  }
  const cut = 2000;
  const alteredRows = rows.map((row, i) => (i <= cut ? row : row.map((value, k) => (k === 0 ? value : value * (i % 2 ? 1.3 : 0.7)))));

  it.each([...STRATEGIES.keys()])('%s decides the same up to the cut whatever comes after', (name) => {
    const strategy = getStrategy(name);
    const params = parseStrategyParameters(strategy, {});
    const signalsOf = (series: CandleSeries) => {
      const runner = strategy.create(params);
      const out: number[] = [];
      for (let i = 0; i <= cut; i++)
        out.push(runner.next(series.open[i]!, series.high[i]!, series.low[i]!, series.close[i]!, series.volume[i]!));
      return out;
    };
    const a = runBacktest(candlesFromRows(rows), strategy, params);
    const b = runBacktest(candlesFromRows(alteredRows), strategy, params);
    expect(signalsOf(candlesFromRows(rows))).toEqual(signalsOf(candlesFromRows(alteredRows)));
    const closedBefore = (trades: typeof a.tradeList) => trades.filter((trade) => trade.exitIndex <= cut);
    expect(closedBefore(a.tradeList)).toEqual(closedBefore(b.tradeList));
    expect(a.tradeList.length).toBeGreaterThan(0);
  });
});

describe('bad input', () => {
  it('refuses too little data for the warm-up', () => {
    const series = bars(Array.from({ length: 14 }, () => [100, 100] as const));
    expect(() => runBacktest(series, reference, parseStrategyParameters(reference, {}))).toThrow(/needs more than 14 candles/);
    expect(() => runBacktest(candlesFromRows([]), reference, parseStrategyParameters(reference, {}))).toThrow(/No candles/);
  });

  it('names unknown strategies and bad parameters', () => {
    expect(() => getStrategy('moon')).toThrow(/Unknown strategy "moon". Available: rsi, rsi-reference/);
    expect(() => parseStrategyParameters(reference, { rsiBuy: 70 })).toThrow(/rsiBuy must be below rsiSell/);
    expect(() => parseStrategyParameters(reference, { rsiPeriod: 1 })).toThrow(/rsiPeriod must be ≥ 2/);
    expect(() => parseStrategyParameters(reference, { rsiBuyy: 30 })).toThrow(/unknown parameter "rsiBuyy"/);
  });
});
