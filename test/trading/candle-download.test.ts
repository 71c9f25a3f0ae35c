import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../db/index.ts';
import { ExchangeUnavailableError, type MarketDataSource } from '../../trading/exchange/types.ts';
import {
  downloadCandles,
  ensureCandles,
  listCachedCandles,
  MarketDataUnavailableError,
  missingRanges,
} from '../../trading/market-data/download.ts';
import { loadCachedCandles, upsertCandles } from '../../trading/market-data/store.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

const MIN5 = 300_000;
const START = Date.UTC(2026, 0, 1);
const bar = (i: number) => [START + i * MIN5, 100 + i, 101 + i, 99 + i, 100.5 + i, 1 + i / 8];

/**
 * An exchange in memory: `bars` served a page at a time like fetchOHLCV (bars from `sinceMs`
 * on), every request recorded, and a switch that makes requests fail after some pages.
 */
function scriptedExchange(bars: number[][]) {
  const requests: number[] = [];
  let pagesBeforeOutage = Infinity;
  const source: MarketDataSource = {
    async fetchCandles(_symbol, _timeframe, sinceMs = 0, limit = 500) {
      requests.push(sinceMs);
      if (pagesBeforeOutage-- <= 0) throw new ExchangeUnavailableError('scripted: 503 Service Unavailable');
      return bars
        .filter((row) => row[0]! >= sinceMs)
        .slice(0, limit)
        .map((row) => [...row]);
    },
    lastPrice: async () => 100,
    marketRules: async () => ({ minAmountBase: 0, amountStepBase: 0, minNotionalQuote: 0 }),
  };
  return {
    source,
    requests,
    failAfterPages: (pages: number) => (pagesBeforeOutage = pages),
    recover: () => (pagesBeforeOutage = Infinity),
  };
}

const noWait = { attempts: 1, initialDelayMs: 0 };

