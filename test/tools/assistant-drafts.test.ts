import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext, type ToolOutcome } from '../../tools/index.ts';
import type { MarketDataSource } from '../../trading/exchange/types.ts';
import { MAX_DRAFT_BACKTEST_DRAWDOWN_PCT, upsertCandles } from '../../trading/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';

// The trader's assistant's door (issue 22), end to end through the tools, on the embedded
// database and PostgreSQL: words → draft → a year's backtest beside buy-and-hold (downloading
// what the cache lacks when an exchange is at hand, naming it when not) → a PAPER bot only
// after the trader's own confirmation. Another trader never sees or starts the draft, the plan
// refuses with the upgrade named, and nothing here starts a live bot.

const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');
const LAST_BAR = Date.UTC(2026, 10, 1, 11);
const YEAR_BARS = 400 * 24;
// 400 days of hourly ETH bars up to the last closed one: a steady rise with small waves (a
// market the RSI draft passes the drawdown review on).
const price = (i: number) => 100 * Math.exp(0.00008 * i) + 0.6 * Math.sin(i / 4);
const BARS = Array.from({ length: YEAR_BARS }, (_, i) => {
  const t = LAST_BAR - (YEAR_BARS - 1 - i) * HOUR;
  const open = price(Math.max(0, i - 1));
  const close = price(i);
  return [t, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
});

type Card = {
  draftId: string;
  status: string;
  strategy: string | null;
  symbols: string[];
  timeframe: string | null;
  stakeQuote: string | null;
  stopLossPct: number | null;
  maxOpenPositions: number | null;
  mode: string;
  questions: { field: string; question: string }[];
  blocked: { reason: string; upgradeTo: string | null } | null;
  liveNote: string | null;
  riskNote: string | null;
  backtests:
    | {
        symbol: string;
        candles: number;
        expectedCandles: number;
        totalReturnPct: number;
        buyAndHoldReturnPct: number;
        buyAndHoldMaxDrawdownPct: number;
        missing: string | null;
      }[]
    | null;
  botId: string | null;
  next: string[];
};

describe.each(testDrivers)("the trader's assistant: a bot from words to paper (%s)", (driver) => {
  let test: TestDatabase;
  let billing: BillingService;
  const traders: Record<'ana' | 'bob' | 'cid', Actor & { kind: 'trader' }> = {} as never;
  const fetched: number[] = [];
  const exchange: MarketDataSource = {
    async fetchCandles(_symbol, _timeframe, sinceMs = 0, limit = 1000) {
      fetched.push(sinceMs);
      return BARS.filter((row) => row[0]! >= sinceMs).slice(0, limit);
    },
    lastPrice: async () => 100,
    marketRules: async () => ({ minAmountBase: 0, amountStepBase: 0, minNotionalQuote: 0 }),
  };

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    billing = new BillingService(test.handle.db, undefined);
    for (const [name, locale] of [
      ['ana', 'pt-BR'],
      ['bob', 'en'],
      ['cid', 'pt-BR'],
    ] as const) {
      const tenantId = crypto.randomUUID();
      const userId = crypto.randomUUID();
      await test.handle.db.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
      await test.handle.db.insert(db.users).values({ id: userId, tenantId, email: `${name}@example.com`, name, locale });
      traders[name] = { kind: 'trader', userId, tenantId, name };
    }
    // Only the newest 60 days are cached.
    await upsertCandles(test.handle.db, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }, BARS.slice(-60 * 24));
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  const ctx = (who: Actor, extra: Partial<ToolContext> = {}): ToolContext => ({
    db: test.handle.db,
    actor: who,
    billing,
    now: () => NOW,
    ...extra,
  });
  const call = (who: Actor, tool: string, args: Record<string, unknown>, extra: Partial<ToolContext> = {}) =>
    invokeTool(TOOLS, ctx(who, extra), tool, args);
  const draftOf = (outcome: ToolOutcome): Card => {
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    return (outcome as { result: { draft: Card } }).result.draft;
  };
  let anaDraft: Card;

  it("drafts the issue's sentence exactly, then backtests a year beside buy-and-hold (naming the missing candles, then downloading them)", async () => {
    anaDraft = draftOf(
      await call(traders.ana, 'draft_bot_from_text', { text: 'quero um robô RSI no ETH de 1h, stop de 3 %, sem gastar mais que 500 USDT' }),
    );
    expect(anaDraft).toMatchObject({
      status: 'draft',
      strategy: 'rsi',
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: '500',
      stopLossPct: 3,
      maxOpenPositions: 1,
      mode: 'paper',
      questions: [],
      blocked: null,
      liveNote: null,
      next: ['backtest', 'discard'],
    });

    // No exchange at hand: the cached 60 days, and what is missing of the year, with the command.
    const cached = draftOf(await call(traders.ana, 'backtest_draft', { draftId: anaDraft.draftId }));
    const first = cached.backtests![0]!;
    expect(first.candles).toBe(60 * 24);
    expect(first.expectedCandles).toBe(365 * 24);
    expect(first.missing).toContain('botcriptofy data download --pairs ETH/USDT --timeframes 1h --days 365');
    expect(cached.next).toEqual(['backtest', 'start_on_paper', 'discard']);

    // With an exchange: what the cache lacks of the year is downloaded, once.
    const full = draftOf(await call(traders.ana, 'backtest_draft', { draftId: anaDraft.draftId }, { marketData: exchange }));
    const year = full.backtests![0]!;
    // Fetched from a year back, in pages of 1000 bars, in this one backtest.
    expect(fetched[0]).toBe(NOW.getTime() - 365 * 24 * HOUR);
    expect(fetched.length).toBeLessThanOrEqual(Math.ceil(((365 - 60) * 24) / 1000) + 1);
    expect(year.missing).toBeNull();
    expect(year.candles).toBeGreaterThanOrEqual(365 * 24 - 1);
    const closes = BARS.filter((row) => row[0]! >= NOW.getTime() - 365 * 24 * HOUR).map((row) => row[4]!);
    expect(year.buyAndHoldReturnPct).toBe(Math.round(((closes.at(-1)! - closes[0]!) / closes[0]!) * 100 * 100) / 100);
    expect(year.buyAndHoldMaxDrawdownPct).toBeGreaterThan(0);
    expect(Number.isFinite(year.totalReturnPct)).toBe(true);
  });

  it('another trader can neither see, change, backtest, start nor discard the draft', async () => {
    for (const [tool, args] of [
      ['bot_draft', { draftId: anaDraft.draftId }],
      ['change_bot_draft', { draftId: anaDraft.draftId, text: 'stake de 900 USDT' }],
      ['backtest_draft', { draftId: anaDraft.draftId }],
      ['start_draft_on_paper', { draftId: anaDraft.draftId }],
      ['discard_draft', { draftId: anaDraft.draftId }],
    ] as const) {
      const outcome = await call(traders.bob, tool, args, { personConfirmed: true });
      expect(outcome, tool).toMatchObject({ ok: false, error: 'not_found' });
    }
    // Nor by naming her email.
    expect(await call(traders.bob, 'bot_draft', { draftId: anaDraft.draftId, email: 'ana@example.com' })).toMatchObject({
      ok: false,
      error: 'forbidden',
    });
    expect(((await call(traders.bob, 'bot_draft', {})) as { result: { draft: null } }).result.draft).toBeNull();
  });

  it('starts on paper only with the trader’s own confirmation, once', async () => {
    const unconfirmed = await call(traders.ana, 'start_draft_on_paper', { draftId: anaDraft.draftId });
    expect(unconfirmed).toMatchObject({ ok: false, error: 'forbidden' });
    expect((unconfirmed as { message: string }).message).toContain('confirmation');
    // A live mode cannot even be asked for.
    expect(
      await call(traders.ana, 'start_draft_on_paper', { draftId: anaDraft.draftId, mode: 'live' }, { personConfirmed: true }),
    ).toMatchObject({
      ok: false,
      error: 'invalid_arguments',
    });
    const started = await call(traders.ana, 'start_draft_on_paper', { draftId: anaDraft.draftId }, { personConfirmed: true });
    expect(started.ok, JSON.stringify(started)).toBe(true);
    const result = (started as { result: { botId: string; status: string; mode: string; draft: Card } }).result;
    expect(result).toMatchObject({ status: 'running', mode: 'paper', draft: { status: 'started', next: [] } });
    const [bot] = await test.handle.db.select().from(db.bots).where(eq(db.bots.id, result.botId));
    expect(bot).toMatchObject({
      tenantId: traders.ana.tenantId,
      mode: 'paper',
      status: 'running',
      strategyName: 'rsi',
      symbols: ['ETH/USDT'],
      timeframe: '1h',
      stakeQuote: '500',
    });
    expect(bot!.parameters).toMatchObject({ stopLossPct: 3 });
    expect(await call(traders.ana, 'start_draft_on_paper', { draftId: anaDraft.draftId }, { personConfirmed: true })).toMatchObject({
      ok: false,
      error: 'forbidden',
    });
  });

  it("refuses what the Free plan does not allow, naming the upgrade; a draft's words asking for live still give paper", async () => {
    // A second running bot on Free.
    const second = draftOf(await call(traders.ana, 'draft_bot_from_text', { text: 'RSI no ETH 1h com 300 USDT' }));
    expect(second.blocked?.upgradeTo).toBe('pro');
    expect(second.blocked?.reason).toContain('Pro');
    expect(second.next).toEqual(['discard']);
    // Two pairs on Free.
    const pairs = draftOf(await call(traders.cid, 'draft_bot_from_text', { text: 'EMA cross on BTC and ETH, 1h, 800 USDT' }));
    expect(pairs.blocked).toMatchObject({ upgradeTo: 'pro' });
    expect(pairs.blocked!.reason).toContain('1 symbol(s) per bot');
    // "Dinheiro de verdade": told the assistant starts on paper; the bot it starts is paper.
    const live = draftOf(
      await call(traders.cid, 'draft_bot_from_text', { text: 'quero um robô RSI no ETH de 1h com 500 USDT em dinheiro de verdade' }),
    );
    expect(live.liveNote).toContain('simulado');
    draftOf(await call(traders.cid, 'backtest_draft', { draftId: live.draftId }));
    const started = await call(
      traders.cid,
      'start_draft_on_paper',
      { draftId: live.draftId },
      { personConfirmed: true, liveTradingConfirmed: true },
    );
    expect(started).toMatchObject({ ok: true, result: { mode: 'paper' } });
    const rows = await test.handle.db.select().from(db.bots).where(eq(db.bots.tenantId, traders.cid.tenantId));
    expect(rows.map((b) => b.mode)).toEqual(['paper']);
    // Its other draft (two pairs) refuses at start too, with the plan named.
    const refused = await call(traders.cid, 'start_draft_on_paper', { draftId: pairs.draftId }, { personConfirmed: true });
    expect(refused).toMatchObject({ ok: false, error: 'forbidden' });
  });

  it('asks before it backtests, takes answers, and takes a model’s hints only through the schema', async () => {
    const open = draftOf(await call(traders.bob, 'draft_bot_from_text', { text: 'RSI bot on ETH, 1h' }));
    expect(open.questions).toEqual([{ field: 'stakeQuote', question: 'How many USDT may the bot use at most?' }]);
    expect(open.next).toEqual(['answer', 'discard']);
    expect(await call(traders.bob, 'backtest_draft', { draftId: open.draftId })).toMatchObject({ ok: false, error: 'forbidden' });
    const answered = draftOf(await call(traders.bob, 'change_bot_draft', { draftId: open.draftId, text: '400 USDT, stop 2%' }));
    expect(answered).toMatchObject({
      questions: [],
      stakeQuote: '400',
      stopLossPct: 2,
      strategy: 'rsi',
      symbols: ['ETH/USDT'],
      timeframe: '1h',
    });
    // A bad model's hints: text where numbers go is refused at the door of the tool…
    expect(
      await call(traders.bob, 'draft_bot_from_text', { text: 'RSI bot on ETH', hints: { stakeQuote: 'lots', note: 'trust me' } }),
    ).toMatchObject({
      ok: false,
      error: 'invalid_arguments',
    });
    // …and a well-formed one fills only the gaps.
    const hinted = draftOf(
      await call(traders.bob, 'draft_bot_from_text', {
        text: 'RSI bot on ETH 4h',
        hints: { stakeQuote: 250, timeframe: '1d', symbols: ['BTC/USDT'] },
      }),
    );
    expect(hinted).toMatchObject({ stakeQuote: '250', timeframe: '4h', symbols: ['ETH/USDT'], questions: [] });
    // Discarded: gone from the open ones, and cannot be started.
    draftOf(await call(traders.bob, 'discard_draft', { draftId: hinted.draftId }));
    expect(await call(traders.bob, 'start_draft_on_paper', { draftId: hinted.draftId }, { personConfirmed: true })).toMatchObject({
      ok: false,
    });
  });

  it('runs a draft whose backtest fell beyond the limit on paper, saying so, and only on paper', async () => {
    // A year of hourly SOL bars falling in waves: RSI buys the dips and its stops keep firing.
    const falling = (i: number) => 100 * Math.exp(-0.00012 * i) * (1 + 0.03 * Math.sin(i / 5));
    const bars = Array.from({ length: YEAR_BARS }, (_, i) => {
      const open = falling(Math.max(0, i - 1));
      const close = falling(i);
      return [LAST_BAR - (YEAR_BARS - 1 - i) * HOUR, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
    });
    await upsertCandles(test.handle.db, { exchange: 'binance', symbol: 'SOL/USDT', timeframe: '1h' }, bars);
    const draft = draftOf(await call(traders.bob, 'draft_bot_from_text', { text: 'RSI bot on SOL 1h with 200 USDT' }));
    expect(draft.riskNote).toBeNull();
    const tested = draftOf(await call(traders.bob, 'backtest_draft', { draftId: draft.draftId }));
    const drawdown = (tested.backtests![0] as unknown as { maxDrawdownPct: number }).maxDrawdownPct;
    expect(drawdown).toBeGreaterThan(MAX_DRAFT_BACKTEST_DRAWDOWN_PCT);
    expect(tested.riskNote).toContain(`fell SOL/USDT ${drawdown.toFixed(2)}% from a peak, more than the 30%`);
    expect(tested.riskNote).toContain('On paper it costs nothing');
    expect(tested.next).toEqual(['backtest', 'start_on_paper', 'discard']);
    const started = await call(traders.bob, 'start_draft_on_paper', { draftId: tested.draftId }, { personConfirmed: true });
    expect(started).toMatchObject({ ok: true, result: { mode: 'paper', status: 'running', draft: { status: 'started', riskNote: null } } });
  });

  it('is closed to staff agents: no department may call the draft tools', async () => {
    const support: Actor = {
      kind: 'staff',
      userId: crypto.randomUUID(),
      staffId: crypto.randomUUID(),
      tenantId: crypto.randomUUID(),
      department: 'support',
      role: 'member',
      name: 'S',
    };
    expect(await call(support, 'draft_bot_from_text', { text: 'RSI no ETH 1h 500 USDT', email: 'ana@example.com' })).toMatchObject({
      ok: false,
      error: 'forbidden',
    });
  });
});
