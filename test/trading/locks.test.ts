import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import {
  BotRunner,
  DEFAULT_RISK_LIMITS,
  lockPair,
  STOP_LOSS_COOLDOWN_REASON,
  unlockPairs,
  type BotEvent,
  type BotRunnerDeps,
  type PaperExchange,
  type ReplayMarketData,
} from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedFastPaperBot } from '../support/paper-bots.ts';
import { HOUR } from '../support/synthetic-market.ts';

// freqtrade's pair locks in the runner: a locked pair opens nothing until the lock ends (or is
// lifted), exits still run, and a stop loss locks its pair for the cooldown the risk limits set.
// The clock is the replayed market's: no test waits on real time.

describe('pair locks in the bot runner', () => {
  let test: TestDatabase;
  let botId: string;
  let tenantId: string;
  let replay: ReplayMarketData;
  let exchange: PaperExchange;
  let events: BotEvent[];

  beforeEach(async () => {
    test = await createTestDatabase('pglite');
    ({ tenantId, botId, replay, exchange } = await seedFastPaperBot(test.handle.db));
    events = [];
  });
  afterEach(async () => {
    await test.dispose();
  });

  const deps = (overrides: Partial<BotRunnerDeps> = {}): BotRunnerDeps => ({
    db: test.handle.db,
    exchange,
    limits: { ...DEFAULT_RISK_LIMITS, maxDailyLossPctPerBot: 100, maxDailyLossQuotePerTenant: 1e12 },
    killSwitch: () => false,
    onEvent: (event) => events.push(event),
    retry: { attempts: 1, initialDelayMs: 1 },
    now: () => new Date(replay.now),
    ...overrides,
  });

  const buys = () => test.handle.db.$count(db.orders, and(eq(db.orders.botId, botId), eq(db.orders.side, 'buy')));
  const sells = () => test.handle.db.$count(db.orders, and(eq(db.orders.botId, botId), eq(db.orders.side, 'sell')));
  const hasPosition = async () => (await test.handle.db.$count(db.positions, eq(db.positions.botId, botId))) > 0;

  /** Ticks bar by bar; the entries the locks held back, summed. */
  async function run(runner: BotRunner, bars: number): Promise<number> {
    let held = 0;
    for (let i = 0; i < bars; i++) {
      replay.now += HOUR;
      held += (await runner.tick()).entriesHeldLocked;
    }
    return held;
  }

  const lock = (hours: number, extra: { botId?: string | null; symbol?: string } = {}) =>
    lockPair(test.handle.db, {
      tenantId,
      botId: extra.botId === undefined ? botId : extra.botId,
      symbol: extra.symbol ?? 'BTC/USDT',
      until: new Date(replay.now + hours * HOUR),
      reason: 'test',
      createdByUserId: null,
      now: new Date(replay.now),
    });

  it('a locked pair opens nothing while the lock holds, and trades again once it expired', async () => {
    await lock(60);
    const runner = await BotRunner.load(deps(), botId);
    const held = await run(runner, 59);
    expect(await buys()).toBe(0);
    expect(held).toBeGreaterThan(0); // the strategy wanted in, and was held back
    await run(runner, 60);
    expect(await buys()).toBeGreaterThan(0);
  });

  it('a lock on every pair of every bot (`*`, no bot) holds entries too; a lifted lock does not', async () => {
    await lock(500, { botId: null, symbol: '*' });
    const runner = await BotRunner.load(deps(), botId);
    expect(await run(runner, 40)).toBeGreaterThan(0);
    expect(await buys()).toBe(0);
    const lifted = await unlockPairs(test.handle.db, tenantId, { symbol: '*' }, { userId: null, now: new Date(replay.now) });
    expect(lifted).toHaveLength(1);
    await run(runner, 60);
    expect(await buys()).toBeGreaterThan(0);
  });

  it('exits still run on a locked pair: the open position closes, and nothing opens after it', async () => {
    const runner = await BotRunner.load(deps(), botId);
    for (let i = 0; i < 200 && !(await hasPosition()); i++) await run(runner, 1);
    expect(await hasPosition()).toBe(true);
    const buysBefore = await buys();
    await lock(500);
    for (let i = 0; i < 200 && (await hasPosition()); i++) await run(runner, 1);
    expect(await hasPosition()).toBe(false);
    expect(await sells()).toBeGreaterThan(0);
    expect(await run(runner, 60)).toBeGreaterThan(0);
    expect(await buys()).toBe(buysBefore);
  });

  it('a stop loss locks its pair for the cooldown of the risk limits (the engine lock), and entries resume after it', async () => {
    const cooldownMinutes = 5 * 60;
    const runner = await BotRunner.load(deps({ limits: { ...deps().limits, stopLossCooldownMinutes: cooldownMinutes } }), botId);
    /** Replay time of each tick that placed a buy. */
    const boughtAt: number[] = [];
    let stoppedAt: number | undefined;
    for (let i = 0; i < 500; i++) {
      replay.now += HOUR;
      const before = await buys();
      const seen = events.length;
      await runner.tick();
      if ((await buys()) > before) boughtAt.push(replay.now);
      if (stoppedAt === undefined && events.slice(seen).some((e) => e.type === 'trade_closed' && e.reason === 'stop_loss'))
        stoppedAt = replay.now;
      if (stoppedAt !== undefined && replay.now > stoppedAt + cooldownMinutes * 60_000 + 100 * HOUR) break;
    }
    expect(stoppedAt, 'the synthetic market hits a 3 % stop within 500 bars').toBeDefined();
    const locks = await test.handle.db.select().from(db.pairLocks).where(eq(db.pairLocks.botId, botId));
    const cooldown = locks.find((l) => l.lockedAt.getTime() === stoppedAt);
    expect(cooldown).toMatchObject({ symbol: 'BTC/USDT', reason: STOP_LOSS_COOLDOWN_REASON, createdByUserId: null, unlockedAt: null });
    expect(cooldown!.lockedUntil.getTime()).toBe(stoppedAt! + cooldownMinutes * 60_000);
    expect(boughtAt.filter((t) => t > stoppedAt! && t < cooldown!.lockedUntil.getTime())).toEqual([]);
    expect(boughtAt.some((t) => t >= cooldown!.lockedUntil.getTime())).toBe(true);
  });

  it('without a cooldown in the risk limits, a stop loss locks nothing', async () => {
    const runner = await BotRunner.load(deps(), botId);
    await run(runner, 300);
    const [stop] = await test.handle.db
      .select()
      .from(db.trades)
      .where(and(eq(db.trades.botId, botId), eq(db.trades.exitReason, 'stop_loss')));
    expect(stop).toBeDefined();
    expect(await test.handle.db.$count(db.pairLocks)).toBe(0);
  });
});
