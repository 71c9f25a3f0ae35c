import crypto from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService, createStripeClient } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows, type Database } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { issueLinkCode, linkedPerson } from '../../identity/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import { portalReply } from '../../telegram/billing-portal.ts';
import { actorForEmail, invokeTool, TOOLS, type ToolContext } from '../../tools/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { startFakeStripe } from '../support/fake-stripe.ts';
import { TelegramChat } from '../support/telegram-chat.ts';
import { startTelegramDoor, testAgents, type TelegramDoorHarness } from '../support/telegram-door.ts';
import type { TelegramEmulator } from '../support/telegram-emulator.ts';

// Issue 21's last trader pieces over the emulated Bot API, in both languages: the terms asked
// at linking (Agree / Read) before anything else, the reply keyboard, pair locks (/locks,
// /lock, /unlock), the billing portal under /plan (Stripe's fake, and local mode's sentence),
// and Support told when a customer writes back on a ticket (the outbox, with Answer and Close).

/** Words a Portuguese reply has and an English one must not (and the other way round); whole words ("botão" is not "bot"). */
const PORTUGUESE =
  /(?<!\p{L})(você|seus|robôs?|pares?|travad[oa]s?|destravad[oa]|até|faltam|todos|nenhum|uso|para|pausa|depois)(?!\p{L})/iu;
