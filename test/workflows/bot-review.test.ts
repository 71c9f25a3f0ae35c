import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import { renderNotification } from '../../notifications/index.ts';
import { paperReady, upsertCandles, windowReturnRangePct, type BotReviewFigures } from '../../trading/index.ts';
import { runBotReview } from '../../workflows/index.ts';
import { createTestDatabase, testDrivers, type TestDatabase } from '../support/databases.ts';
import { NOW, workflowRuntime } from '../support/workflow-fixture.ts';

// The daily review (issue 22, item 4) on a scripted account: a bot whose realised drawdown
// passed its backtest's, on a losing streak, with rejected orders, on a feed that stopped; one
// that is fine; another trader's quiet bot; a stopped bot (not reviewed). One digest per
// trader, in their language, once per day; nothing changed for them. A third trader's
// assistant-made bots: one whose last 30 days fell outside the range its backtest made over any
// 30 days, one that ran its paper period and is suggested (only suggested) for live.

const HOUR = 3_600_000;

describe.each(testDrivers)('bot-review workflow (%s)', (driver) => {
  let test: TestDatabase;
  const ids = { ana: '', bob: '', cid: '', anaUser: '', bobUser: '', cidUser: '', hot: '', calm: '', quiet: '', drifter: '', steady: '' };
  const DAY = 24 * HOUR;

  beforeAll(async () => {
    test = await createTestDatabase(driver);
    const x = test.handle.db;
    for (const [name, locale] of [
      ['ana', 'pt-BR'],
      ['bob', 'en'],
      ['cid', 'pt-BR'],
    ] as const) {
      const tenantId = crypto.randomUUID();
      const userId = crypto.randomUUID();
      await x.insert(db.tenants).values({ id: tenantId, kind: 'trader', name });
      await x.insert(db.users).values({ id: userId, tenantId, email: `${name}@example.com`, name, locale });
      ids[name] = tenantId;
      ids[`${name}User`] = userId;
    }
    const bot = async (tenantId: string, name: string, symbol: string, status: 'running' | 'stopped') => {
      const [row] = await x
        .insert(db.bots)
        .values({ tenantId, name, strategyName: 'rsi', symbols: [symbol], timeframe: '1h', stakeQuote: '1000', status })
        .returning();
      return row!.id;
    };
    ids.hot = await bot(ids.ana, 'RSI ETH 1h', 'ETH/USDT', 'running');
    ids.calm = await bot(ids.ana, 'RSI BTC 1h', 'BTC/USDT', 'running');
    ids.quiet = await bot(ids.bob, 'RSI BTC 1h', 'BTC/USDT', 'running');
    await bot(ids.bob, 'old', 'SOL/USDT', 'stopped');
    // The hot bot came from a draft whose backtest fell 5 % at most.
    await x.insert(db.botDrafts).values({
      tenantId: ids.ana,
      description: 'rsi eth',
      locale: 'pt-BR',
      status: 'started',
      name: 'RSI ETH 1h',
      botId: ids.hot,
      backtestSummary: { backtests: [{ symbol: 'ETH/USDT', maxDrawdownPct: 5 }] },
    });
    // +50, then four losses of 100: realised equity 1050 → 650, 38.1 % below its peak.
    const profits = [50, -100, -100, -100, -100];
    await x.insert(db.trades).values(
      profits.map((p, i) => ({
        tenantId: ids.ana,
        botId: ids.hot,
        symbol: 'ETH/USDT',
        status: 'closed' as const,
        amountBase: '1',
        openPriceQuote: '1000',
        closePriceQuote: String(1000 + p),
        profitQuote: String(p),
        openedAt: new Date(NOW.getTime() - (20 - i * 2) * HOUR),
        closedAt: new Date(NOW.getTime() - (19 - i * 2) * HOUR),
      })),
    );
    // Three rejected orders today, one two days ago (not counted).
    await x.insert(db.orders).values(
      [2, 3, 4, 50].map((hoursAgo, i) => ({
        tenantId: ids.ana,
        botId: ids.hot,
        clientOrderId: `c${i}`,
        symbol: 'ETH/USDT',
        side: 'buy' as const,
        type: 'market' as const,
        status: 'rejected' as const,
        amountBase: '1',
        reason: 'signal',
        createdAt: new Date(NOW.getTime() - hoursAgo * HOUR),
      })),
    );
    // Cid's bots, both started by the assistant from drafts: the drifter 40 days ago, the steady one 10.
    for (const [key, name, days, profits, summary] of [
      [
        'drifter',
        'EMA BTC 1h',
        40,
        [20, -60, 10, -50],
        { maxDrawdownPct: 50, totalReturnPct: 20, windowReturnRangePct: { lowPct: -3, highPct: 6 } },
      ],
      ['steady', 'RSI BTC 1h', 10, [15, 5], { maxDrawdownPct: 25, totalReturnPct: 12.3, windowReturnRangePct: { lowPct: -3, highPct: 6 } }],
    ] as const) {
      ids[key] = await bot(ids.cid, name, 'BTC/USDT', 'running');
      await x
        .update(db.bots)
        .set({ startedAt: new Date(NOW.getTime() - days * DAY) })
        .where(eq(db.bots.id, ids[key]));
      await x.insert(db.botDrafts).values({
        tenantId: ids.cid,
        description: name,
        locale: 'pt-BR',
        status: 'started',
        name,
        botId: ids[key],
        backtestSummary: { backtests: [{ symbol: 'BTC/USDT', ...summary }] },
      });
      await x.insert(db.trades).values(
        profits.map((p, i) => ({
          tenantId: ids.cid,
          botId: ids[key],
          symbol: 'BTC/USDT',
          status: 'closed' as const,
          amountBase: '1',
          openPriceQuote: '1000',
          closePriceQuote: String(1000 + p),
          profitQuote: String(p),
          openedAt: new Date(NOW.getTime() - (8 - i) * DAY),
          closedAt: new Date(NOW.getTime() - (8 - i) * DAY + HOUR),
        })),
      );
    }
    // BTC's feed is fresh (its last closed bar); ETH's stopped ten hours ago.
    const bars = (lastOpenMs: number) => Array.from({ length: 5 }, (_, i) => [lastOpenMs - (4 - i) * HOUR, 100, 101, 99, 100, 1]);
    const lastClosed = Math.floor(NOW.getTime() / HOUR) * HOUR - HOUR;
    await upsertCandles(x, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, bars(lastClosed));
    await upsertCandles(x, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }, bars(lastClosed - 10 * HOUR));
  }, 120_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it('flags what passed its limits and sends one digest per trader, in their language, once a day', async () => {
    const { mastra } = workflowRuntime(test.handle.db, { now: () => NOW });
    const outcome = await runBotReview(mastra, NOW);
    expect(outcome).toMatchObject({
      status: 'success',
      result: { day: '2026-11-01', reviewedBots: 5, flaggedBots: 2, digests: 3, unreachable: 0 },
    });
    const rows = await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'bot_review'));
    const keys = [...new Set(rows.map((r) => r.dedupeKey))].sort();
    expect(keys).toEqual(
      [`bot-review:2026-11-01:${ids.ana}`, `bot-review:2026-11-01:${ids.bob}`, `bot-review:2026-11-01:${ids.cid}`].sort(),
    );

    const ana = rows.find((r) => r.recipientUserId === ids.anaUser)!;
    expect(ana.payload).toEqual({
      day: '2026-11-01',
      bots: [
        {
          botId: ids.hot,
          botName: 'RSI ETH 1h',
          flags: [
            { kind: 'drawdown', drawdownPct: '38.1', backtestDrawdownPct: '5' },
            { kind: 'losing_streak', trades: 4 },
            { kind: 'stale_feed', symbols: ['ETH/USDT'] },
            { kind: 'order_failures', orders: 3 },
          ],
        },
      ],
      fine: 1,
    });
    const text = renderNotification('bot_review', ana.payload, 'pt-BR').text;
    expect(text).toContain('Revisão diária dos seus robôs');
    expect(text).toContain('caiu 38,10 % do pico, mais que os 5,00 % do backtest');
    expect(text).toContain('4 operações com prejuízo seguidas');
    expect(text).toContain('3 ordens falharam nas últimas 24 h');
    expect(text).toContain('1 outro(s) robô(s) sem nada a apontar');
    const bob = rows.find((r) => r.recipientUserId === ids.bobUser)!;
    expect(renderNotification('bot_review', bob.payload, 'en').text).toContain('Nothing to flag');

    // Cid: the drifter's last 30 days (-8 %) below anything its backtest made in 30 days (-3 … +6 %);
    // the steady bot ran its 7 days on paper with nothing flagged: live is suggested, with the evidence.
    const cid = rows.find((r) => r.recipientUserId === ids.cidUser)!;
    expect(cid.payload).toEqual({
      day: '2026-11-01',
      bots: [
        { botId: ids.drifter, botName: 'EMA BTC 1h', flags: [{ kind: 'outside_backtest', returnPct: '-8', lowPct: '-3', highPct: '6' }] },
      ],
      fine: 1,
      paperReady: [{ botId: ids.steady, botName: 'RSI BTC 1h', days: 10, trades: 2, returnPct: '2', backtestReturnPct: '12.3' }],
    });
    const cidText = renderNotification('bot_review', cid.payload, 'pt-BR');
    expect(cidText.text).toContain('-8,00 % nos últimos 30 dias, fora do que o backtest fez em quaisquer 30 dias (-3,00 % … +6,00 %)');
    expect(cidText.text).toContain('RSI BTC 1h</b> rodou 10 dias no simulado: +2,00 % do valor em 2 operação(ões) encerrada(s)');
    const cidEnglish = renderNotification('bot_review', cid.payload, 'en');
    expect(cidEnglish.text).toContain('-8.00% in the last 30 days, outside what its backtest made in any 30 days (-3.00% … +6.00%)');
    expect(cidEnglish.text).toContain(
      'has run 10 days on paper: +2.00% of its stake in 2 closed trade(s) (its backtest: +12.30% in a year)',
    );
    expect(cidEnglish.replyMarkup!.inline_keyboard.flat().map((b) => b.text)).toEqual([
      '⏹ Stop EMA BTC 1h',
      '🧪 New backtest',
      '💰 Go live: RSI BTC 1h',
    ]);
    expect(cidText.replyMarkup!.inline_keyboard.flat().map((b) => b.callback_data)).toEqual([
      `as:p:${ids.drifter}`,
      `as:r:${ids.drifter}`,
      `as:l:${ids.steady}`,
    ]);

    // Nothing changed for them: every bot still runs, every paper bot is still paper.
    const running = await test.handle.db.select().from(db.bots).where(eq(db.bots.status, 'running'));
    expect(running).toHaveLength(5);
    expect(running.every((b) => b.mode === 'paper')).toBe(true);

    // The same day again: the same run, nothing queued twice.
    expect(await runBotReview(mastra, new Date(NOW.getTime() + HOUR))).toMatchObject({ status: 'success' });
    expect(await test.handle.db.select().from(db.notifications).where(eq(db.notifications.type, 'bot_review'))).toHaveLength(rows.length);
  });
});

