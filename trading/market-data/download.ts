import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../../db/index.ts';
import { ProductError } from '../../errors/index.ts';
import type { PaperMarkets } from '../exchange/paper-markets.ts';
import { ExchangeUnavailableError, type MarketDataSource } from '../exchange/types.ts';
import { withRetry, type RetryPolicy } from '../runner/retry.ts';
import type { CandleSeries } from './candles.ts';
import { loadCachedCandles, upsertCandles, type CandleKey } from './store.ts';
import { timeframeToMs } from './timeframe.ts';

/**
 * Filling the candle cache from an exchange: `botcriptofy data download`, and the on-demand
 * downloads of a backtest (`ensureCandles`). What is missing is worked out from the cache itself
 * every time (before the first cached bar, between cached bars, after the last), so a second run
 * fetches only what the first did not store, and an interrupted run loses nothing: each page is
 * written (one statement per 1,000 bars, a bar already cached replaced, never duplicated) before
 * the next is asked for.
 */

/** Open times of bars, inclusive at both ends, in ms since the epoch (UTC). */
export interface CandleRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/** The exchange could not be reached, even after retries: a runtime failure (exit 1), what was stored stays. */
export class MarketDataUnavailableError extends ProductError {
  readonly category = 'unavailable' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MarketDataUnavailableError';
  }
}

/** `timestamptz` as ms since the epoch, computed in SQL so no Date is made per row. */
const epochMs = (column: ReturnType<typeof sql.raw>) => sql`(extract(epoch from ${column}) * 1000)::float8`;

/** Number of bars whose open times fall in `range` on a grid of `barMs` starting at `range.fromMs`. */
export function barsIn(range: CandleRange, barMs: number): number {
  return range.toMs < range.fromMs ? 0 : Math.floor((range.toMs - range.fromMs) / barMs) + 1;
}

/**
 * The open time of the newest bar that has closed at `nowMs`. Exchanges open bars on multiples of
 * the bar length from the epoch for every timeframe up to a day (weeks open on Mondays, which the
 * epoch is not: a week's range then ends at most one bar early, which the next run fetches).
 */
export function lastClosedBarMs(nowMs: number, barMs: number): number {
  return Math.floor(nowMs / barMs) * barMs - barMs;
}

/**
 * The parts of [fromMs, toMs] the cache lacks, oldest first: the stretch before its first bar,
 * each hole between two cached bars more than one bar apart, and the stretch after its last bar.
 * One query: a window over the key's bars in the range (the primary key's order), keeping only
 * the first, the last and those after a hole.
 */
export async function missingRanges(db: Database, key: CandleKey, range: CandleRange): Promise<CandleRange[]> {
  const barMs = timeframeToMs(key.timeframe);
  if (range.toMs < range.fromMs) return [];
  const rows = await queryRows<{ previous: number | null; time: number; next: number | null }>(
    db,
    sql`with bars as (
          select open_time, lag(open_time) over w as previous, lead(open_time) over w as next
          from candles
          where exchange = ${key.exchange} and symbol = ${key.symbol} and timeframe = ${key.timeframe}
            and open_time >= ${new Date(range.fromMs).toISOString()}::timestamptz and open_time <= ${new Date(range.toMs).toISOString()}::timestamptz
          window w as (order by open_time)
        )
        select ${epochMs(sql.raw('previous'))} as previous, ${epochMs(sql.raw('open_time'))} as time, ${epochMs(sql.raw('next'))} as next
        from bars
        where previous is null or next is null or open_time - previous > ${`${barMs} milliseconds`}::interval
        order by open_time`,
  );
  if (rows.length === 0) return [range];
  const missing: CandleRange[] = [];
  const first = Number(rows[0]!.time);
  if (first - range.fromMs >= barMs) missing.push({ fromMs: range.fromMs, toMs: first - barMs });
  let last = first;
  for (const row of rows) {
    const time = Number(row.time);
    if (row.previous !== null && time - Number(row.previous) > barMs)
      missing.push({ fromMs: Number(row.previous) + barMs, toMs: time - barMs });
    if (row.next === null) last = time;
  }
  if (range.toMs - last >= barMs) missing.push({ fromMs: last + barMs, toMs: range.toMs });
  return missing;
}

