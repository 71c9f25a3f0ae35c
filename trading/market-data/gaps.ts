import type { CandleSeries } from './candles.ts';

export interface CandleGap {
  /** Open time of the last bar before the gap (ms). */
  readonly after: number;
  /** Open time of the first bar after the gap (ms). */
  readonly before: number;
  readonly missingBars: number;
}

/** Missing bars: consecutive open times further apart than one timeframe. */
export function detectGaps(series: CandleSeries, timeframeMs: number): CandleGap[] {
  const gaps: CandleGap[] = [];
  for (let i = 1; i < series.length; i++) {
    const delta = series.time[i]! - series.time[i - 1]!;
    if (delta > timeframeMs) {
      gaps.push({ after: series.time[i - 1]!, before: series.time[i]!, missingBars: Math.round(delta / timeframeMs) - 1 });
    }
  }
  return gaps;
}

/** The most common spacing between bars: the series' timeframe when it is not given. */
export function inferTimeframeMs(series: CandleSeries): number | undefined {
  const counts = new Map<number, number>();
  const sample = Math.min(series.length, 2000);
  for (let i = 1; i < sample; i++) {
    const delta = series.time[i]! - series.time[i - 1]!;
    counts.set(delta, (counts.get(delta) ?? 0) + 1);
  }
  let best: number | undefined;
  let bestCount = 0;
  for (const [delta, count] of counts) {
    if (count > bestCount) {
      best = delta;
      bestCount = count;
    }
  }
  return best;
}