describe('the range a backtest made over any 30 days', () => {
  const DAY = 86_400_000;
  it('takes each point against the first one 30 days later, lowest and highest', () => {
    const curve = [100, 110, 99, 120, 90].map((equity, i) => ({ time: i * 15 * DAY, equity }));
    // 30 days apart: 100→99, 110→120, 99→90.
    expect(windowReturnRangePct(curve, 30 * DAY)).toEqual({ lowPct: -9.09, highPct: 9.09 });
    expect(windowReturnRangePct(curve.slice(0, 2), 30 * DAY)).toBeNull();
  });
});

describe('paperReady', () => {
  const figures: BotReviewFigures = {
    botId: 'b',
    tenantId: 't',
    name: 'RSI BTC 1h',
    symbols: ['BTC/USDT'],
    timeframe: '1h',
    drawdownPct: 0,
    backtestDrawdownPct: 30,
    losingStreak: 0,
    staleSymbols: [],
    orderFailures24h: 0,
    mode: 'paper',
    daysRunning: 8,
    closedTrades: 3,
    returnPct: 1.5,
    windowReturnPct: null,
    backtestWindowRangePct: null,
    backtestReturnPct: 4,
    fromDraft: true,
  };

  it('suggests live only for a draft whose backtest fell no more than the limit', () => {
    expect(paperReady(figures, [])).toEqual({ days: 8, trades: 3, returnPct: 1.5, backtestReturnPct: 4 });
    // Started on paper despite a deep backtest: never suggested for real money.
    expect(paperReady({ ...figures, backtestDrawdownPct: 30.01 }, [])).toBeNull();
    expect(paperReady({ ...figures, daysRunning: 6 }, [])).toBeNull();
    expect(paperReady({ ...figures, mode: 'live' }, [])).toBeNull();
  });
});
