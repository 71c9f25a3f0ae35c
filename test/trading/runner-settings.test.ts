import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { tenantScope } from '../../db/index.ts';
import {
  BotRunner,
  candlesFromRows,
  changeBotParameters,
  DEFAULT_RISK_LIMITS,
  PaperExchange,
  ReplayMarketData,
  rollbackBotVersion,
  tickBots,
} from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedFastPaperBot } from '../support/paper-bots.ts';
import { parkMiller } from '../support/random.ts';
import { HOUR } from '../support/synthetic-market.ts';

// A running bot's settings as the runner reads them on each tick: a new version of its
// parameters (an applied improvement, a rollback) is traded from the next tick, without a restart;
// the trader's cap on open positions holds new entries at it.

/** RSI(2) below 1: next to never (no entry in these bars); below 99 with a 10 % stop: at once. */
const NEVER = { rsiPeriod: 2, rsiBuy: 1, rsiSell: 2, stopLossPct: 3, takeProfitPct: 2 };
const AT_ONCE = { rsiPeriod: 2, rsiBuy: 99, rsiSell: 99.5, stopLossPct: 10, takeProfitPct: 50 };

describe("a running bot's settings, read on each tick", () => {
  let test: TestDatabase;
  let botId: string;
  let tenantId: string;
  let replay: ReplayMarketData;
  let exchange: PaperExchange;

  beforeEach(async () => {
    test = await createTestDatabase('pglite');
    ({ tenantId, botId, replay, exchange } = await seedFastPaperBot(test.handle.db));
  });
  afterEach(async () => {
    await test.dispose();
  });

  const runner = () =>
    BotRunner.load(
      { db: test.handle.db, exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: () => false, retry: { attempts: 1, initialDelayMs: 1 } },
      botId,
    );
  const buys = async () =>
    (await test.handle.db.select().from(db.orders).where(eq(db.orders.botId, botId))).filter((o) => o.side === 'buy');

  it('a new version of the parameters is traded from the next tick, by the same runner; a rollback too', async () => {
    await test.handle.db.update(db.bots).set({ parameters: NEVER }).where(eq(db.bots.id, botId));
    const running = await runner();
    for (let i = 0; i < 6; i++) {
      replay.now += HOUR;
      await tickBots(test.handle.db, [running]);
    }
    expect(await buys()).toEqual([]);

    await changeBotParameters(test.handle.db, tenantScope(tenantId), { botId, parameters: AT_ONCE, reason: 'test', userId: null });
    replay.now += HOUR;
    const report = await running.tick();
    expect(report.ordersPlaced).toBe(1);
    const [bought] = await buys();
    expect(bought).toMatchObject({ status: 'filled', reason: 'entry' });
    // The position's stop is the new version's 10 %, not the old 3 %.
    const [position] = await test.handle.db.select().from(db.positions).where(eq(db.positions.botId, botId));
    expect(Number(position!.stopLossPriceQuote)).toBeCloseTo(Number(bought!.averagePriceQuote) * 0.9, 6);

    // Back to version 1 (NEVER): no entry after the position closes. RSI(2) above 2 exits it at once.
    await rollbackBotVersion(test.handle.db, tenantScope(tenantId), { botId, version: 1, userId: null });
    for (let i = 0; i < 6; i++) {
      replay.now += HOUR;
      await running.tick();
    }
    expect(await buys()).toHaveLength(1);
    expect(await test.handle.db.select().from(db.positions).where(eq(db.positions.botId, botId))).toEqual([]);
  });

  /** Three pairs on one choppy hourly market (each its own seed), for a bot trading all three. */
  function threePairs(): ReplayMarketData {
    const series = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'].map((symbol, k) => {
      const random = parkMiller(5 + k);
      let price = 100;
      const rows = Array.from({ length: 200 }, (_, i) => {
        const open = price;
        price *= 1 + (random() - 0.5) * 0.04;
        return [i * HOUR, open, Math.max(open, price) * 1.003, Math.min(open, price) * 0.997, price, 10];
      });
      return [symbol, candlesFromRows(rows)] as const;
    });
    return new ReplayMarketData(new Map(series), { barMs: HOUR, now: 40 * HOUR });
  }

  for (const cap of [2, null] as const) {
    it(`max open positions ${cap ?? 'unset'}: ${cap ? 'no new entry while the bot holds that many' : 'every pair entered'}`, async () => {
      const market = threePairs();
      // Entries at once, exits only by a 50 % target or a 10 % stop: what is entered stays held.
      const parameters = { ...AT_ONCE, rsiSell: 99.9 };
      await test.handle.db
        .update(db.bots)
        .set({ symbols: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'], parameters, maxOpenPositions: cap })
        .where(eq(db.bots.id, botId));
      const paper = new PaperExchange(test.handle.db, { botId, tenantId, market, timeframe: '1h' });
      const bot = await BotRunner.load(
        {
          db: test.handle.db,
          exchange: paper,
          limits: DEFAULT_RISK_LIMITS,
          killSwitch: () => false,
          retry: { attempts: 1, initialDelayMs: 1 },
        },
        botId,
      );
      const held: number[] = [];
      for (let i = 0; i < 4; i++) {
        market.now += HOUR;
        await bot.tick();
        held.push((await test.handle.db.select().from(db.positions).where(eq(db.positions.botId, botId))).length);
      }
      expect(held).toEqual(cap ? [2, 2, 2, 2] : [3, 3, 3, 3]);
      // Held back, not refused: no rejected order, no risk refusal to tell the trader about.
      const orders = await test.handle.db.select().from(db.orders).where(eq(db.orders.botId, botId));
      expect(orders.filter((o) => o.status !== 'filled')).toEqual([]);
    });
  }
});
