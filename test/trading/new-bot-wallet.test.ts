import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { tenantScope } from '../../db/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext, type ToolOutcome } from '../../tools/index.ts';
import { BotRunner, createBot, DEFAULT_RISK_LIMITS, PaperExchange, type BotEvent } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { HOUR, syntheticMarket } from '../support/synthetic-market.ts';

// A paper bot a trader creates trades its stake of virtual money (issue 23): created through
// the product (create_bot, which `botcriptofy bots create` and the doors call; the onboarding
// workflow goes through the same trading/createBot), it gets its paper wallet — its stake in
// its quote currency, exactly, in the bot's own transaction — so its first entry signal opens a
// position instead of being sized to nothing and refused by the risk gate. A live bot trades
// its exchange account and gets no paper wallet.

function resultOf<T>(outcome: ToolOutcome): T {
  if (!outcome.ok || !('result' in outcome)) throw new Error(`expected a result: ${JSON.stringify(outcome)}`);
  return outcome.result as T;
}

describe('a paper bot created through the product', () => {
  let test: TestDatabase;
  let trader: Actor;
  let tenantId: string;
  const now = new Date('2026-11-01T12:00:00Z');
  const ctx = (): ToolContext => ({
    db: test.handle.db,
    actor: trader,
    billing: new BillingService(test.handle.db, undefined),
    now: () => now,
  });
  const walletOf = (botId: string) =>
    test.handle.db
      .select({ asset: db.paperBalances.asset, amount: db.paperBalances.amount })
      .from(db.paperBalances)
      .where(eq(db.paperBalances.botId, botId))
      .orderBy(db.paperBalances.asset);

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    const x = test.handle.db;
    tenantId = crypto.randomUUID();
    await x.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'Rita' });
    const [user] = await x.insert(db.users).values({ tenantId, email: 'rita@example.com', name: 'Rita', locale: 'pt-BR' }).returning();
    await x
      .insert(db.exchangeAccounts)
      .values({ tenantId, label: 'binance', apiKeyEncrypted: 'x', apiSecretEncrypted: 'y', apiKeyLast4: '9f2c', sandbox: true });
    trader = { kind: 'trader', userId: user!.id, tenantId, name: 'Rita' };
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('has its stake in its paper wallet, exactly, and its first entry signal opens a position', async () => {
    const x = test.handle.db;
    const { bot } = resultOf<{ bot: { id: string; mode: string; status: string } }>(
      await invokeTool(TOOLS, ctx(), 'create_bot', {
        name: 'RSI rápido',
        strategy: 'rsi',
        parameters: { rsiPeriod: 2, rsiBuy: 30, rsiSell: 70 },
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        stakeQuote: 1234.56789012,
      }),
    );
    expect(bot).toMatchObject({ mode: 'paper', status: 'stopped' });
    // The stake to the last place, as the wallet keeps it (numeric), not a float near it.
    expect(await walletOf(bot.id)).toEqual([{ asset: 'USDT', amount: '1234.56789012' }]);
    const [row] = await x.select().from(db.bots).where(eq(db.bots.id, bot.id));
    expect(row).toMatchObject({ stakeQuote: '1234.56789012', paperBalanceQuote: '1234.56789012' });

    expect(resultOf<{ status: string }>(await invokeTool(TOOLS, ctx(), 'start_bot', { botId: bot.id }))).toMatchObject({
      status: 'running',
    });
    // As a worker runs it: the paper exchange over a replayed market, the default risk limits.
    const replay = syntheticMarket();
    const events: BotEvent[] = [];
    const runner = await BotRunner.load(
      {
        db: x,
        exchange: new PaperExchange(x, { botId: bot.id, tenantId, market: replay, timeframe: '1h' }),
        limits: DEFAULT_RISK_LIMITS,
        killSwitch: () => false,
        onEvent: (event) => events.push(event),
        retry: { attempts: 1, initialDelayMs: 1 },
      },
      bot.id,
    );
    let placed = 0;
    for (let bar = 0; bar < 48 && placed === 0; bar++) {
      replay.now += HOUR;
      placed = (await runner.tick()).ordersPlaced;
    }
    // The first entry signal became an order the gate let through, and it filled.
    expect(events.filter((e) => e.type === 'risk_refusal')).toEqual([]);
    const sent = await x.select().from(db.orders).where(eq(db.orders.botId, bot.id));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ side: 'buy', reason: 'entry', status: 'filled' });
    const price = Number(sent[0]!.averagePriceQuote);
    // Sized as the runner sizes entries: 95 % of the stake at the last close (and the market's step).
    expect(Number(sent[0]!.filledBase) * price).toBeGreaterThan(0.95 * 1234.56789012 * 0.99);
    const positions = await x.select().from(db.positions).where(eq(db.positions.botId, bot.id));
    expect(positions).toMatchObject([{ symbol: 'BTC/USDT', amountBase: sent[0]!.filledBase }]);
    // The wallet paid for it: the coins in it, the stake less the cost and the fee beside them.
    const wallet = Object.fromEntries((await walletOf(bot.id)).map((w) => [w.asset, Number(w.amount)]));
    expect(wallet['BTC']).toBe(Number(sent[0]!.filledBase));
    expect(wallet['USDT']).toBeCloseTo(1234.56789012 - Number(sent[0]!.filledBase) * price - Number(sent[0]!.feeQuote), 6);
    expect(wallet['USDT']).toBeGreaterThan(0);
  });

  it('is funded once however often its creation is asked for (a workflow step run again)', async () => {
    const x = test.handle.db;
    const id = crypto.randomUUID();
    const values = {
      id,
      name: 'onboarded',
      strategyName: 'rsi',
      parameters: {},
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      mode: 'paper' as const,
      stakeQuote: '500',
      exchangeAccountId: null,
    };
    expect(await createBot(x, tenantScope(tenantId), values)).toMatchObject({ created: true, bot: { id, status: 'stopped' } });
    expect(await createBot(x, tenantScope(tenantId), values)).toMatchObject({ created: false, bot: { id } });
    expect(await walletOf(id)).toEqual([{ asset: 'USDT', amount: '500' }]);
    // Its id in another account is not this account's bot: refused, and nothing is funded.
    const other = crypto.randomUUID();
    await x.insert(db.tenants).values({ id: other, kind: 'trader', name: 'Other' });
    await expect(createBot(x, tenantScope(other), values)).rejects.toThrow(/exists in another account/);
    expect(await walletOf(id)).toEqual([{ asset: 'USDT', amount: '500' }]);
  });

  it('gives a live bot no paper wallet: it trades its exchange account', async () => {
    const { bot } = resultOf<{ bot: { id: string; mode: string } }>(
      await invokeTool(TOOLS, ctx(), 'create_bot', {
        name: 'live',
        strategy: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        stakeQuote: 300,
        mode: 'live',
      }),
    );
    expect(bot.mode).toBe('live');
    expect(await walletOf(bot.id)).toEqual([]);
    const [row] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, bot.id));
    expect(row!.paperBalanceQuote).toBeNull();
  });

  it("keeps the trader's cap on open positions as the bot's setting, shown in its details (none given: null, the operator's limit alone)", async () => {
    const create = (name: string, extra: Record<string, unknown>) =>
      invokeTool(TOOLS, ctx(), 'create_bot', { name, strategy: 'rsi', symbols: ['BTC/USDT', 'ETH/USDT'], stakeQuote: 100, ...extra });
    const capped = resultOf<{ bot: { id: string; maxOpenPositions: number | null } }>(
      await create('Um no máximo', { maxOpenPositions: 1 }),
    );
    expect(capped.bot.maxOpenPositions).toBe(1);
    const details = resultOf<{ bot: { maxOpenPositions: number | null } }>(
      await invokeTool(TOOLS, ctx(), 'bot_details', { botId: capped.bot.id }),
    );
    expect(details.bot.maxOpenPositions).toBe(1);
    const free = resultOf<{ bot: { maxOpenPositions: number | null } }>(await create('Sem limite próprio', {}));
    expect(free.bot.maxOpenPositions).toBeNull();
    expect(await create('Zero', { maxOpenPositions: 0 })).toMatchObject({ ok: false });
  });
});
