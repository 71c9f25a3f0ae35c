import { and, asc, desc, eq, gt, gte, lte, sql } from 'drizzle-orm';
import { candles, queryRows, type Database } from '../../db/index.ts';
import type { MarketDataSource } from '../exchange/types.ts';
import { allocateCandles, type CandleSeries } from './candles.ts';
import { detectGaps, type CandleGap } from './gaps.ts';
import { timeframeToMs } from './timeframe.ts';

export interface CandleKey {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
}

/**
 * Writes candles; a bar already cached is replaced by the newer copy, never duplicated. The
 * only writer of the candle cache: each write also gives the series a new version
 * (candle_series_versions), which is how readers that keep bars in memory learn of it. Each
 * statement takes 5,000 bars as six array parameters (one text each, unnested in SQL) rather
 * than a row of nine parameters per bar: building and binding those was most of the time of an
 * import (41,761 bars: 9.8 s before, see `data import`). Prices go as the shortest decimal text
 * of each double, which `numeric` stores exactly and `Number()` reads back to the same double;
 * open times as integer ms added to the epoch, so no float rounding touches them.
 */
export async function upsertCandles(db: Database, key: CandleKey, rows: readonly (readonly number[])[]): Promise<number> {
  for (let start = 0; start < rows.length; start += 5000) {
    const chunk = rows.slice(start, start + 5000);
    const column = (k: number) => `{${chunk.map((row) => String(row[k]!)).join(',')}}`;
    // The series' version changes in the same statement (so in the same transaction) as its bars.
    await db.execute(sql`
      with written as (
        insert into candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume_base)
        select ${key.exchange}, ${key.symbol}, ${key.timeframe}, timestamptz 'epoch' + t * interval '1 millisecond', o, h, l, c, v
        from unnest(${column(0)}::bigint[], ${column(1)}::numeric[], ${column(2)}::numeric[], ${column(3)}::numeric[], ${column(4)}::numeric[], ${column(5)}::numeric[]) as bar(t, o, h, l, c, v)
        on conflict (exchange, symbol, timeframe, open_time) do update
          set open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, volume_base = excluded.volume_base
      )
      insert into candle_series_versions (exchange, symbol, timeframe, version)
      values (${key.exchange}, ${key.symbol}, ${key.timeframe}, gen_random_uuid())
      on conflict (exchange, symbol, timeframe) do update set version = excluded.version`);
  }
  return rows.length;
}

/** How many candles the cache holds in [fromMs, toMs] (without loading them). */
export async function countCachedCandles(db: Database, key: CandleKey, range: { fromMs: number; toMs: number }): Promise<number> {
  return db.$count(
    candles,
    and(
      eq(candles.exchange, key.exchange),
      eq(candles.symbol, key.symbol),
      eq(candles.timeframe, key.timeframe),
      gte(candles.openTime, new Date(range.fromMs)),
      lte(candles.openTime, new Date(range.toMs)),
    ),
  );
}

/**
 * Cached candles in [fromMs, toMs], as columns. The database sends them as one text of bars
 * (`time,open,high,low,close,volume;…`, the prices as the numeric's own decimal text) rather
 * than a row per bar, and `Number()` reads each value as it read a row's: decoding 65,741 rows
 * of six values took 0.6–0.8 s on the embedded database, most of a backtest asked over the API
 * (bench/http-api.ts), the text ~0.1 s. (Packing doubles with `numeric::float8` was no faster:
 * that conversion alone costs ~0.15 s a column there.)
 */
