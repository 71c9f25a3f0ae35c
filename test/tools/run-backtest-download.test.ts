import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { TOOLS, invokeTool, type Actor, type ToolContext } from '../../tools/index.ts';
import type { MarketDataSource } from '../../trading/exchange/types.ts';
import { exchangeWhenReachable, listCachedCandles } from '../../trading/market-data/download.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

// The agents' run_backtest (and so Telegram's /backtest, which calls it) downloads what the
// cache lacks of its range, once, and runs on the cache when the exchange is not to be used.

const HOUR = 3_600_000;
const now = new Date('2026-11-01T12:30:00Z');

describe('run_backtest downloads missing candles on demand', () => {
  let test: TestDatabase;
  let trader: Actor;
  let billing: BillingService;
  const requests: number[] = [];
  // 60 days of hourly bars up to the last closed one (11:00; the 12:00 bar is still forming at 12:30).
  const bars = Array.from({ length: 24 * 60 }, (_, i) => {
    const t = Date.UTC(2026, 10, 1, 11) - (24 * 60 - 1 - i) * HOUR;
    const close = 100 + 10 * Math.sin(i / 6);
    return [t, close - 0.5, close + 1, close - 1.5, close, 10];
  });
  const exchange: MarketDataSource = {
    async fetchCandles(_symbol, _timeframe, sinceMs = 0, limit = 1000) {
      requests.push(sinceMs);
      return bars.filter((row) => row[0]! >= sinceMs).slice(0, limit);
    },
    lastPrice: async () => 100,
    marketRules: async () => ({ minAmountBase: 0, amountStepBase: 0, minNotionalQuote: 0 }),
  };

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    billing = new BillingService(test.handle.db, undefined);
    const tenantId = crypto.randomUUID();
    const userId = crypto.randomUUID();
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Lia' });
    await test.handle.db.insert(db.users).values({ id: userId, tenantId, email: 'lia@example.com', name: 'Lia' });
    trader = { kind: 'trader', userId, tenantId, name: 'Lia' };
  });
  afterAll(async () => {
    await test?.dispose();
  });

  const ctx = (marketData?: MarketDataSource): ToolContext => ({
    db: test.handle.db,
    actor: trader,
    agent: 'test',
    billing,
    now: () => now,
    marketData,
  });

  it('fetches the missing range once, then runs on the cache', async () => {
    const first = await invokeTool(TOOLS, ctx(exchange), 'run_backtest', { days: 30, timeframe: '1h' });
    expect(first.ok, JSON.stringify(first)).toBe(true);
    expect((first as { result: { candles: number } }).result.candles).toBe(719); // 13:00 thirty days ago to 11:00 today
    expect(requests).toEqual([now.getTime() - 30 * 24 * HOUR]);
    expect(await listCachedCandles(test.handle.db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' })).toMatchObject([
      { candles: 719, gaps: 0, lastMs: Date.UTC(2026, 10, 1, 11) },
    ]);

    const second = await invokeTool(TOOLS, ctx(exchange), 'run_backtest', { days: 30, timeframe: '1h' });
    expect((second as { result: { candles: number } }).result.candles).toBe(719);
    expect(requests).toHaveLength(1);

    // Ten more days back: only those are fetched.
    const longer = await invokeTool(TOOLS, ctx(exchange), 'run_backtest', { days: 40, timeframe: '1h' });
    expect((longer as { result: { candles: number } }).result.candles).toBe(959);
    expect(requests.slice(1)).toEqual([now.getTime() - 40 * 24 * HOUR]);
  });

  it('through the doors: the exchange only when the paper markets read it; the replay downloads nothing and the cache answers', async () => {
    const replay = exchangeWhenReachable(async () => ({
      decide: async () => ({ source: 'replay' as const, reason: 'no route to Binance (test)' }),
      marketFor: () => {
        throw new Error('the replay is never a download source');
      },
    }));
    // It says so before being asked: a download skips scanning the cache for gaps.
    expect(await replay.unavailableReason!()).toBe('candles are not downloaded: no route to Binance (test)');
    const before = requests.length;
    const onReplay = await invokeTool(TOOLS, ctx(replay), 'run_backtest', { days: 45, timeframe: '1h' });
    expect(onReplay.ok, JSON.stringify(onReplay)).toBe(true);
    expect((onReplay as { result: { candles: number } }).result.candles).toBe(959); // what is cached of the 45 days
    expect(requests).toHaveLength(before);

    const reachable = exchangeWhenReachable(async () => ({
      decide: async () => ({ source: 'exchange' as const, reason: 'the exchange answered' }),
      marketFor: () => exchange,
    }));
    expect(await reachable.unavailableReason!()).toBeNull();
    const onExchange = await invokeTool(TOOLS, ctx(reachable), 'run_backtest', { days: 45, timeframe: '1h' });
    expect((onExchange as { result: { candles: number } }).result.candles).toBe(1_079);
    expect(requests.slice(before)).toEqual([now.getTime() - 45 * 24 * HOUR]);
  });
});