describe.each(testDrivers)('candle downloads into the cache (%s)', (driver) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  /** The key's cached open times, oldest first, and whether any is there twice. */
  async function cachedTimes(symbol: string): Promise<number[]> {
    const rows = await queryRows<{ t: number }>(
      test.handle.db,
      sql`select (extract(epoch from open_time) * 1000)::float8 as t from candles where exchange = 'scripted' and symbol = ${symbol} and timeframe = '5m' order by open_time`,
    );
    return rows.map((row) => Number(row.t));
  }

  it('an interrupted download keeps every page it stored, and the next run fetches only the rest', async () => {
    const key = { exchange: 'scripted', symbol: 'RESUME/USDT', timeframe: '5m' };
    const exchange = scriptedExchange(Array.from({ length: 2_500 }, (_, i) => bar(i)));
    const range = { fromMs: START, toMs: START + 2_499 * MIN5 };
    exchange.failAfterPages(2);
    const error = await downloadCandles(test.handle.db, exchange.source, key, range, { pageSize: 1000, retry: noWait }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MarketDataUnavailableError);
    expect((error as Error).message).toContain('2000 candles of this run are stored');
    expect(await cachedTimes(key.symbol)).toEqual(Array.from({ length: 2_000 }, (_, i) => START + i * MIN5));

    exchange.recover();
    exchange.requests.length = 0;
    const progress: number[] = [];
    const report = await downloadCandles(test.handle.db, exchange.source, key, range, {
      pageSize: 1000,
      retry: noWait,
      onProgress: (p) => progress.push(p.coveredBars),
    });
    // One request, from the first bar not stored: nothing stored is asked for again.
    expect(exchange.requests).toEqual([START + 2_000 * MIN5]);
    expect(report).toMatchObject({
      missingRanges: [{ fromMs: START + 2_000 * MIN5, toMs: range.toMs }],
      missingBars: 500,
      requests: 1,
      storedCandles: 500,
    });
    expect(report.cached).toEqual({ candles: 2_500, firstMs: START, lastMs: range.toMs, gaps: 0, missingBars: 0 });
    expect(progress.at(-1)).toBe(500);
    const times = await cachedTimes(key.symbol);
    expect(times).toEqual(Array.from({ length: 2_500 }, (_, i) => START + i * MIN5)); // complete, in order, none twice
    const series = await loadCachedCandles(test.handle.db, key);
    expect([series.open[2_499], series.close[1_234], series.volume[7]]).toEqual([bar(2_499)[1], bar(1_234)[4], bar(7)[5]]);

    exchange.requests.length = 0;
    expect(await downloadCandles(test.handle.db, exchange.source, key, range, { retry: noWait })).toMatchObject({
      missingRanges: [],
      requests: 0,
      storedCandles: 0,
    });
    expect(exchange.requests).toEqual([]);
  });

  it('fills the holes of the cache, the stretch before it and the stretch after it, asking only for those', async () => {
    const key = { exchange: 'scripted', symbol: 'GAPS/USDT', timeframe: '5m' };
    const all = Array.from({ length: 600 }, (_, i) => bar(i));
    // Cached: bars 100–199, 250–399 and 402–499; missing: 0–99 (before), 200–249, 400–401, 500–599 (after).
    await upsertCandles(
      test.handle.db,
      key,
      all.filter((_, i) => (i >= 100 && i < 200) || (i >= 250 && i < 400) || (i >= 402 && i < 500)),
    );
    const range = { fromMs: START, toMs: START + 599 * MIN5 };
    const at = (i: number) => START + i * MIN5;
    expect(await missingRanges(test.handle.db, key, range)).toEqual([
      { fromMs: at(0), toMs: at(99) },
      { fromMs: at(200), toMs: at(249) },
      { fromMs: at(400), toMs: at(401) },
      { fromMs: at(500), toMs: at(599) },
    ]);
    expect(await listCachedCandles(test.handle.db, key)).toEqual([
      { ...key, firstMs: at(100), lastMs: at(499), candles: 348, gaps: 2, missingBars: 52 },
    ]);
    const exchange = scriptedExchange(all);
    const report = await downloadCandles(test.handle.db, exchange.source, key, range, { pageSize: 1000, retry: noWait });
    expect(exchange.requests).toEqual([at(0), at(200), at(400), at(500)]);
    expect(report.storedCandles).toBe(100 + 50 + 2 + 100);
    expect(await cachedTimes(key.symbol)).toEqual(all.map((row) => row[0]));
    expect(await listCachedCandles(test.handle.db, key)).toEqual([
      { ...key, firstMs: at(0), lastMs: at(599), candles: 600, gaps: 0, missingBars: 0 },
    ]);
  });

  it('a hole the exchange has too stays listed, and costs the next run one request that stores nothing', async () => {
    const key = { exchange: 'scripted', symbol: 'OUTAGE/USDT', timeframe: '5m' };
    const exchange = scriptedExchange(Array.from({ length: 300 }, (_, i) => bar(i)).filter((_, i) => i < 120 || i >= 150));
    const range = { fromMs: START, toMs: START + 299 * MIN5 };
    const first = await downloadCandles(test.handle.db, exchange.source, key, range, { pageSize: 100, retry: noWait });
    expect(first.cached).toMatchObject({ candles: 270, gaps: 1, missingBars: 30 });
    exchange.requests.length = 0;
    const second = await downloadCandles(test.handle.db, exchange.source, key, range, { pageSize: 100, retry: noWait });
    expect(exchange.requests).toEqual([START + 120 * MIN5]);
    expect(second).toMatchObject({ storedCandles: 0, cached: { candles: 270, gaps: 1, missingBars: 30 } });
  });

  it('a page shorter than asked for does not end the stretch (exchanges that cap the page size)', async () => {
    const key = { exchange: 'scripted', symbol: 'SHORT/USDT', timeframe: '5m' };
    const exchange = scriptedExchange(Array.from({ length: 250 }, (_, i) => bar(i)));
    const capped: MarketDataSource = {
      ...exchange.source,
      fetchCandles: (symbol, timeframe, sinceMs, limit) =>
        exchange.source.fetchCandles(symbol, timeframe, sinceMs, Math.min(limit ?? 1000, 100)),
    };
    const report = await downloadCandles(
      test.handle.db,
      capped,
      key,
      { fromMs: START, toMs: START + 249 * MIN5 },
      { pageSize: 1000, retry: noWait },
    );
    expect(report).toMatchObject({ requests: 3, storedCandles: 250, cached: { candles: 250, gaps: 0 } });
  });

  it('ensureCandles: closed bars only, at most maxCandles (the newest), downloaded when missing, the cache alone without a source', async () => {
    const key = { exchange: 'scripted', symbol: 'ENSURE/USDT', timeframe: '5m' };
    const exchange = scriptedExchange(Array.from({ length: 1_000 }, (_, i) => bar(i)));
    // At 02:30 (+ 1 min), bar 30 (02:30) is still forming: the last closed one is bar 29.
    const now = new Date(START + 30 * MIN5 + 60_000);
    const ensured = await ensureCandles(test.handle.db, {
      ...key,
      from: new Date(START),
      to: now,
      maxCandles: 20,
      source: exchange.source,
      now,
      download: { retry: noWait },
    });
    expect(ensured.clipped).toBe(true);
    expect(ensured.range).toEqual({ fromMs: START + 10 * MIN5, toMs: START + 29 * MIN5 });
    expect(ensured.series.length).toBe(20);
    expect([ensured.series.time[0], ensured.series.time[19]]).toEqual([START + 10 * MIN5, START + 29 * MIN5]);
    expect(ensured.download).toMatchObject({ storedCandles: 20, requests: 1 });
    expect(exchange.requests).toEqual([START + 10 * MIN5]);

    const again = await ensureCandles(test.handle.db, {
      ...key,
      from: new Date(START + 15 * MIN5),
      to: now,
      maxCandles: 100,
      source: exchange.source,
      now,
    });
    expect(again).toMatchObject({ clipped: false, download: null, series: { length: 15 } });
    expect(exchange.requests).toHaveLength(1);

    const cacheOnly = await ensureCandles(test.handle.db, { ...key, from: new Date(START), to: now, maxCandles: 100, now });
    expect(cacheOnly).toMatchObject({ clipped: false, download: null, series: { length: 20 } });
  });
});
