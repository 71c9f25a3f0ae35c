import { sql } from 'drizzle-orm';
import { queryRows, type Database } from '../../db/index.ts';
import type { CandleSeries } from './candles.ts';
import { loadCachedCandles, type CandleKey } from './store.ts';

// Ranges of the candle cache that are read again and again — a chart's 500 bars with their
// indicators (GET /api/v1/candles), a backtest's months of bars (POST /api/v1/backtests) — kept
// in memory, per database handle, and used only while the database says the range is unchanged.
//
// Two checks, the cheap one first. The series' version (candle_series_versions: one row, a new
// random value at every write to the series, written by upsertCandles in the same statement as
// the bars): unchanged means no bar of the series was written since, in this process or any
// other sharing the database. When it changed (a new bar at the end, another range of the same
// series), the range's own stamp decides: one aggregate over the range — its bar count, and the
// largest and the sum of its rows' xmin (the transaction that wrote each row's current version).
// A write to the range changes the count or gives a row a new xmin, the newest transaction id
// so far, so the stamp changes and the range is read again; a write elsewhere in the series
// keeps the range. Both are read before the rows: a write between leaves an older check beside
// newer rows, so the next read misses (never the reverse). The version is one primary-key read;
// the stamp costs about a tenth of reading the bars (65,741 5m bars on the embedded database:
// ~30 ms against ~280 ms of CPU).

/** What a range of the cache holds now: its bars, and a stamp that changes with any write to it. */
export interface CandleRangeStamp {
  /** Bars in [fromMs, toMs]. */
  readonly count: number;
  /** Bars in [countFromMs, toMs] (countFromMs defaults to fromMs). */
  readonly countFrom: number;
  readonly stamp: string;
}

/** The range's bar count and stamp (see the file's comment). `countFromMs`: also count from there (a chart's range after its warm-up bars). */
export async function stampCandleRange(
  db: Database,
  key: CandleKey,
  range: { readonly fromMs: number; readonly toMs: number },
  countFromMs: number = range.fromMs,
): Promise<CandleRangeStamp> {
  const [row] = await queryRows<{ n: number; k: number; top: string | null; total: string | null }>(
    db,
    sql`select count(*)::int as n,
               (count(*) filter (where open_time >= ${new Date(countFromMs).toISOString()}::timestamptz))::int as k,
               max(xmin::text::bigint)::text as top, sum(xmin::text::bigint)::text as total
        from candles
        where exchange = ${key.exchange} and symbol = ${key.symbol} and timeframe = ${key.timeframe}
          and open_time >= ${new Date(range.fromMs).toISOString()}::timestamptz and open_time <= ${new Date(range.toMs).toISOString()}::timestamptz`,
  );
  const count = row?.n ?? 0;
  return { count, countFrom: row?.k ?? 0, stamp: `${count}:${row?.top ?? ''}:${row?.total ?? ''}` };
}

/** The series' version (see the file's comment); '' for a series never written. */
export async function candleSeriesVersion(db: Database, key: CandleKey): Promise<string> {
  const [row] = await queryRows<{ version: string }>(
    db,
    sql`select version::text as version from candle_series_versions
        where exchange = ${key.exchange} and symbol = ${key.symbol} and timeframe = ${key.timeframe}`,
  );
  return row?.version ?? '';
}

interface Entry<T> {
  version: string;
  readonly stamp: string;
  readonly value: T;
  readonly weight: number;
}

/**
 * A least-recently-used map of values read from the candle cache, each kept with the series'
 * version and the range's stamp it was read at, bounded by a total weight (bars). One per kind
 * of value; entries are per database handle.
 */
export class CandleRangeCache<T> {
  readonly #maxWeight: number;
  readonly #byDatabase = new WeakMap<Database, { entries: Map<string, Entry<T>>; weight: number }>();

  constructor(maxWeight: number) {
    this.#maxWeight = maxWeight;
  }

  /**
   * The value kept for the range (and `variant`: what else the value depends on) if its series
   * is at the same version, or the range at the same stamp; else `read(stamp)`'s (kept when it is
   * not heavier than the whole cache). `countFromMs`: the stamp also counts the bars from there.
   */
  async get(
    db: Database,
    series: CandleKey,
    range: { readonly fromMs: number; readonly toMs: number },
    read: (stamped: CandleRangeStamp) => Promise<{ value: T; weight: number }>,
    options: { readonly variant?: string; readonly countFromMs?: number } = {},
  ): Promise<T> {
    // Read before the stamp and both before the rows (see the file's comment).
    const version = await candleSeriesVersion(db, series);
    const key = `${series.exchange}|${series.symbol}|${series.timeframe}|${range.fromMs}|${range.toMs}|${options.variant ?? ''}`;
    let cache = this.#byDatabase.get(db);
    if (!cache) {
      cache = { entries: new Map(), weight: 0 };
      this.#byDatabase.set(db, cache);
    }
    const entries = cache.entries;
    const touch = (entry: Entry<T>) => {
      entries.delete(key);
      entries.set(key, entry); // most recently used last
      return entry.value;
    };
    const kept = entries.get(key);
    if (kept && kept.version === version) return touch(kept);
    const stamped = await stampCandleRange(db, series, range, options.countFromMs);
    const keptNow = entries.get(key); // the same, or another reader's meanwhile
    if (keptNow && keptNow.stamp === stamped.stamp) {
      keptNow.version = version;
      return touch(keptNow);
    }
    if (keptNow) {
      entries.delete(key);
      cache.weight -= keptNow.weight;
    }
    const { value, weight } = await read(stamped);
    if (weight <= this.#maxWeight) {
      const previous = entries.get(key);
      if (previous) cache.weight -= previous.weight;
      entries.delete(key);
      entries.set(key, { version, stamp: stamped.stamp, value, weight });
      cache.weight += weight;
      for (const [oldest, entry] of entries) {
        if (cache.weight <= this.#maxWeight) break;
        entries.delete(oldest);
        cache.weight -= entry.weight;
      }
    }
    return value;
  }
}

/** Bars of backtest ranges kept (6 float64 columns: ~29 MB). */
const SERIES_CACHE_BARS = 600_000;
const seriesCache = new CandleRangeCache<CandleSeries>(SERIES_CACHE_BARS);

/**
 * Cached candles in [fromMs, toMs] as loadCachedCandles reads them, from memory when the range
 * is unchanged since it was last read. The columns are shared: a caller must not write to them.
 */
export async function loadCandleRange(
  db: Database,
  key: CandleKey,
  range: { readonly fromMs: number; readonly toMs: number },
): Promise<CandleSeries> {
  return seriesCache.get(db, key, range, async () => {
    const series = await loadCachedCandles(db, key, range);
    return { value: series, weight: series.length };
  });
}
