import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLED_SYMBOLS,
  BundledReplayMarket,
  bundledCandles,
  CcxtExchange,
  chartCandles,
  createPaperMarkets,
  paperMarketOptions,
  REPLAY_CACHE_BACKFILL_BARS,
  REPLAY_CACHE_EXCHANGE,
  REPLAY_WINDOW,
  replayWindowCandles,
  resampleCandles,
} from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

const HOUR = 3_600_000;

describe('the candles that ship with the repository', () => {
  it('BTC/USDT is the real file; 4h is resampled from 1h, 3m from 1m', () => {
    const hourly = bundledCandles('BTC/USDT', '1h')!;
    expect(hourly.length).toBe(8_736);
    const four = bundledCandles('BTC/USDT', '4h')!;
    // The file starts at 23:00 and ends at 22:00: the first and last 4h buckets are incomplete and left out.
    expect(four.length).toBe((8_736 - 1 - 3) / 4);
    expect(four.time[0]! % (4 * HOUR)).toBe(0);
    expect(four.time[1]! - four.time[0]!).toBe(4 * HOUR);
    // A 4h bar is its four hours: first open, highest high, lowest low, last close, summed volume.
    const start = hourly.time.indexOf(four.time[0]!);
    expect(four.open[0]).toBe(hourly.open[start]);
    expect(four.close[0]).toBe(hourly.close[start + 3]);
    expect(four.high[0]).toBe(Math.max(...hourly.high.subarray(start, start + 4)));
    expect(four.low[0]).toBe(Math.min(...hourly.low.subarray(start, start + 4)));
    expect(four.volume[0]).toBeCloseTo(
      hourly.volume.subarray(start, start + 4).reduce((a, b) => a + b, 0),
      6,
    );
    expect(bundledCandles('BTC/USDT', '3m')!.length).toBe(41_760 / 3); // from the 1m file
    expect(bundledCandles('DOGE/USDT', '1h')).toBeUndefined();
  });

  it('other symbols are generated from BTC: the same every time, consistent bars, ending at their set price', () => {
    for (const symbol of BUNDLED_SYMBOLS.filter((s) => s !== 'BTC/USDT')) {
      const series = bundledCandles(symbol, '5m')!;
      const btc = bundledCandles('BTC/USDT', '5m')!;
      expect(series.length).toBe(btc.length);
      expect(Array.from(series.time)).toEqual(Array.from(btc.time));
      for (let i = 0; i < series.length; i++) {
        expect(series.high[i]!).toBeGreaterThanOrEqual(Math.max(series.open[i]!, series.close[i]!));
        expect(series.low[i]!).toBeLessThanOrEqual(Math.min(series.open[i]!, series.close[i]!));
        expect(series.low[i]!).toBeGreaterThan(0);
      }
    }
    expect(bundledCandles('ETH/USDT', '1h')!.close.at(-1)).toBeCloseTo(3_350, 6);
    // Resampling a generated 15m series keeps its bars consistent too.
    const hourly = resampleCandles(bundledCandles('ETH/USDT', '15m')!, HOUR);
    expect(hourly.length).toBe(8_736);
    for (let i = 0; i < hourly.length; i++) expect(hourly.high[i]!).toBeGreaterThanOrEqual(Math.max(hourly.open[i]!, hourly.close[i]!));
  });
});

