import crypto from 'node:crypto';
import { Registry } from 'prom-client';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRuntime } from '../../agents/index.ts';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows, type Database } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { createApp } from '../../server/index.ts';
import { issueLinkCode, registerGroup, unlinkTelegram, unregisterGroup } from '../../identity/index.ts';
import { mayAsk, TelegramDoor } from '../../telegram/index.ts';
import {
  BUNDLED_CANDLES_DIR,
  DEFAULT_RISK_LIMITS,
  loadCandleFile,
  PaperExchange,
  upsertCandles,
  type MarketDataSource,
} from '../../trading/index.ts';
import { createMetrics } from '../../observability/index.ts';
import { staffActor, type Actor } from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import {
  lastMessage,
  startFakeOllama,
  toolResults,
  type FakeOllama,
  type OllamaChatRequest,
  type ScriptedReply,
} from '../support/fake-ollama.ts';
import { TelegramChat } from '../support/telegram-chat.ts';
import { silentLogger as silent, startTelegramDoor, testAgents, type TelegramDoorHarness } from '../support/telegram-door.ts';
import type { TelegramEmulator } from '../support/telegram-emulator.ts';

// The door end to end: the Bot API emulator (telegram-test-api) on one side, the demo
// company on PGlite and a scripted Ollama on the other; people are emulator clients sending
// messages, commands and button presses, and reading what the bot sent them.

