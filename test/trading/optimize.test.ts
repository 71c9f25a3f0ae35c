import { describe, expect, it } from 'vitest';
import { DEFAULT_MIN_TRADES, candlesFromRows, optimize, parseGrid, type CandleSeries } from '../../trading/index.ts';
import { parkMiller } from '../support/random.ts';

/** A choppy, deterministic hourly market, built here so the test needs no data file. */
function choppyMarket(bars = 400): CandleSeries {
  const rows: number[][] = [];
  let price = 100;
  const random = parkMiller(3);
  for (let i = 0; i < bars; i++) {
    const open = price;
    price *= 1 + (random() - 0.5) * 0.04;
    rows.push([i * 3_600_000, open, Math.max(open, price) * 1.003, Math.min(open, price) * 0.997, price, 10]);
  }
  return candlesFromRows(rows);
}

// On this market a low rsiBuy trades rarely (0–5 round trips) and loses little, so without a
// minimum those combinations top the ranking; a higher rsiBuy trades 14–32 times.
const series = choppyMarket();
const grid = parseGrid('rsiBuy=5|15|25|35|40,rsiPeriod=7|14');
const key = (parameters: Record<string, number>) => JSON.stringify(parameters);

describe('optimize: minimum number of trades', () => {
  it('leaves combinations with fewer than minTrades trades out of the ranking and counts them', async () => {
    const all = await optimize(series, { strategy: 'rsi', grid, workers: 2, minTrades: 0 });
    expect(all.evaluated).toBe(10);
    expect(all.tooFewTrades).toBe(0);
    expect(all.ranked).toHaveLength(10);
    const trades = (entry: { metrics: Record<string, number | null> }) => entry.metrics['trades']!;
    const few = all.ranked.filter((entry) => trades(entry) < 10);
    // The data must split the grid for the test to mean anything, and a few-trade combination
    // must be what would rank first without the filter (the reported problem).
    expect(few.length).toBeGreaterThan(0);
    expect(few.length).toBeLessThan(all.ranked.length);
    expect(trades(all.ranked[0]!)).toBeLessThan(10);

    const filtered = await optimize(series, { strategy: 'rsi', grid, workers: 2, minTrades: 10 });
    expect(filtered.minTrades).toBe(10);
    expect(filtered.evaluated).toBe(10);
    expect(filtered.tooFewTrades).toBe(few.length);
    expect(filtered.ranked).toHaveLength(10 - few.length);
    expect(filtered.ranked.every((entry) => trades(entry) >= 10)).toBe(true);
    expect(filtered.mostTrades).toBe(Math.max(...all.ranked.map(trades)));
    // Same order as the unfiltered ranking, minus the set-aside combinations.
    expect(filtered.ranked.map((entry) => key(entry.parameters))).toEqual(
      all.ranked.filter((entry) => trades(entry) >= 10).map((entry) => key(entry.parameters)),
    );
    // A combination with exactly minTrades trades is kept.
    const exact = trades(filtered.ranked[0]!);
    const atEdge = await optimize(series, { strategy: 'rsi', grid, workers: 1, minTrades: exact });
    expect(atEdge.ranked.some((entry) => trades(entry) === exact)).toBe(true);
  });

  it('uses 10 trades by default', async () => {
    expect(DEFAULT_MIN_TRADES).toBe(10);
    const result = await optimize(series, { strategy: 'rsi', grid, workers: 2 });
    expect(result.minTrades).toBe(10);
    expect(result.tooFewTrades).toBeGreaterThan(0);
    expect(result.ranked.every((entry) => entry.metrics['trades']! >= 10)).toBe(true);
    expect(result.ranked.length + result.tooFewTrades).toBe(result.evaluated);
  });

  it('returns an empty ranking, with the count and the most trades seen, when no combination qualifies', async () => {
    const result = await optimize(series, { strategy: 'rsi', grid, workers: 2, minTrades: 1000 });
    expect(result.ranked).toEqual([]);
    expect(result.tooFewTrades).toBe(10);
    expect(result.mostTrades).toBeGreaterThan(0);
    expect(result.mostTrades).toBeLessThan(1000);
  });

  it('refuses a minTrades that is not a whole number ≥ 0', async () => {
    for (const minTrades of [-1, 2.5, Number.NaN]) {
      await expect(optimize(series, { strategy: 'rsi', grid, workers: 1, minTrades })).rejects.toThrow(/minTrades must be a whole number/);
    }
  });
});
