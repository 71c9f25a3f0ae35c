import { fileURLToPath } from 'node:url';
import { allocateCandles, type CandleSeries } from './candles.ts';
import { loadCandleFile } from './load.ts';
import { timeframeToMs } from './timeframe.ts';

/**
 * The candles that ship with the repository (`candles/`, sources and licence in its
 * SOURCES.md): real Binance BTC/USDT spot bars of 2024 — 1m and 5m for December, 15m and 1h
 * for the whole year. They feed the demo's replayed market when no exchange can be reached,
 * and the tests.
 *
 * Other symbols have no freely licensed history to ship, so they are *generated* from BTC's:
 * each bar's log return is `beta` × BTC's plus seeded noise (`noise` × BTC's own per-bar
 * volatility), wicks copied from BTC's bar in proportion, volume at BTC's notional, and the
 * level set so the last bar closes at `lastClose`. Plausible moves for a demo, not that
 * coin's real prices — every caller that shows them says "replayed".
 */
export const BUNDLED_CANDLES_DIR = fileURLToPath(new URL('../../candles/', import.meta.url));

const FILES: Readonly<Record<string, string>> = {
  '1m': 'binance_BTCUSDT_1m.csv',
  '5m': 'binance_BTCUSDT_5m.csv',
  '15m': 'binance_BTCUSDT_15m.csv',
  '1h': 'binance_BTCUSDT_1h.csv',
};

interface GeneratedSymbol {
  readonly lastClose: number;
  readonly beta: number;
  readonly noise: number;
  readonly seed: number;
}

const GENERATED: Readonly<Record<string, GeneratedSymbol>> = {
  'ETH/USDT': { lastClose: 3_350, beta: 1.15, noise: 0.7, seed: 0xe7 },
  'SOL/USDT': { lastClose: 190, beta: 1.4, noise: 1.0, seed: 0x501 },
  'POL/USDT': { lastClose: 0.5, beta: 1.3, noise: 1.2, seed: 0x9017 },
};

/** Symbols the bundled data can replay (BTC/USDT real, the others generated from it). */
export const BUNDLED_SYMBOLS: readonly string[] = ['BTC/USDT', ...Object.keys(GENERATED)];

const cache = new Map<string, CandleSeries>();

/**
 * The bundled series of `symbol` at `timeframe`, or undefined when the symbol has none.
 * Timeframes without their own file are resampled from the finest file that divides them
 * (30m from 15m, 4h and 1d from 1h); one that none divides (e.g. 3m) throws.
 */
export function bundledCandles(symbol: string, timeframe: string): CandleSeries | undefined {
  const key = `${symbol}|${timeframe}`;
  const cached = cache.get(key);
  if (cached) return cached;
  let series: CandleSeries;
  if (symbol === 'BTC/USDT') series = btcCandles(timeframe);
  else {
    const spec = GENERATED[symbol];
    if (!spec) return undefined;
    series = generateFrom(btcCandles(timeframe), spec);
  }
  cache.set(key, series);
  return series;
}

function btcCandles(timeframe: string): CandleSeries {
  const file = FILES[timeframe];
  if (file) return loadCandleFile(BUNDLED_CANDLES_DIR + file);
  const wantedMs = timeframeToMs(timeframe);
  const base = Object.keys(FILES)
    .filter((tf) => wantedMs % timeframeToMs(tf) === 0)
    .sort((a, b) => timeframeToMs(b) - timeframeToMs(a))[0];
  if (!base) throw new Error(`no bundled candles divide ${timeframe}`);
  return resampleCandles(loadCandleFile(BUNDLED_CANDLES_DIR + FILES[base]!), wantedMs);
}

/** Complete buckets of `bucketMs` built from finer bars (incomplete buckets are left out). */
export function resampleCandles(series: CandleSeries, bucketMs: number): CandleSeries {
  if (series.length < 2) return series;
  const barMs = series.time[1]! - series.time[0]!;
  const perBucket = Math.round(bucketMs / barMs);
  const out = allocateCandles(Math.floor(series.length / perBucket) + 1);
  let n = 0;
  for (let i = 0; i < series.length; ) {
    const start = series.time[i]! - (series.time[i]! % bucketMs);
    const first = i;
    let high = -Infinity;
    let low = Infinity;
    let volume = 0;
    while (i < series.length && series.time[i]! < start + bucketMs) {
      high = Math.max(high, series.high[i]!);
      low = Math.min(low, series.low[i]!);
      volume += series.volume[i]!;
      i++;
    }
    if (i - first !== perBucket || series.time[first] !== start) continue;
    out.time[n] = start;
    out.open[n] = series.open[first]!;
    out.high[n] = high;
    out.low[n] = low;
    out.close[n] = series.close[i - 1]!;
    out.volume[n] = volume;
    n++;
  }
  return {
    length: n,
    time: out.time.subarray(0, n),
    open: out.open.subarray(0, n),
    high: out.high.subarray(0, n),
    low: out.low.subarray(0, n),
    close: out.close.subarray(0, n),
    volume: out.volume.subarray(0, n),
  };
}

