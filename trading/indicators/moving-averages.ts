// Incremental indicators: `update()` takes the next value and returns the indicator's value
// at that bar, or NaN while it is still warming up. Batch functions run the same objects over
// a whole series, so batch and incremental results are identical by construction.
//
// Seeding conventions (those of Tulip Indicators, whose published test vectors from
// "Technical Analysis from A to Z" the tests use):
//   SMA(n)  first value at index n−1.
//   EMA(n)  α = 2/(n+1), seeded with the first input: EMA[0] = x[0], a value at every index.

function assertPeriod(period: number, name: string): void {
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`${name} period must be a whole number ≥ 1, got ${period}`);
}

export class Sma {
  readonly period: number;
  private readonly window: Float64Array;
  private index = 0;
  private count = 0;
  private sum = 0;
  constructor(period: number) {
    assertPeriod(period, 'SMA');
    this.period = period;
    this.window = new Float64Array(period);
  }
  update(value: number): number {
    this.sum += value - this.window[this.index]!;
    this.window[this.index] = value;
    this.index = this.index + 1 === this.period ? 0 : this.index + 1;
    if (this.count < this.period) this.count++;
    return this.count === this.period ? this.sum / this.period : Number.NaN;
  }
}

export class Ema {
  readonly period: number;
  private readonly alpha: number;
  private value = Number.NaN;
  /** `alpha` overrides the usual 2/(period+1) smoothing (see MACD's Appel constants). */
  constructor(period: number, alpha = 2 / (period + 1)) {
    assertPeriod(period, 'EMA');
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EMA smoothing must be in (0, 1], got ${alpha}`);
    this.period = period;
    this.alpha = alpha;
  }
  update(input: number): number {
    this.value = Number.isNaN(this.value) ? input : this.value + this.alpha * (input - this.value);
    return this.value;
  }
}

/** Runs an incremental indicator over a whole series. */
export function runSeries(values: ArrayLike<number>, indicator: { update(value: number): number }): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = indicator.update(values[i]!);
  return out;
}

/**
 * Runs an indicator with several output lines (MACD, Bollinger) over a series; bars where it
 * is still warming up are NaN in every line.
 */
export function runLines<K extends string>(
  values: ArrayLike<number>,
  indicator: { update(value: number): number; readonly value: Readonly<Record<K, number>> },
  lines: readonly K[],
): Record<K, Float64Array> {
  const out = Object.fromEntries(lines.map((line) => [line, new Float64Array(values.length)])) as Record<K, Float64Array>;
  for (let i = 0; i < values.length; i++) {
    const ready = !Number.isNaN(indicator.update(values[i]!));
    for (const line of lines) out[line][i] = ready ? indicator.value[line] : Number.NaN;
  }
  return out;
}

export function sma(values: ArrayLike<number>, period: number): Float64Array {
  return runSeries(values, new Sma(period));
}

export function ema(values: ArrayLike<number>, period: number): Float64Array {
  return runSeries(values, new Ema(period));
}

export { assertPeriod };
