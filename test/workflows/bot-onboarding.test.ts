import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { listStaff, queryRows } from '../../db/index.ts';
import { decideApproval, TOOLS, type Actor } from '../../tools/index.ts';
import { bundledCandles, upsertCandles } from '../../trading/index.ts';
import { BOT_ONBOARDING, onboardBot, recoverInterruptedRuns, resumeDecidedOnboardings } from '../../workflows/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { NOW, recordSnapshots, rewindBefore, seedDemo, silentLogger, workflowRuntime } from '../support/workflow-fixture.ts';

// Bot onboarding end to end on the demo company, backtesting on the candles that ship in
// candles/ (the newest 60 days kept in the candle cache: real BTC/USDT, ETH generated from it).

function tailCandles(symbol: string, rows: number): number[][] {
  const series = bundledCandles(symbol, '1h')!;
  return Array.from({ length: rows }, (_, k) => series.length - rows + k).map((i) => [
    series.time[i]!,
    series.open[i]!,
    series.high[i]!,
    series.low[i]!,
    series.close[i]!,
    series.volume[i]!,
  ]);
}

describe('bot-onboarding workflow', () => {
  let test: TestDatabase;
  let securityHead: Actor;
  const clock = { now: NOW };
  const deps = () => ({ db: test.handle.db, now: () => clock.now, logger: silentLogger });

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemo(test.handle.db);
    await upsertCandles(test.handle.db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, tailCandles('BTC/USDT', 24 * 60));
    await upsertCandles(test.handle.db, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }, tailCandles('ETH/USDT', 24 * 60));
    const head = (await listStaff(test.handle.db)).find((s) => s.department === 'security' && s.role === 'head')!;
    const [row] = await test.handle.db.select().from(db.staff).where(eq(db.staff.id, head.staffId));
    securityHead = {
      kind: 'staff',
      userId: head.userId,
      staffId: head.staffId,
      tenantId: row!.tenantId,
      department: 'security',
      role: 'head',
      name: head.name,
    };
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  /** A trader on `plan` (with an active exchange key when asked). */
  async function trader(name: string, plan: 'free' | 'pro', withKey = false) {
    const x = test.handle.db;
    const tenantId = crypto.randomUUID();
    await x.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
    await x.insert(db.users).values({ tenantId, email: `${name}@example.com`, name, locale: 'pt-BR' });
    const [customer] = await x
      .insert(db.customers)
      .values({ tenantId, email: `${name}@example.com`, name })
      .returning();
    if (plan === 'pro') {
      await x.insert(db.subscriptions).values({
        tenantId,
        customerId: customer!.id,
        planId: 'pro',
        interval: 'month',
        status: 'active',
        amountCents: 9_990,
        currentPeriodStart: new Date(NOW.getTime() - 86_400_000),
        currentPeriodEnd: new Date(NOW.getTime() + 29 * 86_400_000),
        startedAt: new Date(NOW.getTime() - 86_400_000),
      });
    }
    if (withKey)
      await x
        .insert(db.exchangeAccounts)
        .values({ tenantId, label: 'binance', apiKeyEncrypted: 'x', apiSecretEncrypted: 'y', apiKeyLast4: '9f2c', sandbox: false });
    return { tenantId, email: `${name}@example.com` };
  }
  const request = (email: string, requestId: string, extra: Record<string, unknown> = {}) => ({
    requestId,
    email,
    name: 'RSI BTC',
    strategy: 'rsi',
    symbols: ['BTC/USDT'],
    timeframe: '1h' as const,
    stakeQuote: 500,
    backtestDays: 30,
    ...extra,
  });
  const botsOf = (tenantId: string) => test.handle.db.select().from(db.bots).where(eq(db.bots.tenantId, tenantId));
  const messages = (tenantId: string) =>
    queryRows<{ payload: { text: string } }>(
      test.handle.db,
      sql`select payload from notifications where tenant_id = ${tenantId} and type = 'message'`,
    );
  const backtestCount = (tenantId: string) => test.handle.db.$count(db.backtests, eq(db.backtests.tenantId, tenantId));
  const walletOf = (botId: string) =>
    test.handle.db
      .select({ asset: db.paperBalances.asset, amount: db.paperBalances.amount })
      .from(db.paperBalances)
      .where(eq(db.paperBalances.botId, botId));

  it('paper: backtested on recent candles, reviewed, approved at once, started; asking again changes nothing', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    const ines = await trader('ines', 'free');
    const outcome = await onboardBot(mastra, request(ines.email, 'req-ines-1', { symbols: ['BTC/USDT'], parameters: { rsiBuy: 35 } }), NOW);
    expect(outcome).toMatchObject({
      status: 'success',
      result: { decision: 'automatic', started: true, status: 'running', passed: true, plan: 'free', approvalId: null },
    });
    const result = outcome.result as {
      backtests: { symbol: string; candles: number; trades: number; maxDrawdownPct: number; backtestId: string }[];
      botId: string;
    };
    expect(result.backtests).toHaveLength(1);
    expect(result.backtests[0]).toMatchObject({ symbol: 'BTC/USDT', candles: 720 });
    const [stored] = await test.handle.db.select().from(db.backtests).where(eq(db.backtests.id, result.backtests[0]!.backtestId));
    expect(stored).toMatchObject({ strategyName: 'rsi', parameters: expect.objectContaining({ rsiBuy: 35 }), tenantId: ines.tenantId });
    expect(await botsOf(ines.tenantId)).toMatchObject([
      { id: result.botId, status: 'running', mode: 'paper', symbols: ['BTC/USDT'], parameters: expect.objectContaining({ rsiBuy: 35 }) },
    ]);
    expect((await messages(ines.tenantId))[0]!.payload.text).toMatch(
      /^Seu robô "RSI BTC" \(rsi, simulado\) está rodando\. Backtest de 30 dias — BTC\/USDT: /,
    );
    // A paper bot trades its stake of virtual money: its paper wallet was funded with it.
    expect(await walletOf(result.botId)).toEqual([{ asset: 'USDT', amount: '500' }]);

    const again = await onboardBot(mastra, request(ines.email, 'req-ines-1', { parameters: { rsiBuy: 35 } }), NOW);
    expect(again).toMatchObject({ status: 'success', result: { botId: result.botId } });
    expect(await botsOf(ines.tenantId)).toHaveLength(1);
    expect(await backtestCount(ines.tenantId)).toBe(1);
    expect(await messages(ines.tenantId)).toHaveLength(1);
    expect(await walletOf(result.botId)).toEqual([{ asset: 'USDT', amount: '500' }]);
  });

  it('refused by the review: live on the Free plan, or a stake above the risk limit; the bot stays stopped and the trader is told why', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => clock.now });
    const joao = await trader('joao', 'free');
    const live = await onboardBot(mastra, request(joao.email, 'req-joao-live', { mode: 'live' }), NOW);
    expect(live).toMatchObject({ status: 'success', result: { decision: 'refused', started: false, passed: false } });
    expect((live.result as { reasons: string[] }).reasons).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Live trading is not included in the Free plan'),
        'A live bot needs an active exchange API key; connect one first.',
      ]),
    );
    const [bot] = await botsOf(joao.tenantId);
    expect(bot).toMatchObject({ status: 'stopped', lastError: expect.stringContaining('onboarding: Live trading is not included') });
    expect((await messages(joao.tenantId))[0]!.payload.text).toContain('não foi iniciado');
    expect(await test.handle.db.$count(db.approvals, sql`${db.approvals.args} ->> 'botId' = ${bot!.id}`)).toBe(0);

    const kaue = await trader('kaue', 'pro');
    const big = await onboardBot(mastra, request(kaue.email, 'req-kaue-big', { stakeQuote: 30_000 }), NOW);
    expect(big).toMatchObject({ status: 'success', result: { decision: 'refused', started: false } });
    expect((big.result as { reasons: string[] }).reasons).toEqual([
      'The stake 30000 USDT is above the 25000 USDT a bot may hold in one position.',
    ]);
  });

  it('live: waits for a person; the Security head approves and the bot runs; killed mid-way it asks once', async () => {
    const runtime = workflowRuntime(test.handle.db, { now: () => clock.now });
    const recorded = await recordSnapshots(runtime.mastra);
    const lara = await trader('lara', 'pro', true);
    const outcome = await onboardBot(
      runtime.mastra,
      request(lara.email, 'req-lara-live', { mode: 'live', strategy: 'ema-cross', symbols: ['BTC/USDT', 'ETH/USDT'] }),
      NOW,
    );
    expect(outcome).toMatchObject({ status: 'suspended', waiting: [{ step: 'approval', wake: { approvalId: expect.any(String) } }] });
    const approvalId = outcome.waiting![0]!.wake.approvalId!;
    const [approval] = await test.handle.db.select().from(db.approvals).where(eq(db.approvals.id, approvalId));
    expect(approval).toMatchObject({
      tool: 'start_bot',
      status: 'pending',
      approverDepartment: 'security',
      tenantId: lara.tenantId,
      summary: expect.stringContaining('Iniciar em modo REAL o robô "RSI BTC" de lara@example.com'),
    });
    expect((await botsOf(lara.tenantId))[0]!.status).toBe('stopped');

    // Killed after the backtests were stored but before the step said so: they are reused.
    await rewindBefore(test.handle.db, recorded, BOT_ONBOARDING, `${BOT_ONBOARDING}:req-lara-live`, 'backtest');
    const recovered = await recoverInterruptedRuns(workflowRuntime(test.handle.db, { now: () => clock.now }).mastra, [BOT_ONBOARDING], {
      staleAfterMs: 0,
    });
    expect(recovered).toMatchObject([{ status: 'suspended', waiting: [{ wake: { approvalId } }] }]);
    expect(await backtestCount(lara.tenantId)).toBe(2);
    expect(await test.handle.db.$count(db.approvals, eq(db.approvals.tenantId, lara.tenantId))).toBe(1);
    expect(
      await test.handle.db.$count(
        db.auditLog,
        and(eq(db.auditLog.tool, 'start_bot'), eq(db.auditLog.outcome, 'pending_approval'), eq(db.auditLog.tenantId, lara.tenantId)),
      ),
    ).toBe(1);

    expect(await resumeDecidedOnboardings(runtime.mastra, deps())).toEqual([]);
    const decided = await decideApproval(
      TOOLS,
      { db: test.handle.db, billing: runtime.billing, now: () => clock.now },
      securityHead,
      approvalId,
      'approve',
    );
    expect(decided).toMatchObject({ decided: true, status: 'executed' });
    const resumed = await resumeDecidedOnboardings(runtime.mastra, deps());
    expect(resumed).toMatchObject([{ status: 'success', result: { decision: 'approved', started: true, status: 'running', approvalId } }]);
    expect((await botsOf(lara.tenantId))[0]).toMatchObject({ status: 'running', mode: 'live' });
    expect((await messages(lara.tenantId))[0]!.payload.text).toContain('(ema-cross, real) está rodando');
    // A live bot trades its exchange account: no paper wallet.
    expect(await walletOf((await botsOf(lara.tenantId))[0]!.id)).toEqual([]);
  });

  it('live rejected: the bot stays stopped and the trader is told', async () => {
    const { mastra, billing } = workflowRuntime(test.handle.db, { now: () => clock.now });
    const mara = await trader('mara', 'pro', true);
    const outcome = await onboardBot(mastra, request(mara.email, 'req-mara-live', { mode: 'live', strategy: 'ema-cross' }), NOW);
    await decideApproval(
      TOOLS,
      { db: test.handle.db, billing, now: () => clock.now },
      securityHead,
      outcome.waiting![0]!.wake.approvalId!,
      'reject',
      'backtest curto demais',
    );
    const [resumed] = await resumeDecidedOnboardings(mastra, deps());
    expect(resumed).toMatchObject({ status: 'success', result: { decision: 'rejected', started: false } });
    expect((await botsOf(mara.tenantId))[0]).toMatchObject({ status: 'stopped', lastError: 'onboarding: live trading rejected' });
    expect((await messages(mara.tenantId))[0]!.payload.text).toContain('a operação real foi recusada');
  });
});
