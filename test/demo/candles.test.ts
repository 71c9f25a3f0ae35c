import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CANDLE_EXCHANGE, DEMO_CANDLE_TIMEFRAMES, importDemoCandles } from '../../demo/index.ts';
import { bundledCandles, loadCachedCandles, replayedBar, timeframeToMs } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// The demo's candle cache (demo/candles.ts, run by `seed --demo`): every bundled BTC/USDT file,
// laid on the wall clock as the replayed market lays it, ending with the last bar closed at the
// seed's clock — so a fresh demo's BTC/USDT charts and backtests have candles.

const NOW_MS = Date.parse('2026-11-01T10:17:31Z');

describe('the demo candle cache', { timeout: 120_000 }, () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('pglite');
  }, 120_000);
  afterAll(async () => test?.dispose());

  it('holds each bundled file, whole, up to the last closed bar, with the replayed prices', async () => {
    const imported = await importDemoCandles(test.handle.db, { now: () => NOW_MS });
    expect(imported.map((i) => i.timeframe)).toEqual([...DEMO_CANDLE_TIMEFRAMES]);
    for (const { timeframe, bars, fromMs, toMs } of imported) {
      const barMs = timeframeToMs(timeframe);
      const file = bundledCandles('BTC/USDT', timeframe)!;
      expect(bars).toBe(file.length);
      expect(toMs).toBe(Math.floor(NOW_MS / barMs) * barMs - barMs);
      const cached = await loadCachedCandles(test.handle.db, { exchange: DEMO_CANDLE_EXCHANGE, symbol: 'BTC/USDT', timeframe });
      expect(cached.length).toBe(file.length);
      expect(cached.time[0]).toBe(fromMs);
      expect(cached.time[cached.length - 1]).toBe(toMs);
      // The same bar a demo trade or a paper bot's fill was priced from.
      const last = replayedBar('BTC/USDT', timeframe, toMs)!;
      expect([cached.open.at(-1), cached.high.at(-1), cached.low.at(-1), cached.close.at(-1)]).toEqual([
        last.open,
        last.high,
        last.low,
        last.close,
      ]);
    }
    // Again: the same bars replaced, none added.
    await importDemoCandles(test.handle.db, { now: () => NOW_MS });
    const again = await loadCachedCandles(test.handle.db, { exchange: DEMO_CANDLE_EXCHANGE, symbol: 'BTC/USDT', timeframe: '1h' });
    expect(again.length).toBe(bundledCandles('BTC/USDT', '1h')!.length);
  });
});