describe('BundledReplayMarket: the bundled candles laid on the wall clock', () => {
  const t0 = Date.UTC(2026, 11, 1, 17, 42, 13);
  const clock = { now: t0 };
  const market = new BundledReplayMarket({ timeframe: '1h', now: () => clock.now });
  const series = replayWindowCandles('BTC/USDT', '1h')!;
  const WINDOW = REPLAY_WINDOW.lengthMs;
  /** The recorded bar for a wall-clock slot: forward in even passes of the window, backward (open and close swapped) in odd ones. */
  const recorded = (openMs: number) => {
    const pass = Math.floor(openMs / WINDOW);
    const slot = (openMs - pass * WINDOW) / HOUR;
    if (pass % 2 === 0) return [series.open[slot], series.high[slot], series.low[slot], series.close[slot], series.volume[slot]];
    const i = series.length - 1 - slot;
    return [series.close[i], series.high[i], series.low[i], series.open[i], series.volume[i]];
  };

  it('plays four weeks of the 1m file, every timeframe resampled from it: 5m, 1h and 1d of the replay are one market', () => {
    expect(REPLAY_WINDOW.startMs).toBe(Date.UTC(2024, 11, 1));
    expect(series.length).toBe(28 * 24);
    const minutes = bundledCandles('BTC/USDT', '1m')!;
    const first = minutes.time.indexOf(REPLAY_WINDOW.startMs);
    expect(replayWindowCandles('BTC/USDT', '1m')!.close[0]).toBe(minutes.close[first]);
    for (const symbol of BUNDLED_SYMBOLS) {
      const fives = replayWindowCandles(symbol, '5m')!;
      const hours = replayWindowCandles(symbol, '1h')!;
      const days = replayWindowCandles(symbol, '1d')!;
      expect(days.length).toBe(28);
      for (let h = 0; h < hours.length; h += 37) {
        const part = (column: Float64Array) => column.subarray(h * 12, h * 12 + 12);
        expect(hours.open[h]).toBe(fives.open[h * 12]);
        expect(hours.close[h]).toBe(fives.close[h * 12 + 11]);
        expect(hours.high[h]).toBe(Math.max(...part(fives.high)));
        expect(hours.low[h]).toBe(Math.min(...part(fives.low)));
      }
      expect(days.close[27]).toBe(hours.close.at(-1));
    }
    // A timeframe that does not divide the four weeks is refused, not played misaligned.
    expect(() => replayWindowCandles('BTC/USDT', '7m')).toThrow(/cannot play 7m bars/);
  });

  it('serves only closed bars, on the wall-clock grid, each the recorded bar for its slot', async () => {
    const rows = await market.fetchCandles('BTC/USDT', '1h', undefined, 50);
    expect(rows).toHaveLength(50);
    expect(rows.at(-1)![0]).toBe(Date.UTC(2026, 11, 1, 16)); // 17:00's bar is still open at 17:42
    rows.forEach((row, k) => {
      if (k > 0) expect(row[0]! - rows[k - 1]![0]!).toBe(HOUR);
      expect(row.slice(1)).toEqual(recorded(row[0]!));
    });
    expect(await market.lastPrice('BTC/USDT')).toBe(rows.at(-1)![4]);
  });

  it('turns at each end of the window without a jump: the last bar of a pass closes where the next pass opens', async () => {
    for (const pass of [40, 41]) {
      const turn = (pass + 1) * WINDOW;
      clock.now = turn + 3 * HOUR;
      const rows = await market.fetchCandles('BTC/USDT', '1h', turn - 3 * HOUR, 6);
      expect(rows.map((row) => row[0])).toEqual([-3, -2, -1, 0, 1, 2].map((h) => turn + h * HOUR));
      expect(rows[3]![1]).toBe(rows[2]![4]); // the new pass opens at the last close
      for (const row of rows) {
        expect(row[2]!).toBeGreaterThanOrEqual(Math.max(row[1]!, row[4]!));
        expect(row[3]!).toBeLessThanOrEqual(Math.min(row[1]!, row[4]!));
      }
    }
    clock.now = t0;
  });

  it('a new bar arrives when its hour is up, and `since` pages forward from there', async () => {
    const before = await market.fetchCandles('BTC/USDT', '1h', undefined, 1);
    clock.now = t0 + 17 * 60_000; // 17:59
    expect(await market.fetchCandles('BTC/USDT', '1h', before[0]![0]! + 1)).toEqual([]);
    clock.now = t0 + 18 * 60_000; // 18:00:13
    const next = await market.fetchCandles('BTC/USDT', '1h', before[0]![0]! + 1);
    expect(next.map((row) => row[0])).toEqual([Date.UTC(2026, 11, 1, 17)]);
    clock.now = t0;
  });

  it('loops: the slot two windows later (forward and back) is the same bar', async () => {
    const [a] = await market.fetchCandles('BTC/USDT', '1h', undefined, 1);
    clock.now = t0 + 2 * WINDOW;
    const [b] = await market.fetchCandles('BTC/USDT', '1h', undefined, 1);
    clock.now = t0;
    expect(b!.slice(1)).toEqual(a!.slice(1));
    expect(b![0]! - a![0]!).toBe(2 * WINDOW);
  });

  it('refuses another timeframe and a symbol it has no data for', async () => {
    await expect(market.fetchCandles('BTC/USDT', '5m')).rejects.toThrow(/serves 1h candles, not 5m/);
    await expect(market.lastPrice('DOGE/USDT')).rejects.toThrow(/no replayed market data for DOGE\/USDT/);
  });
});

