import { assertPeriod, runLines } from './moving-averages.ts';

// Seeding conventions:
//   Bollinger(n, k)  middle = SMA(n), bands = middle ± k·σ with the population standard
//            deviation (divide by n) of the same n closes; values from index n−1.
//   ATR(n)   true range TR[0] = high−low, then max(high−low, |high−prevClose|, |low−prevClose|);
//            the first ATR (index n−1) is the mean of the first n TRs, then Wilder's smoothing.

export interface BollingerValue {
  lower: number;
  middle: number;
  upper: number;
}

export class Bollinger {
  readonly period: number;
  readonly stdDevs: number;
  private readonly window: Float64Array;
  private index = 0;
  private count = 0;
  readonly value: BollingerValue = { lower: Number.NaN, middle: Number.NaN, upper: Number.NaN };
  constructor(period: number, stdDevs: number) {
    assertPeriod(period, 'Bollinger');
    if (!(stdDevs > 0)) throw new RangeError(`Bollinger width must be > 0 standard deviations, got ${stdDevs}`);
    this.period = period;
    this.stdDevs = stdDevs;
    this.window = new Float64Array(period);
  }
  /** Returns the middle band (NaN during warm-up); `value` holds all three. */
  update(close: number): number {
    this.window[this.index] = close;
    this.index = this.index + 1 === this.period ? 0 : this.index + 1;
    if (this.count < this.period) this.count++;
    if (this.count < this.period) return Number.NaN;
    // Two passes over the window: exact even when prices are large and the spread small.
    let sum = 0;
    for (let i = 0; i < this.period; i++) sum += this.window[i]!;
    const mean = sum / this.period;
    let squares = 0;
    for (let i = 0; i < this.period; i++) {
      const d = this.window[i]! - mean;
      squares += d * d;
    }
    const width = this.stdDevs * Math.sqrt(squares / this.period);
    this.value.middle = mean;
    this.value.lower = mean - width;
    this.value.upper = mean + width;
    return mean;
  }
}

export function bollinger(
  closes: ArrayLike<number>,
  period: number,
  stdDevs: number,
): { lower: Float64Array; middle: Float64Array; upper: Float64Array } {
  return runLines(closes, new Bollinger(period, stdDevs), ['lower', 'middle', 'upper']);
}

export class Atr {
  readonly period: number;
  private previousClose = Number.NaN;
  private seen = 0;
  private value = 0;
  constructor(period: number) {
    assertPeriod(period, 'ATR');
    this.period = period;
  }
  update(high: number, low: number, close: number): number {
    const prev = this.previousClose;
    const trueRange = Number.isNaN(prev) ? high - low : Math.max(high - low, Math.abs(high - prev), Math.abs(low - prev));
    this.previousClose = close;
    this.seen++;
    const n = this.period;
    if (this.seen < n) {
      this.value += trueRange;
      return Number.NaN;
    }
    this.value = this.seen === n ? (this.value + trueRange) / n : (this.value * (n - 1) + trueRange) / n;
    return this.value;
  }
}

export function atr(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, period: number): Float64Array {
  const indicator = new Atr(period);
  const out = new Float64Array(close.length);
  for (let i = 0; i < close.length; i++) out[i] = indicator.update(high[i]!, low[i]!, close[i]!);
  return out;
}