/**
 * The stretch of recorded time the demo's replayed market plays, the same for every timeframe:
 * the four weeks from 2024-12-01 00:00 UTC that the 1m file covers whole. Every timeframe's
 * replay is resampled from those 1m bars (replayWindowCandles), so a 5m and a 1h chart of the
 * replay show one market; the files' other months (15m and 1h reach back to January) are for
 * backtests and tests, not the replay. 28 days from a midnight is a whole number of every
 * timeframe from 1m to 1d, so each replayed bar is one whole recorded bar (1w bars, which start
 * on the epoch's Thursdays, do not line up with it and are refused).
 */
export const REPLAY_WINDOW = { startMs: Date.UTC(2024, 11, 1), lengthMs: 28 * 86_400_000 } as const;

const replayCache = new Map<string, CandleSeries>();

/**
 * The replay window's bars of `symbol` at `timeframe` (bar k opens at REPLAY_WINDOW.startMs +
 * k × timeframe): BTC/USDT's real 1m bars resampled, the other symbols generated from them at
 * 1m first (one path, so their timeframes agree too) and then resampled. Undefined for a symbol
 * without bundled data; a timeframe that does not divide the window throws.
 */
export function replayWindowCandles(symbol: string, timeframe: string): CandleSeries | undefined {
  const key = `${symbol}|${timeframe}`;
  const cached = replayCache.get(key);
  if (cached) return cached;
  const barMs = timeframeToMs(timeframe);
  if (REPLAY_WINDOW.lengthMs % barMs !== 0 || REPLAY_WINDOW.startMs % barMs !== 0 || barMs % 60_000 !== 0)
    throw new Error(
      `the replay cannot play ${timeframe} bars: they do not fit its ${REPLAY_WINDOW.lengthMs / 86_400_000} days from a midnight evenly`,
    );
  let series: CandleSeries;
  if (timeframe === '1m') {
    const spec = symbol === 'BTC/USDT' ? undefined : GENERATED[symbol];
    if (symbol !== 'BTC/USDT' && !spec) return undefined;
    const btc = windowOf(btcCandles('1m'));
    series = spec ? generateFrom(btc, spec) : btc;
  } else {
    const minutes = replayWindowCandles(symbol, '1m');
    if (!minutes) return undefined;
    series = resampleCandles(minutes, barMs);
  }
  if (series.length !== REPLAY_WINDOW.lengthMs / barMs || series.time[0] !== REPLAY_WINDOW.startMs)
    throw new Error(`the bundled 1m candles do not cover the replay window whole (${timeframe}: ${series.length} bars)`);
  replayCache.set(key, series);
  return series;
}

/** The 1m bars inside the replay window. */
function windowOf(minutes: CandleSeries): CandleSeries {
  const first = minutes.time.indexOf(REPLAY_WINDOW.startMs);
  const count = REPLAY_WINDOW.lengthMs / 60_000;
  if (
    first < 0 ||
    first + count > minutes.length ||
    minutes.time[first + count - 1] !== REPLAY_WINDOW.startMs + REPLAY_WINDOW.lengthMs - 60_000
  )
    throw new Error('the bundled 1m candles do not cover the replay window whole');
  const slice = (column: Float64Array) => column.subarray(first, first + count);
  return {
    length: count,
    time: slice(minutes.time),
    open: slice(minutes.open),
    high: slice(minutes.high),
    low: slice(minutes.low),
    close: slice(minutes.close),
    volume: slice(minutes.volume),
  };
}

function generateFrom(btc: CandleSeries, spec: GeneratedSymbol): CandleSeries {
  const n = btc.length;
  const returns = new Float64Array(n);
  let sumSquares = 0;
  for (let i = 1; i < n; i++) {
    returns[i] = Math.log(btc.close[i]! / btc.close[i - 1]!);
    sumSquares += returns[i]! * returns[i]!;
  }
  const barVolatility = Math.sqrt(sumSquares / Math.max(1, n - 1));
  const random = mulberry32(spec.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  // Cumulative log price relative to the first bar, then shifted so the last close is lastClose.
  const logClose = new Float64Array(n);
  for (let i = 1; i < n; i++) logClose[i] = logClose[i - 1]! + spec.beta * returns[i]! + spec.noise * barVolatility * normal();
  const shift = Math.log(spec.lastClose) - logClose[n - 1]!;
  const out = allocateCandles(n);
  for (let i = 0; i < n; i++) {
    const close = Math.exp(logClose[i]! + shift);
    const open = i === 0 ? close : out.close[i - 1]!;
    const btcTop = Math.max(btc.open[i]!, btc.close[i]!);
    const btcBottom = Math.min(btc.open[i]!, btc.close[i]!);
    out.time[i] = btc.time[i]!;
    out.open[i] = open;
    out.close[i] = close;
    out.high[i] = Math.max(open, close) * (btc.high[i]! / btcTop);
    out.low[i] = Math.min(open, close) * (btc.low[i]! / btcBottom);
    out.volume[i] = (btc.volume[i]! * btc.close[i]!) / close;
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
