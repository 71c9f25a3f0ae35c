import crypto from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelGateway, AgentRuntime } from '../../agents/index.ts';
import * as db from '../../db/index.ts';
import type { Database } from '../../db/index.ts';
import { formatPct } from '../../i18n/index.ts';
import { botActionCallbackData, enqueueNotification } from '../../notifications/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { pngSize } from '../../telegram/index.ts';
import type { TelegramDelivery } from '../../telegram/outbox/index.ts';
import { upsertCandles } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeOllama, type FakeOllama, type OllamaChatRequest } from '../support/fake-ollama.ts';
import type { TelegramChat, BotMessage } from '../support/telegram-chat.ts';
import { addTrader, startTelegramDoor, testAgents, type TelegramDoorHarness } from '../support/telegram-door.ts';
import type { TelegramEmulator } from '../support/telegram-emulator.ts';

// The trader's assistant on Telegram (issue 22): a sentence becomes a draft card with buttons,
// the backtest answer shows the year's figures beside buy-and-hold and the equity chart, and a
// bot starts — on paper — only when the trader presses "start on paper". Answers to the card's
// questions and "change" presses edit the draft; the trader's other words keep the door's
// customer answers. With the model offline (no "(modelo offline…)" line), with a scripted model
// filling only what the words left open, and with a bad one that changes nothing.

const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');
const LAST_BAR = Date.UTC(2026, 10, 1, 11);
const YEAR_BARS = 400 * 24;
const bars = (base: number, drift: number) =>
  Array.from({ length: YEAR_BARS }, (_, i) => {
    const price = (k: number) => base * Math.exp(drift * k) + base * 0.006 * Math.sin(k / 4);
    const t = LAST_BAR - (YEAR_BARS - 1 - i) * HOUR;
    const open = price(Math.max(0, i - 1));
    const close = price(i);
    return [t, open, Math.max(open, close) * 1.0005, Math.min(open, close) * 0.9995, close, 10];
  });

type Trader = { userId: string; tenantId: string; email: string; chat: TelegramChat };

