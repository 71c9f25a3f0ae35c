import { afterAll, expect, it } from 'vitest';
import { detectGaps, LocalFeedLeases, loadCachedCandles, MarketFeeds } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeBinance, type FakeBinance } from '../support/fake-binance.ts';
import { startFakeBinanceStream, type FakeBinanceStream } from '../support/fake-binance-stream.ts';

// The fetcher streams bars over the exchange's WebSocket (ccxt pro watchOHLCV, the real client)
// against a scripted Binance on loopback: REST and the market stream. The feed's clock is a
// variable the test moves; the waits below are for the stream's messages to be written (I/O).

const MINUTE = 60_000;
/** Bars in the past, so the real ccxt REST client (which drops bars the wall clock has not closed) serves them. */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 1_000 * MINUTE;
const bar = (i: number, close = 100 + i) => [T0 + i * MINUTE, 100 + i, 102 + i, 98 + i, close, 5 + (i % 3)];
const bars = (count: number) => Array.from({ length: count }, (_, i) => bar(i));
const key = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };

let test: TestDatabase | undefined;
let rest: FakeBinance | undefined;
let stream: FakeBinanceStream | undefined;
let feeds: MarketFeeds | undefined;
afterAll(async () => {
  await feeds?.stop();
  await stream?.close();
  await rest?.close();
  await test?.dispose();
});

it('streams closed bars into the cache over the WebSocket, fills a skipped bar over REST, and polls REST when the stream falls silent', async () => {
  test = await createTestDatabase('pglite');
  const db = test.handle.db;
  rest = await startFakeBinance();
  stream = await startFakeBinanceStream();
  rest.klines = bars(50);
  let now = T0 + 50 * MINUTE + 1_000;
  const errors: unknown[] = [];
  feeds = new MarketFeeds({
    db,
    leases: new LocalFeedLeases(),
    apiBaseUrl: rest.url,
    wsUrl: stream.url,
    now: () => now,
    stepMs: 50,
    pollMs: 0,
    onError: (_k, e) => errors.push(e),
  });
  const klines = () => rest!.requests.filter((r) => r.endsWith('/klines')).length;
  const newest = async () => {
    const cached = await loadCachedCandles(db, key);
    return cached.length > 0 ? (cached.time[cached.length - 1]! - T0) / MINUTE : -1;
  };
  const untilNewest = async (index: number) => {
    for (let attempt = 0; (await newest()) !== index; attempt++) {
      if (attempt > 400)
        throw new Error(`the cache never reached bar ${index} (at ${await newest()}; errors: ${errors.map(String).join('; ')})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  feeds.watch(key.exchange, key.symbol, key.timeframe);
  await feeds.step(); // the lease, the history over REST, then the stream opens
  expect(await newest()).toBe(49);
  expect(klines()).toBe(1);
  await stream.subscribed('btcusdt@kline_1m');

  // Bar 50 as it forms, then final; it is written once bar 51 has begun (its last values are then known).
  stream.push('BTCUSDT', '1m', bar(50, 140), false);
  stream.push('BTCUSDT', '1m', bar(50), true);
  now = T0 + 51 * MINUTE + 1_000;
  stream.push('BTCUSDT', '1m', bar(51, 90), false);
  await untilNewest(50);
  const cached = await loadCachedCandles(db, key, { fromMs: T0 + 50 * MINUTE });
  expect(cached.close[0]).toBe(bar(50)[4]); // the final close, not the one while forming
  // Bar 51 is due now; REST would be asked, but the stream spoke under a minute ago (bar 51's first update, at 51:01): no poll.
  now = T0 + 52 * MINUTE + 500;
  stream.push('BTCUSDT', '1m', bar(51), true);
  await feeds.step();
  expect(klines()).toBe(1);

  // The stream skips bar 52 (a reconnection lost it): fetched over REST before bar 53 is written.
  rest.klines = bars(60);
  now = T0 + 53 * MINUTE + 2_000;
  stream.push('BTCUSDT', '1m', bar(53), false);
  await untilNewest(51);
  now = T0 + 54 * MINUTE + 2_000;
  stream.push('BTCUSDT', '1m', bar(54), false);
  await untilNewest(53);
  expect(klines()).toBe(2);

  // The stream falls silent for minutes: REST polling takes over.
  now = T0 + 57 * MINUTE + 1_000;
  await feeds.step();
  expect(await newest()).toBe(56);
  expect(klines()).toBe(3);

  const all = await loadCachedCandles(db, key);
  expect(all.length).toBe(57);
  expect(detectGaps(all, MINUTE)).toEqual([]);
  expect(Array.from(all.close)).toEqual(bars(57).map((b) => b[4]));
  expect(errors).toEqual([]);
});