describe('createPaperMarkets: which market paper bots trade', () => {
  const unreachable = () =>
    Promise.reject(new Error('binance GET https://api.binance.com/api/v3/klines getaddrinfo ENOTFOUND api.binance.com\n    at …'));

  it('auto on the embedded database: the replay when Binance cannot be reached, saying why', async () => {
    const markets = createPaperMarkets({ setting: 'auto', embedded: true, probe: unreachable });
    expect(markets.marketFor('5m')).toBeInstanceOf(CcxtExchange); // nothing decided yet: the exchange
    expect(markets.source).toBeUndefined();
    expect(await markets.decide()).toEqual({ source: 'replay', reason: 'no route to Binance (getaddrinfo ENOTFOUND api.binance.com)' });
    expect(markets.marketFor('5m')).toBeInstanceOf(BundledReplayMarket);
    expect(markets.marketFor('5m')).toBe(markets.marketFor('5m')); // one replay per timeframe
    expect(paperMarketOptions(markets, '5m')).toEqual({ paperMarket: markets.marketFor('5m'), sandboxAsPaper: true }); // testnet bots too
  });

  it('auto with a route, auto on PostgreSQL (without probing) and exchange: the exchange; replay: the replay', async () => {
    let probes = 0;
    const reachable = createPaperMarkets({ setting: 'auto', embedded: true, probe: async () => void probes++ });
    expect(await reachable.decide()).toMatchObject({ source: 'exchange' });
    expect(await reachable.decide()).toMatchObject({ source: 'exchange' });
    expect(probes).toBe(1);
    // Every paper bot of the process reads the exchange through one client, whatever its timeframe.
    expect(reachable.marketFor('1h')).toBeInstanceOf(CcxtExchange);
    expect(reachable.marketFor('5m')).toBe(reachable.marketFor('1h'));
    expect(paperMarketOptions(reachable, '1h')).toEqual({ paperMarket: reachable.marketFor('1h') }); // testnet bots keep their testnet
    const server = createPaperMarkets({ setting: 'auto', embedded: false, probe: async () => void probes++ });
    expect(await server.decide()).toMatchObject({ source: 'exchange' });
    expect(probes).toBe(1);
    expect(await createPaperMarkets({ setting: 'exchange', embedded: true, probe: unreachable }).decide()).toMatchObject({
      source: 'exchange',
    });
    const replay = createPaperMarkets({ setting: 'replay', embedded: false });
    expect(await replay.decide()).toEqual({ source: 'replay', reason: 'PAPER_MARKET=replay' });
    expect(replay.marketFor('15m')).toBeInstanceOf(BundledReplayMarket);
  });
});

