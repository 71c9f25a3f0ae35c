import { describe, expect, it } from 'vitest';
import {
  BUNDLED_SYMBOLS,
  BundledReplayMarket,
  bundledCandles,
  CcxtExchange,
  createPaperMarkets,
  paperMarketOptions,
  resampleCandles,
} from '../../trading/index.ts';

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
  const series = bundledCandles('BTC/USDT', '1h')!;
  const recorded = (openMs: number) => (((openMs / HOUR) % series.length) + series.length) % series.length;

  it('serves only closed bars, on the wall-clock grid, each the recorded bar for its slot', async () => {
    const rows = await market.fetchCandles('BTC/USDT', '1h', undefined, 50);
    expect(rows).toHaveLength(50);
    expect(rows.at(-1)![0]).toBe(Date.UTC(2026, 11, 1, 16)); // 17:00's bar is still open at 17:42
    rows.forEach((row, k) => {
      if (k > 0) expect(row[0]! - rows[k - 1]![0]!).toBe(HOUR);
      const i = recorded(row[0]!);
      expect(row.slice(1)).toEqual([series.open[i], series.high[i], series.low[i], series.close[i], series.volume[i]]);
    });
    expect(await market.lastPrice('BTC/USDT')).toBe(rows.at(-1)![4]);
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

  it('loops: the slot one whole recording later is the same bar', async () => {
    const [a] = await market.fetchCandles('BTC/USDT', '1h', undefined, 1);
    clock.now = t0 + series.length * HOUR;
    const [b] = await market.fetchCandles('BTC/USDT', '1h', undefined, 1);
    clock.now = t0;
    expect(b!.slice(1)).toEqual(a!.slice(1));
    expect(b![0]! - a![0]!).toBe(series.length * HOUR);
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