export interface DownloadProgress {
  readonly key: CandleKey;
  /** Bars the missing ranges span (an upper bound: the exchange may have holes of its own). */
  readonly missingBars: number;
  /** Of those, the bars whose stretch has been asked for so far. */
  readonly coveredBars: number;
  /** Candles written to the cache so far. */
  readonly storedCandles: number;
  readonly requests: number;
}

export interface DownloadOptions {
  /** Bars asked for per request (Binance's most: 1,000). */
  readonly pageSize?: number;
  /** Transient failures (network, 5xx, rate limit) are retried so; the default waits 0.25, 0.5, 1 s. */
  readonly retry?: RetryPolicy;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Stops before the next request (the page in flight is still stored); the report says `interrupted`. */
  readonly signal?: AbortSignal;
}

export interface DownloadReport {
  readonly key: CandleKey;
  readonly range: CandleRange;
  /** The stretches that were missing before this run. */
  readonly missingRanges: CandleRange[];
  readonly missingBars: number;
  readonly requests: number;
  readonly storedCandles: number;
  /** Stopped by the signal before the missing ranges were all asked for. */
  readonly interrupted: boolean;
  /** What the cache holds in the range afterwards. */
  readonly cached: {
    readonly candles: number;
    readonly firstMs: number | null;
    readonly lastMs: number | null;
    readonly gaps: number;
    readonly missingBars: number;
  };
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 250 };

/**
 * Fetches what the cache lacks of `range`, a page at a time, oldest first (the client paces the
 * requests to the exchange's rate limit: ccxt's enableRateLimit). A stretch ends at an empty
 * page or one that passes its end; a page short of `pageSize` does not end it, as some exchanges
 * return fewer bars than asked for.
 */
