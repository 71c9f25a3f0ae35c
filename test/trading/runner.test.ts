import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { queryRows } from '../../db/index.ts';
import {
  BotRunner,
  DEFAULT_RISK_LIMITS,
  ExchangeUnavailableError,
  PaperExchange,
  type ReplayMarketData,
  tickBots,
  type BotEvent,
  type BotRunnerDeps,
  type Exchange,
} from '../../trading/index.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, realPostgresAvailable, type TestDatabase } from '../support/databases.ts';

import { seedFastPaperBot } from '../support/paper-bots.ts';
import { HOUR, syntheticMarket as market } from '../support/synthetic-market.ts';
import { parkMiller } from '../support/random.ts';

describe('paper bot runner', () => {
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
    limits: DEFAULT_RISK_LIMITS,
    killSwitch: () => false,
    onEvent: (event) => events.push(event),
    retry: { attempts: 3, initialDelayMs: 1 },
    ...overrides,
  });

  async function run(runner: BotRunner, bars: number): Promise<void> {
    for (let i = 0; i < bars; i++) {
      replay.now += HOUR;
      await runner.tick();
    }
  }

  /** The books must agree: bot records vs. the paper exchange's own book and wallet. */
  async function expectConsistent(): Promise<{ filled: number }> {
    const ours = await test.handle.db.select().from(db.orders).where(eq(db.orders.botId, botId));
    const theirs = await test.handle.db.select().from(db.paperOrders).where(eq(db.paperOrders.botId, botId));
    // Every order the exchange has is ours, once; no id was sent twice.
    expect(new Set(theirs.map((o) => o.clientOrderId)).size).toBe(theirs.length);
    for (const order of theirs) expect(ours.filter((o) => o.clientOrderId === order.clientOrderId)).toHaveLength(1);
    const filled = ours.filter((o) => o.status === 'filled');
    for (const order of filled) {
      const twin = theirs.find((o) => o.clientOrderId === order.clientOrderId)!;
      expect(twin.status).toBe('filled');
      expect(Number(order.averagePriceQuote)).toBe(Number(twin.averagePriceQuote));
    }
    // Position = bought − sold.
    const net = filled.reduce((sum, o) => sum + (o.side === 'buy' ? 1 : -1) * Number(o.filledBase), 0);
    const position = await test.handle.db.select().from(db.positions).where(eq(db.positions.botId, botId));
    expect(position.length ? Number(position[0]!.amountBase) : 0).toBeCloseTo(net, 9);
    // Wallet = deposit − buys − fees + sells.
    const cash = filled.reduce((sum, o) => {
      const notional = Number(o.filledBase) * Number(o.averagePriceQuote);
      return sum + (o.side === 'buy' ? -notional : notional) - Number(o.feeQuote);
    }, 1000);
    expect((await exchange.balances())['USDT']).toBeCloseTo(cash, 6);
    // One trade per entry; closed trades = filled sells.
    const tradeRows = await test.handle.db.select().from(db.trades).where(eq(db.trades.botId, botId));
    expect(tradeRows).toHaveLength(filled.filter((o) => o.side === 'buy').length);
    expect(tradeRows.filter((t) => t.status === 'closed')).toHaveLength(filled.filter((o) => o.side === 'sell').length);
    return { filled: filled.length };
  }

  it('trades on paper, keeping the bot records and the paper account in agreement', async () => {
    const runner = await BotRunner.load(deps(), botId);
    await run(runner, 150);
    const { filled } = await expectConsistent();
    expect(filled).toBeGreaterThan(10);
    expect(events.some((e) => e.type === 'trade_opened')).toBe(true);
    expect(events.some((e) => e.type === 'trade_closed')).toBe(true);
    const [bot] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, botId));
    expect(bot!.lastTickAt).not.toBeNull();
  });

  it('a repeated tick on the same candle places nothing twice', async () => {
    const runner = await BotRunner.load(deps(), botId);
    await run(runner, 60);
    const before = await test.handle.db.$count(db.orders);
    await runner.tick();
    await (await BotRunner.load(deps(), botId)).tick(); // a restarted process, same candle
    expect(await test.handle.db.$count(db.orders)).toBe(before);
    await expectConsistent();
  });

  it.each(['afterOrderRecorded', 'afterOrderPlaced'] as const)(
    'survives a crash %s: no duplicate order, positions consistent after restart',
    async (point) => {
      let armed = true;
      const crashing = await BotRunner.load(
        deps({
          crashPoints: {
            [point]: () => {
              if (armed) {
                armed = false;
                throw new Error('process killed');
              }
            },
          },
        }),
        botId,
      );
      let crashed = false;
      for (let i = 0; i < 120 && !crashed; i++) {
        replay.now += HOUR;
        await crashing.tick().catch((error: Error) => {
          expect(error.message).toBe('process killed');
          crashed = true;
        });
      }
      expect(crashed).toBe(true);
      const [stuck] = await test.handle.db
        .select()
        .from(db.orders)
        .where(and(eq(db.orders.botId, botId), eq(db.orders.status, 'new')));
      expect(stuck).toBeDefined(); // the crash left an order half-done

      const restarted = await BotRunner.load(deps(), botId);
      await restarted.tick(); // same candle: reconcile, and do not act twice
      const [after] = await test.handle.db.select().from(db.orders).where(eq(db.orders.id, stuck!.id));
      expect(after!.status).toBe(point === 'afterOrderPlaced' ? 'filled' : 'canceled');
      await run(restarted, 60);
      await expectConsistent();
    },
  );

  it('retries a flaky exchange, then pauses the bot with the reason and loses nothing', async () => {
    let failures = 2;
    const flaky: Exchange = Object.create(exchange) as Exchange;
    flaky.placeOrder = async (request) => {
      if (failures-- > 0) throw new ExchangeUnavailableError('binance: RequestTimeout');
      return exchange.placeOrder(request);
    };
    const runner = await BotRunner.load(deps({ exchange: flaky }), botId);
    await run(runner, 80);
    expect(failures).toBeLessThan(0); // both failures were absorbed by retries
    await expectConsistent();

    flaky.placeOrder = async () => {
      throw new ExchangeUnavailableError('binance: ECONNRESET');
    };
    let failed = false;
    for (let i = 0; i < 100 && !failed; i++) {
      replay.now += HOUR;
      await runner.tick().catch(() => (failed = true));
    }
    expect(failed).toBe(true);
    const [bot] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, botId));
    expect(bot).toMatchObject({ status: 'paused' });
    expect(bot!.lastError).toContain('ECONNRESET');
    expect(events.some((e) => e.type === 'bot_paused')).toBe(true);
    // The unsent order is reconciled on the next tick of a resumed bot.
    await test.handle.db.update(db.bots).set({ status: 'running' }).where(eq(db.bots.id, botId));
    await (await BotRunner.load(deps(), botId)).tick();
    expect(await test.handle.db.$count(db.orders, eq(db.orders.status, 'new'))).toBe(0);
    await expectConsistent();
  });

  it('refuses entries on the kill switch, records and audits the refusal', async () => {
    const runner = await BotRunner.load(deps({ killSwitch: () => true }), botId);
    await run(runner, 80);
    const refused = await test.handle.db.select().from(db.orders).where(eq(db.orders.status, 'rejected'));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.rejectReason).toMatch(/^kill_switch/);
    expect(await test.handle.db.$count(db.orders, eq(db.orders.status, 'filled'))).toBe(0);
    const audited = await queryRows<{ n: number }>(
      test.handle.db,
      sql`select count(*)::int as n from audit_log where action = 'risk.refused'`,
    );
    expect(audited[0]!.n).toBe(refused.length);
    expect(events.filter((e) => e.type === 'risk_refusal')).toHaveLength(refused.length);
  });

  it('pauses the bot when its daily loss limit is reached', async () => {
    const runner = await BotRunner.load(deps({ limits: { ...DEFAULT_RISK_LIMITS, maxDailyLossPctPerBot: 0.01 } }), botId);
    await test.handle.db.insert(db.trades).values({
      tenantId,
      botId,
      symbol: 'BTC/USDT',
      status: 'closed',
      amountBase: '1',
      openPriceQuote: '100',
      closePriceQuote: '99',
      profitQuote: '-1',
      openedAt: new Date(),
      closedAt: new Date(),
    });
    await run(runner, 80);
    const [bot] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, botId));
    expect(bot!.status).toBe('paused');
    expect(bot!.lastError).toContain('risk limit');
  });

  it('paper exchange: idempotent market orders, limit orders that fill when price crosses, refusals when the wallet is short', async () => {
    const price = await replay.lastPrice('BTC/USDT');
    const buy = { clientOrderId: 'paper-1', symbol: 'BTC/USDT', side: 'buy' as const, type: 'market' as const, amountBase: 1 };
    const first = await exchange.placeOrder(buy);
    expect(first).toMatchObject({ status: 'filled', filledBase: 1 });
    expect(first.averagePriceQuote).toBeCloseTo(price * 1.0005, 9); // default slippage 0.05 %
    expect((await exchange.placeOrder(buy)).exchangeOrderId).toBe(first.exchangeOrderId);
    const wallet = await exchange.balances();
    expect(wallet['BTC']).toBe(1);
    expect(wallet['USDT']).toBeCloseTo(1000 - first.averagePriceQuote! * 1.001, 9);

    const limit = await exchange.placeOrder({
      clientOrderId: 'paper-2',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'limit',
      amountBase: 0.5,
      limitPriceQuote: price * 1.02,
    });
    expect(limit.status).toBe('open');
    let filled: Awaited<ReturnType<typeof exchange.matchLimitOrders>> = [];
    for (let i = 0; i < 100 && filled.length === 0; i++) {
      replay.now += HOUR;
      filled = await exchange.matchLimitOrders('BTC/USDT');
    }
    expect(filled[0]).toMatchObject({ clientOrderId: 'paper-2', status: 'filled' });
    expect(filled[0]!.averagePriceQuote).toBeCloseTo(price * 1.02, 9);
    expect((await exchange.balances())['BTC']).toBeCloseTo(0.5, 12);

    const tooBig = await exchange.placeOrder({
      clientOrderId: 'paper-3',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      amountBase: 1000,
    });
    expect(tooBig.status).toBe('rejected');
    expect(tooBig.rejectReason).toMatch(/insufficient USDT/);
  });

  it('ticks many bots in one pass; a failing bot does not stop the others', async () => {
    const second = crypto.randomUUID();
    await test.handle.db.insert(db.bots).values({
      id: second,
      tenantId,
      name: 'broken',
      strategyName: 'rsi',
      symbols: ['DOGE/USDT'],
      timeframe: '1h',
      status: 'running',
      stakeQuote: '10',
    });
    const runners = [await BotRunner.load(deps(), botId), await BotRunner.load(deps(), second)];
    replay.now += HOUR;
    const report = await tickBots(test.handle.db, runners);
    expect(report.ticked).toBe(1);
    expect(report.failed.map((f) => f.botId)).toEqual([second]);
    expect(report.failed[0]!.error.message).toContain('DOGE/USDT');
    const [ticked] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, botId));
    expect(ticked!.lastTickAt).not.toBeNull();
  });
});

