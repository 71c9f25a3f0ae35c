import type { Database } from '../db/index.ts';
import { bollinger, macd, rsi } from './indicators/index.ts';
import { CandleRangeCache } from './market-data/range-cache.ts';
import { countCachedCandles, loadCachedCandles, type CandleKey } from './market-data/store.ts';
import { timeframeToMs } from './market-data/timeframe.ts';

// Candles from the cache with the indicators a chart asks for (GET /api/v1/candles). Each
// indicator is computed over WARMUP_BARS cached bars before the range as well, so its first
// values in the range are the ones a strategy running since then would have seen; a value the
// indicator has not produced yet (too few bars) is null.

export const CHART_INDICATORS = ['rsi', 'macd', 'bollinger'] as const;
export type ChartIndicator = (typeof CHART_INDICATORS)[number];

/** Bars read before the range to seed the indicators (MACD 26/9 and RSI 14 settle well within it). */
export const WARMUP_BARS = 200;
/** The most candles one answer holds. */
export const MAX_CHART_CANDLES = 5_000;

export interface ChartCandles {
  readonly candles: { time: string; open: number; high: number; low: number; close: number; volume: number }[];
  readonly indicators: {
    rsi?: { period: number; values: (number | null)[] };
    macd?: { fast: number; slow: number; signal: number; values: ({ macd: number; signal: number; histogram: number } | null)[] };
    bollinger?: { period: number; stdDevs: number; values: ({ lower: number; middle: number; upper: number } | null)[] };
  };
}

const valueOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** Charts kept (weight: their bars with warm-up; ~40 answers of 500 bars and every indicator). */
const CHART_CACHE_BARS = 30_000;
const chartCache = new CandleRangeCache<{ readonly count: number; readonly chart: ChartCandles | undefined }>(CHART_CACHE_BARS);

/**
 * chartCandles, from memory while none of the range's bars (its warm-up included) was written
 * since (trading/market-data/range-cache.ts); with more than `maxCandles` bars in the range
 * (at most MAX_CHART_CANDLES), only their count. The answer is shared, so it is frozen, every
 * object in it: a caller cannot change it, and the tool layer can tell it never changes.
 */
export async function cachedChartCandles(
  db: Database,
  key: CandleKey,
  range: { fromMs: number; toMs: number },
  indicators: readonly ChartIndicator[],
  maxCandles: number = MAX_CHART_CANDLES,
): Promise<{ readonly count: number; readonly chart: ChartCandles | undefined }> {
  const wanted = CHART_INDICATORS.filter((name) => indicators.includes(name));
  const warmupMs = wanted.length > 0 ? WARMUP_BARS * timeframeToMs(key.timeframe) : 0;
  const kept = await chartCache.get(
    db,
    key,
    { fromMs: range.fromMs - warmupMs, toMs: range.toMs },
    async ({ countFrom, count }) =>
      countFrom > MAX_CHART_CANDLES
        ? { value: { count: countFrom, chart: undefined }, weight: 1 }
        : { value: { count: countFrom, chart: freezeChart(await chartCandles(db, key, range, wanted)) }, weight: Math.max(1, count) },
    { variant: wanted.join(','), countFromMs: range.fromMs },
  );
  return kept.count > Math.min(maxCandles, MAX_CHART_CANDLES) ? { count: kept.count, chart: undefined } : kept;
}

function freezeChart(chart: ChartCandles): ChartCandles {
  for (const candle of chart.candles) Object.freeze(candle);
  Object.freeze(chart.candles);
  for (const indicator of Object.values(chart.indicators)) {
    for (const value of indicator.values) if (value !== null && typeof value === 'object') Object.freeze(value);
    Object.freeze(indicator.values);
    Object.freeze(indicator);
  }
  Object.freeze(chart.indicators);
  return Object.freeze(chart);
}

/** How many cached candles the range holds (so a caller refuses a too-long range before loading it). */
export function countChartCandles(db: Database, key: CandleKey, fromMs: number, toMs: number): Promise<number> {
  return countCachedCandles(db, key, { fromMs, toMs });
}

export async function chartCandles(
  db: Database,
  key: CandleKey,
  range: { fromMs: number; toMs: number },
  indicators: readonly ChartIndicator[],
): Promise<ChartCandles> {
  const warmupMs = indicators.length > 0 ? WARMUP_BARS * timeframeToMs(key.timeframe) : 0;
  const series = await loadCachedCandles(db, key, { fromMs: range.fromMs - warmupMs, toMs: range.toMs });
  let first = 0;
  while (first < series.length && series.time[first]! < range.fromMs) first++;
  const candles = [];
  for (let i = first; i < series.length; i++)
    candles.push({
      time: new Date(series.time[i]!).toISOString(),
      open: series.open[i]!,
      high: series.high[i]!,
      low: series.low[i]!,
      close: series.close[i]!,
      volume: series.volume[i]!,
    });
  const out: { -readonly [K in keyof ChartCandles['indicators']]: ChartCandles['indicators'][K] } = {};
  const inRange = <T>(values: ArrayLike<T>) => Array.from(values).slice(first);
  if (indicators.includes('rsi')) out.rsi = { period: 14, values: inRange(rsi(series.close, 14)).map(valueOrNull) };
  if (indicators.includes('macd')) {
    const lines = macd(series.close, 12, 26, 9);
    out.macd = {
      fast: 12,
      slow: 26,
      signal: 9,
      values: inRange(lines.macd).map((m, i) => {
        const signal = lines.signal[first + i]!;
        return Number.isFinite(m) && Number.isFinite(signal) ? { macd: m, signal, histogram: lines.histogram[first + i]! } : null;
      }),
    };
  }
  if (indicators.includes('bollinger')) {
    const bands = bollinger(series.close, 20, 2);
    out.bollinger = {
      period: 20,
      stdDevs: 2,
      values: inRange(bands.middle).map((middle, i) =>
        Number.isFinite(middle) ? { lower: bands.lower[first + i]!, middle, upper: bands.upper[first + i]! } : null,
      ),
    };
  }
  return { candles, indicators: out };
}
