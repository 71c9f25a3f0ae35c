import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolOutcome } from '../../tools/index.ts';
import { upsertCandles } from '../../trading/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// market_candles without `to` (a chart of "now", as the dashboard asks for a running bot): up
// to the bar open now, the same bars a request naming that bar's open time gets — so every
// request during one bar is one range of the chart cache, not a new one each millisecond.

const FIVE_MIN = 300_000;
const LAST_OPEN = Date.UTC(2026, 11, 3, 12, 0);
const BARS = Array.from({ length: 800 }, (_, i) => {
  const t = LAST_OPEN - (799 - i) * FIVE_MIN;
  const close = 100 + Math.sin(i / 9) * 5;
  return [t, close - 0.5, close + 1, close - 1, close, 3];
});

describe.each(testDrivers)('market_candles up to now (%s)', (driver) => {
  let test: TestDatabase;
  let trader: Actor;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    const tenantId = crypto.randomUUID();
    const userId = crypto.randomUUID();
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 't' });
    await test.handle.db.insert(db.users).values({ id: userId, tenantId, email: 't@example.com', name: 't', locale: 'en' });
    trader = { kind: 'trader', userId, tenantId, name: 't' };
    await upsertCandles(test.handle.db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' }, BARS);
  }, 60_000);
  afterAll(async () => {
    await test?.dispose();
  });

  const candles = async (nowMs: number, args: Record<string, unknown>) => {
    const outcome: ToolOutcome = await invokeTool(
      TOOLS,
      { db: test.handle.db, actor: trader, billing: new BillingService(test.handle.db, undefined), now: () => new Date(nowMs) },
      'market_candles',
      { symbol: 'BTC/USDT', timeframe: '5m', indicators: ['rsi'], ...args },
    );
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    return (outcome as { result: { candles: { time: string }[]; indicators: { rsi: { values: unknown[] } } } }).result;
  };

  it('answers the bars up to the one open now, as a request naming its open time does, at any instant of that bar', async () => {
    const named = await candles(LAST_OPEN + 1, { to: new Date(LAST_OPEN).toISOString() });
    expect(named.candles).toHaveLength(501);
    expect(named.candles.at(-1)!.time).toBe(new Date(LAST_OPEN).toISOString());
    for (const into of [0, 1, 123_456, FIVE_MIN - 1]) expect(await candles(LAST_OPEN + into, {})).toEqual(named);
    // The next bar's instant moves the window by one bar (nothing cached for it here, so one fewer).
    const next = await candles(LAST_OPEN + FIVE_MIN, {});
    expect(next.candles[0]!.time).toBe(named.candles[1]!.time);
    expect(next.candles.at(-1)!.time).toBe(new Date(LAST_OPEN).toISOString());
  });
});
