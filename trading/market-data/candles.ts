/**
 * Candles in columns: one typed array per field instead of an object per candle, so a
 * year of 1-minute bars is six flat arrays that backtests scan at memory speed.
 * Prices are in the symbol's quote currency, volume in its base asset.
 */
export interface CandleSeries {
  readonly length: number;
  /** Bar open time, milliseconds since the Unix epoch (UTC). */
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

export function allocateCandles(length: number): CandleSeries {
  return {
    length,
    time: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

/** A view of bars [start, end) sharing memory with the original. */
export function sliceCandles(series: CandleSeries, start: number, end = series.length): CandleSeries {
  const from = Math.max(0, Math.min(start, series.length));
  const to = Math.max(from, Math.min(end, series.length));
  return {
    length: to - from,
    time: series.time.subarray(from, to),
    open: series.open.subarray(from, to),
    high: series.high.subarray(from, to),
    low: series.low.subarray(from, to),
    close: series.close.subarray(from, to),
    volume: series.volume.subarray(from, to),
  };
}

/** Builds a series from rows `[time, open, high, low, close, volume]` (tests, exchange pages). */
export function candlesFromRows(rows: readonly (readonly number[])[]): CandleSeries {
  const series = allocateCandles(rows.length);
  rows.forEach((row, i) => {
    series.time[i] = row[0]!;
    series.open[i] = row[1]!;
    series.high[i] = row[2]!;
    series.low[i] = row[3]!;
    series.close[i] = row[4]!;
    series.volume[i] = row[5]!;
  });
  return series;
}
