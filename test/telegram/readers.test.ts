import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows, type Database } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { issueLinkCode, linkedPerson } from '../../identity/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import type { TelegramDoor } from '../../telegram/index.ts';
import { enqueueNotification, type TelegramDelivery } from '../../telegram/outbox/index.ts';
import { FOUR_EYES_SETTING, invokeTool, staffActor, TOOLS } from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { TelegramChat } from '../support/telegram-chat.ts';
import { failingExchange, startTelegramDoor, testAgents, type TelegramDoorHarness } from '../support/telegram-door.ts';
import type { TelegramEmulator } from '../support/telegram-emulator.ts';

// What a trader reads, in each language, with the exchange down and the model offline: every
// reply in the trader's own language (a dictionary check), no technical text (no stack trace,
// URL, exception class or environment variable), errors as sentences that say what to do.

/** What an exchange client says when the exchange's host does not resolve (ccxt's words). */
const EXCHANGE_DOWN =
  'binance: NetworkError: binance GET https://testnet.binance.vision/api/v3/account getaddrinfo ENOTFOUND testnet.binance.vision';

/** Words of one language that must not appear in a chat in the other (commands, symbols and language names are removed first). */
const ENGLISH_WORDS = new Set(
  (
    'the and your you bot bots trade trades profit balance wallet unavailable exchange paused running stopped error failed not with ' +
    'open positions position result days day winners winner live paper try again minute approval reason answer closed plan plans ' +
    'limits allowed per start stop send help account language done choose only'
  ).split(' '),
);
const PORTUGUESE_WORDS = new Set(
  (
    'o os seu seus sua robô robôs não você operações operação resultado carteira corretora tente de novo minuto pausado rodando ' +
    'parado plano dias sem para em posições posição abertas fechadas idioma pronto escolha envie ligado ainda há'
  ).split(' '),
);
const TECHNICAL =
  /https?:\/\/|\bat \S+ \(|\b\w+Error\b|\bE(NOTFOUND|CONNREFUSED|CONNRESET|TIMEDOUT|AI_AGAIN)\b|\.ts:\d+|\b[A-Z][A-Z0-9]+_[A-Z0-9_]+\b|\{"/;

function wordsOf(text: string): string[] {
  return (
    text
      .replace(/\/[a-z_]+/g, ' ') // commands
      .replace(/\b[A-Z0-9]{2,12}\/[A-Z0-9]{2,12}\b/g, ' ') // symbols
      .replace(/Português \(Brasil\)|Português|English/g, ' ')
      // Trading terms both languages use as they are.
      .replace(/\b(stop loss|take profit|ROI|drawdown|SL|TP|USDT)\b/g, ' ')
      .toLowerCase()
      // Words are runs of letters and digits, and a run with a digit is no word: a bot's id
      // (`4021de04`) once gave the Portuguese "de" to an English text, one run in a few dozen.
      .split(/[^\p{L}\p{N}]+/u)
      .filter((word) => word !== '' && !/\p{N}/u.test(word))
  );
}

function foreignWords(text: string, locale: 'pt-BR' | 'en'): string[] {
  const foreign = locale === 'en' ? PORTUGUESE_WORDS : ENGLISH_WORDS;
  // "de novo" is two words; "a", "e" and "no" exist in both languages and are not checked.
  return wordsOf(text).filter((word) => foreign.has(word));
}

describe('what traders read, in their language, with the exchange down and the model offline', () => {
  let test: TestDatabase;
  let database: Database;
  let harness: TelegramDoorHarness;
  let emulator: TelegramEmulator;
  let delivery: TelegramDelivery;
  let door: TelegramDoor;
  let nextUserId = 5000;
  /** The door's clock runs ahead of the real one by this much (the 1-minute /start limit). */
  let aheadMs = 0;
  const traders: Record<'pt-BR' | 'en', { userId: string; tenantId: string; email: string; chat: TelegramChat; botId: string }> =
    {} as never;

  const settle = () => harness.settle();
  const ask = (chat: TelegramChat, text: string) => harness.ask(chat, text);

  function checkReadable(texts: readonly string[], locale: 'pt-BR' | 'en', what: string): void {
    expect(texts.length, what).toBeGreaterThan(0);
    for (const text of texts) {
      expect(foreignWords(text, locale), `${what}: ${text}`).toEqual([]);
      expect(text, what).not.toMatch(TECHNICAL);
      expect(text, what).not.toMatch(/modelo offline|model offline/);
    }
  }

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    await seedDemoCompany(database, { secretBox: createSecretBox(crypto.randomBytes(32)), traders: 40 });
    // The model is offline: nothing listens on its port.
    const { agents } = await testAgents(database);
    harness = await startTelegramDoor({
      db: database,
      agents,
      // The exchange is down for every bot: its host does not resolve.
      door: { trading: failingExchange(EXCHANGE_DOWN), now: () => new Date(Date.now() + aheadMs) },
    });
    ({ emulator, delivery, door } = harness);
    // Two traders with open positions on paper bots: one reads Portuguese, the other English.
    const owners = await queryRows<{ tenant_id: string; bot_id: string }>(
      database,
      sql`select p.tenant_id, min(p.bot_id::text) as bot_id from positions p join bots b on b.id = p.bot_id where b.mode = 'paper' group by p.tenant_id order by count(*) desc, p.tenant_id limit 2`,
    );
    for (const [i, locale] of (['pt-BR', 'en'] as const).entries()) {
      const owner = owners[i]!;
      const [user] = await database.select().from(db.users).where(eq(db.users.tenantId, owner.tenant_id));
      await database.update(db.users).set({ locale }).where(eq(db.users.id, user!.id));
      // A live bot too, whose wallet is read from the (unreachable) exchange.
      await database.insert(db.bots).values({
        tenantId: owner.tenant_id,
        name: 'reserva',
        strategyName: 'rsi',
        symbols: ['BTC/USDT'],
        timeframe: '1h',
        mode: 'live',
        status: 'stopped',
        stakeQuote: '100',
      });
      const chat = await harness.link(user!.email, 'trader', nextUserId++, { firstName: locale });
      traders[locale] = { userId: user!.id, tenantId: owner.tenant_id, email: user!.email, chat, botId: owner.bot_id };
    }
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await test?.dispose();
  });

  for (const locale of ['pt-BR', 'en'] as const) {
    it(`answers every command in ${locale} only, without technical text`, async () => {
      const { chat } = traders[locale];
      for (const command of [
        '/help',
        '/bots',
        '/status',
        '/profit',
        '/profit 7',
        '/daily',
        '/weekly',
        '/monthly 2',
        '/balance',
        '/plan',
        '/language',
        '/backtest rsi BTC/USDT 1h 30',
        '/stopbot 99',
        '/forceexit 99',
        '/forceexit',
        '/trades',
        '/performance',
        '/stats',
        '/count',
        '/whitelist',
        '/health',
        '/version',
        '/notifications',
        '/nonsense',
      ]) {
        checkReadable(await ask(chat, command), locale, command);
      }
    });

    it(`tells a ${locale} trader the exchange is down on /balance and on a confirmed /forceexit, in a sentence`, async () => {
      const { chat, botId } = traders[locale];
      // A live bot while TRADING_MODE is paper trades on the testnet, and says so.
      expect((await ask(chat, '/bots')).join('\n')).toMatch(
        locale === 'en'
          ? /reserva — rsi · BTC\/USDT · exchange testnet \(no real money\)/
          : /reserva — rsi · BTC\/USDT · testnet da corretora \(sem dinheiro real\)/,
      );
      const balance = (await ask(chat, '/balance')).join('\n');
      expect(balance).toContain(
        locale === 'en'
          ? 'The exchange did not answer just now; try again in 1 minute.'
          : 'A corretora não respondeu agora; tente de novo em 1 minuto.',
      );
      const [confirm] = await ask(chat, `/forceexit ${botId.slice(0, 8)}`);
      checkReadable([confirm!], locale, '/forceexit');
      const question = chat.all().at(-1)!;
      const yes = question.buttons.find((b) => b.callback_data.endsWith(':y'))!;
      await chat.press(yes.callback_data, question.messageId);
      await settle();
      const edited = chat.all().find((m) => m.messageId === question.messageId)!.plain;
      expect(edited).toContain(locale === 'en' ? 'The exchange did not answer just now' : 'A corretora não respondeu agora');
      checkReadable([edited], locale, 'forced exit confirmed');
      // The technical reason is kept in the audit log.
      const [audited] = await queryRows<{ n: string }>(
        database,
        sql`select count(*)::text as n from audit_log where tool = 'force_exit' and outcome = 'error' and details::text like '%ENOTFOUND%'`,
      );
      expect(Number(audited!.n)).toBeGreaterThan(0);
    });

    it(`says a backtest without candles in ${locale}`, async () => {
      const [reply] = await ask(traders[locale].chat, '/backtest rsi BTC/USDT 1h 30');
      expect(reply).toBe(
        locale === 'en'
          ? '⚠️ There are no 1h candles of BTC/USDT for this backtest yet. Try another pair, another timeframe or fewer days.'
          : '⚠️ Ainda não há candles de 1h de BTC/USDT para este backtest. Tente outro par, outro timeframe ou menos dias.',
      );
    });

    it(`explains a pause notice in ${locale}, with what to do`, async () => {
      const { chat, tenantId, userId, botId } = traders[locale];
      chat.skip();
      await enqueueNotification(database, {
        tenantId,
        to: { userId },
        type: 'bot_paused',
        payload: { botId, botName: 'alpha', reason: `exchange failure: ${EXCHANGE_DOWN}` },
      });
      delivery.outbox.wake();
      const [notice] = await chat.replies(1);
      expect(notice!.plain).toMatch(
        locale === 'en' ? /Bot paused[\s\S]*did not answer[\s\S]*\/startbot/ : /Robô pausado[\s\S]*não respondeu[\s\S]*\/startbot/,
      );
      checkReadable([notice!.plain], locale, 'pause notice');
    });
  }

  it('changes the language with /language and its buttons, and keeps it', async () => {
    const { chat, userId } = traders['pt-BR'];
    const [done] = await ask(chat, '/language en');
    expect(done).toMatch(/^✅ Done: I will talk to you in English/);
    checkReadable(await ask(chat, '/bots'), 'en', '/bots after /language en');
    const [menu] = await ask(chat, '/language');
    expect(menu).toMatch(/Language: English/);
    const card = chat.all().at(-1)!;
    await chat.press('lang:pt-BR', card.messageId);
    await settle();
    // The card loses its buttons; the answer is a new message that brings the reply keyboard in Portuguese.
    expect(chat.all().find((m) => m.messageId === card.messageId)!.buttons).toEqual([]);
    expect(chat.all().at(-1)!.plain).toMatch(/^✅ Pronto: falo com você em Português/);
    const keyboard = (markup: unknown) =>
      ((typeof markup === 'string' ? JSON.parse(markup) : markup) as { keyboard?: { text: string }[][] } | undefined)?.keyboard;
    const lastKeyboard = () =>
      emulator
        .delivered()
        .filter((m) => m.chatId === String(chat.chatId))
        .map((m) => keyboard(m.replyMarkup))
        .findLast((k) => k !== undefined);
    expect(lastKeyboard()?.[0]?.[0]?.text).toBe('📊 Posições');
    await ask(chat, '/language en');
    expect(lastKeyboard()?.[0]?.[0]?.text).toBe('📊 Positions');
    await ask(chat, '/language pt');
    const [user] = await database.select({ locale: db.users.locale }).from(db.users).where(eq(db.users.id, userId));
    expect(user!.locale).toBe('pt-BR');
    expect((await ask(chat, '/language klingon'))[0]).toMatch(/^Uso: \/language pt ou \/language en/);
  });
  it('four-eyes: the requester gets no card and her press is refused; a second person approves it once', async () => {
    await database.insert(db.configEntries).values({ key: FOUR_EYES_SETTING, value: { set_config: true } });
    const people = await listStaff(database);
    const headRow = people.find((m) => m.department === 'settings' && m.role === 'head')!;
    const ceoRow = people.find((m) => m.role === 'ceo')!;
    const linkStaff = (email: string) => harness.link(email, 'staff', nextUserId++);
    const head = await linkStaff(headRow.email);
    const ceo = await linkStaff(ceoRow.email);
    ceo.skip();
    head.skip();
    // Asked through her agent, as the settings head.
    const asked = await invokeTool(
      TOOLS,
      {
        db: database,
        billing: new BillingService(database, undefined),
        now: () => new Date(),
        actor: staffActor(headRow),
        agent: 'settings',
      },
      'set_config',
      { key: 'risk.stop_loss_pct', value: 7.5, reason: 'teste dos quatro olhos' },
    );
    const approvalId = (asked as { pendingApproval: { id: string } }).pendingApproval.id;
    expect(await door.announceApprovals([approvalId])).toBeGreaterThan(0);
    delivery.outbox.wake();
    const card = await ceo.reply();
    expect(card.buttons.map((b) => b.callback_data)).toEqual([`approval:${approvalId}:approve`, `approval:${approvalId}:reject`]);
    await settle();
    expect(head.fresh()).toHaveLength(0);
    head.skip();
    await head.send('/approvals');
    await settle();
    expect(head.fresh().flatMap((m) => m.buttons.map((b) => b.callback_data))).not.toContain(`approval:${approvalId}:approve`);
    // Her own press (a forwarded card) is refused; nothing runs.
    await head.press(`approval:${approvalId}:approve`, card.messageId);
    await settle();
    const answers = emulator.requests.filter((r) => r.method === 'answerCallbackQuery').map((r) => String(r.body?.text ?? ''));
    expect(answers.at(-1)).toMatch(/^Você mesmo pediu isto: outra pessoa que pode decidir precisa aprovar/);
    const [pending] = await database.select().from(db.approvals).where(eq(db.approvals.id, approvalId));
    expect(pending!.status).toBe('pending');
    // The CEO's presses: executed once.
    await ceo.press(`approval:${approvalId}:approve`, card.messageId);
    await ceo.press(`approval:${approvalId}:approve`, card.messageId);
    await settle();
    const [decided] = await database.select().from(db.approvals).where(eq(db.approvals.id, approvalId));
    expect(decided!.status).toBe('executed');
    expect(decided!.decidedByUserId).toBe(ceoRow.userId);
    const [runs] = await queryRows<{ n: number }>(
      database,
      sql`select count(*)::int as n from audit_log where tool = 'set_config' and actor_id = ${`system:approval:${approvalId}`}`,
    );
    expect(runs!.n).toBe(1);
    const [refusals] = await queryRows<{ n: number }>(
      database,
      sql`select count(*)::int as n from audit_log where action = 'approval.decide' and outcome = 'denied' and details->>'reason' = 'four_eyes' and args->>'approvalId' = ${approvalId}`,
    );
    expect(refusals!.n).toBe(1);
  });
  it('linking without surprises: a switch is asked first, /start always answers (once a minute), the lock-out says for how long', async () => {
    const owners = await queryRows<{ email: string; user_id: string; name: string }>(
      database,
      sql`select u.email, u.id as user_id, u.name from users u join tenants t on t.id = u.tenant_id and t.kind = 'trader'
          where u.id not in (${traders['pt-BR'].userId}, ${traders.en.userId}) order by u.email limit 2`,
    );
    const [first, second] = owners as [(typeof owners)[0], (typeof owners)[0]];
    await database.update(db.users).set({ locale: 'pt-BR' }).where(eq(db.users.id, first.user_id));
    const chat = new TelegramChat(emulator, { userId: nextUserId++ });
    await chat.send(`/start ${(await issueLinkCode(database, { email: first.email, kind: 'trader' })).code}`);
    await chat.replies(2);
    // Another person's code: asked first; "stay" changes nothing.
    const other = await issueLinkCode(database, { email: second.email, kind: 'trader' });
    const [question] = await ask(chat, `/start ${other.code}`);
    expect(question).toBe(
      `⚠️ Este Telegram está conectado como ${first.name}. Este código é de ${second.name}. Trocar para ${second.name}?`,
    );
    let card = chat.all().at(-1)!;
    await chat.press(card.buttons[1]!.callback_data, card.messageId);
    await settle();
    expect(chat.all().find((m) => m.messageId === card.messageId)!.plain).toBe(`Nada mudou: você continua conectado como ${first.name}.`);
    expect((await linkedPerson(database, chat.userId))!.userId).toBe(first.user_id);
    // Asked again and confirmed: switched, once.
    await ask(chat, `/start ${other.code}`);
    card = chat.all().at(-1)!;
    chat.skip();
    await chat.press(card.buttons[0]!.callback_data, card.messageId);
    await chat.press(card.buttons[0]!.callback_data, card.messageId);
    await settle();
    expect(chat.fresh()[0]!.plain).toContain(`${second.name}`);
    expect((await linkedPerson(database, chat.userId))!.userId).toBe(second.user_id);

    // A stranger: the one message, then /start is still answered, once a minute at most.
    const stranger = new TelegramChat(emulator, { userId: nextUserId++ });
    expect(await ask(stranger, 'oi')).toHaveLength(1);
    expect(await ask(stranger, 'alguém aí?')).toHaveLength(0);
    const [started] = await ask(stranger, '/start');
    expect(started).toMatch(/\/start CÓDIGO|\/start CODE/);
    expect(await ask(stranger, '/start')).toHaveLength(0);
    aheadMs += 61_000;
    expect(await ask(stranger, '/start')).toHaveLength(1);

    // Five wrong codes: the sixth says when to try again.
    const guesser = new TelegramChat(emulator, { userId: nextUserId++ });
    for (let i = 0; i < 5; i++) await ask(guesser, `/start WRONGCODE${i}X`);
    expect(await ask(guesser, '/start WRONGCODE9X')).toEqual(['Muitas tentativas com códigos errados. Tente de novo em 15 minutos.']);
    expect(await ask(guesser, '/start WRONGCODE8X')).toHaveLength(0);
  });
  it('registers the "/" menu with Telegram: traders\' commands per language, each linked chat its own', async () => {
    const calls = emulator.requests.filter((r) => r.method === 'setMyCommands').map((r) => r.body as Record<string, unknown>);
    const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
    const menus = calls.map((c) => ({
      scope: parse(c.scope),
      language: c.language_code as string | undefined,
      commands: (typeof c.commands === 'string' ? JSON.parse(c.commands) : c.commands) as { command: string; description: string }[],
    }));
    const english = menus.find((m) => m.scope.type === 'all_private_chats' && m.language === 'en')!;
    const portuguese = menus.find((m) => m.scope.type === 'all_private_chats' && m.language === 'pt')!;
    expect(english.commands.find((c) => c.command === 'balance')!.description).toBe('wallet per bot');
    expect(portuguese.commands.find((c) => c.command === 'balance')!.description).toBe('carteira de cada robô');
    expect(portuguese.commands.map((c) => c.command)).toEqual(english.commands.map((c) => c.command));
    // The English trader's own chat got the English trader menu when linking.
    const own = menus.find((m) => m.scope.type === 'chat' && Number(m.scope.chat_id) === traders.en.chat.chatId)!;
    expect(own.commands.find((c) => c.command === 'status')!.description).toBe('open positions');
    // Staff chats get the staff menu.
    expect(menus.some((m) => m.scope.type === 'chat' && m.commands.some((c) => c.command === 'approvals'))).toBe(true);
  });
});
