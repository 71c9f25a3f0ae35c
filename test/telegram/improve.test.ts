import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as db from '../../db/index.ts';
import type { Database } from '../../db/index.ts';
import { improveWords } from '../../telegram/improve.ts';
import { upsertCandles } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama.ts';
import { parkMiller } from '../support/random.ts';
import type { TelegramChat, BotMessage } from '../support/telegram-chat.ts';
import { addTrader, startTelegramDoor, testAgents, type TelegramDoorHarness } from '../support/telegram-door.ts';

// "Melhore meu robô N" on Telegram (issue 22, item 5): the walk-forward review's card with each
// window's in- and out-of-sample figures side by side in the reader's language, and Apply /
// Discard; only Apply changes the bot (a new version). A random-walk market gets no proposal.

const HOUR = 3_600_000;
const NOW = new Date('2026-11-01T12:30:00Z');
const LAST_BAR = Date.UTC(2026, 10, 1, 11);
const BARS = 365 * 24;
/** A year of hourly bars: a 48-hour sine wave (the review finds better RSI settings) or a random walk (it finds none). */
function year(kind: 'sine' | 'walk', seed: number): number[][] {
  const random = parkMiller(seed);
  let walk = 100;
  const closes = Array.from({ length: BARS }, (_, i) => {
    if (kind === 'sine') return 100 * (1 + 0.05 * Math.sin((2 * Math.PI * i) / 48)) * (1 + (random() - 0.5) * 0.004);
    walk *= 1 + (random() - 0.5) * 0.02;
    return walk;
  });
  return closes.map((close, i) => {
    const open = closes[Math.max(0, i - 1)]!;
    return [LAST_BAR - (BARS - 1 - i) * HOUR, open, Math.max(open, close) * 1.001, Math.min(open, close) * 0.999, close, 10];
  });
}
/** How long a review may take here (the tests' own limit is a multiple of it). */
const REVIEW_MS = 90_000;
const DEFAULTS = { rsiPeriod: 14, rsiBuy: 40, rsiSell: 60, stopLossPct: 3, takeProfitPct: 2 };

type Trader = { userId: string; tenantId: string; chat: TelegramChat; botId: string };

