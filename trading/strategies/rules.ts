import { ProductError } from '../../errors/index.ts';
import { Bollinger, Ema, Macd, Rsi } from '../indicators/index.ts';
import { ENTER, EXIT, HOLD, type Signal, type StrategyRules, type StrategyRunner } from './types.ts';

// What each strategy does, with its default parameters, and no zod: a file backtest with the
// defaults runs on these alone (see trading/backtest-core.ts). catalogue.ts adds each one's
// parameter schema, built from the defaults here, for every caller that takes parameters in.

export interface RsiParameters extends Record<string, number> {
  rsiPeriod: number;
  rsiBuy: number;
  rsiSell: number;
}
export interface RsiStopParameters extends RsiParameters {
  stopLossPct: number;
  takeProfitPct: number;
}
export interface MacdParameters extends Record<string, number> {
  fastPeriod: number;
  slowPeriod: number;
  signalPeriod: number;
  stopLossPct: number;
  takeProfitPct: number;
}
export interface EmaParameters extends Record<string, number> {
  fastPeriod: number;
  slowPeriod: number;
  stopLossPct: number;
  takeProfitPct: number;
}
export interface BollingerParameters extends Record<string, number> {
  period: number;
  stdDevs: number;
  stopLossPct: number;
  takeProfitPct: number;
}

/** A runner for a strategy that reads only each bar's close (every strategy here). */
function closeOnly(nextClose: (close: number) => Signal): StrategyRunner {
  return { next: (_open, _high, _low, close) => nextClose(close), nextClose };
}

/** Enter when RSI closes below `rsiBuy`, exit when it closes above `rsiSell`. */
function rsiRunner(params: RsiParameters): StrategyRunner {
  const indicator = new Rsi(params.rsiPeriod);
  const { rsiBuy, rsiSell } = params;
  return closeOnly((close) => {
    const value = indicator.update(close);
    // NaN during warm-up fails both comparisons: no signal.
    return value < rsiBuy ? ENTER : value > rsiSell ? EXIT : HOLD;
  });
}

/**
 * The comparison strategy, exactly: Wilder RSI(14) on close, first value at bar 14; enter
 * below 40, exit above 60; no stops. Fills at the next bar's open (the backtester's rule).
 */
export const rsiReferenceRules: StrategyRules<RsiParameters> = {
  name: 'rsi-reference',
  description: 'RSI(14) < 40 buy, > 60 sell, no stops; the reference for comparing engines',
  defaults: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60 },
  warmupBars: (p) => p.rsiPeriod,
  exits: () => ({ stopLossPct: null, takeProfitPct: null }),
  create: rsiRunner,
};

/** The default "aggressive RSI": RSI(14) < 40 buy, > 60 sell, stop loss −3 %, take profit +2 %. */
export const rsiRules: StrategyRules<RsiStopParameters> = {
  name: 'rsi',
  description: 'Aggressive RSI: RSI(14) < 40 buy, > 60 sell, stop loss −3 %, take profit +2 %',
  defaults: { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 },
  warmupBars: (p) => p.rsiPeriod,
  exits: (p) => ({ stopLossPct: p.stopLossPct, takeProfitPct: p.takeProfitPct }),
  create: rsiRunner,
};

/** Turns "a is above b" into signals on the bar where it changes. */
function crossRunner(update: (close: number) => number, reference: () => number): StrategyRunner {
  let wasAbove: boolean | undefined;
  return closeOnly((close) => {
    const value = update(close);
    const ref = reference();
    if (Number.isNaN(value) || Number.isNaN(ref)) return HOLD;
    const above = value > ref;
    const previous = wasAbove;
    wasAbove = above;
    if (previous === undefined || previous === above) return HOLD;
    return above ? ENTER : EXIT;
  });
}

export const macdCrossRules: StrategyRules<MacdParameters> = {
  name: 'macd-cross',
  description: 'Buy when the MACD line crosses above its signal line, sell when it crosses below',
  defaults: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, stopLossPct: 3, takeProfitPct: 4 },
  warmupBars: (p) => p.slowPeriod + p.signalPeriod,
  exits: (p) => ({ stopLossPct: p.stopLossPct, takeProfitPct: p.takeProfitPct }),
  create(p) {
    const indicator = new Macd(p.fastPeriod, p.slowPeriod, p.signalPeriod);
    return crossRunner(
      (close) => indicator.update(close),
      () => indicator.value.signal,
    );
  },
};

export const emaCrossRules: StrategyRules<EmaParameters> = {
  name: 'ema-cross',
  description: 'Buy when the fast EMA crosses above the slow EMA, sell when it crosses below',
  defaults: { fastPeriod: 9, slowPeriod: 21, stopLossPct: 3, takeProfitPct: 4 },
  warmupBars: (p) => p.slowPeriod,
  exits: (p) => ({ stopLossPct: p.stopLossPct, takeProfitPct: p.takeProfitPct }),
  create(p) {
    const fast = new Ema(p.fastPeriod);
    const slow = new Ema(p.slowPeriod);
    let slowValue = Number.NaN;
    let seen = 0;
    return crossRunner(
      (close) => {
        seen++;
        slowValue = slow.update(close);
        const fastValue = fast.update(close);
        // EMAs are seeded at the first bar; trust them only after the slow period.
        return seen >= p.slowPeriod ? fastValue : Number.NaN;
      },
      () => slowValue,
    );
  },
};

export const bollingerReversionRules: StrategyRules<BollingerParameters> = {
  name: 'bollinger-reversion',
  description: 'Buy a close below the lower Bollinger band, sell a close above the middle band',
  defaults: { period: 20, stdDevs: 2, stopLossPct: 3, takeProfitPct: 2 },
  warmupBars: (p) => p.period,
  exits: (p) => ({ stopLossPct: p.stopLossPct, takeProfitPct: p.takeProfitPct }),
  create(p) {
    const bands = new Bollinger(p.period, p.stdDevs);
    return closeOnly((close) => {
      if (Number.isNaN(bands.update(close))) return HOLD;
      return close < bands.value.lower ? ENTER : close > bands.value.middle ? EXIT : HOLD;
    });
  },
};

/** Every strategy's rules, in the catalogue's order (`rsi` first: the default). */
export const STRATEGY_RULES: ReadonlyMap<string, StrategyRules> = new Map(
  [rsiRules, rsiReferenceRules, macdCrossRules, emaCrossRules, bollingerReversionRules].map((rules) => [
    rules.name,
    rules as unknown as StrategyRules,
  ]),
);

export class StrategyError extends ProductError {
  readonly category = 'usage' as const;
  constructor(message: string) {
    super(message);
    this.name = 'StrategyError';
  }
}

/** What an unknown strategy name is told (the catalogue has the same names as these rules). */
export function unknownStrategyMessage(name: string): string {
  return `Unknown strategy "${name}". Available: ${[...STRATEGY_RULES.keys()].join(', ')}`;
}

/** The rules of the strategy called `name`; an unknown name is a usage error listing the known ones. */
export function strategyRules(name: string): StrategyRules {
  const rules = STRATEGY_RULES.get(name);
  if (!rules) throw new StrategyError(unknownStrategyMessage(name));
  return rules;
}
