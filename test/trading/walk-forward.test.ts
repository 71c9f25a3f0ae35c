import { describe, expect, it } from 'vitest';
import { candlesFromRows, MIN_EFFICIENCY, optimize, parseGrid, walkForward, type CandleSeries } from '../../trading/index.ts';
import { parkMiller } from '../support/random.ts';

const HOUR = 3_600_000;

/** A seeded random walk: no parameters can have an edge on it, whatever they did in sample. */
function randomWalk(bars: number, seed: number): CandleSeries {
  const random = parkMiller(seed);
  const rows: number[][] = [];
  let price = 100;
  for (let i = 0; i < bars; i++) {
    const open = price;
    price *= 1 + (random() - 0.5) * 0.02;
    rows.push([i * HOUR, open, Math.max(open, price) * 1.002, Math.min(open, price) * 0.998, price, 10]);
  }
  return candlesFromRows(rows);
}

/**
 * A 48-bar sine wave (±5 %) with a little seeded noise: a slow RSI that buys the troughs and
 * sells on the way up wins on it, and keeps winning after any in-sample window.
 */
function periodicMarket(bars: number, seed: number): CandleSeries {
  const random = parkMiller(seed);
  const rows: number[][] = [];
  let previous = 100;
  for (let i = 0; i < bars; i++) {
    const price = 100 * (1 + 0.05 * Math.sin((2 * Math.PI * i) / 48)) * (1 + (random() - 0.5) * 0.004);
    rows.push([i * HOUR, previous, Math.max(previous, price) * 1.001, Math.min(previous, price) * 0.999, price, 10]);
    previous = price;
  }
  return candlesFromRows(rows);
}

const grid = parseGrid('rsiPeriod=5|10|20,rsiBuy=20|30|40,rsiSell=60|70|80');
// The rsi strategy's defaults: what a new bot trades with.
const current = { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };
const withoutTiming = <T extends { elapsedMs: number }>({ elapsedMs: _e, ...rest }: T) => rest;

describe('walk-forward review', () => {
  it('proposes nothing on random-walk markets, saying why', async () => {
    for (const seed of [1, 2]) {
      const result = await walkForward(randomWalk(3000, seed), { strategy: 'rsi', grid, current, workers: 2 });
      expect(result.proposal).toBeNull();
      expect(result.reasons.length).toBeGreaterThan(0);
      expect(result.folds).toHaveLength(5);
      // Both sets of parameters were measured on every out-of-sample window.
      for (const fold of result.folds) expect(fold.current.outOfSample.trades).toBeGreaterThan(0);
    }
  }, 60_000);

  it('proposes the parameters the market was built for, and they beat the current ones out of sample on the same folds', async () => {
    const series = periodicMarket(3000, 7);
    const result = await walkForward(series, { strategy: 'rsi', grid, current, workers: 2 });
    const known = { rsiPeriod: 20, rsiBuy: 30, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };
    expect(result.reasons).toEqual([]);
    expect(result.proposal).toEqual(known);
    // The whole series' best has the same period and entry too (not an accident of the last window);
    // its exit level may differ, as the 2 % take-profit closes most trades before RSI reaches it.
    const whole = await optimize(series, { strategy: 'rsi', grid, fixed: { stopLossPct: 3, takeProfitPct: 2 }, workers: 2 });
    expect(whole.ranked[0]!.parameters).toMatchObject({ rsiPeriod: 20, rsiBuy: 30 });

    expect(result.foldsBeaten).toBe(5);
    expect(result.chosenOutOfSampleTrades).toBeGreaterThanOrEqual(result.minTrades);
    expect(result.chosenOutOfSampleReturnPct).toBeGreaterThan(0);
    expect(result.chosenOutOfSampleReturnPct).toBeGreaterThan(result.currentOutOfSampleReturnPct);
    expect(result.efficiency!).toBeGreaterThanOrEqual(MIN_EFFICIENCY);
    for (const fold of result.folds) {
      expect(fold.chosen!.parameters).toEqual(known);
      expect(fold.chosen!.outOfSample.totalReturnPct).toBeGreaterThan(fold.current.outOfSample.totalReturnPct);
      expect(fold.chosen!.inSample.trades).toBeGreaterThanOrEqual(result.minTrades);
    }
    // The compounded figure is the product of the folds' returns.
    const compounded = (result.folds.reduce((g, f) => g * (1 + f.chosen!.outOfSample.totalReturnPct / 100), 1) - 1) * 100;
    expect(result.chosenOutOfSampleReturnPct).toBeCloseTo(compounded, 9);

    // Deterministic: the same market gives the same answer, whatever order the workers finish in.
    const again = await walkForward(series, { strategy: 'rsi', grid, current, workers: 1 });
    expect(withoutTiming(again)).toEqual(withoutTiming(result));
  }, 60_000);

  it('rolls equal windows forward, each tested on the segment right after it, the last ending at the last candle', async () => {
    const series = periodicMarket(1003, 3);
    const result = await walkForward(series, {
      strategy: 'rsi',
      grid: parseGrid('rsiPeriod=10|20'),
      current,
      workers: 1,
      folds: 3,
      inSampleSegments: 2,
      minTrades: 1,
    });
    const segment = Math.floor(1003 / 5);
    expect(result.folds.map((fold) => [fold.inSample.candles, fold.outOfSample.candles])).toEqual([
      [2 * segment, segment],
      [2 * segment, segment],
      [2 * segment, segment],
    ]);
    for (const [k, fold] of result.folds.entries()) {
      expect(fold.outOfSample.fromMs).toBe(fold.inSample.toMs + HOUR);
      if (k > 0) expect(fold.inSample.fromMs).toBe(result.folds[k - 1]!.inSample.fromMs + segment * HOUR);
    }
    expect(result.folds.at(-1)!.outOfSample.toMs).toBe(series.time[series.length - 1]);
  }, 30_000);

  it('refuses a series too short for its folds and a bad fold count', async () => {
    await expect(walkForward(periodicMarket(80, 1), { strategy: 'rsi', grid, current, workers: 1 })).rejects.toThrow(/too few for 5 folds/);
    await expect(walkForward(periodicMarket(800, 1), { strategy: 'rsi', grid, current, workers: 1, folds: 0 })).rejects.toThrow(
      /folds must be/,
    );
    await expect(
      walkForward(periodicMarket(800, 1), { strategy: 'rsi', grid, current: { rsiBuy: 70, rsiSell: 60 }, workers: 1 }),
    ).rejects.toThrow(/rsiBuy must be below rsiSell/);
  });
});