describe('improve my bot on Telegram', () => {
  let test: TestDatabase;
  let database: Database;
  let harness: TelegramDoorHarness;
  let ollama: FakeOllama;
  const traders: Record<'ana' | 'bob', Trader> = {} as never;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    ollama = await startFakeOllama(() => ({ content: '{}' }), { models: [] });
    const { agents } = await testAgents(database, { host: ollama.url });
    harness = await startTelegramDoor({ db: database, agents, door: { now: () => NOW } });
    await upsertCandles(database, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, year('sine', 11));
    await upsertCandles(database, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }, year('walk', 2));
    let telegramId = 8700;
    for (const [name, locale, symbol] of [
      ['ana', 'pt-BR', 'BTC/USDT'],
      ['bob', 'en', 'ETH/USDT'],
    ] as const) {
      const { tenantId, userId, email } = await addTrader(database, name, locale, NOW);
      const [bot] = await database
        .insert(db.bots)
        .values({
          tenantId,
          name: `${name}-rsi`,
          strategyName: 'rsi',
          parameters: DEFAULTS,
          symbols: [symbol],
          timeframe: '1h',
          stakeQuote: '100',
        })
        .returning();
      traders[name] = { userId, tenantId, chat: await harness.link(email, 'trader', telegramId++), botId: bot!.id };
    }
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await ollama?.close();
    await test?.dispose();
  });

  /** The review's answer: "reviewing…", then the card. */
  async function review(trader: Trader, text: string): Promise<BotMessage> {
    await trader.chat.send(text);
    expect((await trader.chat.reply()).plain).toMatch(/^⏳/);
    // A year's walk-forward review: seconds on a quiet machine, many more on a loaded one.
    return trader.chat.reply(REVIEW_MS);
  }
  async function press(trader: Trader, message: BotMessage, label: RegExp): Promise<BotMessage> {
    const found = message.buttons.find((b) => label.test(b.text));
    expect(found, `a button ${label} among ${message.buttons.map((b) => b.text).join(', ')}`).toBeDefined();
    await trader.chat.press(found!.callback_data, message.messageId);
    return trader.chat.reply();
  }
  const parametersOf = async (trader: Trader) => (await database.select().from(db.bots).where(eq(db.bots.id, trader.botId)))[0]!.parameters;
  const versionsOf = (trader: Trader) => database.select().from(db.botVersions).where(eq(db.botVersions.botId, trader.botId));

  it('reads the phrasings, and only them', () => {
    expect(
      ['melhore meu robô 1', 'Melhore o meu robo 12', 'melhora o robô 3', 'improve my bot 2', 'Improve bot 4!'].map(improveWords),
    ).toEqual(['1', '12', '3', '2', '4']);
    expect(['melhore meu robô', 'improve my bot please', 'quero um robô RSI no BTC'].map(improveWords)).toEqual([null, null, null]);
  });

  it('"melhore meu robô 1": the card in Portuguese, in and out of sample side by side; Discard changes nothing, Apply writes version 2', async () => {
    const card = await review(traders.ana, 'melhore meu robô 1');
    expect(card.plain).toContain('Revisão walk-forward: 1 ana-rsi');
    expect(
      card.plain.match(/proposto [+-][\d,]+ % dentro \/ [+-][\d,]+ % fora · atual [+-][\d,]+ % dentro \/ [+-][\d,]+ % fora/g),
    ).toHaveLength(5);
    expect(card.plain).toMatch(/Proposto: rsiPeriod=/);
    expect(card.buttons.map((b) => b.text)).toEqual(['✅ Aplicar', '✖️ Descartar']);

    expect((await press(traders.ana, card, /Descartar/)).plain).toBe('Proposta descartada; o robô continua como estava.');
    expect(await parametersOf(traders.ana)).toEqual(DEFAULTS);
    // Nothing was written.
    expect(await versionsOf(traders.ana)).toEqual([]);

    const again = await review(traders.ana, '/improve 1');
    const applied = await press(traders.ana, again, /Aplicar/);
    expect(applied.plain).toMatch(/^✅ Aplicado: versão 2 \(a anterior fica guardada para voltar atrás\)\. O robô usa os novos parâmetros/);
    const parameters = await parametersOf(traders.ana);
    expect(parameters).not.toEqual(DEFAULTS);
    const shown = /Proposto: (.+)/
      .exec(again.plain)![1]!
      .split(', ')
      .map((pair) => pair.split('='));
    expect(Object.fromEntries(shown.map(([k, v]) => [k, Number(v)]))).toEqual(parameters);
    expect((await versionsOf(traders.ana)).map((v) => [v.version, v.parameters]).sort()).toEqual([
      [1, DEFAULTS],
      [2, parameters],
    ]);
    // The bot's own history names the change and who confirmed it.
    await traders.ana.chat.send('/history 1');
    expect((await traders.ana.chat.reply()).plain).toMatch(
      /ana \(assistente\): parâmetros trocados pela revisão walk-forward \(confirmado com o botão\) ✓/,
    );
  }, 300_000);

  it('Roll back under the applied change: the press restores version 1 as version 3, once; the history names it', async () => {
    const applied = traders.ana.chat.all().find((m) => m.plain.startsWith('✅ Aplicado: versão 2'))!;
    expect(applied.buttons.map((b) => b.text)).toEqual(['↩️ Voltar à versão 1']);
    const changed = await parametersOf(traders.ana);
    const [button] = applied.buttons;
    const back = await press(traders.ana, applied, /Voltar/);
    expect(back.plain).toBe(
      '↩️ Voltou à versão 1: gravada como versão 3. O robô usa os novos parâmetros a partir da próxima vez que for ligado.',
    );
    expect(await parametersOf(traders.ana)).toEqual(DEFAULTS);
    expect((await versionsOf(traders.ana)).map((v) => [v.version, v.parameters]).sort()).toEqual([
      [1, DEFAULTS],
      [2, changed],
      [3, DEFAULTS],
    ]);
    // Pressed again (a second tap, an old message): spent, nothing written.
    traders.ana.chat.skip();
    await traders.ana.chat.press(button!.callback_data, applied.messageId);
    await harness.settle();
    expect(traders.ana.chat.fresh()).toEqual([]);
    expect(await versionsOf(traders.ana)).toHaveLength(3);
    await traders.ana.chat.send('/history 1');
    expect((await traders.ana.chat.reply()).plain).toMatch(/ana \(assistente\): parâmetros voltados a uma versão anterior ✓/);
  });

  it('/help and the "/" menu name /improve, in each language', async () => {
    for (const [trader, line, entry] of [
      [traders.ana, '/improve N — revisão walk-forward do robô N', 'revisar um robô e propor parâmetros melhores'],
      [traders.bob, '/improve N — a walk-forward review of bot N', 'review a bot and propose better parameters'],
    ] as const) {
      await trader.chat.send('/help');
      expect((await trader.chat.reply()).plain).toContain(line);
      // The chat's own menu, set when it was linked (the emulator keeps the request's fields as sent: JSON).
      const parse = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value);
      const own = harness.emulator.requests
        .filter((r) => r.method === 'setMyCommands' && (parse(r.body?.scope) as { chat_id?: number }).chat_id === trader.chat.chatId)
        .at(-1)!;
      expect(parse(own.body!.commands)).toContainEqual({ command: 'improve', description: entry });
    }
  });

  it('"improve my bot 1" on a random walk: the figures in English and no change proposed, so no buttons', async () => {
    const card = await review(traders.bob, 'improve my bot 1');
    expect(card.plain).toContain('Walk-forward review: 1 bob-rsi');
    expect(card.plain).toMatch(/current [+-][\d.]+% in \/ [+-][\d.]+% out/);
    expect(card.plain).toMatch(/No change proposed: /);
    expect(card.buttons).toEqual([]);
    expect(await parametersOf(traders.bob)).toEqual(DEFAULTS);
  }, 200_000);

  it('a trader reaches only their own bots by number, and a bad /improve gets its usage', async () => {
    await database.delete(db.bots).where(eq(db.bots.id, traders.bob.botId));
    await traders.bob.chat.send('/improve 1');
    expect((await traders.bob.chat.reply()).plain).toBe('None of your bots is number 1. See /bots.');
    await traders.bob.chat.send('/improve');
    expect((await traders.bob.chat.reply()).plain).toMatch(/^Usage: \/improve N/);
  });
});