export async function downloadCandles(
  db: Database,
  source: MarketDataSource,
  key: CandleKey,
  range: CandleRange,
  options: DownloadOptions = {},
): Promise<DownloadReport> {
  const barMs = timeframeToMs(key.timeframe);
  const pageSize = options.pageSize ?? 1000;
  const ranges = await missingRanges(db, key, range);
  const missingBars = ranges.reduce((sum, part) => sum + barsIn(part, barMs), 0);
  let coveredBefore = 0;
  let storedCandles = 0;
  let requests = 0;
  const report = (coveredBars: number) =>
    options.onProgress?.({ key, missingBars, coveredBars: Math.min(missingBars, coveredBars), storedCandles, requests });
  report(0);
  let interrupted = false;
  nextRange: for (const part of ranges) {
    let sinceMs = part.fromMs;
    while (sinceMs <= part.toMs) {
      if (options.signal?.aborted) {
        interrupted = true;
        break nextRange;
      }
      let page: number[][];
      try {
        page = await withRetry(() => source.fetchCandles(key.symbol, key.timeframe, sinceMs, pageSize), {
          ...(options.retry ?? DEFAULT_RETRY),
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (!(error instanceof ExchangeUnavailableError)) throw error;
        throw new MarketDataUnavailableError(
          `${key.exchange} did not answer for ${key.symbol} ${key.timeframe} from ${new Date(sinceMs).toISOString()} (${error.message}); ` +
            `${storedCandles} candles of this run are stored, the next run resumes from there`,
          { cause: error },
        );
      }
      requests++;
      const rows = page.filter((row) => row[0]! >= sinceMs && row[0]! <= part.toMs);
      if (rows.length > 0) storedCandles += await upsertCandles(db, key, rows);
      const newest = page.at(-1)?.[0];
      if (newest === undefined || newest >= part.toMs || newest < sinceMs) break;
      sinceMs = newest + barMs;
      report(coveredBefore + barsIn({ fromMs: part.fromMs, toMs: sinceMs - barMs }, barMs));
    }
    coveredBefore += barsIn(part, barMs);
    report(coveredBefore);
  }
  return {
    key,
    range,
    missingRanges: ranges,
    missingBars,
    requests,
    storedCandles,
    interrupted,
    cached: await cachedSummary(db, key, range),
  };
}

/** Count, first and last bar, holes and the bars in them, of one key within `range`. */
async function cachedSummary(db: Database, key: CandleKey, range: CandleRange): Promise<DownloadReport['cached']> {
  const [row] = await listCachedCandles(db, { ...key, range });
  return row
    ? { candles: row.candles, firstMs: row.firstMs, lastMs: row.lastMs, gaps: row.gaps, missingBars: row.missingBars }
    : { candles: 0, firstMs: null, lastMs: null, gaps: 0, missingBars: 0 };
}

export interface CachedCandleSet extends CandleKey {
  readonly firstMs: number;
  readonly lastMs: number;
  readonly candles: number;
  /** Holes between consecutive cached bars, and the bars they miss. */
  readonly gaps: number;
  readonly missingBars: number;
}

/**
 * What the cache holds per exchange, symbol and timeframe (`data list`), optionally for one key
 * and range. The bar length is read from the timeframe's text in SQL ('5m' → 300,000 ms), so the
 * holes are counted in the same pass as the rest.
 */
export async function listCachedCandles(
  db: Database,
  filter: Partial<CandleKey> & { range?: CandleRange } = {},
): Promise<CachedCandleSet[]> {
  const conditions = [
    filter.exchange === undefined ? sql`true` : sql`exchange = ${filter.exchange}`,
    filter.symbol === undefined ? sql`true` : sql`symbol = ${filter.symbol}`,
    filter.timeframe === undefined ? sql`true` : sql`timeframe = ${filter.timeframe}`,
    filter.range === undefined
      ? sql`true`
      : sql`open_time >= ${new Date(filter.range.fromMs).toISOString()}::timestamptz and open_time <= ${new Date(filter.range.toMs).toISOString()}::timestamptz`,
  ];
  const rows = await queryRows<{
    exchange: string;
    symbol: string;
    timeframe: string;
    first_ms: number;
    last_ms: number;
    candles: string | number;
    gaps: string | number;
    missing_bars: string | number | null;
  }>(
    db,
    sql`with bars as (
          select exchange, symbol, timeframe, open_time,
                 extract(epoch from open_time - lag(open_time) over (partition by exchange, symbol, timeframe order by open_time)) * 1000 as step_ms,
                 substring(timeframe from '^[0-9]+')::bigint * case right(timeframe, 1) when 'm' then 60000 when 'h' then 3600000 when 'd' then 86400000 when 'w' then 604800000 end as bar_ms
          from candles
          where ${sql.join(conditions, sql` and `)}
        )
        select exchange, symbol, timeframe, ${epochMs(sql.raw('min(open_time)'))} as first_ms, ${epochMs(sql.raw('max(open_time)'))} as last_ms, count(*) as candles,
               count(*) filter (where step_ms > bar_ms) as gaps,
               coalesce(sum(round(step_ms / bar_ms) - 1) filter (where step_ms > bar_ms), 0) as missing_bars
        from bars
        group by exchange, symbol, timeframe
        order by exchange, symbol, min(bar_ms), timeframe`,
  );
  return rows.map((row) => ({
    exchange: row.exchange,
    symbol: row.symbol,
    timeframe: row.timeframe,
    firstMs: Number(row.first_ms),
    lastMs: Number(row.last_ms),
    candles: Number(row.candles),
    gaps: Number(row.gaps),
    missingBars: Number(row.missing_bars ?? 0),
  }));
}

export interface EnsureCandlesRequest extends CandleKey {
  readonly from: Date;
  readonly to: Date;
  /** The most bars the range may span: a longer one keeps its newest `maxCandles` bars. */
  readonly maxCandles: number;
  /** Where missing bars come from; without one, only the cache is read. */
  readonly source?: MarketDataSource | undefined;
  /** Now, for which bars have closed (the tools' clock). */
  readonly now: Date;
  readonly download?: DownloadOptions;
}

export interface EnsuredCandles {
  readonly series: CandleSeries;
  readonly range: CandleRange;
  /** True when the range asked for spanned more than `maxCandles` bars and was shortened. */
  readonly clipped: boolean;
  /** Null when nothing was downloaded (no source, or nothing missing). */
  readonly download: DownloadReport | null;
}

/**
 * The candles of a backtest on demand (the agents' `run_backtest`, hence Telegram's /backtest):
 * the range is clipped to the bars that have closed and to `maxCandles`, what the cache lacks of
 * it is downloaded when a source is given, and the cached bars of the range are returned.
 */
export async function ensureCandles(db: Database, request: EnsureCandlesRequest): Promise<EnsuredCandles> {
  const ensured = await downloadMissingCandles(db, request);
  const key: CandleKey = { exchange: request.exchange, symbol: request.symbol, timeframe: request.timeframe };
  const series = await loadCachedCandles(db, key, ensured.range);
  return { series, ...ensured };
}

/**
 * ensureCandles without reading the bars back: the range clipped the same way and what the cache
 * lacks of it downloaded when a source is given (a backtest queued to run later needs its
 * candles cached, not loaded now).
 */
export async function downloadMissingCandles(db: Database, request: EnsureCandlesRequest): Promise<Omit<EnsuredCandles, 'series'>> {
  const key: CandleKey = { exchange: request.exchange, symbol: request.symbol, timeframe: request.timeframe };
  const barMs = timeframeToMs(key.timeframe);
  if (!Number.isSafeInteger(request.maxCandles) || request.maxCandles < 1)
    throw new RangeError(`maxCandles must be a whole number from 1, got ${request.maxCandles}`);
  const toMs = Math.min(request.to.getTime(), lastClosedBarMs(request.now.getTime(), barMs));
  const earliestMs = toMs - (request.maxCandles - 1) * barMs;
  const clipped = request.from.getTime() < earliestMs;
  const range = { fromMs: Math.max(request.from.getTime(), earliestMs), toMs };
  // A source that already knows it will answer nothing: no gaps looked for (a scan of the range).
  const unavailable = request.source ? await request.source.unavailableReason?.() : null;
  if (unavailable) throw new MarketDataUnavailableError(unavailable);
  const download = request.source ? await downloadCandles(db, request.source, key, range, request.download) : null;
  return { range, clipped, download: download && download.missingRanges.length > 0 ? download : null };
}

/**
 * The exchange as a source of downloads for the doors (the CLI's `ask`, Telegram), decided on
 * the first request rather than at start, so a turn that runs no backtest never probes the
 * exchange. It is the exchange only when the process's paper markets read the exchange: the
 * replayed market (no route to Binance) has candles shifted in time, which must not enter the
 * cache as the exchange's. Otherwise each request fails at once as unavailable (no retries to
 * wait out) and `run_backtest` runs on what is cached.
 */
export function exchangeWhenReachable(markets: () => Promise<Pick<PaperMarkets, 'decide' | 'marketFor'>>): MarketDataSource {
  const exchange = async (timeframe: string): Promise<MarketDataSource> => {
    const paper = await markets();
    const decided = await paper.decide();
    if (decided.source !== 'exchange') throw new MarketDataUnavailableError(`candles are not downloaded: ${decided.reason}`);
    return paper.marketFor(timeframe);
  };
  return {
    fetchCandles: async (symbol, timeframe, sinceMs, limit) => (await exchange(timeframe)).fetchCandles(symbol, timeframe, sinceMs, limit),
    lastPrice: async (symbol) => (await exchange('1h')).lastPrice(symbol),
    marketRules: async (symbol) => (await exchange('1h')).marketRules(symbol),
    unavailableReason: async () => {
      const decided = await (await markets()).decide();
      return decided.source === 'exchange' ? null : `candles are not downloaded: ${decided.reason}`;
    },
  };
}
