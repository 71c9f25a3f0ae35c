import { z } from 'zod';
import { Bollinger, Ema, Macd, Rsi } from '../indicators/index.ts';
import { ENTER, EXIT, HOLD, type Signal, type Strategy, type StrategyRunner } from './types.ts';

const percent = (fallback: number) => z.number().gt(0, { error: 'must be > 0 %' }).max(100, { error: 'must be ≤ 100 %' }).default(fallback);
const period = (fallback: number, max = 500) =>
  z
    .number()
    .int({ error: 'must be a whole number' })
    .min(2, { error: 'must be ≥ 2' })
    .max(max, { error: `must be ≤ ${max}` })
    .default(fallback);
const level = (fallback: number) => z.number().gt(0, { error: 'must be > 0' }).lt(100, { error: 'must be < 100' }).default(fallback);

const rsiThresholds = {
  rsiPeriod: period(14),
  rsiBuy: level(40),
  rsiSell: level(60),
};
const buyBelowSell = (p: { rsiBuy: number; rsiSell: number }) => p.rsiBuy < p.rsiSell;
const buyBelowSellMessage = { error: 'rsiBuy must be below rsiSell' };

/** Enter when RSI closes below `rsiBuy`, exit when it closes above `rsiSell`. */
function rsiRunner(params: { rsiPeriod: number; rsiBuy: number; rsiSell: number }): StrategyRunner {
  const indicator = new Rsi(params.rsiPeriod);
  const { rsiBuy, rsiSell } = params;
  return {
    next(_open, _high, _low, close): Signal {
      const value = indicator.update(close);
      // NaN during warm-up fails both comparisons: no signal.
      return value < rsiBuy ? ENTER : value > rsiSell ? EXIT : HOLD;
    },
  };
}

const rsiReferenceParameters = z.strictObject(rsiThresholds).refine(buyBelowSell, buyBelowSellMessage);

/**
 * The comparison strategy, exactly: Wilder RSI(14) on close, first value at bar 14; enter
 * below 40, exit above 60; no stops. Fills at the next bar's open (the backtester's rule).
 */
export const rsiReference: Strategy<z.output<typeof rsiReferenceParameters>> = {
  name: 'rsi-reference',
  description: 'RSI(14) < 40 buy, > 60 sell, no stops; the reference for comparing engines',
  parameters: rsiReferenceParameters,
  warmupBars: (p) => p.rsiPeriod,
  exits: () => ({ stopLossPct: null, takeProfitPct: null }),
  create: rsiRunner,
};

const rsiParameters = z
  .strictObject({ ...rsiThresholds, stopLossPct: percent(3), takeProfitPct: percent(2) })
  .refine(buyBelowSell, buyBelowSellMessage);

/** The default "aggressive RSI": RSI(14) < 40 buy, > 60 sell, stop loss −3 %, take profit +2 %. */
export const rsiStrategy: Strategy<z.output<typeof rsiParameters>> = {
  name: 'rsi',
  description: 'Aggressive RSI: RSI(14) < 40 buy, > 60 sell, stop loss −3 %, take profit +2 %',
  parameters: rsiParameters,
  warmupBars: (p) => p.rsiPeriod,
  exits: (p) => ({ stopLossPct: p.stopLossPct, takeProfitPct: p.takeProfitPct }),
  create: rsiRunner,
};

/** Turns "a is above b" into signals on the bar where it changes. */
function crossRunner(update: (close: number) => number, reference: () => number): StrategyRunner {
  let wasAbove: boolean | undefined;
  return {
    next(_open, _high, _low, close): Signal {
      const value = update(close);
      const ref = reference();
      if (Number.isNaN(value) || Number.isNaN(ref)) return HOLD;
      const above = value > ref;
      const previous = wasAbove;
      wasAbove = above;
      if (previous === undefined || previous === above) return HOLD;
      return above ? ENTER : EXIT;
    },
  };
}

const macdParameters = z
  .strictObject({
    fastPeriod: period(12),
    slowPeriod: period(26),
    signalPeriod: period(9),
    stopLossPct: percent(3),
    takeProfitPct: percent(4),
  })
  .refine((p) => p.fastPeriod < p.slowPeriod, { error: 'fastPeriod must be below slowPeriod' });

export const macdCross: Strategy<z.output<typeof macdParameters>> = {
  name: 'macd-cross',
  description: 'Buy when the MACD line crosses above its signal line, sell when it crosses below',
  parameters: macdParameters,
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

const emaParameters = z
  .strictObject({ fastPeriod: period(9), slowPeriod: period(21), stopLossPct: percent(3), takeProfitPct: percent(4) })
  .refine((p) => p.fastPeriod < p.slowPeriod, { error: 'fastPeriod must be below slowPeriod' });

export const emaCross: Strategy<z.output<typeof emaParameters>> = {
  name: 'ema-cross',
  description: 'Buy when the fast EMA crosses above the slow EMA, sell when it crosses below',
  parameters: emaParameters,
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

const bollingerParameters = z.strictObject({
  period: period(20),
  stdDevs: z.number().gt(0, { error: 'must be > 0' }).max(5, { error: 'must be ≤ 5' }).default(2),
  stopLossPct: percent(3),
  takeProfitPct: percent(2),
});

export const bollingerReversion: Strategy<z.output<typeof bollingerParameters>> = {
  name: 'bollinger-reversion',
  description: 'Buy a close below the lower Bollinger band, sell a close above the middle band',
  parameters: bollingerParameters,
  warmupBars: (p) => p.period,
  exits: (p) => ({ stopLossPct: p.stopLossPct, takeProfitPct: p.takeProfitPct }),
  create(p) {
    const bands = new Bollinger(p.period, p.stdDevs);
    return {
      next(_open, _high, _low, close): Signal {
        if (Number.isNaN(bands.update(close))) return HOLD;
        return close < bands.value.lower ? ENTER : close > bands.value.middle ? EXIT : HOLD;
      },
    };
  },
};
