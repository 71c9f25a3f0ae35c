import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext } from '../../tools/index.ts';
import {
  BotRunner,
  DEFAULT_RISK_LIMITS,
  type PaperExchange,
  type ReplayMarketData,
  type BotEvent,
  type BotRunnerDeps,
} from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedFastPaperBot } from '../support/paper-bots.ts';
import { HOUR } from '../support/synthetic-market.ts';

// A forced exit (a trader's /forceexit): market sells of the bot's positions now, through the
// risk gate, recorded like any order, placed once however often it is asked for.

describe('forced exit', () => {
  let test: TestDatabase;
  let tenantId: string;
  let botId: string;
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
    retry: { attempts: 2, initialDelayMs: 1 },
    ...overrides,
  });

  /** Ticks until the strategy opened a position. */
  async function openPosition(): Promise<void> {
    const runner = await BotRunner.load(deps(), botId);
    for (let i = 0; i < 500; i++) {
      replay.now += HOUR;
      await runner.tick();
      if ((await test.handle.db.$count(db.positions, eq(db.positions.botId, botId))) > 0) return;
    }
    throw new Error('the strategy never entered');
  }

  it('sells the open position at market once, even when asked twice or with the kill switch on', async () => {
    await openPosition();
    const [position] = await test.handle.db.select().from(db.positions).where(eq(db.positions.botId, botId));
    const runner = await BotRunner.load(deps({ killSwitch: () => true }), botId);
    const [exit] = await runner.forceExit();
    expect(exit).toMatchObject({ symbol: 'BTC/USDT', outcome: 'filled', amountBase: position!.amountBase });
    expect(Number(exit!.priceQuote)).toBeGreaterThan(0);
    expect(exit!.profitQuote).not.toBeNull();
    expect(await test.handle.db.$count(db.positions, eq(db.positions.botId, botId))).toBe(0);
    expect(await runner.forceExit()).toEqual([]);
    const again = await BotRunner.load(deps(), botId);
    expect(await again.forceExit('BTC/USDT')).toEqual([]);
    const sells = (await test.handle.db.select().from(db.orders).where(eq(db.orders.botId, botId))).filter((o) => o.side === 'sell');
    expect(sells).toHaveLength(1);
    expect(sells[0]).toMatchObject({ reason: 'forced', status: 'filled' });
    const [trade] = await test.handle.db.select().from(db.trades).where(eq(db.trades.botId, botId));
    expect(trade).toMatchObject({ status: 'closed', exitReason: 'forced' });
    expect(events.at(-1)).toMatchObject({ type: 'trade_closed', reason: 'forced' });
  });

  it('two runners racing place one order', async () => {
    await openPosition();
    const [a, b] = await Promise.all([BotRunner.load(deps(), botId), BotRunner.load(deps(), botId)]);
    const results = await Promise.allSettled([a.forceExit(), b.forceExit()]);
    const exits = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(exits.filter((e) => e.outcome === 'filled')).toHaveLength(1);
    const paper = await test.handle.db.select().from(db.paperOrders).where(eq(db.paperOrders.botId, botId));
    expect(paper.filter((o) => o.side === 'sell')).toHaveLength(1);
  });

  it("is a trader-scoped tool: a trader exits their own bot, never another trader's", async () => {
    await openPosition();
    const otherTenant = crypto.randomUUID();
    await test.handle.db.insert(db.tenants).values({ id: otherTenant, kind: 'trader', name: 'Other' });
    const [owner] = await test.handle.db.insert(db.users).values({ tenantId, email: 'owner@example.com', name: 'Owner' }).returning();
    const [other] = await test.handle.db
      .insert(db.users)
      .values({ tenantId: otherTenant, email: 'other@example.com', name: 'Other' })
      .returning();
    const ctx = (actor: Actor, withTrading = true): ToolContext => ({
      db: test.handle.db,
      actor,
      billing: new BillingService(test.handle.db, undefined),
      now: () => new Date(),
      ...(withTrading
        ? { trading: { exchangeFor: async () => exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: async () => false } }
        : {}),
    });
    const intruder: Actor = { kind: 'trader', userId: other!.id, tenantId: otherTenant, name: 'Other' };
    const refused = await invokeTool(TOOLS, ctx(intruder), 'force_exit', { botId });
    expect(refused).toMatchObject({ ok: false, error: 'not_found' });
    const self: Actor = { kind: 'trader', userId: owner!.id, tenantId, name: 'Owner' };
    expect(await invokeTool(TOOLS, ctx(self, false), 'force_exit', { botId })).toMatchObject({ ok: false, error: 'failed' });
    const done = await invokeTool(TOOLS, ctx(self), 'force_exit', { botId, symbol: 'BTC/USDT' });
    expect(done).toMatchObject({ ok: true, result: { botId, exits: [{ symbol: 'BTC/USDT', outcome: 'filled' }] } });
    const marketing: Actor = {
      kind: 'staff',
      userId: owner!.id,
      staffId: crypto.randomUUID(),
      tenantId,
      department: 'marketing',
      role: 'head',
      name: 'M',
    };
    expect(await invokeTool(TOOLS, ctx(marketing), 'force_exit', { botId, email: 'owner@example.com' })).toMatchObject({
      ok: false,
      error: 'forbidden',
    });
  });
});
