import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBotStart, currentPlan } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { tenantScope } from '../../db/index.ts';
import { BotControlError, killSwitchEngaged, startBot, stopBot, tradingVenue } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';

describe('starting bots: plan limits and live gating', () => {
  let test: TestDatabase;
  const free = crypto.randomUUID();
  const pro = crypto.randomUUID();

  async function trader(tenantId: string, planId: 'free' | 'pro' | null) {
    await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: `t-${planId}` });
    if (!planId) return;
    const customerId = crypto.randomUUID();
    await test.handle.db.insert(db.customers).values({ id: customerId, tenantId, email: `${tenantId}@example.com`, name: 'x' });
    const now = new Date();
    await test.handle.db.insert(db.subscriptions).values({
      tenantId,
      customerId,
      planId,
      status: 'active',
      amountCents: planId === 'pro' ? 9990 : 0,
      currentPeriodStart: now,
      currentPeriodEnd: now,
      startedAt: now,
    });
  }
  async function bot(tenantId: string, mode: 'paper' | 'live', symbols = ['BTC/USDT']) {
    const [row] = await test.handle.db
      .insert(db.bots)
      .values({ tenantId, name: 'b', strategyName: 'rsi', symbols, mode, stakeQuote: '100' })
      .returning();
    return row!;
  }

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await test.handle.db.insert(db.plans).values(
      (['free', 'pro', 'enterprise'] as const).map((id) => ({
        id,
        name: id,
        monthlyPriceCents: 0,
        yearlyPriceCents: 0,
        limits: { botsAllowed: 1, liveTradingAllowed: false, backtestsPerDay: 1, symbolsPerBot: 1, agentAccess: 'none' as const },
      })),
    );
    await trader(free, 'free');
    await trader(pro, 'pro');
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('reads the plan from the current subscription (Free without one)', async () => {
    expect((await currentPlan(test.handle.db, tenantScope(pro))).id).toBe('pro');
    const none = crypto.randomUUID();
    await trader(none, null);
    expect((await currentPlan(test.handle.db, tenantScope(none))).id).toBe('free');
  });

  it('refuses live trading on Free, naming the plan and the upgrade', async () => {
    const live = await bot(free, 'live');
    const decision = await checkBotStart(test.handle.db, tenantScope(free), live);
    expect(decision).toMatchObject({ allowed: false, upgradeTo: 'pro' });
    await expect(startBot(test.handle.db, tenantScope(free), live.id)).rejects.toThrow(
      /Live trading is not included in the Free plan; upgrade to Pro/,
    );
  });

  it('counts running bots against the plan', async () => {
    const first = await bot(free, 'paper');
    const second = await bot(free, 'paper');
    expect((await startBot(test.handle.db, tenantScope(free), first.id)).status).toBe('running');
    await expect(startBot(test.handle.db, tenantScope(free), second.id)).rejects.toThrow(
      /Free plan allows 1 running bot\(s\) and 1 already run; upgrade to Pro/,
    );
    await stopBot(test.handle.db, tenantScope(free), first.id);
    expect((await startBot(test.handle.db, tenantScope(free), second.id)).status).toBe('running');
  });

  it("never starts another trader's bot", async () => {
    const theirs = await bot(pro, 'paper');
    await expect(startBot(test.handle.db, tenantScope(free), theirs.id)).rejects.toBeInstanceOf(BotControlError);
  });

  it('sends live bots to the sandbox unless TRADING_MODE=live', () => {
    expect(tradingVenue('paper', 'live')).toBe('paper');
    expect(tradingVenue('live', 'paper')).toBe('sandbox');
    expect(tradingVenue('live', 'live')).toBe('live');
  });

  it('reads the kill switch from the environment or the configuration entry', async () => {
    expect(await killSwitchEngaged(test.handle.db, false)).toBe(false);
    expect(await killSwitchEngaged(test.handle.db, true)).toBe(true);
    await test.handle.db.insert(db.configEntries).values({ key: 'trading.kill_switch', value: true });
    expect(await killSwitchEngaged(test.handle.db, false)).toBe(true);
  });
});