describe("the trader's assistant on Telegram", () => {
  let test: TestDatabase;
  let database: Database;
  let harness: TelegramDoorHarness;
  let emulator: TelegramEmulator;
  let delivery: TelegramDelivery;
  let ollama: FakeOllama;
  let gateway: ModelGateway;
  let model: (request: OllamaChatRequest) => string = () => '{}';
  let nextTelegramId = 8100;
  const traders: Record<'ana' | 'bob' | 'eve' | 'rui', Trader> = {} as never;

  async function modelUp(up: boolean): Promise<void> {
    ollama.models = up ? ['qwen3:0.6b'] : [];
    await gateway.status({ fresh: true });
  }

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    ollama = await startFakeOllama((request) => ({ content: model(request) }), { models: [] });
    let agents: AgentRuntime;
    ({ agents, gateway } = await testAgents(database, { host: ollama.url }));
    harness = await startTelegramDoor({ db: database, agents, door: { now: () => NOW } });
    ({ emulator, delivery } = harness);
    await upsertCandles(database, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, bars(60_000, 0.00006));
    await upsertCandles(database, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }, bars(3_000, -0.00002));
    for (const [name, locale] of [
      ['ana', 'pt-BR'],
      ['bob', 'en'],
      ['eve', 'pt-BR'],
      ['rui', 'pt-BR'],
    ] as const) {
      const { tenantId, userId, email } = await addTrader(database, name, locale, NOW);
      traders[name] = { userId, tenantId, email, chat: await harness.link(email, 'trader', nextTelegramId++) };
    }
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await ollama?.close();
    await test?.dispose();
  });

  async function say(trader: Trader, text: string): Promise<BotMessage> {
    await trader.chat.send(text);
    return trader.chat.reply();
  }
  async function press(trader: Trader, message: BotMessage, label: RegExp): Promise<void> {
    const found = message.buttons.find((b) => label.test(b.text));
    expect(found, `a button ${label} among ${message.buttons.map((b) => b.text).join(', ')}`).toBeDefined();
    await trader.chat.press(found!.callback_data, message.messageId);
  }
  const draftsOf = (trader: Trader) => database.select().from(db.botDrafts).where(eq(db.botDrafts.tenantId, trader.tenantId));
  const botsOf = (trader: Trader) => database.select().from(db.bots).where(eq(db.bots.tenantId, trader.tenantId));
  const labels = (message: BotMessage) => message.buttons.map((b) => b.text);

  it('one sentence → a draft card with its fields and buttons, in Portuguese, with the model offline', async () => {
    await modelUp(false);
    const card = await say(traders.ana, 'quero um robô RSI no BTC de 1h com 100 USDT, stop de 3 %');
    expect(card.plain).toContain('Rascunho de robô: RSI BTC 1h');
    expect(card.plain).toContain('Par: BTC/USDT · tempo gráfico 1h');
    expect(card.plain).toContain('Valor máximo: 100,00 USDT · stop-loss 3,00 %');
    expect(card.plain).toContain('modo simulado (paper)');
    expect(card.plain).not.toMatch(/offline/i);
    expect(labels(card)).toEqual(['🧪 Backtest', '✏️ Mudar', '🗑 Descartar']);
    const [draft] = await draftsOf(traders.ana);
    expect(draft).toMatchObject({ strategyName: 'rsi', symbols: ['BTC/USDT'], timeframe: '1h', stakeQuote: '100', status: 'draft' });
    expect(card.buttons[0]!.callback_data).toBe(`as:b:${draft!.id}`);
    expect(await botsOf(traders.ana)).toEqual([]);
  });

  it('the backtest press: the chart beside buy-and-hold, then the figures with "start on paper"', async () => {
    const card = traders.ana.chat.all().at(-1)!;
    const photosBefore = emulator.photos.length;
    await press(traders.ana, card, /Backtest/);
    const result = await traders.ana.chat.reply();
    const [draft] = await draftsOf(traders.ana);
    const [figures] = (draft!.backtestSummary as { backtests: { totalReturnPct: number; buyAndHoldReturnPct: number; trades: number }[] })
      .backtests;
    expect(result.plain).toContain(`Robô: ${formatPct(String(figures!.totalReturnPct), 'pt-BR')}`);
    expect(result.plain).toContain(`Buy-and-hold: ${formatPct(String(figures!.buyAndHoldReturnPct), 'pt-BR')}`);
    expect(result.plain).toMatch(/Backtest BTC\/USDT \(8\.7\d\d candles/);
    expect(labels(result)).toEqual(['🧪 Backtest', '▶️ Iniciar no simulado', '✏️ Mudar', '🗑 Descartar']);
    const photos = emulator.photos.slice(photosBefore).filter((p) => p.chatId === String(traders.ana.chat.chatId));
    expect(photos).toHaveLength(1);
    expect(pngSize(photos[0]!.png)).toEqual({ width: 960, height: 540 });
    expect(photos[0]!.caption).toContain('Buy-and-hold');
    // The pressed card's buttons are spent.
    expect(traders.ana.chat.all().find((m) => m.messageId === card.messageId)!.buttons).toEqual([]);
    expect(await botsOf(traders.ana)).toEqual([]);
  });

  it('another trader pressing the same button reaches nothing; typed words never start a bot', async () => {
    const [draft] = await draftsOf(traders.ana);
    const eve = traders.eve;
    const anchor = await say(eve, 'oi');
    await eve.chat.press(`as:s:${draft!.id}`, anchor.messageId);
    expect((await eve.chat.reply()).plain).toBe('⚠️ Esse rascunho não está na sua conta.');
    await eve.chat.press(`as:b:${draft!.id}`, anchor.messageId);
    expect((await eve.chat.reply()).plain).toBe('⚠️ Esse rascunho não está na sua conta.');
    expect(await botsOf(eve)).toEqual([]);
    expect((await draftsOf(traders.ana))[0]!.status).toBe('draft');
    // "Inicia o robô" in words is not the button: the customer's answers take it, nothing starts.
    await say(traders.ana, 'pode iniciar o robô');
    expect(await botsOf(traders.ana)).toEqual([]);
  });

  it('the "start on paper" press is the confirmation: a paper bot runs, the draft is spent', async () => {
    const result = traders.ana.chat.all().findLast((m) => m.buttons.some((b) => b.callback_data.startsWith('as:s:')))!;
    await press(traders.ana, result, /Iniciar no simulado/);
    const started = await traders.ana.chat.reply();
    expect(started.plain).toMatch(/Robô \w{8} RSI BTC 1h ligado no simulado/);
    const [bot] = await botsOf(traders.ana);
    expect(bot).toMatchObject({ mode: 'paper', status: 'running', strategyName: 'rsi', symbols: ['BTC/USDT'], stakeQuote: '100' });
    expect((await draftsOf(traders.ana))[0]).toMatchObject({ status: 'started', botId: bot!.id });
    // The draft's cap on open positions (one pair: one) is the bot's own setting, which its runner keeps.
    expect((await draftsOf(traders.ana))[0]!.maxOpenPositions).toBe(1);
    expect(bot!.maxOpenPositions).toBe(1);
    expect(started.plain).toContain('ligado no simulado (dinheiro de mentira), com no máximo 1 posição aberta.');
    // Pressed again (a second tap, an old message): refused, still one bot.
    await traders.ana.chat.press(result.buttons.find((b) => b.callback_data.startsWith('as:s:'))!.callback_data, result.messageId);
    expect((await traders.ana.chat.reply()).plain).toBe('⚠️ Este rascunho já virou um robô; veja /bots.');
    expect(await botsOf(traders.ana)).toHaveLength(1);
  });

  it('questions are answered in words (a bare amount for the stake), "change" edits, "discard" ends it — in English', async () => {
    const bob = traders.bob;
    const card = await say(bob, 'I want a MACD bot on ETH 1h');
    expect(card.plain).toContain('Bot draft: MACD ETH 1h');
    expect(card.plain).toContain('❓ How many USDT may the bot use at most?');
    expect(labels(card)).toEqual(['✏️ Change', '🗑 Discard']);
    const answered = await say(bob, '250');
    expect(answered.plain).toContain('Stake: 250.00 USDT');
    expect(answered.plain).not.toContain('❓');
    expect(labels(answered)).toEqual(['🧪 Backtest', '✏️ Change', '🗑 Discard']);
    await press(bob, answered, /Change/);
    expect((await bob.chat.reply()).plain).toContain('What should change?');
    const changed = await say(bob, 'stop 2%');
    expect(changed.plain).toContain('stop-loss 2.00%');
    expect(changed.plain).toContain('Stake: 250.00 USDT');
    await press(bob, changed, /Discard/);
    expect((await bob.chat.reply()).plain).toBe('🗑 Draft "MACD ETH 1h" discarded.');
    expect((await draftsOf(bob)).map((d) => d.status)).toEqual(['discarded']);
    // Its Change button, pressed after the discard, says so; the words after it change nothing.
    await press(bob, changed, /Change/);
    expect((await bob.chat.reply()).plain).toBe('This draft is no longer open; describe the bot again.');
  });

  it("the trader's other words keep the customer's answers", async () => {
    const bob = traders.bob;
    expect((await say(bob, 'thanks!')).plain).toContain("You're welcome");
    expect((await say(bob, 'show my bots')).plain).toBe('You have no bots yet.');
    expect(await draftsOf(bob)).toHaveLength(1);
  });

  it('a scripted model fills only what the words left open; a bad one changes nothing', async () => {
    const rui = traders.rui;
    await modelUp(true);
    model = () => JSON.stringify({ symbols: ['SOL/USDT'] });
    const filled = await say(rui, 'quero um robô de bandas de Bollinger na solana com 80 USDT');
    expect(filled.plain).toContain('Par: SOL/USDT');
    model = () => JSON.stringify({ stakeQuote: 5000, symbols: ['BTC/USDT'] });
    const bad = await say(rui, 'quero um robô EMA 9/21 no PEPE');
    expect(bad.plain).toContain('Par: ?');
    expect(bad.plain).toContain('Valor máximo: ?');
    expect(bad.plain).toContain('❓ Quantos USDT o robô pode usar no máximo?');
    model = () => 'Claro! Vou criar seu robô com 1000 USDT.';
    const chatty = await say(rui, 'quero um robô EMA 9/21 de 4h no PEPE');
    expect(chatty.plain).toContain('Valor máximo: ?');
    await modelUp(false);
    const rows = await database
      .select({ stake: db.botDrafts.stakeQuote })
      .from(db.botDrafts)
      .where(and(eq(db.botDrafts.tenantId, rui.tenantId), eq(db.botDrafts.strategyName, 'ema-cross')));
    expect(rows.map((r) => r.stake)).toEqual([null, null]);
  });

  describe("the review's and the pause notice's buttons", () => {
    let botId: string;
    async function notice(type: 'bot_review' | 'bot_paused', payload: Record<string, unknown>): Promise<BotMessage> {
      await enqueueNotification(database, { tenantId: traders.ana.tenantId, to: { userId: traders.ana.userId }, type, payload });
      delivery.outbox.wake();
      return traders.ana.chat.reply();
    }

    it("a flagged bot's buttons: a new backtest (chart and figures), then stop", async () => {
      botId = (await botsOf(traders.ana))[0]!.id;
      const digest = await notice('bot_review', {
        day: '2026-11-01',
        bots: [{ botId, botName: 'RSI BTC 1h', flags: [{ kind: 'losing_streak', trades: 5 }] }],
        fine: 0,
      });
      expect(digest.plain).toContain('5 operações com prejuízo seguidas');
      expect(digest.buttons.map((b) => b.callback_data)).toEqual([
        botActionCallbackData('stop', botId),
        botActionCallbackData('rebacktest', botId),
      ]);
      const photosBefore = emulator.photos.length;
      await press(traders.ana, digest, /Novo backtest/);
      const figures = await traders.ana.chat.reply();
      expect(figures.plain).toMatch(/^🧪 Novo backtest de RSI BTC 1h \(BTC\/USDT 1h, último ano, 8\.7\d\d candles\)/);
      expect(figures.plain).toMatch(/Buy-and-hold: [+-]\d/);
      expect(figures.plain).toContain('Nada mudou no robô');
      expect(emulator.photos.slice(photosBefore).filter((p) => p.chatId === String(traders.ana.chat.chatId))).toHaveLength(1);
      expect((await botsOf(traders.ana))[0]!.status).toBe('running');
      await press(traders.ana, digest, /Parar/);
      expect((await traders.ana.chat.reply()).plain).toBe('⏹ Robô RSI BTC 1h parado. Para ligar de novo: /startbot.');
      expect((await botsOf(traders.ana))[0]!.status).toBe('stopped');
    });

    it('a pause notice carries the same buttons, for that bot only', async () => {
      const paused = await notice('bot_paused', {
        botId,
        botName: 'RSI BTC 1h',
        reason: 'risk limit: the bot lost 6 % of its stake today',
      });
      expect(paused.plain).toMatch(/^⏸️ Robô pausado: RSI BTC 1h/);
      expect(paused.buttons.map((b) => b.callback_data)).toEqual([
        botActionCallbackData('stop', botId),
        botActionCallbackData('rebacktest', botId),
      ]);
      // Another trader pressing it reaches nothing.
      const anchor = await say(traders.eve, 'oi');
      await traders.eve.chat.press(botActionCallbackData('rebacktest', botId), anchor.messageId);
      expect((await traders.eve.chat.reply()).plain).toBe('⚠️ Esse robô não está na sua conta. Veja seus robôs com /bots.');
    });

    it('going live is only suggested: refused without the plan, then without a key; with both, a stopped live copy and the confirmation', async () => {
      const digest = await notice('bot_review', {
        day: '2026-11-08',
        bots: [],
        fine: 1,
        paperReady: [{ botId, botName: 'RSI BTC 1h', days: 7, trades: 3, returnPct: '1.5', backtestReturnPct: '12.3' }],
      });
      expect(digest.plain).toContain(
        'RSI BTC 1h rodou 7 dias no simulado: +1,50 % do valor em 3 operação(ões) encerrada(s) (o backtest: +12,30 % em um ano)',
      );
      expect(digest.plain).toContain('só com a sua confirmação');
      const live = () => botsOf(traders.ana).then((list) => list.filter((b) => b.mode === 'live'));
      await press(traders.ana, digest, /Operar ao vivo/);
      expect((await traders.ana.chat.reply()).plain).toMatch(/^Seu plano Free não inclui operar com dinheiro real; o plano \w+ inclui/);
      expect(await live()).toEqual([]);

      // The plans table only names them (the limits are the code's, billing/plans.ts).
      await database
        .insert(db.plans)
        .values(
          (['free', 'pro', 'enterprise'] as const).map((id) => ({
            id,
            name: id,
            monthlyPriceCents: 0,
            yearlyPriceCents: 0,
            limits: { botsAllowed: 1, liveTradingAllowed: false, backtestsPerDay: 1, symbolsPerBot: 1, agentAccess: 'none' as const },
          })),
        )
        .onConflictDoNothing();
      const customerId = crypto.randomUUID();
      await database.insert(db.customers).values({ id: customerId, tenantId: traders.ana.tenantId, email: traders.ana.email, name: 'ana' });
      await database.insert(db.subscriptions).values({
        tenantId: traders.ana.tenantId,
        customerId,
        planId: 'pro',
        status: 'active',
        amountCents: 9990,
        currentPeriodStart: NOW,
        currentPeriodEnd: new Date(NOW.getTime() + 30 * 86_400_000),
        startedAt: NOW,
      });
      await press(traders.ana, digest, /Operar ao vivo/);
      expect((await traders.ana.chat.reply()).plain).toMatch(/^⚠️ Operar com dinheiro real precisa de uma chave de API da corretora/);
      expect(await live()).toEqual([]);

      const box = createSecretBox(crypto.randomBytes(32));
      const tenantId = traders.ana.tenantId;
      await database.insert(db.exchangeAccounts).values({
        tenantId,
        label: 'main',
        apiKeyEncrypted: box.seal('KEY1234', `exchange_accounts:${tenantId}:api_key`),
        apiSecretEncrypted: box.seal('SECRET', `exchange_accounts:${tenantId}:api_secret`),
        apiKeyLast4: '1234',
        sandbox: false,
      });
      await press(traders.ana, digest, /Operar ao vivo/);
      const confirm = await traders.ana.chat.reply();
      expect(confirm.plain).toMatch(/^💰 Operar RSI BTC 1h com dinheiro real\?/);
      expect(confirm.plain).toContain('Ele só liga se você confirmar');
      const [copy] = await live();
      expect(copy).toMatchObject({ name: 'RSI BTC 1h (live)', status: 'stopped', strategyName: 'rsi', stakeQuote: '100' });
      expect(confirm.buttons.map((b) => b.callback_data)).toEqual([
        `sl:${copy!.id.replace(/-/g, '')}:y`,
        `sl:${copy!.id.replace(/-/g, '')}:n`,
      ]);
      // Pressed twice: the same copy, not a second one. Cancelled: it stays stopped.
      await press(traders.ana, digest, /Operar ao vivo/);
      await traders.ana.chat.reply();
      expect(await live()).toHaveLength(1);
      await press(traders.ana, confirm, /Cancelar/);
      for (let i = 0; i < 1_000 && !/Cancelado/.test(traders.ana.chat.all().find((m) => m.messageId === confirm.messageId)!.plain); i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(traders.ana.chat.all().find((m) => m.messageId === confirm.messageId)!.plain).toBe('Cancelado. O robô continua parado.');
      expect((await live())[0]!.status).toBe('stopped');
    });
  });

  it('/history N: the words it was drafted from and every change, who made it, newest first', async () => {
    const reply = await say(traders.ana, '/history 1');
    const lines = reply.plain.split('\n');
    expect(lines[0]).toBe('📜 Histórico: 1 RSI BTC 1h (simulado, parado)');
    expect(lines[1]).toMatch(/^Criado pelo assistente a partir de: “quero um robô RSI no BTC de 1h com 100 USDT, stop de 3 %” \(/);
    expect(lines.slice(2).map((line) => line.replace(/^• .+? — /, ''))).toEqual([
      'ana: parado ✓',
      'ana (assistente): iniciado no simulado (confirmado com o botão) recusado',
      'ana (assistente): iniciado no simulado (confirmado com o botão) ✓',
      'ana (assistente): backtest do rascunho ✓',
      'ana (assistente): rascunho criado das palavras ✓',
    ]);
    // Another trader's number 1 is not Ana's bot.
    expect((await say(traders.eve, '/history 1')).plain).toBe('Nenhum robô seu corresponde a "1". Veja /bots.');
    expect((await say(traders.ana, '/history')).plain).toMatch(/^Uso: \/history N/);
  });
});