const ENGLISH = /(?<!\p{L})(your|bots?|pairs?|locked|unlocked|until|left|every|none|usage|cooldown|after)(?!\p{L})/iu;
const TECHNICAL = /https?:\/\/|\b\w+Error\b|\bE(NOTFOUND|CONNREFUSED)\b|\.ts:\d+|STRIPE_|\{"/;

type Trader = { userId: string; tenantId: string; email: string; chat: TelegramChat };

describe('the trader in the chat: terms, keyboard, pair locks, billing portal; Support told of replies', () => {
  let test: TestDatabase;
  let database: Database;
  let harness: TelegramDoorHarness;
  let emulator: TelegramEmulator;
  let nextUserId = 9100;
  const traders: Record<'pt-BR' | 'en', Trader> = {} as never;

  const ask = (chat: TelegramChat, text: string) => harness.ask(chat, text);
  const press = (chat: TelegramChat, data: string, messageId: number) => harness.press(chat, data, messageId);

  /** The reply markup of the chat's latest message that has one of this kind. */
  function lastMarkup(chat: TelegramChat, kind: 'keyboard' | 'inline_keyboard'): Record<string, unknown> | undefined {
    const mine = emulator.delivered().filter((m) => m.chatId === String(chat.chatId));
    return mine
      .map((m) => (typeof m.replyMarkup === 'string' ? JSON.parse(m.replyMarkup) : m.replyMarkup) as Record<string, unknown> | undefined)
      .reverse()
      .find((markup) => markup && kind in markup);
  }

  /** Links a trader: "Linked as", then the terms question (the demo's traders never agreed); returns the question. */
  async function linkTrader(email: string, userId: string, locale: 'pt-BR' | 'en'): Promise<{ chat: TelegramChat; question: number }> {
    await database.update(db.users).set({ locale }).where(eq(db.users.id, userId));
    const chat = new TelegramChat(emulator, { userId: nextUserId++ });
    const { code } = await issueLinkCode(database, { email, kind: 'trader' });
    await chat.send(`/start ${code}`);
    const [linked, question] = await chat.replies(2);
    expect(linked!.plain).toMatch(locale === 'en' ? /^✅ Linked as / : /^✅ Conectado como /);
    return { chat, question: question!.messageId };
  }

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    await seedDemoCompany(database, { secretBox: createSecretBox(crypto.randomBytes(32)), traders: 8 });
    const { agents } = await testAgents(database);
    harness = await startTelegramDoor({ db: database, agents, door: { trading: undefined } });
    ({ emulator } = harness);
    const owners = await queryRows<{ tenant_id: string }>(
      database,
      sql`select b.tenant_id from bots b join tenants t on t.id = b.tenant_id and t.kind = 'trader'
          group by b.tenant_id order by count(*) desc, b.tenant_id limit 2`,
    );
    for (const [i, locale] of (['pt-BR', 'en'] as const).entries()) {
      const tenantId = owners[i]!.tenant_id;
      const [user] = await database.select().from(db.users).where(eq(db.users.tenantId, tenantId));
      const { chat, question } = await linkTrader(user!.email, user!.id, locale);
      traders[locale] = { userId: user!.id, tenantId, email: user!.email, chat };
      // Agreed at once (the terms flow itself is the first test's).
      const card = chat.all().find((m) => m.messageId === question)!;
      await press(chat, card.buttons.find((b) => b.callback_data === 'cs:y')!.callback_data, question);
    }
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await test?.dispose();
  });

  describe('the terms at linking', () => {
    for (const locale of ['pt-BR', 'en'] as const) {
      it(`asks a trader who never agreed first (${locale}): Read sends the text, Agree records it once, then the commands and the keyboard`, async () => {
        const [someone] = await queryRows<{ id: string; email: string }>(
          database,
          sql`select u.id, u.email from users u join tenants t on t.id = u.tenant_id and t.kind = 'trader'
              where not exists (select 1 from telegram_links l where l.user_id = u.id)
              order by u.email ${locale === 'en' ? sql`desc` : sql`asc`} limit 1`,
        );
        const { chat, question } = await linkTrader(someone!.email, someone!.id, locale);
        const card = chat.all().find((m) => m.messageId === question)!;
        const [terms] = await database.select().from(db.documents).where(eq(db.documents.slug, 'termos-de-uso'));
        expect(card.plain).toBe(
          locale === 'en'
            ? `📄 Before we start: do you agree to the terms of use (version v${terms!.currentVersion})? They say how BotCriptoFy runs your bots, what we charge and what is up to you. Press Read to see the text.`
            : `📄 Antes de começar: você concorda com os ${terms!.title} (versão v${terms!.currentVersion})? Eles dizem como a BotCriptoFy opera seus robôs, o que cobramos e o que cabe a você. Toque em Ler para ver o texto.`,
        );
        expect(card.buttons.map((b) => b.callback_data)).toEqual(['cs:y', 'cs:r']);
        // Nothing else yet: no commands list, no keyboard.
        expect(lastMarkup(chat, 'keyboard')).toBeUndefined();

        // Read: the published text, then the question again.
        const read = await press(chat, 'cs:r', question);
        const [version] = await database
          .select()
          .from(db.documentVersions)
          .where(and(eq(db.documentVersions.documentId, terms!.id), eq(db.documentVersions.version, terms!.currentVersion)));
        expect(read[0]).toContain(version!.title);
        // Published in Portuguese only: an English reader is told so first; a Portuguese one is not.
        if (locale === 'en') expect(read[0]).toMatch(/^The terms are published in Portuguese; this is the text you agree to\./);
        else expect(read[0]).not.toMatch(/published in Portuguese/);
        expect(read[0]).toContain(
          version!.body
            .split('\n')
            .find((line) => line.trim().length > 20)!
            .replace(/[*_#`]/g, '')
            .trim()
            .slice(0, 30),
        );
        expect(read.at(-1)).toBe(locale === 'en' ? 'Do you agree to these terms?' : 'Você concorda com estes termos?');

        // Agree (twice: recorded once), the question replaced, then the commands with the keyboard.
        chat.skip();
        await chat.press('cs:y', question);
        await chat.press('cs:y', question);
        await harness.settle();
        const after = chat.fresh().map((m) => m.plain);
        expect(after).toHaveLength(1);
        expect(after[0]).toMatch(locale === 'en' ? /^BotCriptoFy — your bots/ : /^BotCriptoFy — seus robôs/);
        expect(chat.all().find((m) => m.messageId === question)!.plain).toBe(
          locale === 'en'
            ? `✅ Thank you: you agreed to the terms of use (version v${terms!.currentVersion}).`
            : `✅ Obrigado: você concordou com os termos de uso (versão v${terms!.currentVersion}).`,
        );
        const recorded = await database.select().from(db.consents).where(eq(db.consents.userId, someone!.id));
        expect(recorded.map((c) => ({ kind: c.kind, version: c.version, granted: c.granted, source: c.source }))).toEqual([
          { kind: 'terms', version: `v${terms!.currentVersion}`, granted: true, source: 'telegram' },
        ]);
        expect(lastMarkup(chat, 'keyboard')).toBeDefined();
        // Agreed: /start answers with the commands, not the question.
        const started = await ask(chat, '/start');
        expect(started).toHaveLength(1);
        expect(started[0]).toMatch(locale === 'en' ? /^BotCriptoFy — your bots/ : /^BotCriptoFy — seus robôs/);
        // A new version of the terms asks again on /start.
        await database
          .update(db.documents)
          .set({ currentVersion: terms!.currentVersion + 1 })
          .where(eq(db.documents.id, terms!.id));
        await database.insert(db.documentVersions).values({ ...version!, id: undefined as never, version: terms!.currentVersion + 1 });
        try {
          const asked = await ask(chat, '/start');
          expect(asked[0]).toMatch(locale === 'en' ? /^📄 Before we start/ : /^📄 Antes de começar/);
        } finally {
          await database.update(db.documents).set({ currentVersion: terms!.currentVersion }).where(eq(db.documents.id, terms!.id));
          await database
            .delete(db.documentVersions)
            .where(and(eq(db.documentVersions.documentId, terms!.id), eq(db.documentVersions.version, terms!.currentVersion + 1)));
        }
        // Staff are never asked here.
        expect((await linkedPerson(database, chat.userId))!.userId).toBe(someone!.id);
      });
    }
  });

  describe('the reply keyboard', () => {
    for (const locale of ['pt-BR', 'en'] as const) {
      it(`is set with the commands and on /start, in ${locale}, and its buttons run their commands`, async () => {
        const { chat } = traders[locale];
        await ask(chat, '/start');
        const markup = lastMarkup(chat, 'keyboard') as { keyboard: { text: string }[][]; resize_keyboard: boolean; is_persistent: boolean };
        expect(markup.keyboard.map((row) => row.map((b) => b.text))).toEqual(
          locale === 'en'
            ? [
                ['📊 Positions', '💰 Profit', '👛 Balance'],
                ['🤖 Bots', '📅 Daily', '🧾 Trades'],
                ['🔒 Locks', '📦 Plan', '❓ Help'],
              ]
            : [
                ['📊 Posições', '💰 Lucro', '👛 Carteira'],
                ['🤖 Robôs', '📅 Diário', '🧾 Operações'],
                ['🔒 Travas', '📦 Plano', '❓ Ajuda'],
              ],
        );
        expect(markup).toMatchObject({ resize_keyboard: true, is_persistent: true });
        // A press sends the label: answered as its command, exactly as typed.
        for (const [label, command] of (locale === 'en'
          ? [
              ['💰 Profit', '/profit'],
              ['🤖 Bots', '/bots'],
              ['🔒 Locks', '/locks'],
            ]
          : [
              ['💰 Lucro', '/profit'],
              ['🤖 Robôs', '/bots'],
              ['🔒 Travas', '/locks'],
            ]) as [string, string][]) {
          const pressed = await ask(chat, label);
          expect(pressed, label).toEqual(await ask(chat, command));
        }
      });
    }
  });

  describe('pair locks', () => {
    for (const locale of ['pt-BR', 'en'] as const) {
      it(`/lock, /locks and /unlock in ${locale}: by pair and by id, one bot or all, the engine's cooldown explained`, async () => {
        const trader = traders[locale];
        const en = locale === 'en';
        const foreign = en ? PORTUGUESE : ENGLISH;
        const replies: string[] = [];
        const say = async (text: string) => {
          const got = await ask(trader.chat, text);
          replies.push(...got);
          return got;
        };
        expect(await say('/locks')).toEqual([
          en
            ? '🔓 No pair is locked: your bots may enter every pair. To lock one: /lock PAIR DURATION [N], e.g. /lock BTC/USDT 2h'
            : '🔓 Nenhum par travado: seus robôs podem entrar em todos os pares. Para travar um: /lock PAR DURAÇÃO [N], ex.: /lock BTC/USDT 2h',
        ]);
        // Every bot, BTC/USDT, 2 hours.
        const [locked] = await say('/lock btcusdt 2h');
        expect(locked).toMatch(en ? /^✅ Locked: no new entries until it ends/ : /^✅ Travado: sem novas entradas até o fim/);
        const rows = () =>
          database.select().from(db.pairLocks).where(eq(db.pairLocks.tenantId, trader.tenantId)).orderBy(desc(db.pairLocks.lockedAt));
        const [all] = await rows();
        expect(all).toMatchObject({ symbol: 'BTC/USDT', botId: null, createdByUserId: trader.userId, unlockedAt: null });
        expect(all!.lockedUntil.getTime() - all!.lockedAt.getTime()).toBe(2 * 3_600_000);
        expect(locked).toContain(`#${all!.id.slice(0, 8)}`);
        // Bot 1 only, ETH/USDT, 30 minutes.
        const [bot1] = await database
          .select()
          .from(db.bots)
          .where(eq(db.bots.tenantId, trader.tenantId))
          .orderBy(db.bots.createdAt, db.bots.id)
          .limit(1);
        await say('/lock ETH/USDT 30m 1');
        const [one] = await rows();
        expect(one).toMatchObject({ symbol: 'ETH/USDT', botId: bot1!.id });
        // The engine's stop-loss cooldown, as the runner writes it.
        await database.insert(db.pairLocks).values({
          tenantId: trader.tenantId,
          botId: bot1!.id,
          symbol: 'SOL/USDT',
          reason: 'stop_loss_cooldown',
          lockedUntil: new Date(Date.now() + 45 * 60_000),
        });
        const [list] = await say('/locks');
        expect(list).toMatch(en ? /^Locked pairs \(3\)/ : /^Pares travados \(3\)/);
        expect(list).toContain(`#${one!.id.slice(0, 8)} ETH/USDT — ${bot1!.name}`);
        expect(list).toContain(`#${all!.id.slice(0, 8)} BTC/USDT — ${en ? 'every bot' : 'todos os robôs'}`);
        expect(list).toContain(en ? 'cooldown after a stop loss' : 'pausa depois de um stop loss');
        expect(list).toContain(en ? 'locked by you' : 'travado por você');
        // Unlock by id, then by pair; an unknown one is said so; bad input gets the usage.
        expect(await say(`/unlock ${one!.id.slice(0, 8)}`)).toEqual([
          en
            ? '🔓 Unlocked: ETH/USDT (1 lock). Your bots may enter again.'
            : '🔓 Destravado: ETH/USDT (1 trava). Seus robôs podem voltar a entrar.',
        ]);
        expect(await say('/unlock BTC/USDT')).toEqual([
          en
            ? '🔓 Unlocked: BTC/USDT (1 lock). Your bots may enter again.'
            : '🔓 Destravado: BTC/USDT (1 trava). Seus robôs podem voltar a entrar.',
        ]);
        expect(await say('/unlock BTC/USDT')).toEqual([
          en ? 'No lock holds on BTC/USDT. See /locks.' : 'Nenhuma trava ativa em BTC/USDT. Veja /locks.',
        ]);
        expect((await say('/lock BTC/USDT forever'))[0]).toMatch(en ? /^Usage: \/lock PAIR DURATION/ : /^Uso: \/lock PAR DURAÇÃO/);
        expect((await say('/lock BTC/USDT 31d'))[0]).toMatch(en ? /^Usage: / : /^Uso: /);
        expect(await say('/lock BTC/USDT 1h 99')).toEqual([
          en ? 'None of your bots has the number 99. See /bots.' : 'Nenhum robô seu com o número 99. Veja /bots.',
        ]);
        const left = await rows();
        expect(left.filter((r) => r.unlockedAt === null).map((r) => r.symbol)).toEqual(['SOL/USDT']);
        expect(left.find((r) => r.symbol === 'ETH/USDT')!.unlockedByUserId).toBe(trader.userId);
        // The engine's lock lifted by its button under /locks; a second press says it no longer holds.
        const [listed] = await say('/locks');
        expect(listed).toMatch(en ? /^Locked pairs \(1\)/ : /^Pares travados \(1\)/);
        const card = trader.chat.all().at(-1)!;
        const sol = left.find((r) => r.symbol === 'SOL/USDT')!;
        expect(card.buttons).toEqual([
          {
            text: en ? `🔓 Unlock #${sol.id.slice(0, 8)} SOL/USDT` : `🔓 Destravar #${sol.id.slice(0, 8)} SOL/USDT`,
            callback_data: `ul:${sol.id.replace(/-/g, '')}`,
          },
        ]);
        const pressed = [
          ...(await press(trader.chat, card.buttons[0]!.callback_data, card.messageId)),
          ...(await press(trader.chat, card.buttons[0]!.callback_data, card.messageId)),
        ];
        replies.push(...pressed);
        expect(pressed).toEqual(
          en
            ? ['🔓 Unlocked: SOL/USDT (1 lock). Your bots may enter again.', 'This lock no longer holds. See /locks.']
            : ['🔓 Destravado: SOL/USDT (1 trava). Seus robôs podem voltar a entrar.', 'Esta trava já não vale mais. Veja /locks.'],
        );
        await database.delete(db.pairLocks).where(eq(db.pairLocks.tenantId, trader.tenantId));
        for (const reply of replies) {
          // Command names (/bots, /locks) are the same in both languages.
          expect(reply.replace(/\/\w+/g, ''), reply).not.toMatch(foreign);
          expect(reply, reply).not.toMatch(TECHNICAL);
        }
        // Audited as the trader's own tool calls.
        const audited = await queryRows<{ tool: string }>(
          database,
          sql`select tool from audit_log where tenant_id = ${trader.tenantId} and action = 'tool.call' and outcome = 'ok'
              and tool in ('lock_pair', 'unlock_pair', 'list_pair_locks')`,
        );
        expect(new Set(audited.map((a) => a.tool))).toEqual(new Set(['lock_pair', 'unlock_pair', 'list_pair_locks']));
      });
    }
  });

  describe('the billing portal', () => {
    for (const locale of ['pt-BR', 'en'] as const) {
      it(`/plan has "manage subscription"; without Stripe it says how to reach Support, in ${locale}`, async () => {
        const { chat } = traders[locale];
        await ask(chat, '/plan');
        const card = chat.all().at(-1)!;
        expect(card.buttons).toEqual([
          { text: locale === 'en' ? '💳 Manage subscription' : '💳 Gerenciar assinatura', callback_data: 'bp' },
        ]);
        const answer = await press(chat, 'bp', card.messageId);
        expect(answer).toEqual([
          locale === 'en'
            ? 'Managing your subscription online is not available right now. To change plan, update your card or cancel, write here starting with the word "ticket" and Support will sort it out with you in this chat.'
            : 'A gestão da assinatura pela internet não está disponível agora. Para trocar de plano, atualizar o cartão ou cancelar, escreva aqui começando com a palavra "chamado" e o suporte resolve com você nesta conversa.',
        ]);
      });
    }

    it("with Stripe, the press answers with the trader's own portal session as a button (Stripe's local fake)", async () => {
      const fake = await startFakeStripe();
      try {
        const billing = new BillingService(database, await createStripeClient({ secretKey: 'sk_test_local', apiUrl: fake.url }));
        const trader = traders.en;
        const person = (await linkedPerson(database, trader.chat.userId))!;
        const sent: { text: string; keyboard: unknown }[] = [];
        await portalReply(
          {
            person,
            locale: 'en',
            chatId: trader.chat.chatId,
            tools: { db: database, billing, now: () => new Date(), actor: (await actorForEmail(database, trader.email))! } as ToolContext,
            reply: async (text, keyboard) => {
              sent.push({ text, keyboard });
              return [1];
            },
            photo: async () => {},
            typing: (work) => work(),
          },
          'https://t.me/botcriptofy_bot',
        );
        const session = [...fake.portalSessions.values()].at(-1)!;
        expect(session.return_url).toBe('https://t.me/botcriptofy_bot');
        expect(sent).toEqual([
          {
            text: '💳 Your subscription portal: card, invoices, plan changes and cancellation. The link is yours alone and expires soon.',
            keyboard: { inline_keyboard: [[{ text: 'Open the portal', url: session.url }]] },
          },
        ]);
      } finally {
        await fake.close();
      }
    });
  });

  describe('Support told when a customer writes back', () => {
    it('the support member who answered gets the reply with Answer and Close buttons (in their language); unanswered tickets go to the department', async () => {
      const staff = await listStaff(database);
      const supportTeam = staff.filter((m) => m.department === 'support');
      const member = supportTeam.find((m) => m.role === 'member') ?? supportTeam[0]!;
      const other = supportTeam.find((m) => m.userId !== member.userId);
      await database.update(db.users).set({ locale: 'en' }).where(eq(db.users.id, member.userId));
      const linkStaff = (email: string) => harness.link(email, 'staff', nextUserId++);
      const support = await linkStaff(member.email);
      const colleague = other ? await linkStaff(other.email) : undefined;
      const trader = traders['pt-BR'];
      const as = async (email: string) => ({
        db: database,
        billing: new BillingService(database, undefined),
        now: () => new Date(),
        actor: (await actorForEmail(database, email))!,
      });
      const opened = await invokeTool(TOOLS, await as(trader.email), 'open_ticket', {
        subject: 'Robô parado',
        message: 'Meu robô parou ontem.',
      });
      const ticketId = (opened as { result: { ticketId: string } }).result.ticketId;
      const short = ticketId.slice(0, 8);
      // Support answers in the chat; the customer gets it.
      const [list] = await ask(support, `/answer ${short} Religamos o robô, veja se voltou.`);
      expect(list).toMatch(/^✅ /);
      await trader.chat.reply();
      // The customer writes back (the path the chat takes for a customer's reply on a pending ticket).
      support.skip();
      colleague?.skip();
      const replied = await invokeTool(TOOLS, await as(trader.email), 'answer_ticket', {
        ticketId,
        message: 'Ainda não voltou, continua parado.',
      });
      expect(replied).toMatchObject({ ok: true, result: { status: 'open' } });
      const [ping] = await support.replies(1);
      const [customer] = await database.select({ name: db.users.name }).from(db.users).where(eq(db.users.id, trader.userId));
      expect(ping!.plain).toBe(
        `💬 ${customer!.name} replied on ticket #${short} — Robô parado\n\n“Ainda não voltou, continua parado.”\n\nThe ticket is open again.`,
      );
      expect(ping!.buttons).toEqual([
        { text: `✍️ Answer #${short}`, callback_data: `tk:a:${ticketId.replace(/-/g, '')}` },
        { text: '✔️ Close', callback_data: `tk:c:${ticketId.replace(/-/g, '')}` },
      ]);
      // Only the one who answered: the rest of Support is not disturbed.
      if (colleague) expect(colleague.fresh()).toEqual([]);
      // Answer from the notice itself.
      const prompt = await press(support, ping!.buttons[0]!.callback_data, ping!.messageId);
      expect(prompt[0]).toMatch(new RegExp(`^✍️ Write the answer to ticket #${short}`));
      expect((await ask(support, 'Reiniciamos de novo agora.'))[0]).toMatch(/^✅ /);
      expect((await trader.chat.reply()).plain).toContain('Reiniciamos de novo agora.');

      // A ticket nobody answered yet: the customer's reply goes to the support department.
      const second = await invokeTool(TOOLS, await as(trader.email), 'open_ticket', { subject: 'Dúvida', message: 'Como troco o par?' });
      const secondId = (second as { result: { ticketId: string } }).result.ticketId;
      await invokeTool(TOOLS, await as(trader.email), 'answer_ticket', { ticketId: secondId, message: 'Alguém pode ver?' });
      const [queued] = await queryRows<{ recipient_user_id: string | null; recipient_department: string | null; tenant_id: string }>(
        database,
        sql`select recipient_user_id, recipient_department, tenant_id from notifications
            where type = 'ticket_customer_reply' and payload->>'ticketId' = ${secondId} limit 1`,
      );
      expect(queued).toMatchObject({ recipient_user_id: null, recipient_department: 'support' });
      // Staff-facing: queued under the company, not in the customer's account.
      expect(queued!.tenant_id).toBe(await db.companyTenantId(database));
      await support.reply();
      await database.update(db.users).set({ locale: 'pt-BR' }).where(eq(db.users.id, member.userId));
    });
  });
});