describe('the replayed market writes the bars it closes into the candle cache (the charts read it)', () => {
  const MIN5 = 300_000;
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it("a bot's read puts the closed bars in the cache first; the chart's last bar moves on as bars close", async () => {
    const clock = { now: Date.UTC(2026, 11, 2, 15, 7, 30) };
    const markets = createPaperMarkets({ setting: 'replay', embedded: true, now: () => clock.now, cache: test.handle.db });
    await markets.decide();
    const market = markets.marketFor('5m');
    const key = { exchange: REPLAY_CACHE_EXCHANGE, symbol: 'BTC/USDT', timeframe: '5m' };
    // The 1,000 bars before the one forming now, as a bot page's chart asks for them.
    const chart = (nowMs: number) => {
      const forming = Math.floor(nowMs / MIN5) * MIN5;
      return chartCandles(test.handle.db, key, { fromMs: forming - 1_000 * MIN5, toMs: forming }, ['rsi', 'macd']);
    };
    expect((await chart(clock.now)).candles).toEqual([]); // nothing cached before the market is read
    // A bot's warm-up read: the cache then holds the bars a 1,000-bar chart and its indicators need, up to the last closed one.
    const warmUp = await market.fetchCandles('BTC/USDT', '5m', undefined, 52);
    const lastClosed = Date.UTC(2026, 11, 2, 15, 0);
    expect(warmUp.at(-1)![0]).toBe(lastClosed);
    let drawn = await chart(clock.now);
    expect(drawn.candles).toHaveLength(1_000);
    expect(Date.parse(drawn.candles.at(-1)!.time)).toBe(lastClosed);
    // The same bars as the bot read: the cache is the market the bot trades.
    expect(drawn.candles.slice(-52).map((c) => [Date.parse(c.time), c.open, c.high, c.low, c.close, c.volume])).toEqual(warmUp);
    expect(drawn.indicators.rsi!.values.at(-1)).not.toBeNull();
    expect(drawn.indicators.macd!.values.at(-1)).not.toBeNull();
    const cached = await chartCandles(test.handle.db, key, { fromMs: 0, toMs: clock.now }, []);
    expect(cached.candles).toHaveLength(REPLAY_CACHE_BACKFILL_BARS);

    // Three bars later a tick reads what closed since: the chart's last bar is the newest closed one, nothing skipped.
    clock.now += 3 * MIN5;
    const tick = await market.fetchCandles('BTC/USDT', '5m', lastClosed + 1);
    expect(tick.map((row) => row[0])).toEqual([1, 2, 3].map((k) => lastClosed + k * MIN5));
    drawn = await chart(clock.now);
    expect(drawn.candles.slice(-4).map((c) => Date.parse(c.time))).toEqual([0, 1, 2, 3].map((k) => lastClosed + k * MIN5));
    expect(drawn.candles.at(-1)!.close).toBe(tick.at(-1)![4]);
    // A price read (a fill) writes the bars too; a bar still forming is never cached.
    clock.now += MIN5;
    const price = await market.lastPrice('BTC/USDT');
    drawn = await chart(clock.now);
    expect(Date.parse(drawn.candles.at(-1)!.time)).toBe(lastClosed + 4 * MIN5);
    expect(drawn.candles.at(-1)!.close).toBe(price);
    expect((await chartCandles(test.handle.db, key, { fromMs: 0, toMs: clock.now + MIN5 }, [])).candles).toHaveLength(
      REPLAY_CACHE_BACKFILL_BARS + 4,
    );
  });

  it('without a cache, the replay writes nothing', async () => {
    const market = new BundledReplayMarket({ timeframe: '1h', now: () => Date.UTC(2026, 11, 2, 15) });
    await market.fetchCandles('BTC/USDT', '1h', undefined, 10);
    const key = { exchange: REPLAY_CACHE_EXCHANGE, symbol: 'BTC/USDT', timeframe: '1h' };
    expect((await chartCandles(test.handle.db, key, { fromMs: 0, toMs: Date.UTC(2027, 0, 1) }, [])).candles).toEqual([]);
  });
});