describe.skipIf(!realPostgresAvailable)('paper bot runner killed with SIGKILL mid-tick (real PostgreSQL)', () => {
  it('restarts with no duplicate order and consistent books, kill after kill', async () => {
    const test = await createTestDatabase('postgres');
    try {
      const tenantId = crypto.randomUUID();
      const botId = crypto.randomUUID();
      await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Trader' });
      await test.handle.db.insert(db.bots).values({
        id: botId,
        tenantId,
        name: 'rsi fast',
        strategyName: 'rsi',
        parameters: { rsiPeriod: 2, rsiBuy: 30, rsiSell: 70 },
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        status: 'running',
        stakeQuote: '1000',
      });
      await new PaperExchange(test.handle.db, { botId, tenantId, market: market(), timeframe: '1h' }).deposit('USDT', 1000);
      let bar = 40;
      const random = parkMiller(11);
      for (let round = 0; round < 6; round++) {
        const child = spawn(process.execPath, [fileURLToPath(new URL('../support/runner-child.ts', import.meta.url))], {
          env: { PATH: process.env.PATH, DATABASE_URL: test.url!, BOT_ID: botId, TENANT_ID: tenantId, START_BAR: String(bar) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        // Let it run a little, then kill it at an arbitrary moment inside whatever it is doing.
        await new Promise<void>((resolve, reject) => {
          let seen = 0;
          child.stdout.on('data', (chunk: Buffer) => {
            for (const line of chunk.toString().split('\n')) {
              const match = /^bar (\d+)$/.exec(line);
              if (!match) continue;
              bar = Number(match[1]) + 1;
              if (++seen === 8) setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * 15));
            }
          });
          child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
        });
      }
      const ours = await test.handle.db.select().from(db.orders).where(eq(db.orders.botId, botId));
      const theirs = await test.handle.db.select().from(db.paperOrders).where(eq(db.paperOrders.botId, botId));
      expect(new Set(theirs.map((o) => o.clientOrderId)).size).toBe(theirs.length);
      // A last clean run reconciles whatever the final kill left behind.
      const replay = market(bar);
      const exchange = new PaperExchange(test.handle.db, { botId, tenantId, market: replay, timeframe: '1h' });
      await (await BotRunner.load({ db: test.handle.db, exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: () => false }, botId)).tick();
      const settled = await test.handle.db.select().from(db.orders).where(eq(db.orders.botId, botId));
      expect(settled.filter((o) => o.status === 'new')).toHaveLength(0);
      for (const order of theirs) expect(settled.filter((o) => o.clientOrderId === order.clientOrderId)).toHaveLength(1);
      const filled = settled.filter((o) => o.status === 'filled');
      expect(filled.length).toBeGreaterThan(4);
      const net = filled.reduce((sum, o) => sum + (o.side === 'buy' ? 1 : -1) * Number(o.filledBase), 0);
      const position = await test.handle.db.select().from(db.positions).where(eq(db.positions.botId, botId));
      expect(position.length ? Number(position[0]!.amountBase) : 0).toBeCloseTo(net, 9);
      const cash = filled.reduce(
        (sum, o) => sum + (o.side === 'buy' ? -1 : 1) * Number(o.filledBase) * Number(o.averagePriceQuote) - Number(o.feeQuote),
        1000,
      );
      expect((await exchange.balances())['USDT']).toBeCloseTo(cash, 6);
      expect(ours.length).toBeLessThanOrEqual(settled.length);
    } finally {
      await test.dispose();
    }
    // Six child processes each load the runner afresh: 52.7 s at load 13, so the default 60 s leaves too little.
  }, 180_000);
});
