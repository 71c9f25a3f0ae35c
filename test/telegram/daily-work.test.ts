import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelGateway, type AgentRuntime } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { queryRows, type Database } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { issueLinkCode } from '../../identity/index.ts';
import { createMastra } from '../../mastra.config.ts';
import { createLogger } from '../../observability/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { TelegramDoor } from '../../telegram/index.ts';
import { createTelegramDelivery, type TelegramDelivery } from '../../telegram/outbox/index.ts';
import { BotRunner, DEFAULT_RISK_LIMITS, PaperExchange } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { freePort } from '../support/ports.ts';
import { syntheticMarket } from '../support/synthetic-market.ts';
import { TelegramChat } from '../support/telegram-chat.ts';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator.ts';

// A trader's and staff members' daily work in the chat (issue 21): bot state explained, tickets
// answered from the chat, approval cards a decider can decide on, traders answered as customers,
// freqtrade's trader commands, and the message's language as a first guess. Over the emulated
// Bot API, against the demo company, with the exchange down and the model offline.

const silent = createLogger(
  { log: { level: 'silent', format: 'json' } },
  { destination: new Writable({ write: (_c, _e, done) => done() }) },
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EXCHANGE_DOWN =
  'binance: NetworkError: binance GET https://testnet.binance.vision/api/v3/account getaddrinfo ENOTFOUND testnet.binance.vision';
const TECHNICAL =
  /https?:\/\/|\bat \S+ \(|\b\w+Error\b|\bE(NOTFOUND|CONNREFUSED|CONNRESET|TIMEDOUT|AI_AGAIN)\b|\.ts:\d+|\b[A-Z][A-Z0-9]+_[A-Z0-9_]+\b|\{"/;

type Trader = { userId: string; tenantId: string; email: string; chat: TelegramChat };

describe('daily work in the chat', () => {
  let test: TestDatabase;
  let database: Database;
  let emulator: TelegramEmulator;
  let delivery: TelegramDelivery;
  let door: TelegramDoor;
  let nextUserId = 7000;
  const traders: Record<'pt-BR' | 'en', Trader> = {} as never;

  async function settle(): Promise<void> {
    const untaken = () => emulator.server.storage.userMessages.filter((u) => u.botToken === emulator.token && !door.hasTaken(u.updateId));
    for (let i = 0; i < 2_000 && untaken().length > 0; i++) await sleep(5);
    await door.idle();
  }

  async function ask(chat: TelegramChat, text: string): Promise<string[]> {
    chat.skip();
    await chat.send(text);
    await settle();
    return chat.fresh().map((m) => m.plain);
  }

  async function linkTrader(email: string, userId: string, locale: 'pt-BR' | 'en' | null): Promise<TelegramChat> {
    if (locale) await database.update(db.users).set({ locale }).where(eq(db.users.id, userId));
    const chat = new TelegramChat(emulator, { userId: nextUserId++ });
    const { code } = await issueLinkCode(database, { email, kind: 'trader' });
    await chat.send(`/start ${code}`);
    await chat.replies(2);
    return chat;
  }

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    await seedDemoCompany(database, { secretBox: createSecretBox(crypto.randomBytes(32)), traders: 40 });
    const gateway = new ModelGateway({
      host: `http://127.0.0.1:${await freePort()}`,
      model: 'qwen3:0.6b',
      agentModels: {},
      timeoutMs: 2_000,
    });
    const agents: AgentRuntime = { mastra: createMastra({ db: database, gateway, logger: silent }), gateway, logger: silent };
    emulator = await startTelegramEmulator();
    delivery = createTelegramDelivery(
      {
        botToken: emulator.token,
        apiRoot: emulator.apiRoot,
        webhookUrl: undefined,
        webhookSecret: undefined,
        ratePerS: 1_000,
        chatRatePerS: 100,
      },
      database,
      { logger: silent, pollIntervalMs: 20 },
    )!;
    delivery.outbox.start();
    door = new TelegramDoor({
      botToken: emulator.token,
      apiRoot: emulator.apiRoot,
      db: database,
      billing: new BillingService(database, undefined),
      agents,
      logger: silent,
      delivery,
      trading: {
        exchangeFor: async () => {
          throw new Error(EXCHANGE_DOWN);
        },
        limits: DEFAULT_RISK_LIMITS,
        killSwitch: async () => false,
      },
      approvalsEveryMs: 0,
      startFollowUpEveryMs: 0,
      poll: { idleMs: 10 },
    });
    await door.start();
    // Two traders with closed trades and open positions: one reads Portuguese, the other English.
    const owners = await queryRows<{ tenant_id: string }>(
      database,
      sql`select p.tenant_id from positions p join bots b on b.id = p.bot_id where b.mode = 'paper'
          group by p.tenant_id order by count(*) desc, p.tenant_id limit 2`,
    );
    for (const [i, locale] of (['pt-BR', 'en'] as const).entries()) {
      const tenantId = owners[i]!.tenant_id;
      const [user] = await database.select().from(db.users).where(eq(db.users.tenantId, tenantId));
      traders[locale] = { userId: user!.id, tenantId, email: user!.email, chat: await linkTrader(user!.email, user!.id, locale) };
    }
  }, 180_000);

  afterAll(async () => {
    await door?.stop(5_000);
    await delivery?.outbox.stop({ timeoutMs: 2_000 });
    await emulator?.close();
    await test?.dispose();
  });

  /** A new stopped paper bot in the trader's account, with its paper wallet. */
  async function newPaperBot(trader: Trader, name: string): Promise<string> {
    const [bot] = await database
      .insert(db.bots)
      .values({
        tenantId: trader.tenantId,
        name,
        strategyName: 'rsi',
        parameters: { rsiPeriod: 2, rsiBuy: 30, rsiSell: 70 },
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        status: 'stopped',
        stakeQuote: '1000',
      })
      .returning({ id: db.bots.id });
    return bot!.id;
  }

  /** The bot's number in /bots. */
  async function numberOf(trader: Trader, botId: string): Promise<number> {
    const rows = await database
      .select({ id: db.bots.id })
      .from(db.bots)
      .where(eq(db.bots.tenantId, trader.tenantId))
      .orderBy(db.bots.createdAt, db.bots.id);
    return rows.findIndex((r) => r.id === botId) + 1;
  }

  describe('bot state explained', () => {
    for (const locale of ['pt-BR', 'en'] as const) {
      it(`/bots and /status say why a bot is paused, in ${locale}, without the technical reason`, async () => {
        const trader = traders[locale];
        const botId = await newPaperBot(trader, `pausado-${locale}`);
        await database
          .update(db.bots)
          .set({ status: 'paused', lastError: `exchange failure: ${EXCHANGE_DOWN}` })
          .where(eq(db.bots.id, botId));
        const n = await numberOf(trader, botId);
        const bots = (await ask(trader.chat, '/bots')).join('\n');
        expect(bots).toContain(
          locale === 'en'
            ? `↳ The exchange did not answer, so the bot was paused rather than trade blind. Start it again with /startbot ${n} once it is back.`
            : `↳ A corretora não respondeu, então o robô foi pausado para não operar às cegas. Ligue de novo com /startbot ${n} quando ela voltar.`,
        );
        const status = (await ask(trader.chat, '/status')).join('\n');
        expect(status).toMatch(
          locale === 'en'
            ? /Need attention:[\s\S]*pausado-en ⏸ paused: The exchange did not answer/
            : /Precisam de atenção:[\s\S]*pausado-pt-BR ⏸ pausado: A corretora não respondeu/,
        );
        for (const text of [bots, status]) expect(text).not.toMatch(TECHNICAL);
        await database.update(db.bots).set({ status: 'stopped', lastError: null }).where(eq(db.bots.id, botId));
      });
    }

    it('/startbot says it waits for the first tick, then tells how the tick went (ran, or paused and why)', async () => {
      const trader = traders['pt-BR'];
      const good = await newPaperBot(trader, 'primeiro-ciclo');
      const n = await numberOf(trader, good);
      expect(await ask(trader.chat, `/startbot ${n}`)).toContain(
        `▶️ Robô ${n} ${good.slice(0, 8)} primeiro-ciclo ligado; aguardando o primeiro ciclo. Aviso aqui como ele ficou.`,
      );
      // Nothing to tell before the first tick.
      expect(await door.followUpStartedBots()).toBe(0);
      // The first tick, as a worker runs it: the paper exchange on a replayed market.
      const [row] = await database.select().from(db.bots).where(eq(db.bots.id, good));
      const exchange = new PaperExchange(database, {
        botId: good,
        tenantId: trader.tenantId,
        market: syntheticMarket(40),
        timeframe: '1h',
      });
      await exchange.deposit('USDT', 1000);
      await new BotRunner({ db: database, exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: () => false }, row!).tick();
      trader.chat.skip();
      expect(await door.followUpStartedBots()).toBe(1);
      await settle();
      expect(trader.chat.fresh().map((m) => m.plain)).toContain(
        `✅ O robô ${n} ${good.slice(0, 8)} primeiro-ciclo fez o primeiro ciclo e está rodando.`,
      );
      expect(await door.followUpStartedBots()).toBe(0);

      // A bot that pauses on its first tick: the follow-up says why and what to do.
      const english = traders.en;
      // Room in the plan for one more running bot.
      await database.update(db.bots).set({ status: 'stopped' }).where(eq(db.bots.tenantId, english.tenantId));
      const bad = await newPaperBot(english, 'pauses');
      const m = await numberOf(english, bad);
      expect((await ask(english.chat, `/startbot ${m}`)).join('\n')).toContain(
        `▶️ Bot ${m} ${bad.slice(0, 8)} pauses switched on; waiting for its first tick. I will tell you here how it went.`,
      );
      // The runner pauses it as it does when the exchange does not answer.
      await database
        .update(db.bots)
        .set({ status: 'paused', lastError: `exchange failure: ${EXCHANGE_DOWN}` })
        .where(eq(db.bots.id, bad));
      english.chat.skip();
      expect(await door.followUpStartedBots()).toBe(1);
      await settle();
      expect(english.chat.fresh().map((x) => x.plain)).toContain(
        `⏸ Bot ${m} ${bad.slice(0, 8)} pauses did not keep running: paused. The exchange did not answer, so the bot was paused rather than trade blind. Start it again with /startbot ${m} once it is back.`,
      );
      await database.update(db.bots).set({ status: 'stopped', lastError: null }).where(eq(db.bots.id, bad));
      await database.update(db.bots).set({ status: 'stopped' }).where(eq(db.bots.id, good));
    });
  });
});
