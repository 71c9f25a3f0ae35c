import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext, type ToolOutcome } from '../../tools/index.ts';
import { upsertCandles } from '../../trading/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';
import { parkMiller } from '../support/random.ts';

// "Melhore meu robô" through the tools (issue 22): a walk-forward review of the trader's own bot
// on its cached pair and timeframe, applied only with the trader's confirmation as a new bot
// version, rolled back the same way; another trader reaches none of it.

const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');
const LAST_BAR = Date.UTC(2026, 10, 1, 11);
const BARS = 365 * 24;
// A year of hourly bars on a 48-hour sine wave (±5 %) with a little seeded noise: a market on
// which some RSI setting near the defaults beats the defaults, fold after fold.
const random = parkMiller(11);
const ROWS = Array.from({ length: BARS }, (_, i) => {
  const t = LAST_BAR - (BARS - 1 - i) * HOUR;
  const close = 100 * (1 + 0.05 * Math.sin((2 * Math.PI * i) / 48)) * (1 + (random() - 0.5) * 0.004);
  return { t, close };
}).map(({ t, close }, i, all) => {
  const open = all[Math.max(0, i - 1)]!.close;
  return [t, open, Math.max(open, close) * 1.001, Math.min(open, close) * 0.999, close, 10];
});
const DEFAULTS = { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };

type Proposal = {
  proposal: Record<string, number> | null;
  reasons: string[];
  candles: number;
  chosenOutOfSampleReturnPct: number;
  currentOutOfSampleReturnPct: number;
  folds: { chosen: { outOfSample: { totalReturnPct: number } } | null; current: { outOfSample: { totalReturnPct: number } } }[];
};

describe.each(testDrivers)("a trader's bot review, apply and rollback (%s)", (driver) => {
  let test: TestDatabase;
  const traders: Record<'ana' | 'bob', Actor & { kind: 'trader' }> = {} as never;
  let botId: string;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    for (const name of ['ana', 'bob'] as const) {
      const tenantId = crypto.randomUUID();
      const userId = crypto.randomUUID();
      await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
      await test.handle.db.insert(db.users).values({ id: userId, tenantId, email: `${name}@example.com`, name, locale: 'en' });
      traders[name] = { kind: 'trader', userId, tenantId, name };
    }
    const [bot] = await test.handle.db
      .insert(db.bots)
      .values({
        tenantId: traders.ana.tenantId,
        name: 'ana-rsi',
        strategyName: 'rsi',
        parameters: DEFAULTS,
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        stakeQuote: '100',
      })
      .returning();
    botId = bot!.id;
    await upsertCandles(test.handle.db, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, ROWS);
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  const call = (who: Actor, tool: string, args: Record<string, unknown>, extra: Pick<ToolContext, 'personConfirmed'> = {}) =>
    invokeTool(
      TOOLS,
      { db: test.handle.db, actor: who, billing: new BillingService(test.handle.db, undefined), now: () => NOW, ...extra },
      tool,
      args,
    );
  const ok = <T>(outcome: ToolOutcome): T => {
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    return (outcome as { result: T }).result;
  };
  const botParameters = async () => (await test.handle.db.select().from(db.bots).where(eq(db.bots.id, botId)))[0]!.parameters;
  let proposal: Record<string, number>;

  it('proposes parameters that beat the current ones out of sample on the same folds, with both figures per fold', async () => {
    const review = ok<Proposal>(await call(traders.ana, 'propose_bot_improvement', { botId }));
    expect(review.candles).toBeGreaterThanOrEqual(BARS - 2);
    expect(review.reasons).toEqual([]);
    expect(review.proposal).not.toBeNull();
    expect(review.proposal).not.toEqual(DEFAULTS);
    expect(review.folds).toHaveLength(5);
    expect(review.chosenOutOfSampleReturnPct).toBeGreaterThan(review.currentOutOfSampleReturnPct);
    const beaten = review.folds.filter((f) => f.chosen && f.chosen.outOfSample.totalReturnPct > f.current.outOfSample.totalReturnPct);
    expect(beaten.length).toBeGreaterThanOrEqual(3);
    // Reviewing changes nothing.
    expect(await botParameters()).toEqual(DEFAULTS);
    proposal = review.proposal!;
  }, 120_000);

  it("applies it only with the trader's confirmation, as version 2 with the old parameters kept as version 1", async () => {
    const unconfirmed = await call(traders.ana, 'apply_bot_improvement', { botId, parameters: proposal });
    expect(unconfirmed).toMatchObject({ ok: false, error: 'forbidden' });
    expect(await botParameters()).toEqual(DEFAULTS);
    const applied = ok<{ version: number; note: string; versions: { version: number; parameters: Record<string, number> }[] }>(
      await call(traders.ana, 'apply_bot_improvement', { botId, parameters: proposal }, { personConfirmed: true }),
    );
    expect(applied.version).toBe(2);
    expect(applied.note).toContain('next start');
    expect(applied.versions.map((v) => [v.version, v.parameters])).toEqual([
      [2, proposal],
      [1, DEFAULTS],
    ]);
    expect(await botParameters()).toEqual(proposal);
  });

  it('rolls back to version 1 with confirmation, as version 3; a running bot trades with it from its next tick', async () => {
    expect(await call(traders.ana, 'rollback_bot_version', { botId, version: 1 })).toMatchObject({ ok: false, error: 'forbidden' });
    await test.handle.db.update(db.bots).set({ status: 'running' }).where(eq(db.bots.id, botId));
    const rolled = ok<{ version: number; parameters: Record<string, number>; botRunning: boolean; note: string }>(
      await call(traders.ana, 'rollback_bot_version', { botId, version: 1 }, { personConfirmed: true }),
    );
    expect(rolled).toMatchObject({ version: 3, parameters: DEFAULTS, botRunning: true });
    // test/trading/runner-settings.test.ts shows the runner doing so.
    expect(rolled.note).toMatch(/^The bot is running: it trades with these parameters from its next tick/);
    expect(await botParameters()).toEqual(DEFAULTS);
  });

  it("another trader can neither review, apply to nor roll back the bot, even confirmed or naming the owner's email", async () => {
    for (const [tool, args] of [
      ['propose_bot_improvement', { botId }],
      ['apply_bot_improvement', { botId, parameters: proposal }],
      ['rollback_bot_version', { botId, version: 2 }],
    ] as const) {
      expect(await call(traders.bob, tool, args, { personConfirmed: true }), tool).toMatchObject({ ok: false, error: 'not_found' });
      expect(await call(traders.bob, tool, { ...args, email: 'ana@example.com' }, { personConfirmed: true }), tool).toMatchObject({
        ok: false,
        error: 'forbidden',
      });
    }
    expect(await botParameters()).toEqual(DEFAULTS);
  });
});
