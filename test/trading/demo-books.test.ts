import crypto from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import { ManualClock } from '../../clock/index.ts';
import * as db from '../../db/index.ts';
import { queryRows } from '../../db/index.ts';
import { generateDemoCompany, seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { invokeTool, TOOLS, type ToolContext } from '../../tools/index.ts';
import {
  BotRunner,
  createPaperMarkets,
  DEFAULT_RISK_LIMITS,
  exchangeForBot,
  paperMarketOptions,
  replayedBar,
  replayedPrice,
  tickBots,
  timeframeToMs,
  type BotEvent,
  type ReplayMarketData,
  type PaperExchange,
} from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { seedFastPaperBot } from '../support/paper-bots.ts';
import { HOUR } from '../support/synthetic-market.ts';

// The demo's books add up (issue 23): every bot the demo seeds has a paper wallet holding its
// stake plus what its recorded trades made, less what its open position cost, and the coins of
// that position; so from the first tick its bots' entries are paid for and their exits fill,
// and the anomaly scan finds no bot sending order after order. And a bot whose exit the
// exchange does reject sends it once and pauses, saying why, instead of once per candle.

const DEMO_AS_OF = new Date('2026-11-01T00:00:00Z');
const TRADERS = 40;
/** Each tick is one hour of the replay: every bot (5m, 15m or 1h) sees a new candle on every tick. */
const TICKS = 48;

/** The first ticks, in which no bot may lose its day to prices the demo seeded off the replayed market. */
const FIRST_TICKS = 6;
/** How far a seeded open position's entry may lie from the price its bot reads on its first tick. */
const ENTRY_GAP = 0.2;

/** The paper exchange's market fills: the last close, 0.05 % against the order. */
const PAPER_SLIPPAGE = 0.0005;

/** A refusal that says the wallet could not pay: the risk gate's size rules, or the exchange's "insufficient". */
const LACK_OF_FUNDS = /^(min_notional|min_amount|invalid_order)\b|insufficient/;

describe("the demo company's paper books", () => {
  let test: TestDatabase;
  const secretBox = createSecretBox(crypto.randomBytes(32));

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    await seedDemoCompany(test.handle.db, { secretBox, asOf: DEMO_AS_OF, traders: TRADERS });
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('is the same company for the same seed and date, wallets included', () => {
    const box = createSecretBox(crypto.randomBytes(32));
    const once = generateDemoCompany({ seed: 7, asOf: DEMO_AS_OF, traders: TRADERS, secretBox: box });
    const twice = generateDemoCompany({ seed: 7, asOf: DEMO_AS_OF, traders: TRADERS, secretBox: box });
    // Sealed API keys differ (a random nonce each time); everything else is equal.
    const { exchangeAccounts: sealed1, ...rest1 } = once;
    const { exchangeAccounts: sealed2, ...rest2 } = twice;
    expect(rest1).toEqual(rest2);
    expect(sealed1.map((a) => a.id)).toEqual(sealed2.map((a) => a.id));
    expect(once.paperBalances.length).toBeGreaterThan(once.bots.length - 1);
  });

  it("prices its trades on the replayed market its bots trade: each bot's symbol and timeframe, at the trade's time", () => {
    const company = generateDemoCompany({ seed: 7, asOf: DEMO_AS_OF, traders: TRADERS, secretBox });
    const timeframeOf = new Map(company.bots.map((bot) => [bot.id!, bot.timeframe!]));
    const open = company.trades.filter((t) => t.status === 'open');
    const closed = company.trades.filter((t) => t.status === 'closed');
    expect(open.length).toBeGreaterThan(0);
    expect(closed.length).toBeGreaterThan(100);
    // A price as the demo stores it: 2 places from 10 up, 6 below.
    const rounding = (price: number) => (price < 10 ? 5e-7 : 5e-3);
    for (const trade of closed) {
      // Bought within the range of the replayed bar in progress when it was placed.
      const bar = replayedBar(trade.symbol, timeframeOf.get(trade.botId)!, trade.openedAt!.getTime())!;
      const price = Number(trade.openPriceQuote);
      expect(price, `${trade.botId} ${trade.symbol} at ${trade.openedAt!.toISOString()}`).toBeGreaterThanOrEqual(
        bar.low - rounding(bar.low),
      );
      expect(price, `${trade.botId} ${trade.symbol} at ${trade.openedAt!.toISOString()}`).toBeLessThanOrEqual(
        bar.high + rounding(bar.high),
      );
    }
    for (const trade of open) {
      // Bought at the replay's last price at the demo's date, when the last bar closed.
      const timeframe = timeframeOf.get(trade.botId)!;
      const price = replayedPrice(trade.symbol, timeframe, DEMO_AS_OF.getTime())!;
      expect(Math.abs(Number(trade.openPriceQuote) - price), `${trade.botId} ${trade.symbol}`).toBeLessThanOrEqual(rounding(price));
      expect(trade.openedAt!.getTime()).toBeLessThanOrEqual(DEMO_AS_OF.getTime());
      expect(trade.openedAt!.getTime()).toBeGreaterThan(DEMO_AS_OF.getTime() - HOUR);
      const position = company.positions.find((p) => p.botId === trade.botId && p.symbol === trade.symbol)!;
      expect(position.averageEntryPriceQuote).toBe(trade.openPriceQuote);
    }
  });

  it('gives every bot a funded wallet: its stake plus its recorded profits less its open position, to the last place', async () => {
    const wallets = await queryRows<{
      id: string;
      mode: string;
      stake: string;
      recorded: string | null;
      cash: string | null;
      expected: string;
      symbols: number;
      held: number;
    }>(
      test.handle.db,
      sql`select b.id, b.mode::text, b.stake_quote::text as stake, b.paper_balance_quote::text as recorded,
                 (select w.amount::text from paper_balances w where w.bot_id = b.id and w.asset = split_part(b.symbols[1], '/', 2)) as cash,
                 (b.stake_quote
                   + coalesce((select sum(t.profit_quote) from trades t where t.bot_id = b.id and t.status = 'closed'), 0)
                   - coalesce((select sum(round(t.amount_base * t.open_price_quote, 8) + t.fee_quote) from trades t where t.bot_id = b.id and t.status = 'open'), 0))::text as expected,
                 cardinality(b.symbols) as symbols, (select count(*)::int from positions p where p.bot_id = b.id) as held
          from bots b order by b.id`,
    );
    expect(wallets.filter((w) => w.mode === 'paper').length).toBeGreaterThan(10);
    for (const wallet of wallets) {
      expect(wallet.cash, `bot ${wallet.id} has no cash in its wallet`).not.toBeNull();
      // numeric compares exactly: no float dust between the wallet and the trades.
      expect(Number(wallet.cash) - Number(wallet.expected), `bot ${wallet.id}`).toBe(0);
      expect(wallet.cash).toBe(wallet.expected.replace(/^(-?\d+\.\d{8})0*$/, '$1'));
      expect(Number(wallet.cash), `bot ${wallet.id}`).toBeGreaterThanOrEqual(0);
      // Funded: the entry the runner would size in a symbol the bot does not hold (95 % of the
      // stake's share per symbol, never more than the cash) clears the market's 5 USDT minimum.
      if (wallet.held < wallet.symbols) {
        expect(0.95 * Math.min(Number(wallet.stake) / wallet.symbols, Number(wallet.cash)), `bot ${wallet.id}`).toBeGreaterThan(5);
      }
      if (wallet.mode === 'paper') expect(wallet.recorded, `bot ${wallet.id}: its own record of its cash`).toBe(wallet.cash);
    }
  });

  it('backs every open position with the coins it holds', async () => {
    const positions = await queryRows<{ bot_id: string; symbol: string; amount: string; held: string | null }>(
      test.handle.db,
      sql`select p.bot_id, p.symbol, p.amount_base::text as amount,
                 (select w.amount::text from paper_balances w where w.bot_id = p.bot_id and w.asset = split_part(p.symbol, '/', 1)) as held
          from positions p`,
    );
    expect(positions.length).toBeGreaterThan(0);
    for (const position of positions) {
      expect(position.held, `${position.bot_id} ${position.symbol}`).not.toBeNull();
      expect(Number(position.held) - Number(position.amount), `${position.bot_id} ${position.symbol}`).toBe(0);
    }
    // And no coin is in a wallet without a position that holds it.
    const [stray] = await queryRows<{ n: number }>(
      test.handle.db,
      sql`select count(*)::int as n from paper_balances w join bots b on b.id = w.bot_id
          where w.asset <> split_part(b.symbols[1], '/', 2)
            and not exists (select 1 from positions p where p.bot_id = w.bot_id and split_part(p.symbol, '/', 1) = w.asset)`,
    );
    expect(stray!.n).toBe(0);
  });

  it('trades from the first tick on the replayed market: entries paid for, exits filled, no refusal for money, no order burst', {
    timeout: 300_000,
  }, async () => {
    const x = test.handle.db;
    const clock = new ManualClock(DEMO_AS_OF.getTime());
    const markets = createPaperMarkets({ setting: 'replay', embedded: true, now: () => clock.now() });
    await markets.decide();
    const running = await x.select().from(db.bots).where(eq(db.bots.status, 'running'));
    expect(running.length).toBeGreaterThan(5);
    const seededPositions = await x
      .select()
      .from(db.positions)
      .where(
        inArray(
          db.positions.botId,
          running.map((bot) => bot.id),
        ),
      );
    expect(seededPositions.length).toBeGreaterThan(0);
    // The price each bot reads on its first tick (the replay's last price an hour after the
    // demo's date): the demo's open positions were bought near it, not at a guess of another
    // year's price that the first candle would stop out at a loss of tens of per cent.
    const firstTick = DEMO_AS_OF.getTime() + HOUR;
    for (const position of seededPositions) {
      const bot = running.find((b) => b.id === position.botId)!;
      // (replayedPrice is the market's own mapping: what it answers now, at the demo's date.)
      expect(await markets.marketFor(bot.timeframe).lastPrice(position.symbol)).toBe(
        replayedPrice(position.symbol, bot.timeframe, clock.now()),
      );
      const first = replayedPrice(position.symbol, bot.timeframe, firstTick)!;
      const gap = Math.abs(Number(position.averageEntryPriceQuote) / first - 1);
      expect(
        gap,
        `${bot.id} ${position.symbol} (${bot.timeframe}): entry ${position.averageEntryPriceQuote}, first price ${first}`,
      ).toBeLessThan(ENTRY_GAP);
    }
    const events: BotEvent[] = [];
    /** Bots paused within the first ticks, and why. */
    const pausedEarly: string[] = [];
    /** The first sale of each seeded position: its price and when (on the replay's clock). */
    const seededExits: { botId: string; symbol: string; price: number; at: number }[] = [];
    let tick = 0;
    // As a worker builds them: paper bots (and, on the replay, testnet ones) on the paper exchange.
    const runners = await Promise.all(
      running.map(
        async (bot) =>
          new BotRunner(
            {
              db: x,
              exchange: await exchangeForBot(x, bot, { tradingMode: 'paper', secretBox, ...paperMarketOptions(markets, bot.timeframe) }),
              limits: DEFAULT_RISK_LIMITS,
              killSwitch: () => false,
              onEvent: (event) => {
                events.push(event);
                if (event.type === 'bot_paused' && tick < FIRST_TICKS)
                  pausedEarly.push(`${event.botId} on tick ${tick + 1}: ${event.reason}`);
                if (
                  event.type === 'trade_closed' &&
                  seededPositions.some((p) => p.botId === event.botId && p.symbol === event.symbol) &&
                  !seededExits.some((e) => e.botId === event.botId && e.symbol === event.symbol)
                ) {
                  seededExits.push({ botId: event.botId, symbol: event.symbol, price: event.priceQuote, at: clock.now() });
                }
              },
              retry: { attempts: 1, initialDelayMs: 1 },
            },
            bot,
          ),
      ),
    );
    for (; tick < TICKS; tick++) {
      await clock.advance(HOUR);
      const report = await tickBots(x, runners);
      expect(report.failed.map((f) => `${f.botId}: ${f.error.message}`)).toEqual([]);
    }
    // No bot paused in the first hours: neither on its daily loss limit (a seeded position far
    // from the replayed price is an instant loss of that size) nor on the exchange.
    expect(pausedEarly).toEqual([]);
    // A seeded position the run closed lost no more than the replayed candles fell from the
    // demo's date until its exit: its loss is the market's, not a gap between the price the
    // demo bought at and the price the replay shows.
    expect(seededExits.length).toBeGreaterThan(0);
    for (const exit of seededExits) {
      const bot = running.find((b) => b.id === exit.botId)!;
      const position = seededPositions.find((p) => p.botId === exit.botId && p.symbol === exit.symbol)!;
      const barMs = timeframeToMs(bot.timeframe);
      let lowest = Number.POSITIVE_INFINITY;
      for (let open = DEMO_AS_OF.getTime(); open + barMs <= exit.at; open += barMs)
        lowest = Math.min(lowest, replayedBar(exit.symbol, bot.timeframe, open)!.low);
      const fell = lowest / replayedPrice(exit.symbol, bot.timeframe, DEMO_AS_OF.getTime())!;
      expect(
        exit.price / Number(position.averageEntryPriceQuote),
        `${bot.id} ${exit.symbol} (${bot.timeframe}): bought at ${position.averageEntryPriceQuote}, sold at ${exit.price}`,
      ).toBeGreaterThanOrEqual(fell * (1 - PAPER_SLIPPAGE) - 1e-6);
    }

    // Orders the bots placed now (the demo's own history has ids of another shape).
    const placed = await queryRows<{ bot_id: string; side: string; status: string; reason: string; reject_reason: string | null }>(
      x,
      sql`select bot_id, side::text, status::text, reason, reject_reason from orders where client_order_id not like 'bcf-%'`,
    );
    const filled = (side: string) => placed.filter((o) => o.side === side && o.status === 'filled').length;
    expect(filled('buy'), 'entries filled').toBeGreaterThan(0);
    expect(filled('sell'), 'exits filled').toBeGreaterThan(0);
    expect(placed.filter((o) => o.reject_reason !== null && LACK_OF_FUNDS.test(o.reject_reason))).toEqual([]);
    // Every sell the bots sent filled; the paper exchange rejected nothing.
    expect(placed.filter((o) => o.side === 'sell' && o.status !== 'filled')).toEqual([]);
    expect(await x.$count(db.paperOrders, eq(db.paperOrders.status, 'rejected'))).toBe(0);
    // The positions the demo left open were sold from the coins behind them, within the run.
    const stillOpen = await x
      .select()
      .from(db.positions)
      .where(
        inArray(
          db.positions.id,
          seededPositions.map((p) => p.id),
        ),
      );
    expect(stillOpen.length).toBeLessThan(seededPositions.length);
    // A bot may pause on its daily loss limit (the gate's job), never on the exchange.
    expect(events.filter((e) => e.type === 'bot_paused' && !e.reason.startsWith('risk limit:'))).toEqual([]);
    // Still backed after trading: no wallet below what its positions hold, no cash below zero.
    const [short] = await queryRows<{ n: number }>(
      x,
      sql`select count(*)::int as n from paper_balances w
          where w.amount < 0 or w.amount < coalesce((select sum(p.amount_base) from positions p where p.bot_id = w.bot_id and split_part(p.symbol, '/', 1) = w.asset), 0)`,
    );
    expect(short!.n).toBe(0);

    // The anomaly scan as the job layer runs it (the last hour): all of this run's orders fall in
    // it, so a bot that sent an order on every tick would be an order burst.
    const ctx: ToolContext = {
      db: x,
      actor: { kind: 'system', name: 'workflow:incident-response' },
      billing: new BillingService(x, undefined),
      now: () => new Date(),
    };
    const scan = await invokeTool(TOOLS, ctx, 'detect_anomalies', { hours: 1 });
    expect(scan.ok && 'result' in scan).toBe(true);
    const findings = (scan as { result: { findings: { kind: string; botId: string | null; count: number }[] } }).result.findings;
    expect(findings.filter((f) => f.kind === 'order_burst')).toEqual([]);
  });
});

describe('a runner whose exit the exchange rejects', () => {
  let test: TestDatabase;
  let botId: string;
  let tenantId: string;
  let replay: ReplayMarketData;
  let exchange: PaperExchange;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    ({ tenantId, botId, replay, exchange } = await seedFastPaperBot(test.handle.db));
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('sends the exit once and pauses the bot with the exchange’s reason, instead of sending it again on every candle', async () => {
    const x = test.handle.db;
    // A position with no coins behind it (the wallet holds only the stake's USDT), whose stop
    // is above the market: the first new candle asks for the exit.
    const price = await replay.lastPrice('BTC/USDT');
    const openedAt = new Date(replay.now - HOUR);
    await x.insert(db.positions).values({
      tenantId,
      botId,
      symbol: 'BTC/USDT',
      amountBase: '0.5',
      averageEntryPriceQuote: String(price),
      stopLossPriceQuote: String(price * 10),
      openedAt,
    });
    await x
      .insert(db.trades)
      .values({ tenantId, botId, symbol: 'BTC/USDT', status: 'open', amountBase: '0.5', openPriceQuote: String(price), openedAt });
    const events: BotEvent[] = [];
    const runner = await BotRunner.load(
      {
        db: x,
        exchange,
        limits: DEFAULT_RISK_LIMITS,
        killSwitch: () => false,
        onEvent: (event) => events.push(event),
        retry: { attempts: 1, initialDelayMs: 1 },
      },
      botId,
    );
    for (let i = 0; i < 30; i++) {
      replay.now += HOUR;
      await tickBots(x, [runner]);
    }
    const sent = await x.select().from(db.orders).where(eq(db.orders.botId, botId));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      side: 'sell',
      reason: 'stop_loss',
      status: 'rejected',
      rejectReason: expect.stringMatching(/^insufficient BTC/),
    });
    const [bot] = await x.select().from(db.bots).where(eq(db.bots.id, botId));
    expect(bot!.status).toBe('paused');
    expect(bot!.lastError).toMatch(/^exchange rejected the exit in BTC\/USDT: insufficient BTC: need 0\.5, have 0$/);
    expect(events.filter((e) => e.type === 'bot_paused')).toEqual([{ type: 'bot_paused', botId, tenantId, reason: bot!.lastError }]);
    // The position stays for a person to look at; nothing was sold.
    expect(await x.$count(db.positions, and(eq(db.positions.botId, botId), eq(db.positions.symbol, 'BTC/USDT')))).toBe(1);
    expect((await exchange.balances())['USDT']).toBe(1000);
  });
});