describe('stored backtests', () => {
  it('keeps request and result together, visible only to their tenant', async () => {
    const { getStrategy, parseStrategyParameters, runBacktest, candlesFromRows, saveBacktest, getBacktest } = await import(
      '../../trading/index.ts'
    );
    const test = await createTestDatabase('pglite');
    try {
      const owner = crypto.randomUUID();
      const other = crypto.randomUUID();
      await test.handle.db.insert(db.tenants).values([
        { id: owner, kind: 'trader', name: 'a' },
        { id: other, kind: 'trader', name: 'b' },
      ]);
      const rows = Array.from({ length: 300 }, (_, i) => [
        i * 60_000,
        100 + Math.sin(i / 5) * 5,
        106,
        94,
        100 + Math.sin((i + 1) / 5) * 5,
        1,
      ]);
      const strategy = getStrategy('rsi-reference');
      const result = runBacktest(candlesFromRows(rows), strategy, parseStrategyParameters(strategy, {}));
      const id = await saveBacktest(test.handle.db, tenantScope(owner), {
        symbol: 'BTC/USDT',
        timeframe: '1m',
        feeRate: 0.001,
        result,
        elapsedMs: 1,
      });
      expect(result.trades).toBeGreaterThan(0);
      const stored = await getBacktest(test.handle.db, tenantScope(owner), id);
      expect(stored?.backtest).toMatchObject({ strategyName: 'rsi-reference', status: 'succeeded', symbol: 'BTC/USDT' });
      expect(stored?.result).toMatchObject({ closedTrades: result.trades, candles: 300 });
      expect(Number(stored!.result!.finalEquityQuote)).toBeCloseTo(result.finalEquity, 8);
      expect(stored!.result!.tradeList).toHaveLength(result.trades);
      expect(await getBacktest(test.handle.db, tenantScope(other), id)).toBeUndefined();
    } finally {
      await test.dispose();
    }
  });
});

describe('the exchange a bot trades on', () => {
  it('paper for paper bots, sandbox for live bots unless TRADING_MODE=live, keys decrypted only for ccxt', async () => {
    const { exchangeForBot, PaperExchange, CcxtExchange } = await import('../../trading/index.ts');
    const { createSecretBox } = await import('../../secrets/index.ts');
    const test = await createTestDatabase('pglite');
    try {
      const box = createSecretBox(crypto.randomBytes(32));
      const tenantId = crypto.randomUUID();
      await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'a' });
      const [account] = await test.handle.db
        .insert(db.exchangeAccounts)
        .values({
          tenantId,
          label: 'main',
          apiKeyEncrypted: box.seal('KEY1234', `exchange_accounts:${tenantId}:api_key`),
          apiSecretEncrypted: box.seal('SECRET', `exchange_accounts:${tenantId}:api_secret`),
          apiKeyLast4: '1234',
          sandbox: false,
        })
        .returning();
      const [paperBot] = await test.handle.db
        .insert(db.bots)
        .values({ tenantId, name: 'p', strategyName: 'rsi', symbols: ['BTC/USDT'], stakeQuote: '1' })
        .returning();
      const [liveBot] = await test.handle.db
        .insert(db.bots)
        .values({
          tenantId,
          name: 'l',
          strategyName: 'rsi',
          symbols: ['BTC/USDT'],
          stakeQuote: '1',
          mode: 'live',
          exchangeAccountId: account!.id,
        })
        .returning();
      expect(await exchangeForBot(test.handle.db, paperBot!, { tradingMode: 'live', secretBox: box })).toBeInstanceOf(PaperExchange);
      const sandbox = await exchangeForBot(test.handle.db, liveBot!, { tradingMode: 'paper', secretBox: box });
      expect(sandbox).toBeInstanceOf(CcxtExchange);
      expect(sandbox.live).toBe(false);
      expect((await exchangeForBot(test.handle.db, liveBot!, { tradingMode: 'live', secretBox: box })).live).toBe(true);
      await expect(
        exchangeForBot(test.handle.db, liveBot!, { tradingMode: 'live', secretBox: createSecretBox(crypto.randomBytes(32)) }),
      ).rejects.toThrow(/Cannot decrypt/);
      await test.handle.db.update(db.exchangeAccounts).set({ status: 'frozen' });
      await expect(exchangeForBot(test.handle.db, liveBot!, { tradingMode: 'live', secretBox: box })).rejects.toThrow(/is frozen/);
    } finally {
      await test.dispose();
    }
  });
});

describe('backtests per day', () => {
  it('counts today’s backtests against the plan and names the upgrade', async () => {
    const { checkBacktestQuota } = await import('../../billing/index.ts');
    const test = await createTestDatabase('pglite');
    try {
      const tenantId = crypto.randomUUID();
      await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name: 'a' });
      const run = () =>
        test.handle.db
          .insert(db.backtests)
          .values({ tenantId, strategyName: 'rsi', symbol: 'BTC/USDT', timeframe: '1h', feeRate: '0.001', startingCashQuote: '10000' });
      for (let i = 0; i < 4; i++) await run();
      expect(await checkBacktestQuota(test.handle.db, tenantScope(tenantId))).toEqual({ allowed: true });
      await run();
      expect(await checkBacktestQuota(test.handle.db, tenantScope(tenantId))).toMatchObject({
        allowed: false,
        upgradeTo: 'pro',
        reason: expect.stringContaining('Free plan allows 5 backtests a day'),
      });
      expect(await checkBacktestQuota(test.handle.db, tenantScope(tenantId), new Date(Date.now() + 86_400_000))).toEqual({ allowed: true });
    } finally {
      await test.dispose();
    }
  });
});
