import { assertPeriod, Ema, runLines, runSeries } from './moving-averages.ts';

// Seeding conventions:
//   RSI(n)   Wilder's: the first value is at index n, from the simple means of the first n
//            gains and losses; then avg = (avg·(n−1) + x)/n. RSI = 100·avgGain/(avgGain+avgLoss),
//            and 50 when both averages are zero (a perfectly flat market).
//   MACD(f,s,g)  EMA(f) − EMA(s) with both EMAs seeded at the first input; values from index
//            s−1. The signal line is an EMA(g) of the MACD seeded with the MACD at index s−1.
//            Smoothing is 2/(n+1) by default (as TA-Lib and freqtrade); `smoothing: 'appel'`
//            uses Appel's original constants 0.15 and 0.075 for 12/26, as the A-to-Z book
//            (and Tulip Indicators) do.

export class Rsi {
  readonly period: number;
  private previous = Number.NaN;
  private seen = 0;
  private avgGain = 0;
  private avgLoss = 0;
  constructor(period: number) {
    assertPeriod(period, 'RSI');
    this.period = period;
  }
  update(close: number): number {
    const previous = this.previous;
    this.previous = close;
    if (Number.isNaN(previous)) return Number.NaN;
    const change = close - previous;
    const gain = Math.max(change, 0);
    const loss = change < 0 ? -change : 0;
    const n = this.period;
    this.seen++;
    if (this.seen < n) {
      this.avgGain += gain;
      this.avgLoss += loss;
      return Number.NaN;
    }
    if (this.seen === n) {
      this.avgGain = (this.avgGain + gain) / n;
      this.avgLoss = (this.avgLoss + loss) / n;
    } else {
      this.avgGain = (this.avgGain * (n - 1) + gain) / n;
      this.avgLoss = (this.avgLoss * (n - 1) + loss) / n;
    }
    const total = this.avgGain + this.avgLoss;
    return total === 0 ? 50 : (100 * this.avgGain) / total;
  }
}

export function rsi(closes: ArrayLike<number>, period: number): Float64Array {
  return runSeries(closes, new Rsi(period));
}

export interface MacdValue {
  macd: number;
  signal: number;
  histogram: number;
}

export interface MacdOptions {
  readonly smoothing?: 'standard' | 'appel';
}

export class Macd {
  private readonly fast: Ema;
  private readonly slow: Ema;
  private readonly signalEma: Ema;
  private readonly slowPeriod: number;
  private seen = 0;
  /** The latest values (NaN during warm-up); updated in place to avoid an object per bar. */
  readonly value: MacdValue = { macd: Number.NaN, signal: Number.NaN, histogram: Number.NaN };
  constructor(fastPeriod: number, slowPeriod: number, signalPeriod: number, options: MacdOptions = {}) {
    if (fastPeriod >= slowPeriod)
      throw new RangeError(`MACD fast period (${fastPeriod}) must be shorter than the slow one (${slowPeriod})`);
    const appel = options.smoothing === 'appel' && fastPeriod === 12 && slowPeriod === 26;
    this.fast = appel ? new Ema(fastPeriod, 0.15) : new Ema(fastPeriod);
    this.slow = appel ? new Ema(slowPeriod, 0.075) : new Ema(slowPeriod);
    this.signalEma = new Ema(signalPeriod);
    this.slowPeriod = slowPeriod;
  }
  /** Returns the MACD line (NaN during warm-up); `value` holds all three lines. */
  update(close: number): number {
    const line = this.fast.update(close) - this.slow.update(close);
    this.seen++;
    if (this.seen < this.slowPeriod) return Number.NaN;
    const signal = this.signalEma.update(line);
    this.value.macd = line;
    this.value.signal = signal;
    this.value.histogram = line - signal;
    return line;
  }
}

export function macd(
  closes: ArrayLike<number>,
  fastPeriod: number,
  slowPeriod: number,
  signalPeriod: number,
  options: MacdOptions = {},
): { macd: Float64Array; signal: Float64Array; histogram: Float64Array } {
  return runLines(closes, new Macd(fastPeriod, slowPeriod, signalPeriod, options), ['macd', 'signal', 'histogram']);
}
