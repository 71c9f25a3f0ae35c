import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedChartCandles, chartCandles, loadCachedCandles, upsertCandles } from '../../trading/index.ts';
import { candleSeriesVersion, loadCandleRange, stampCandleRange } from '../../trading/market-data/range-cache.ts';
import { rel, sourceFiles } from '../support/source-files.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// Chart answers and backtest ranges kept in memory (trading/market-data/range-cache.ts) are used
// only while no bar of their range was written since: an added or replaced bar — by any process
// sharing the database — is read afresh; a bar outside the range, or of another series, keeps
// the kept answer. upsertCandles is the candle cache's only writer (checked below): each write
// gives the series a new version, which is what a kept answer is checked against first.

const HOUR = 3_600_000;
const START = Date.UTC(2025, 0, 1);
const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' };
const bar = (i: number, close = 100 + Math.sin(i / 5) * 10) => [START + i * HOUR, close - 1, close + 2, close - 2, close, 10 + (i % 7)];

describe.each(testDrivers)('candle range cache on %s', (driver) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(driver);
    await upsertCandles(
      test.handle.db,
      key,
      Array.from({ length: 800 }, (_, i) => bar(i)),
    );
  });
  afterAll(async () => {
    await test?.dispose();
  });

  const range = { fromMs: START + 300 * HOUR, toMs: START + 599 * HOUR };

  it('answers a chart from memory while its bars are unchanged, and afresh after any write to them, warm-up included', async () => {
    const db = test.handle.db;
    const first = await cachedChartCandles(db, key, range, ['rsi', 'macd']);
    expect(first.count).toBe(300);
    expect(first.chart).toEqual(await chartCandles(db, key, range, ['rsi', 'macd']));
    const again = await cachedChartCandles(db, key, range, ['macd', 'rsi']);
    expect(again.chart).toBe(first.chart);

    // A bar after the range: the kept answer stands.
    await upsertCandles(db, key, [bar(900)]);
    expect((await cachedChartCandles(db, key, range, ['rsi', 'macd'])).chart).toBe(first.chart);

    // A bar of the range replaced with another close: read afresh, the new close in it.
    await upsertCandles(db, key, [bar(450, 250)]);
    const replaced = await cachedChartCandles(db, key, range, ['rsi', 'macd']);
    expect(replaced.chart).not.toBe(first.chart);
    expect(replaced.chart!.candles[150]!.close).toBe(250);
    expect(replaced.chart).toEqual(await chartCandles(db, key, range, ['rsi', 'macd']));

    // A warm-up bar (before the range) replaced: the indicators change, so the answer is read afresh.
    await upsertCandles(db, key, [bar(250, 40)]);
    const deleted = await cachedChartCandles(db, key, range, ['rsi', 'macd']);
    expect(deleted.chart).not.toBe(replaced.chart);
    expect(deleted.chart!.indicators.rsi!.values).not.toEqual(replaced.chart!.indicators.rsi!.values);
    expect(deleted.chart).toEqual(await chartCandles(db, key, range, ['rsi', 'macd']));
    // Without indicators no warm-up is read: a separate answer, of the same bars.
    expect((await cachedChartCandles(db, key, range, [])).chart!.candles).toEqual(deleted.chart!.candles);
  });

  it('keeps the answer while another series is written, and freezes it (shared by every caller)', async () => {
    const db = test.handle.db;
    const first = await cachedChartCandles(db, key, range, ['rsi']);
    const version = await candleSeriesVersion(db, key);
    await upsertCandles(db, { ...key, timeframe: '4h' }, [bar(1)]);
    expect(await candleSeriesVersion(db, key)).toBe(version);
    expect((await cachedChartCandles(db, key, range, ['rsi'])).chart).toBe(first.chart);
    expect(Object.isFrozen(first.chart)).toBe(true);
    expect(Object.isFrozen(first.chart!.candles[0])).toBe(true);
    expect(Object.isFrozen(first.chart!.indicators.rsi!.values)).toBe(true);
    await upsertCandles(db, key, [bar(1)]);
    expect(await candleSeriesVersion(db, key)).not.toBe(version);
  });

  it('refuses nothing itself: over the most bars asked for, it gives only the count', async () => {
    const over = await cachedChartCandles(test.handle.db, key, range, ['rsi'], 299);
    expect(over).toEqual({ count: 300, chart: undefined });
  });

  it("keeps a backtest's range while its bars are unchanged, and reads it again after a write", async () => {
    const db = test.handle.db;
    const wide = { fromMs: START, toMs: START + 799 * HOUR };
    const first = await loadCandleRange(db, key, wide);
    expect(Array.from(first.close)).toEqual(Array.from((await loadCachedCandles(db, key, wide)).close));
    expect(await loadCandleRange(db, key, wide)).toBe(first);
    const before = await stampCandleRange(db, key, wide);
    await upsertCandles(db, key, [bar(10, 77)]);
    const after = await stampCandleRange(db, key, wide);
    expect(after.count).toBe(before.count);
    expect(after.stamp).not.toBe(before.stamp);
    const reread = await loadCandleRange(db, key, wide);
    expect(reread).not.toBe(first);
    expect(reread.close[10]).toBe(77);
  });
});

describe('the candle cache has one writer', () => {
  it('no product code but trading/market-data/store.ts writes the candles table (so every write changes its series version)', () => {
    const writes = /\b(insert\s+into|update|delete\s+from|truncate(\s+table)?)\s+"?candles"?\b|\.(insert|update|delete)\(\s*candles\s*\)/i;
    const writers = sourceFiles()
      .filter((file) => !rel(file).startsWith('test/') && writes.test(fs.readFileSync(file, 'utf8')))
      .map(rel);
    expect(writers).toEqual(['trading/market-data/store.ts']);
  });
});