export async function loadCachedCandles(
  db: Database,
  key: CandleKey,
  range: { fromMs?: number; toMs?: number } = {},
): Promise<CandleSeries> {
  const from = range.fromMs === undefined ? sql`` : sql`and open_time >= ${new Date(range.fromMs).toISOString()}::timestamptz`;
  const to = range.toMs === undefined ? sql`` : sql`and open_time <= ${new Date(range.toMs).toISOString()}::timestamptz`;
  const [row] = await queryRows<{ n: number; bars: string | null }>(
    db,
    sql`select count(*)::int as n,
               string_agg(concat_ws(',', floor(extract(epoch from open_time) * 1000)::int8, open, high, low, close, volume_base), ';' order by open_time) as bars
        from candles
        where exchange = ${key.exchange} and symbol = ${key.symbol} and timeframe = ${key.timeframe} ${from} ${to}`,
  );
  const n = row?.n ?? 0;
  const series = allocateCandles(n);
  if (n === 0 || !row?.bars) return series;
  const values = row.bars.split(/[;,]/);
  if (values.length !== n * 6) throw new Error(`cached candles of ${key.symbol} ${key.timeframe}: ${values.length} values for ${n} bars`);
  for (let i = 0, at = 0; i < n; i++, at += 6) {
    series.time[i] = Number(values[at]);
    series.open[i] = Number(values[at + 1]);
    series.high[i] = Number(values[at + 2]);
    series.low[i] = Number(values[at + 3]);
    series.close[i] = Number(values[at + 4]);
    series.volume[i] = Number(values[at + 5]);
  }
  return series;
}

/** One cached bar as exact decimal text (what the web events stream sends for a watched pair). */
export interface CachedCandleRow {
  readonly openTimeMs: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volumeBase: string;
}

/**
 * Cached bars opened after `afterMs`, oldest first, at most `limit`; without `afterMs`, only the
 * newest bar (where a watcher starts).
 */
export async function cachedCandlesAfter(
  db: Database,
  key: CandleKey,
  afterMs: number | undefined,
  limit = 100,
): Promise<CachedCandleRow[]> {
  const rows = await db
    .select()
    .from(candles)
    .where(
      and(
        eq(candles.exchange, key.exchange),
        eq(candles.symbol, key.symbol),
        eq(candles.timeframe, key.timeframe),
        afterMs === undefined ? undefined : gt(candles.openTime, new Date(afterMs)),
      ),
    )
    .orderBy(afterMs === undefined ? desc(candles.openTime) : asc(candles.openTime))
    .limit(afterMs === undefined ? 1 : limit);
  return rows.map((row) => ({
    openTimeMs: row.openTime.getTime(),
    open: row.open,
    high: row.high,
    low: row.low,
    close: row.close,
    volumeBase: row.volumeBase,
  }));
}

export interface SyncReport {
  readonly fetched: number;
  readonly pages: number;
  /** Missing bars inside the cached range after the sync. */
  readonly gaps: CandleGap[];
}

/**
 * Brings the cache up to date from the exchange, a page at a time (the exchange client
 * paces requests to its rate limit), resuming after the newest cached bar.
 */
export async function syncCandles(
  db: Database,
  source: MarketDataSource,
  key: CandleKey,
  options: { sinceMs: number; untilMs?: number; pageSize?: number },
): Promise<SyncReport> {
  const barMs = timeframeToMs(key.timeframe);
  const pageSize = options.pageSize ?? 1000;
  const [newest] = await db
    .select({ openTime: candles.openTime })
    .from(candles)
    .where(and(eq(candles.exchange, key.exchange), eq(candles.symbol, key.symbol), eq(candles.timeframe, key.timeframe)))
    .orderBy(desc(candles.openTime))
    .limit(1);
  let since = Math.max(options.sinceMs, newest ? newest.openTime.getTime() + barMs : options.sinceMs);
  let fetched = 0;
  let pages = 0;
  for (;;) {
    if (options.untilMs !== undefined && since > options.untilMs) break;
    const page = (await source.fetchCandles(key.symbol, key.timeframe, since, pageSize)).filter(
      (row) => options.untilMs === undefined || row[0]! <= options.untilMs,
    );
    pages++;
    if (page.length === 0) break;
    await upsertCandles(db, key, page);
    fetched += page.length;
    since = page.at(-1)![0]! + barMs;
    if (page.length < pageSize) break;
  }
  const cached = await loadCachedCandles(db, key, {
    fromMs: options.sinceMs,
    ...(options.untilMs === undefined ? {} : { toMs: options.untilMs }),
  });
  return { fetched, pages, gaps: detectGaps(cached, barMs) };
}