function figuresOf(value: unknown, key = ''): string[] {
  if (typeof value === 'number' && !/id$/i.test(key))
    return [
      /cents$/i.test(key)
        ? `R$ ${(value / 100).toLocaleString('pt-BR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
        : value.toLocaleString('pt-BR'),
    ];
  if (Array.isArray(value)) return value.flatMap((item) => figuresOf(item, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => figuresOf(v, k));
  return [];
}

// A long answer a model may rightly give (a whole plan): no sentence repeats (the word lists'
// lengths are coprime), Portuguese throughout, with bold and code entities, under the answer
// gate's bound and over Telegram's 4,096 characters.
const SUBJECTS = ['A campanha', 'O **resultado**', 'A estratégia', 'O `painel`', 'O público', 'A conversão', 'O planejamento'];
const VERBS = [
  'depende de',
  'melhora com',
  'cresce com',
  'precisa de',
  'aparece no',
  'muda com',
  'acompanha o',
  'vem de',
  'pede mais',
  'segue o',
  'combina com',
];
const OBJECTS = [
  'engajamento',
  'influenciadores',
  'receita recorrente',
  'conteúdo semanal',
  'anúncios',
  'vídeos curtos',
  'parceiros',
  'webinars',
  'cupons',
  'indicações',
  'e-mails',
  'lives',
  'artigos',
];
const TAILS = ['nesta fase', 'no trimestre', 'para os traders', 'com o time', 'sem pressa'];
const longAnswer = Array.from(
  { length: 95 },
  (_, i) => `${SUBJECTS[i % 7]} ${VERBS[i % 11]} ${OBJECTS[i % 13]} ${TAILS[i % 5]}.${i % 6 === 5 ? '\n\n' : ' '}`,
)
  .join('')
  .trim();

describe('the Telegram door', () => {
  let test: TestDatabase;
  let database: Database;
  let fake: FakeOllama;
  let harness: TelegramDoorHarness;
  let emulator: TelegramEmulator;
  let door: TelegramDoor;
  let agents: AgentRuntime;
  const plan = new Map<string, { name: string; arguments: Record<string, unknown> }[]>();
  const staff: Record<string, Extract<Actor, { kind: 'staff' }> & { email: string }> = {};
  let nextUserId = 1000;
  const chats = new Map<string, TelegramChat>();
  const registry = new Registry();
  const market: MarketDataSource & { prices: Map<string, number> } = {
    prices: new Map(),
    async fetchCandles() {
      return [];
    },
    async lastPrice(symbol) {
      const price = this.prices.get(symbol);
      if (price === undefined) throw new Error(`no price for ${symbol}`);
      return price;
    },
    async marketRules() {
      return { minAmountBase: 0, amountStepBase: 0, minNotionalQuote: 0 };
    },
  };

  function script(request: OllamaChatRequest): ScriptedReply {
    const last = lastMessage(request);
    if (last.role === 'user') {
      if (last.content === 'Escreva o plano de marketing completo') return { content: longAnswer };
      const calls = plan.get(last.content);
      return calls ? { toolCalls: calls } : { content: 'Olá! Como posso ajudar?' };
    }
    const results = toolResults(request);
    const figures = results.flatMap((r) => figuresOf(r)).slice(0, 3);
    const notes = results
      .map((r) => (r && typeof r === 'object' && 'message' in r ? String((r as { message: string }).message) : ''))
      .filter(Boolean)
      .join(' ');
    return {
      content:
        figures.length > 0 ? `Segundo a ferramenta: ${figures.join('; ')}. ${notes}`.trim() : notes || 'Pronto, consultei a ferramenta.',
    };
  }

  /** A new emulator user (and private chat). */
  function person(name: string, options: { type?: 'group' | 'supergroup'; chatId?: number; userId?: number } = {}): TelegramChat {
    const chat = new TelegramChat(emulator, {
      userId: options.userId ?? nextUserId++,
      ...(options.chatId ? { chatId: options.chatId } : {}),
      ...(options.type ? { type: options.type } : {}),
      firstName: name,
    });
    chats.set(name, chat);
    return chat;
  }

  /** Everything sent so far was polled and handled (and the outbox had its turn). */
  const settle = () => harness.settle();

  async function link(chat: TelegramChat, email: string, kind: 'staff' | 'trader' = 'staff'): Promise<void> {
    const { code } = await issueLinkCode(database, { email, kind });
    await chat.send(`/start ${code}`);
    const [linked] = await chat.replies(2);
    expect(linked!.plain).toMatch(/Conectado como|Linked as/);
  }

  const lastAnswerText = () =>
    [...emulator.requests].reverse().find((r) => r.method === 'answerCallbackQuery')?.body?.text as string | undefined;

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    await seedDemoCompany(database, { secretBox: createSecretBox(crypto.randomBytes(32)), traders: 40 });
    const candles = loadCandleFile(`${BUNDLED_CANDLES_DIR}binance_BTCUSDT_1h.csv`);
    const rows = Array.from({ length: 2_000 }, (_, k) => candles.length - 2_000 + k).map((i) => [
      candles.time[i]!,
      candles.open[i]!,
      candles.high[i]!,
      candles.low[i]!,
      candles.close[i]!,
      candles.volume[i]!,
    ]);
    // Replies follow the person's language: everyone here reads Portuguese unless a test says otherwise.
    await database.update(db.users).set({ locale: 'pt-BR' });
    await upsertCandles(database, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, rows);
    for (const member of await listStaff(database))
      staff[`${member.department}:${member.role}`] ??= { ...staffActor(member), email: member.email };
    fake = await startFakeOllama(script);
    ({ agents } = await testAgents(database, { host: fake.url, timeoutMs: 5_000 }));
    harness = await startTelegramDoor({
      db: database,
      agents,
      outboxPollMs: 50,
      door: {
        trading: {
          exchangeFor: async (bot) =>
            new PaperExchange(database, { botId: bot.id, tenantId: bot.tenantId, market, timeframe: bot.timeframe }),
          limits: DEFAULT_RISK_LIMITS,
          killSwitch: async () => false,
        },
        startFollowUpEveryMs: undefined,
        metricsRegistry: registry,
      },
    });
    ({ emulator, door } = harness);
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await fake?.close();
    await test?.dispose();
  });

  describe('linking', () => {
    it('links with a valid code, once; a reused, expired, wrong or malformed code is refused', async () => {
      const member = staff['finance:member']!;
      const alice = person('alice');
      const issued = await issueLinkCode(database, { email: member.email, kind: 'staff' });
      expect(issued.code).toMatch(/^[0-9A-Z]{12}$/);
      const [stored] = await database.select().from(db.telegramLinkCodes).where(eq(db.telegramLinkCodes.userId, member.userId));
      expect(stored!.codeHash).toBe(crypto.createHash('sha256').update(issued.code).digest('hex'));
      expect(JSON.stringify(stored)).not.toContain(issued.code);

      await alice.send(`/start ${issued.code.toLowerCase()}`);
      const [linked, help] = await alice.replies(2);
      expect(linked!.plain).toContain(`Conectado como ${member.name}`);
      expect(help!.plain).toContain('Financeiro');
      const links = await database.select().from(db.telegramLinks).where(eq(db.telegramLinks.userId, member.userId));
      expect(links).toHaveLength(1);
      expect(Number(links[0]!.telegramUserId)).toBe(alice.userId);

      const mallory = person('mallory');
      await mallory.send(`/start ${issued.code}`);
      expect((await mallory.reply()).plain).toMatch(/já foi usado|already used/);

      const old = await issueLinkCode(database, {
        email: staff['audit:member']!.email,
        kind: 'staff',
        ttlHours: 1,
        now: new Date(Date.now() - 2 * 3_600_000),
      });
      await mallory.send(`/start ${old.code}`);
      expect((await mallory.reply()).plain).toMatch(/expirou|expired/);

      await mallory.send('/start ZZZZZZZZZZZZ');
      expect((await mallory.reply()).plain).toMatch(/Código inválido|Invalid code/);
      await mallory.send("/start '; drop table users; --");
      expect((await mallory.reply()).plain).toMatch(/\/start CÓDIGO|\/start CODE/);
      expect(await database.$count(db.telegramLinks, eq(db.telegramLinks.telegramUserId, BigInt(mallory.userId)))).toBe(0);
    });

    it('stops answering a Telegram account after five wrong codes', async () => {
      const guesser = person('guesser');
      for (let i = 0; i < 7; i++) await guesser.send(`/start WRONGCODE${i}X`);
      await settle();
      const texts = guesser.fresh().map((m) => m.plain);
      expect(texts).toHaveLength(6);
      expect(texts.at(-1)).toMatch(/Muitas tentativas|Too many/);
    });

    it('a newer code replaces an older one; /unlink and the CLI unlink work, and re-linking works', async () => {
      const member = staff['sales:member']!;
      const bob = person('bob');
      const first = await issueLinkCode(database, { email: member.email, kind: 'staff' });
      const second = await issueLinkCode(database, { email: member.email, kind: 'staff' });
      await bob.send(`/start ${first.code}`);
      expect((await bob.reply()).plain).toMatch(/já foi usado|already used/);
      await bob.send(`/start ${second.code}`);
      await bob.replies(2);
      await bob.send('/unlink');
      expect((await bob.reply()).plain).toMatch(/desconectada|disconnected/);
      await bob.send('olá?');
      expect((await bob.reply()).plain).toContain('/start');
      await link(bob, member.email);
      expect(await unlinkTelegram(database, { email: member.email })).toBe(1);
      await link(bob, member.email);
      const rows = await database.select().from(db.telegramLinks).where(eq(db.telegramLinks.userId, member.userId));
      expect(rows.filter((r) => r.unlinkedAt === null)).toHaveLength(1);
      expect(rows).toHaveLength(3);
    });

    it('issues trader codes only for traders and staff invites only for staff', async () => {
      await expect(issueLinkCode(database, { email: staff['ceo:ceo']!.email, kind: 'trader' })).rejects.toThrow(/not a trader/);
      const [trader] = await database
        .select({ email: db.users.email })
        .from(db.users)
        .innerJoin(db.tenants, eq(db.tenants.id, db.users.tenantId))
        .where(eq(db.tenants.kind, 'trader'))
        .limit(1);
      await expect(issueLinkCode(database, { email: trader!.email, kind: 'staff' })).rejects.toThrow(/not a staff member/);
      await expect(issueLinkCode(database, { email: 'nobody@example.com', kind: 'staff' })).rejects.toThrow(/No user/);
    });
  });

  describe('strangers and groups', () => {
    it('gives an unlinked person one polite message and nothing else', async () => {
      const stranger = person('stranger');
      await stranger.send('oi, quem é você?');
      await stranger.send('/status');
      await stranger.send('/ask finance qual o MRR?');
      await stranger.sendNonText({
        sticker: { file_id: 'x', file_unique_id: 'y', width: 512, height: 512, is_animated: false, is_video: false, type: 'regular' },
      });
      await settle();
      const got = stranger.fresh();
      expect(got).toHaveLength(1);
      expect(got[0]!.plain).toContain('/start');
      expect(got[0]!.plain).toMatch(/equipe e os clientes/);
    });

    it('ignores unregistered groups and answers registered ones, to linked staff allowed there', async () => {
      const chatId = -100_200_300;
      const ceoChat = person('ceo-in-group', { type: 'group', chatId });
      await ceoChat.send('@bot como está a empresa?');
      await ceoChat.send('/ask finance qual o MRR?');
      await settle();
      expect(ceoChat.fresh()).toHaveLength(0);
      await registerGroup(database, chatId, 'finance', 'Financeiro');
      const member = staff['finance:head']!;
      const head = person('finance-head');
      await link(head, member.email);
      const inGroup = new TelegramChat(emulator, { userId: head.userId, chatId, type: 'group' });
      inGroup.skip();
      const botName = door.bot.botInfo?.username ?? 'bot';
      plan.set('qual o MRR?', [{ name: 'revenue_summary', arguments: {} }]);
      await inGroup.send('conversa entre colegas, sem falar com o bot');
      await inGroup.send(`@${botName} qual o MRR?`);
      const answer = await inGroup.reply();
      expect(answer.plain).toMatch(/Segundo a ferramenta|MRR/);
      await settle();
      expect(inGroup.fresh()).toHaveLength(0);
      // Unregistered: the bot goes quiet there; the second time says it was not registered; both audited once.
      expect(await unregisterGroup(database, chatId)).toBe(true);
      expect(await unregisterGroup(database, chatId)).toBe(false);
      await inGroup.send(`@${botName} qual o MRR?`);
      await settle();
      expect(inGroup.fresh()).toHaveLength(0);
      expect(await database.$count(db.auditLog, eq(db.auditLog.action, 'telegram.unregister_group'))).toBe(1);
    });
  });

  describe('staff and their agents', () => {
    it("refuses a marketing staffer's /ask finance by role, without calling the model", async () => {
      const marketer = staff['marketing:member']!;
      expect(mayAsk(marketer, 'finance')).toEqual({ allowed: false, reason: 'department' });
      expect(mayAsk(marketer, 'documents')).toEqual({ allowed: true });
      const carla = person('carla');
      await link(carla, marketer.email);
      const before = fake.chats.length;
      await carla.send('/ask finance qual é o MRR atual?');
      const reply = await carla.reply();
      expect(reply.plain).toMatch(/Seu cargo não permite perguntar ao agente de Financeiro/);
      expect(reply.plain).toContain('Documentos');
      expect(fake.chats.length).toBe(before);
      await carla.send('/ask ceo como estamos?');
      expect((await carla.reply()).plain).toMatch(/agente do CEO/);
      await carla.send('/ask');
      expect((await carla.reply()).plain).toMatch(/Uso: \/ask/);
      await carla.send('/ask planetas quantos são?');
      expect((await carla.reply()).plain).toMatch(/Não conheço o departamento/);
    });

    it("answers the CEO's question through the ceo agent, showing typing meanwhile", async () => {
      const ceo = staff['ceo:ceo']!;
      const chat = person('ceo');
      await link(chat, ceo.email);
      plan.set('Como está a empresa hoje?', [{ name: 'company_kpis', arguments: {} }]);
      const before = fake.chats.length;
      const typingBefore = emulator.requests.filter((r) => r.method === 'sendChatAction' && r.chatId === String(chat.chatId)).length;
      await chat.send('Como está a empresa hoje?');
      const reply = await chat.reply();
      expect(reply.plain).toContain('Segundo a ferramenta');
      const calls = fake.chats.slice(before);
      expect(calls).toHaveLength(2);
      expect(calls[0]!.tools!.map((tool) => tool.function.name)).toEqual(expect.arrayContaining(['company_kpis', 'ask_department']));
      expect(emulator.requests.filter((r) => r.method === 'sendChatAction' && r.chatId === String(chat.chatId)).length).toBeGreaterThan(
        typingBefore,
      );
      const [audit] = await queryRows<{ agent: string; actor_id: string }>(
        database,
        sql`select agent, actor_id from audit_log where tool = 'company_kpis' order by id desc limit 1`,
      );
      expect(audit).toEqual({ agent: 'ceo', actor_id: ceo.userId });
      await chat.send('/report');
      expect((await chat.reply()).plain).toMatch(/Indicadores da empresa[\s\S]*MRR/);
      await settle();
      const photo = emulator.photos.find((p) => p.chatId === String(chat.chatId));
      expect(photo?.png.subarray(1, 4).toString()).toBe('PNG');
      expect(photo?.caption).toMatch(/MRR/);
    });

    it('never delivers a claim of an action no tool took; says that nothing was done', async () => {
      const chat = chats.get('carla')!;
      const message = 'ativa o modo turbo das campanhas';
      fake.script = (request) =>
        lastMessage(request).role === 'user' && lastMessage(request).content === message
          ? { content: 'Pronto, ativei o modo turbo em todas as campanhas!' }
          : script(request);
      try {
        await chat.send(message);
        const reply = await chat.reply();
        expect(reply.plain).not.toContain('ativei');
        expect(reply.plain).toContain('⚠️ Nada foi feito');
        const [row] = await queryRows<{ details: { reason: string } }>(
          database,
          sql`select details from audit_log where action = 'agent.rejected_answer' order by id desc limit 1`,
        );
        expect(row!.details.reason).toBe('unbacked_claim');
      } finally {
        fake.script = script;
      }
    });

    it('splits an answer over 4,096 characters without breaking words or entities', async () => {
      const chat = chats.get('carla')!;
      await chat.send('Escreva o plano de marketing completo');
      await settle();
      const parts = chat.fresh();
      expect(longAnswer.length).toBeGreaterThan(4_096);
      expect(parts.length).toBeGreaterThanOrEqual(2);
      for (const part of parts) {
        expect(part.plain.length).toBeLessThanOrEqual(4_096);
        expect(part.text).not.toMatch(/\*\*|`/); // every entity rendered whole, none cut open
      }
      const words = (text: string) => text.split(/\s+/).filter(Boolean);
      expect(words(parts.map((p) => p.plain).join(' '))).toEqual(words(longAnswer.replace(/\*\*|`/g, '')));
      expect(parts[0]!.text).toContain('<b>resultado</b>');
    });
  });

  describe('traders', () => {
    let traderA: { userId: string; tenantId: string; email: string };
    let traderB: { userId: string; tenantId: string; email: string };
    let positionsA: (typeof db.positions.$inferSelect)[];
    let positionsB: (typeof db.positions.$inferSelect)[];

    beforeAll(async () => {
      const owners = await queryRows<{ tenant_id: string }>(
        database,
        sql`select p.tenant_id from positions p join bots b on b.id = p.bot_id where b.mode = 'paper' group by p.tenant_id order by count(*) desc, p.tenant_id limit 2`,
      );
      const pick = async (tenantId: string) => {
        const [user] = await database.select().from(db.users).where(eq(db.users.tenantId, tenantId));
        return { userId: user!.id, tenantId, email: user!.email };
      };
      traderA = await pick(owners[0]!.tenant_id);
      traderB = await pick(owners[1]!.tenant_id);
      positionsA = await database.select().from(db.positions).where(eq(db.positions.tenantId, traderA.tenantId));
      positionsB = await database.select().from(db.positions).where(eq(db.positions.tenantId, traderB.tenantId));
      await link(person('traderA'), traderA.email, 'trader');
      await link(person('traderB'), traderB.email, 'trader');
    });

    it("shows trader A's open positions and never trader B's", async () => {
      const a = chats.get('traderA')!;
      await a.send('/status');
      const reply = (await a.reply()).plain;
      expect(reply).toMatch(/Posições abertas|Open positions/);
      for (const p of positionsA) expect(reply).toContain(p.symbol);
      const amounts = (ps: typeof positionsA) =>
        ps.map((p) => new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 8 }).format(Number(p.amountBase)));
      for (const amount of amounts(positionsA)) expect(reply).toContain(amount);
      for (const amount of amounts(positionsB)) expect(reply).not.toContain(amount);
      for (const p of positionsB) expect(reply).not.toContain(p.botId.slice(0, 8));
      // Naming B's bot by its id finds nothing in A's account.
      await a.send(`/stopbot ${positionsB[0]!.botId.slice(0, 8)}`);
      expect((await a.reply()).plain).toMatch(/Nenhum robô seu corresponde|None of your bots/);
      const status = await database.select({ status: db.bots.status }).from(db.bots).where(eq(db.bots.id, positionsB[0]!.botId));
      expect(status[0]!.status).not.toBe('stopped');
    });

    it("answers /bots, /profit, /daily, /weekly, /monthly, /balance, /plan and /help with the trader's own data", async () => {
      const a = chats.get('traderA')!;
      for (const [command, pattern] of [
        ['/bots', /Seus robôs \(\d+ robôs?, \d+ rodando\)/],
        ['/profit', /Resultado — últimos 365 dias[\s\S]*Operações fechadas: \d+/],
        ['/profit 30', /últimos 30 dias/],
        ['/daily', /Resultado por dia \(UTC\)[\s\S]*Total:/],
        ['/weekly 4', /Resultado por semana/],
        ['/monthly', /Resultado por mês/],
        ['/balance', /Carteira por robô[\s\S]*USDT/],
        ['/plan', /Seu plano: [\s\S]*Planos:/],
        ['/help', /\/forceexit/],
      ] as const) {
        await a.send(command);
        expect((await a.reply()).plain, command).toMatch(pattern);
      }
      const [pnl] = await queryRows<{ n: string }>(
        database,
        sql`select count(*)::text as n from trades where tenant_id = ${traderA.tenantId} and status = 'closed' and closed_at >= now() - interval '365 days'`,
      );
      await a.send('/profit');
      expect((await a.reply()).plain).toContain(`Operações fechadas: ${pnl!.n}`);
    });

    it("sends a bot's equity chart as a photo, for the trader's own bots only", async () => {
      const a = chats.get('traderA')!;
      a.skip();
      const photosBefore = emulator.photos.length;
      await a.send('/chart 1');
      await settle();
      const photo = emulator.photos.slice(photosBefore).find((p) => p.chatId === String(a.chatId));
      expect(photo?.png.subarray(1, 4).toString()).toBe('PNG');
      await a.send(`/chart ${positionsB[0]!.botId.slice(0, 8)}`);
      expect((await a.reply()).plain).toMatch(/Nenhum robô seu corresponde/);
      expect(emulator.photos.slice(photosBefore)).toHaveLength(1);
    });

    it('answers one chat in order, even when its messages arrive together', async () => {
      const a = chats.get('traderA')!;
      a.skip();
      // Sent back to back without waiting for replies: the emulator numbers them in this order
      // (sends racing each other could reach it in another order under load), and the door
      // gets them while the first is still being answered.
      await a.send('/plan');
      await a.send('/bots');
      await a.send('/profit 7');
      const [first, second, third] = await a.replies(3);
      expect(first!.plain).toMatch(/Seu plano/);
      expect(second!.plain).toMatch(/Seus robôs/);
      expect(third!.plain).toMatch(/últimos 7 dias/);
    });

    it('starts and stops bots, with the plan limits', async () => {
      const [tenant] = await database.insert(db.tenants).values({ kind: 'trader', name: 'Free Trader' }).returning();
      const [user] = await database
        .insert(db.users)
        .values({ tenantId: tenant!.id, email: 'free.trader@example.com', name: 'Free Trader' })
        .returning();
      const bot = (name: string, status: 'running' | 'stopped', createdAt: Date) => ({
        tenantId: tenant!.id,
        name,
        strategyName: 'rsi',
        parameters: {},
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        mode: 'paper' as const,
        status,
        stakeQuote: '1000',
        paperBalanceQuote: '1000',
        createdAt,
      });
      await database.insert(db.bots).values([bot('first', 'running', new Date(Date.now() - 60_000)), bot('second', 'stopped', new Date())]);
      const free = person('free');
      await link(free, user!.email, 'trader');
      await free.send('/startbot 2');
      expect((await free.reply()).plain).toMatch(/O plano Free permite 1 robô ligado ao mesmo tempo/);
      await free.send('/stopbot 1');
      expect((await free.reply()).plain).toMatch(/Robô 1 .* parado/);
      await free.send('/startbot 2');
      expect((await free.reply()).plain).toMatch(/Robô 2 .* ligado/);
      const rows = await database
        .select({ name: db.bots.name, status: db.bots.status })
        .from(db.bots)
        .where(eq(db.bots.tenantId, tenant!.id))
        .orderBy(db.bots.name);
      expect(rows).toEqual([
        { name: 'first', status: 'stopped' },
        { name: 'second', status: 'running' },
      ]);
    });

    it('starts a live bot only after its owner confirms with the button; cancelling starts nothing', async () => {
      const [tenant] = await database.insert(db.tenants).values({ kind: 'trader', name: 'Live Trader' }).returning();
      const [user] = await database
        .insert(db.users)
        .values({ tenantId: tenant!.id, email: 'live.trader@example.com', name: 'Live Trader', locale: 'pt-BR' })
        .returning();
      const [customer] = await database
        .insert(db.customers)
        .values({ tenantId: tenant!.id, email: user!.email, name: 'Live Trader' })
        .returning();
      await database.insert(db.subscriptions).values({
        tenantId: tenant!.id,
        customerId: customer!.id,
        planId: 'pro',
        interval: 'month',
        status: 'active',
        amountCents: 9_990,
        currentPeriodStart: new Date(Date.now() - 86_400_000),
        currentPeriodEnd: new Date(Date.now() + 29 * 86_400_000),
        startedAt: new Date(Date.now() - 86_400_000),
      });
      const [account] = await database
        .insert(db.exchangeAccounts)
        .values({
          tenantId: tenant!.id,
          label: 'binance',
          apiKeyEncrypted: 'x',
          apiSecretEncrypted: 'y',
          apiKeyLast4: '9f2c',
          sandbox: true,
        })
        .returning();
      const [bot] = await database
        .insert(db.bots)
        .values({
          tenantId: tenant!.id,
          name: 'real',
          strategyName: 'rsi',
          parameters: {},
          symbols: ['BTC/USDT'],
          timeframe: '1h',
          mode: 'live',
          status: 'stopped',
          exchangeAccountId: account!.id,
          stakeQuote: '100',
        })
        .returning();
      const chat = person('live');
      await link(chat, user!.email, 'trader');
      const status = async () => (await database.select().from(db.bots).where(eq(db.bots.id, bot!.id)))[0]!.status;

      await chat.send('/startbot 1');
      const cancelled = await chat.reply();
      expect(cancelled.plain).toMatch(/opera em modo real: ligar agora põe dinheiro de verdade em jogo/);
      expect(cancelled.buttons.map((b) => b.text)).toEqual(['✅ Ligar com dinheiro real', 'Cancelar']);
      await chat.press(cancelled.buttons[1]!.callback_data, cancelled.messageId);
      await settle();
      expect(chat.all().find((m) => m.messageId === cancelled.messageId)!.plain).toMatch(/Cancelado\. O robô continua parado/);
      expect(await status()).toBe('stopped');

      await chat.send('/startbot 1');
      const confirm = await chat.reply();
      await chat.press(confirm.buttons[0]!.callback_data, confirm.messageId);
      await chat.press(confirm.buttons[0]!.callback_data, confirm.messageId);
      await settle();
      expect(chat.all().find((m) => m.messageId === confirm.messageId)!.plain).toMatch(/ligado; aguardando o primeiro ciclo/);
      expect(await status()).toBe('running');
      const [audited] = await database
        .select()
        .from(db.auditLog)
        .where(and(eq(db.auditLog.tool, 'start_bot'), eq(db.auditLog.outcome, 'ok'), eq(db.auditLog.tenantId, tenant!.id)));
      expect(audited!.details).toMatchObject({ liveTradingConfirmedBy: 'the person themselves' });
    });

    it('runs a backtest through the tool layer', async () => {
      const a = chats.get('traderA')!;
      await a.send('/backtest rsi btcusdt 1h 30');
      const reply = (await a.reply(30_000)).plain;
      expect(reply).toMatch(/Backtest rsi em BTC\/USDT \(1h, 30 dias, 720 candles\)/);
      expect(reply).toMatch(/Operações: \d+/);
      expect(await database.$count(db.backtests, eq(db.backtests.tenantId, traderA.tenantId))).toBeGreaterThan(0);
    });

    it("force-exits a position after the confirmation button, once, on the trader's own bot only", async () => {
      const a = chats.get('traderA')!;
      const position = positionsA[0]!;
      const [bot] = await database.select().from(db.bots).where(eq(db.bots.id, position.botId));
      const base = position.symbol.split('/')[0]!;
      await database
        .insert(db.paperBalances)
        .values({ botId: bot!.id, tenantId: bot!.tenantId, asset: base, amount: position.amountBase })
        .onConflictDoNothing();
      market.prices.set(position.symbol, Number(position.averageEntryPriceQuote) * 1.01);
      const bots = await database
        .select({ id: db.bots.id })
        .from(db.bots)
        .where(eq(db.bots.tenantId, traderA.tenantId))
        .orderBy(db.bots.createdAt);
      const index = bots.findIndex((b) => b.id === bot!.id) + 1;

      await a.send(`/forceexit ${index} ${position.symbol}`);
      const confirm = await a.reply();
      expect(confirm.plain).toMatch(/Fechar agora, a mercado/);
      expect(confirm.buttons.map((b) => b.text)).toEqual(['✅ Confirmar saída', 'Cancelar']);
      const yes = confirm.buttons[0]!.callback_data;

      // Trader B pressing a forged copy of A's button (in B's own chat) gets nothing done.
      const b = chats.get('traderB')!;
      await b.send('/help');
      const bMessage = await b.reply();
      await b.press(yes, bMessage.messageId);
      await settle();
      expect(b.all().find((m) => m.messageId === bMessage.messageId)!.plain).toMatch(/Esse robô não está na sua conta/);
      expect(await database.$count(db.positions, eq(db.positions.id, position.id))).toBe(1);

      await a.press(yes, confirm.messageId);
      await a.press(yes, confirm.messageId);
      await settle();
      const edited = a.all().find((m) => m.messageId === confirm.messageId)!;
      expect(edited.plain).toMatch(new RegExp(`${position.symbol.replace('/', '\\/')} vendido`));
      expect(edited.buttons).toHaveLength(0);
      expect(lastAnswerText()).toMatch(/Já respondido|Already answered/);
      expect(await database.$count(db.positions, eq(db.positions.id, position.id))).toBe(0);
      const forced = await database
        .select()
        .from(db.orders)
        .where(and(eq(db.orders.botId, bot!.id), eq(db.orders.reason, 'forced')));
      expect(forced).toHaveLength(1);
      expect(forced[0]!.status).toBe('filled');
      const [trade] = await database
        .select()
        .from(db.trades)
        .where(and(eq(db.trades.botId, bot!.id), eq(db.trades.exitReason, 'forced')));
      expect(Number(trade!.profitQuote)).toBeGreaterThan(0);
      // Then the closed trade is told as every closed trade is (the outbox, as freqtrade's exit message), once.
      const told = await a.reply();
      expect(told.plain).toMatch(new RegExp(`Operação encerrada — ${position.symbol.replace('/', '\\/')}[\\s\\S]*Motivo: saída forçada`));
    });
  });

  describe('bad input never crashes', () => {
    it('answers or ignores stickers, photos, edits, floods of text, malicious arguments and stray buttons', async () => {
      const a = chats.get('traderA')!;
      a.skip();
      await a.sendNonText({
        sticker: {
          file_id: 'CAACAgIAAxk',
          file_unique_id: 'AgAD',
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
          type: 'regular',
        },
      });
      expect((await a.reply()).plain).toMatch(/Só leio mensagens de texto/);
      await a.sendNonText({ photo: [{ file_id: 'AgACAgI', file_unique_id: 'AQAD', width: 90, height: 90 }], caption: '/status' });
      expect((await a.reply()).plain).toMatch(/Só leio mensagens de texto/);
      await a.send('x'.repeat(10_240));
      expect((await a.reply()).plain).toMatch(/10240 caracteres; o limite é 4\.000/);
      for (const command of [
        "/startbot '; drop table bots; --",
        '/stopbot',
        '/forceexit ../../etc/passwd',
        '/backtest <script>alert(1)</script> BTC/USDT',
        '/backtest rsi NOT_A_SYMBOL!!',
        '/daily 99999',
        '/profit -5',
        '/weekly abc',
      ]) {
        await a.send(command);
        expect((await a.reply()).plain, command).toMatch(/^Uso: /);
      }
      await a.send('/status@SomeOtherBot');
      await a.send('/nãoexiste');
      expect((await a.reply()).plain).toMatch(/Não conheço o comando/);
      await a.send('/ask finance MRR?');
      expect((await a.reply()).plain).toMatch(/\/ask é para a equipe/);
      const before = a.all().length;
      await door.accept({
        update_id: 9_000_001,
        edited_message: {
          message_id: 1,
          date: 0,
          edit_date: 1,
          chat: { id: a.chatId, type: 'private', first_name: 'A' },
          from: { id: a.userId, is_bot: false, first_name: 'A' },
          text: '/stopbot 1',
        },
      } as never);
      await door.accept({
        update_id: 9_000_002,
        message: {
          message_id: 2,
          date: 0,
          chat: { id: a.chatId, type: 'private', first_name: 'A' },
          from: { id: 42, is_bot: true, first_name: 'OtherBot' },
          text: '/status',
        },
      } as never);
      await door.accept({ update_id: 9_000_003, my_chat_member: {} } as never);
      await a.press('garbage:data', 1);
      await a.press(`approval:${crypto.randomUUID()}:approve`, 1);
      await settle();
      expect(a.all().length).toBe(before);
      expect(lastAnswerText()).toMatch(/Você não pode decidir|não existe|may not/);
      await a.send('/help');
      expect((await a.reply()).plain).toMatch(/\/status/);
    });
  });

  describe('approvals', () => {
    it('asks the deciders with buttons; refuses an unauthorised press; decides once; tells the requester', async () => {
      const requester = person('settings-member');
      await link(requester, staff['settings:member']!.email);
      const head = person('settings-head');
      await link(head, staff['settings:head']!.email);
      const ceo = chats.get('ceo')!;
      ceo.skip();
      const carla = chats.get('carla')!;
      carla.skip();
      const message = 'Ative o kill switch agora, por favor';
      plan.set(message, [{ name: 'set_config', arguments: { key: 'trading.kill_switch', value: true, reason: 'incidente de segurança' } }]);
      const versionsBefore = await database.$count(db.configEntryVersions);
      await requester.send(message);
      const answer = await requester.reply();
      expect(answer.plain).toMatch(
        /⏳ Ainda não feito: aguardando aprovação do responsável de Configurações ou do CEO \(aprovação [0-9a-f-]{36}\)/,
      );
      const [approval] = await database
        .select()
        .from(db.approvals)
        .where(
          and(
            eq(db.approvals.tool, 'set_config'),
            eq(db.approvals.status, 'pending'),
            sql`${db.approvals.args}->>'key' = 'trading.kill_switch'`,
          ),
        );
      expect(approval).toBeDefined();

      const card = await head.reply();
      const ceoCard = await ceo.reply();
      for (const c of [card, ceoCard]) {
        expect(c.plain).toMatch(/Aprovação necessária/);
        expect(c.plain).toContain('trading.kill_switch');
        expect(c.buttons.map((b) => b.callback_data)).toEqual([`approval:${approval!.id}:approve`, `approval:${approval!.id}:reject`]);
      }
      // Announcing again queues nothing new for it.
      expect(await door.announceApprovals([approval!.id])).toBe(0);

      // A marketing staffer pressing Approve is told no; nothing changes.
      await carla.press(`approval:${approval!.id}:approve`, card.messageId);
      await settle();
      expect(lastAnswerText()).toMatch(/só o responsável de Configurações ou o CEO/);
      expect((await database.select().from(db.approvals).where(eq(db.approvals.id, approval!.id)))[0]!.status).toBe('pending');

      // The head presses Approve twice, then the CEO presses Reject: one execution. (Presses in
      // two chats are handled concurrently, so the CEO's comes after the head's have been
      // handled: which of two simultaneous decisions wins is not what this test is about.)
      await head.press(`approval:${approval!.id}:approve`, card.messageId);
      await head.press(`approval:${approval!.id}:approve`, card.messageId);
      await settle();
      await ceo.press(`approval:${approval!.id}:reject`, ceoCard.messageId);
      await settle();
      const [decided] = await database.select().from(db.approvals).where(eq(db.approvals.id, approval!.id));
      expect(decided!.status).toBe('executed');
      expect(decided!.decidedByUserId).toBe(staff['settings:head']!.userId);
      expect(await database.$count(db.configEntryVersions)).toBe(versionsBefore + 1);
      const [entry] = await database.select().from(db.configEntries).where(eq(db.configEntries.key, 'trading.kill_switch'));
      expect(entry!.value).toBe(true);
      const executions = await queryRows<{ n: string }>(
        database,
        sql`select count(*)::text as n from audit_log where tool = 'set_config' and actor_id = ${`system:approval:${approval!.id}`}`,
      );
      expect(executions[0]!.n).toBe('1');
      const ceoAnswers = emulator.requests.filter((r) => r.method === 'answerCallbackQuery').map((r) => String(r.body?.text ?? ''));
      expect(ceoAnswers.some((text) => /Já decidida por/.test(text))).toBe(true);

      // Both copies now show the decision, without buttons; the requester is told.
      for (const [chat, id] of [
        [head, card.messageId],
        [ceo, ceoCard.messageId],
      ] as const) {
        const shown = chat.all().find((m) => m.messageId === id)!;
        expect(shown.buttons).toHaveLength(0);
        expect(shown.plain).toContain(staff['settings:head']!.name);
      }
      const told = await requester.reply();
      expect(told.plain).toContain(staff['settings:head']!.name);
      expect(told.plain).toContain('trading.kill_switch');
      await database.update(db.configEntries).set({ value: false }).where(eq(db.configEntries.key, 'trading.kill_switch'));
    });

    it('lists pending approvals with buttons on /approvals, only for deciders', async () => {
      const plan2 = 'Desligue o kill switch, por favor';
      plan.set(plan2, [{ name: 'set_config', arguments: { key: 'trading.kill_switch', value: true, reason: 'teste de listagem' } }]);
      const member = chats.get('settings-member')!;
      member.skip();
      await member.send(plan2);
      await member.reply();
      const pending = (await database.select().from(db.approvals).where(eq(db.approvals.status, 'pending'))).filter(
        (a) => a.approverDepartment === 'settings',
      );
      expect(pending.length).toBeGreaterThan(0);
      const head = chats.get('settings-head')!;
      await settle();
      head.skip();
      await head.send('/approvals');
      const cards = await head.replies(Math.min(10, pending.length));
      expect(cards.map((c) => c.buttons[0]!.callback_data).sort()).toEqual(
        pending
          .slice(-10)
          .map((a) => `approval:${a.id}:approve`)
          .sort(),
      );
      await member.send('/approvals');
      expect((await member.reply()).plain).toMatch(/Nenhuma aprovação pendente/);
    });

    it("answers in the person's language setting, whatever the message's words", async () => {
      const ceo = chats.get('ceo')!;
      ceo.skip();
      await ceo.send('/help');
      expect((await ceo.reply()).plain).toMatch(/você fala com o agente/);
      await database.update(db.users).set({ locale: 'en' }).where(eq(db.users.id, staff['ceo:ceo']!.userId));
      await ceo.send('/help');
      expect((await ceo.reply()).plain).toMatch(/you talk to the/);
      const carla = chats.get('carla')!;
      carla.skip();
      await carla.send('/ask finance what is the current MRR please?');
      expect((await carla.reply()).plain).toMatch(/Seu cargo não permite perguntar ao agente de Financeiro/);
    });
  });

  it('counts updates and reply times for /metrics', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/telegram_updates_total\{kind="\/status"\} \d+/);
    expect(text).toMatch(/telegram_updates_total\{kind="stranger"\} \d+/);
    expect(text).toMatch(/telegram_reply_seconds_count\{kind="agent"\} \d+/);
  });

  describe('webhook mode', () => {
    it('accepts updates on POST /telegram/webhook only with the secret token', async () => {
      const secret = 'test-webhook-secret-0123456789';
      const hooked = new TelegramDoor({
        botToken: emulator.token,
        apiRoot: emulator.apiRoot,
        db: database,
        billing: new BillingService(database, undefined),
        agents,
        logger: silent,
        webhook: { url: 'https://bot.example.com/telegram/webhook', secret },
        approvalsEveryMs: 0,
      });
      await hooked.start();
      const setWebhook = emulator.requests.filter((r) => r.method === 'setWebhook').at(-1);
      expect(setWebhook?.body).toMatchObject({ url: 'https://bot.example.com/telegram/webhook', secret_token: secret });
      emulator.server.deleteWebhook(emulator.token);
      const app = createApp({
        database: test.handle,
        metrics: createMetrics({ defaultMetrics: false }),
        logger: silent,
        version: 'test',
        startedAt: new Date(),
        telegramWebhook: hooked.webhook,
      });
      const chat = chats.get('traderA')!;
      chat.skip();
      const update = {
        update_id: 77_000_001,
        message: {
          message_id: 5,
          date: Math.floor(Date.now() / 1000),
          chat: { id: chat.chatId, type: 'private', first_name: 'A' },
          from: { id: chat.userId, is_bot: false, first_name: 'A' },
          text: '/help',
          entities: [{ type: 'bot_command', offset: 0, length: 5 }],
        },
      };
      const post = (headers: Record<string, string>, body = JSON.stringify(update)) =>
        app.request('/telegram/webhook', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect((await post({})).status).toBe(401);
      expect((await post({ 'X-Telegram-Bot-Api-Secret-Token': 'wrong-secret-0123456789' })).status).toBe(401);
      expect((await post({ 'X-Telegram-Bot-Api-Secret-Token': secret }, '{not json')).status).toBe(400);
      expect((await post({ 'X-Telegram-Bot-Api-Secret-Token': secret }, '{"hello":1}')).status).toBe(400);
      await hooked.idle();
      expect(chat.fresh()).toHaveLength(0);
      expect((await post({ 'X-Telegram-Bot-Api-Secret-Token': secret })).status).toBe(200);
      expect((await post({ 'X-Telegram-Bot-Api-Secret-Token': secret })).status).toBe(200); // Telegram retrying: answered once
      await hooked.idle();
      const got = chat.fresh();
      expect(got).toHaveLength(1);
      expect(got[0]!.plain).toMatch(/\/status/);
      await hooked.stop();
      const off = createApp({
        database: test.handle,
        metrics: createMetrics({ defaultMetrics: false }),
        logger: silent,
        version: 'test',
        startedAt: new Date(),
      });
      expect((await off.request('/telegram/webhook', { method: 'POST', body: '{}' })).status).toBe(404);
    });
  });
});
