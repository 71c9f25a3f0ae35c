import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillingService } from '../../billing/index.ts';
import * as db from '../../db/index.ts';
import { listStaff, queryRows, type Database } from '../../db/index.ts';
import { seedDemoCompany } from '../../demo/index.ts';
import { createSecretBox } from '../../secrets/index.ts';
import type { TelegramDoor } from '../../telegram/index.ts';
import { readerError } from '../../i18n/index.ts';
import { actorForEmail, invokeTool, staffActor, TOOLS } from '../../tools/index.ts';
import { BotRunner, DEFAULT_RISK_LIMITS, PaperExchange } from '../../trading/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { syntheticMarket } from '../support/synthetic-market.ts';
import type { TelegramChat } from '../support/telegram-chat.ts';
import { failingExchange, startTelegramDoor, testAgents, type TelegramDoorHarness } from '../support/telegram-door.ts';
import type { TelegramEmulator } from '../support/telegram-emulator.ts';

// A trader's and staff members' daily work in the chat (issue 21): bot state explained, tickets
// answered from the chat, approval cards a decider can decide on, traders answered as customers,
// freqtrade's trader commands, and the message's language as a first guess. Over the emulated
// Bot API, against the demo company, with the exchange down and the model offline.

const EXCHANGE_DOWN =
  'binance: NetworkError: binance GET https://testnet.binance.vision/api/v3/account getaddrinfo ENOTFOUND testnet.binance.vision';
const TECHNICAL =
  /https?:\/\/|\bat \S+ \(|\b\w+Error\b|\bE(NOTFOUND|CONNREFUSED|CONNRESET|TIMEDOUT|AI_AGAIN)\b|\.ts:\d+|\b[A-Z][A-Z0-9]+_[A-Z0-9_]+\b|\{"/;

type Trader = { userId: string; tenantId: string; email: string; chat: TelegramChat };

describe('daily work in the chat', () => {
  let test: TestDatabase;
  let database: Database;
  let harness: TelegramDoorHarness;
  let emulator: TelegramEmulator;
  let door: TelegramDoor;
  let nextUserId = 7000;
  const traders: Record<'pt-BR' | 'en', Trader> = {} as never;

  const settle = () => harness.settle();
  const ask = (chat: TelegramChat, text: string) => harness.ask(chat, text);

  async function linkTrader(email: string, userId: string, locale: 'pt-BR' | 'en' | null): Promise<TelegramChat> {
    if (locale) await database.update(db.users).set({ locale }).where(eq(db.users.id, userId));
    return harness.link(email, 'trader', nextUserId++);
  }

  const linkStaff = (email: string) => harness.link(email, 'staff', nextUserId++);

  beforeAll(async () => {
    test = await createTestDatabase('pglite');
    database = test.handle.db;
    await seedDemoCompany(database, { secretBox: createSecretBox(crypto.randomBytes(32)), traders: 40 });
    const { agents } = await testAgents(database);
    harness = await startTelegramDoor({ db: database, agents, door: { trading: failingExchange(EXCHANGE_DOWN) } });
    ({ emulator, door } = harness);
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
    await harness?.close();
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

  async function nameOf(userId: string): Promise<string> {
    const [user] = await database.select({ name: db.users.name }).from(db.users).where(eq(db.users.id, userId));
    return user!.name;
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
          .set({ status: 'paused', lastError: `exchange failure: ${EXCHANGE_DOWN}`, maxOpenPositions: 3 })
          .where(eq(db.bots.id, botId));
        const n = await numberOf(trader, botId);
        const bots = (await ask(trader.chat, '/bots')).join('\n');
        // The bot's own cap on open positions (migration 0023) on its line; a bot without one says nothing of it.
        expect(bots).toMatch(
          new RegExp(`pausado-${locale}[^\n]*· ${locale === 'en' ? 'at most 3 open positions' : 'no máximo 3 posições abertas'}\n`),
        );
        expect(bots.split('\n').filter((line) => /^\d+\. /.test(line) && !line.includes(`pausado-${locale}`))).not.toContainEqual(
          expect.stringMatching(/at most \d+ open|no máximo \d+ posi/),
        );
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

  describe('staff finish their work in the chat', () => {
    it('a support member lists tickets with short ids and buttons, answers one (the customer gets it on Telegram) and escalates another', async () => {
      const staff = await listStaff(database);
      const member = staff.find((m) => m.department === 'support' && m.role === 'member') ?? staff.find((m) => m.department === 'support')!;
      const support = await linkStaff(member.email);
      // The Portuguese trader (linked) opens a ticket.
      const trader = traders['pt-BR'];
      const asTrader = (await actorForEmail(database, trader.email))!;
      const opened = await invokeTool(
        TOOLS,
        { db: database, billing: new BillingService(database, undefined), now: () => new Date(), actor: asTrader },
        'open_ticket',
        { subject: 'Robô não liga', message: 'Meu robô não liga desde ontem, o que houve?', priority: 'urgent' },
      );
      const ticketId = (opened as { result: { ticketId: string } }).result.ticketId;
      const short = ticketId.slice(0, 8);

      const [list] = await ask(support, '/tickets');
      expect(list).toMatch(/^🎫 Tickets abertos \(\d+, \d+ fora do SLA\)/);
      expect(list).toMatch(/1\. #[0-9a-f]{8} /);
      expect(list).not.toMatch(TECHNICAL);
      const card = support.all().at(-1)!;
      expect(card.buttons[0]!.text).toMatch(/^✍️ Responder #[0-9a-f]{8}$/);
      expect(card.buttons.every((b) => /^tk:[aec]:[0-9a-f]{32}$/.test(b.callback_data))).toBe(true);

      // Answer: pressed, the prompt, then the text goes to the customer.
      support.skip();
      await support.press(`tk:a:${ticketId.replace(/-/g, '')}`, card.messageId);
      await settle();
      expect(support.fresh().map((m) => m.plain)).toEqual([
        `✍️ Escreva a resposta para o ticket #${short} (Robô não liga — ${await nameOf(trader.userId)}). Sua próxima mensagem vai para o cliente; /cancel para desistir.`,
      ]);
      trader.chat.skip();
      const [confirmed] = await ask(support, 'Olá! Religamos o robô; ele volta a operar no próximo candle.');
      expect(confirmed).toBe(
        `✅ ${await nameOf(trader.userId)} (${trader.email}) recebeu sua resposta no Telegram; ela também ficou registrada no ticket #${short} (Robô não liga). Status do ticket: pendente (aguardando o cliente).`,
      );
      const [received] = await trader.chat.replies(1);
      expect(received!.plain).toBe(
        '💬 O suporte respondeu seu chamado "Robô não liga":\n\nOlá! Religamos o robô; ele volta a operar no próximo candle.\n\nSe precisar de mais alguma coisa, responda aqui.',
      );
      const [ticket] = await database.select().from(db.supportTickets).where(eq(db.supportTickets.id, ticketId));
      expect(ticket!.status).toBe('pending');
      expect(ticket!.firstResponseAt).not.toBeNull();

      // One line: escalate by short id; an unknown id is said so.
      expect(await ask(support, `/escalate ${short} cliente sem operar há 2 dias`)).toEqual([
        `⬆️ Ticket #${short} (Robô não liga) escalado para o responsável do Suporte, prioridade urgente.`,
      ]);
      expect(await ask(support, '/answer ffffffff oi')).toEqual(['Nenhum ticket aberto com o id #ffffffff. Veja /tickets.']);
      // Close by button: resolved, with the note kept on the ticket.
      support.skip();
      await support.press(`tk:c:${ticketId.replace(/-/g, '')}`, card.messageId);
      await settle();
      expect(support.fresh().map((m) => m.plain)).toEqual([`✔️ Ticket #${short} (Robô não liga) fechado: resolvido.`]);
      const [closed] = await database.select().from(db.supportTickets).where(eq(db.supportTickets.id, ticketId));
      expect(closed!.status).toBe('resolved');
      expect(closed!.resolvedAt).not.toBeNull();

      // A customer without Telegram: the answer stays on the ticket, and the staff member is told so.
      const [unlinked] = await queryRows<{ id: string; subject: string; name: string; email: string }>(
        database,
        sql`select t.id, t.subject, u.name, u.email from support_tickets t join users u on u.id = t.requester_user_id
            where t.status in ('open', 'pending', 'escalated')
              and not exists (select 1 from telegram_links l where l.user_id = u.id and l.unlinked_at is null)
            order by t.id limit 1`,
      );
      const [recorded] = await ask(support, `/answer ${unlinked!.id.slice(0, 8)} Obrigado pelo contato!`);
      expect(recorded).toBe(
        `✅ Resposta registrada no ticket #${unlinked!.id.slice(0, 8)} (${unlinked!.subject}). ${unlinked!.name} (${unlinked!.email}) não conectou o Telegram, então ela fica no histórico do chamado. Status do ticket: pendente (aguardando o cliente).`,
      );
      // Traders do not get the staff commands.
      expect(await ask(trader.chat, '/tickets')).toEqual(['/tickets é para a equipe. Envie /help para ver seus comandos.']);
    });

    it('approval cards carry the amount, customer, invoice and payment; one that cannot run says why and is not approved into a failure', async () => {
      const staff = await listStaff(database);
      const financeHead = staff.find((m) => m.department === 'finance' && m.role === 'head')!;
      const ceoRow = staff.find((m) => m.role === 'ceo')!;
      const [payment] = await queryRows<{
        id: string;
        tenant_id: string;
        amount_cents: number;
        number: string | null;
        charge: string | null;
      }>(
        database,
        sql`select p.id, p.tenant_id, p.amount_cents, i.number, coalesce(p.stripe_charge_id, p.stripe_payment_intent_id) as charge
            from payments p join invoices i on i.id = p.invoice_id where p.status = 'succeeded' and i.number is not null
            order by p.created_at desc limit 1`,
      );
      const [holder] = await database.select().from(db.users).where(eq(db.users.tenantId, payment!.tenant_id));
      // Asked now, without Stripe: refused at once with why, and nothing waits for a decider.
      const before = await database.select({ id: db.approvals.id }).from(db.approvals);
      const refused = await invokeTool(
        TOOLS,
        { db: database, billing: new BillingService(database, undefined), now: () => new Date(), actor: staffActor(financeHead) },
        'refund_payment',
        { paymentId: payment!.id, reason: 'cobrança em duplicidade' },
      );
      expect(refused.ok).toBe(false);
      const failure = refused as { error: string; category?: string; message: string };
      expect(failure.error).toBe('unavailable');
      expect(failure.message).toMatch(/needs Stripe/);
      expect(readerError(failure, 'pt-BR')).toBe(
        'O Stripe não está configurado (cobrança em modo local): nada pode ser cobrado, reembolsado ou mudado de plano até ele ser configurado.',
      );
      expect(await database.select({ id: db.approvals.id }).from(db.approvals)).toHaveLength(before.length);

      // One asked while Stripe was set up (made elsewhere): the CEO's card says what a decider needs.
      const [row] = await database
        .insert(db.approvals)
        .values({
          tenantId: payment!.tenant_id,
          requestedByUserId: financeHead.userId,
          agent: 'finance',
          tool: 'refund_payment',
          args: { paymentId: payment!.id, reason: 'cobrança em duplicidade' },
          summary: `Refund the whole payment of payment ${payment!.id}: cobrança em duplicidade`,
          approverDepartment: 'finance',
          expiresAt: new Date(Date.now() + 86_400_000),
        })
        .returning({ id: db.approvals.id });
      const ceo = await linkStaff(ceoRow.email);
      await database.update(db.users).set({ locale: 'pt-BR' }).where(eq(db.users.id, ceoRow.userId));
      await ask(ceo, '/approvals');
      const card = ceo.all().find((m) => m.buttons.some((b) => b.callback_data === `approval:${row!.id}:approve`))!;
      const amount = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' }).format(payment!.amount_cents / 100);
      expect(card.plain).toContain(`Valor: ${amount}`);
      expect(card.plain).toContain(`Cliente: ${holder!.name} <${holder!.email}>`);
      expect(card.plain).toContain(`Fatura: ${payment!.number}`);
      expect(card.plain).toContain(`Pagamento: ${payment!.charge ?? payment!.id}`);
      expect(card.plain).toContain('⚠️ Não pode ser executada agora: O Stripe não está configurado');
      expect(card.plain).not.toMatch(/STRIPE_SECRET_KEY/);
      // Approving it is refused with the reason; it stays pending (it can be rejected).
      await ceo.press(`approval:${row!.id}:approve`, card.messageId);
      await settle();
      const answers = emulator.requests.filter((r) => r.method === 'answerCallbackQuery').map((r) => String(r.body?.text ?? ''));
      expect(answers.at(-1)).toMatch(/^Não pode ser executada agora: O Stripe não está configurado/);
      const [still] = await database.select().from(db.approvals).where(eq(db.approvals.id, row!.id));
      expect(still!.status).toBe('pending');
    });
  });

  describe('traders answered as customers', () => {
    it('greetings, thanks, their own questions and anything else get a customer answer in their language', async () => {
      const pt = traders['pt-BR'].chat;
      const en = traders.en.chat;
      const [hello] = await ask(pt, 'oi');
      expect(hello).toMatch(/^Olá, \S+! 👋 Posso mostrar seus robôs \(\/bots\)/);
      expect(await ask(pt, 'obrigado!')).toEqual(['Por nada! Se precisar de algo, é só escrever aqui. 🙂']);
      expect((await ask(en, 'hello')).join('\n')).toMatch(/^Hi \S+! 👋 I can show your bots/);
      expect(await ask(en, 'thanks!')).toEqual(["You're welcome! If you need anything, just write here. 🙂"]);
      expect((await ask(en, 'how much did I make this week?')).join('\n')).toMatch(/^💰 Profit — last 7 days/);
      expect((await ask(en, 'my bots')).join('\n')).toMatch(/^🤖 Your bots/);
      expect((await ask(pt, 'quanto lucrei este mês?')).join('\n')).toMatch(/^💰 Resultado — últimos 30 dias/);
      // Not understood with the model offline: a customer's fallback, never the staff examples.
      for (const [chat, text] of [
        [pt, 'xyzzy plugh frobnicate'],
        [en, 'xyzzy plugh frobnicate'],
      ] as const) {
        const [reply] = await ask(chat, text);
        expect(reply).toMatch(chat === pt ? /^Não consegui entender sua mensagem agora/ : /^I could not understand your message just now/);
        expect(reply).not.toMatch(/MRR|pagamentos com falha|auditoria|modelo offline|model offline|Sem o modelo/);
      }
      // "chamado: …" opens a ticket Support answers here.
      const [opened] = await ask(pt, 'chamado: meu robô não abre operações desde ontem');
      expect(opened).toMatch(/^📨 Chamado #[0-9a-f]{8} aberto com sua mensagem\. O suporte responde aqui mesmo\.$/);
    });

    it("a customer's reply after Support answered goes to the same ticket, which reopens", async () => {
      const trader = traders['en'];
      const [opened] = await ask(trader.chat, 'ticket: my bot stopped trading yesterday');
      const short = /#([0-9a-f]{8})/.exec(opened!)![1]!;
      const staff = await listStaff(database);
      const support = await linkStaff(staff.find((m) => m.department === 'support')!.email);
      await ask(support, `/answer ${short} We restarted it; please check now.`);
      // Support's answer reaches the trader through the outbox, on its own time: wait for it, so the
      // next reply read is the door's answer to the trader's message.
      expect((await trader.chat.reply()).plain).toMatch(/^💬 Support answered your ticket "my bot stopped trading yesterday"/);
      const [reply] = await ask(trader.chat, 'still not trading, it shows no positions');
      expect(reply).toBe(`📨 I added your message to ticket #${short} ("my bot stopped trading yesterday"); Support answers here.`);
      const [ticket] = await queryRows<{ status: string; n: number }>(
        database,
        sql`select t.status, (select count(*)::int from ticket_messages m where m.ticket_id = t.id and m.author_kind = 'customer') as n
            from support_tickets t where replace(t.id::text, '-', '') like ${`${short}%`}`,
      );
      expect(ticket).toEqual({ status: 'open', n: 2 });
    });

    it('"quero cancelar minha assinatura" gets the customer\'s own subscription and how to cancel, and a button that asks for it', async () => {
      const [paid] = await queryRows<{ user_id: string; email: string; tenant_id: string }>(
        database,
        sql`select u.id as user_id, u.email, u.tenant_id from subscriptions s join users u on u.tenant_id = s.tenant_id
            where s.status = 'active' and not s.cancel_at_period_end and s.plan_id <> 'free'
              and u.id not in (${traders['pt-BR'].userId}, ${traders.en.userId})
            order by u.email limit 1`,
      );
      const chat = await linkTrader(paid!.email, paid!.user_id, 'pt-BR');
      const [answer] = await ask(chat, 'quero cancelar minha assinatura');
      expect(answer).toMatch(
        /^📦 Sua assinatura: \S+ \(ativa, renova em \d{4}-\d{2}-\d{2}\)\.\nComo cancelar: o cancelamento vale no fim do período já pago/,
      );
      expect(answer).not.toMatch(/MRR|Sem o modelo|Tente:/);
      const question = chat.all().at(-1)!;
      expect(question.buttons.map((b) => b.callback_data)).toEqual(['cx:y', 'cx:n']);
      await chat.press('cx:y', question.messageId);
      await settle();
      const edited = chat.all().find((m) => m.messageId === question.messageId)!.plain;
      expect(edited).toMatch(/^✅ Pedido de cancelamento registrado \(chamado #[0-9a-f]{8}\)\. O suporte confirma aqui/);
      const [ticket] = await database
        .select()
        .from(db.supportTickets)
        .where(eq(db.supportTickets.requesterUserId, paid!.user_id))
        .orderBy(sql`${db.supportTickets.createdAt} desc`)
        .limit(1);
      expect(ticket!.subject).toBe('Cancelar assinatura');
      expect(ticket!.priority).toBe('high');
    });
  });

  describe("freqtrade's trader commands", () => {
    const PORTUGUESE =
      /\b(operações|operação|resultado|robôs?|rodando|fechadas|abertas|média|duração|pares|último ciclo|versão|notificações|seus|suas)\b/i;
    for (const locale of ['pt-BR', 'en'] as const) {
      it(`/trades, /performance, /stats, /count, /whitelist, /health, /version, /notifications in ${locale}, from the trader's own data`, async () => {
        const { chat, tenantId } = traders[locale];
        const replies: Record<string, string> = {};
        for (const command of ['/trades 3', '/performance', '/stats', '/count', '/whitelist', '/health', '/version', '/notifications']) {
          const texts = await ask(chat, command);
          expect(texts, command).toHaveLength(1);
          replies[command] = texts[0]!;
          expect(texts[0], command).not.toMatch(TECHNICAL);
          // Brand and command names aside, the other language's words do not appear.
          const body = texts[0]!
            .replace(/\/\w+/g, ' ')
            .replace(/BotCriptoFy/g, '')
            .replace(/stop loss|take profit|SLA/gi, '');
          if (locale === 'en') expect(body, command).not.toMatch(PORTUGUESE);
          else
            expect(body.replace(/\b(trades|stops)\b/g, ''), command).not.toMatch(
              /\b(the|your|profit|running|closed|winners|losers|average|duration|last tick)\b/i,
            );
        }
        expect(replies['/trades 3']).toMatch(
          locale === 'en' ? /^🧾 Latest trades \(3 of [\d,]+ trades closed\)/ : /^🧾 Últimas operações \(3 de [\d.]+ operações fechadas\)/,
        );
        expect(replies['/trades 3']!.split('\n')).toHaveLength(4);
        // /performance: each pair's total is the exact sum of its trades, rounded once.
        const pairs = await queryRows<{ symbol: string; profit: string }>(
          database,
          sql`select symbol, round(sum(profit_quote), 2)::text as profit from trades where tenant_id = ${tenantId} and status = 'closed'
              group by symbol order by sum(profit_quote) desc`,
        );
        const first = pairs[0]!;
        const shown = new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'pt-BR', {
          minimumFractionDigits: 2,
          maximumFractionDigits: 2,
        }).format(Math.abs(Number(first.profit)));
        expect(replies['/performance']).toContain(`1. ${first.symbol}: ${Number(first.profit) > 0 ? '+' : '-'}${shown} USDT`);
        expect(replies['/stats']).toMatch(
          locale === 'en' ? /Exits by reason[\s\S]*Profit factor: [\d.,]+/ : /Saídas por motivo[\s\S]*Fator de lucro: [\d.,]+/,
        );
        expect(replies['/count']).toMatch(
          locale === 'en' ? /^🔢 Open trades: \d+ of at most \d+/ : /^🔢 Operações abertas: \d+ de no máximo \d+/,
        );
        expect(replies['/whitelist']).toMatch(
          locale === 'en' ? /^📋 Whitelist \(\d+ pairs?\): [A-Z]+\/USDT/ : /^📋 Pares operados \(\d+ pares?\): [A-Z]+\/USDT/,
        );
        expect(replies['/version']).toMatch(/^BotCriptoFy (versão|version) \d+\.\d+\.\d+$/);
        expect(replies['/notifications']).toMatch(
          locale === 'en'
            ? /Your notifications[\s\S]*trades opened and closed \(trades\): on/
            : /Suas notificações[\s\S]*operações abertas e fechadas \(operacoes\): ligado/,
        );
      });
    }

    it('/status shows duration and SL/TP distances (the price said unavailable when the exchange is down); /profit ROI, profit factor, best pair, drawdown; /balance a total', async () => {
      const { chat, tenantId } = traders.en;
      const status = (await ask(chat, '/status')).join('\n');
      expect(status).toMatch(/@ [\d,.]+ · current price unavailable · for \d+ (min|h|d)/);
      expect(status).toMatch(/SL [\d,.]+ \([+-][\d.]+ %\) · TP [\d,.]+ \([+-][\d.]+ %\)/);
      expect(status).not.toMatch(TECHNICAL);
      const profit = (await ask(chat, '/profit')).join('\n');
      expect(profit).toMatch(/ROI on the bots' stake \([\d,.]+ USDT\): [+-]?[\d.]+ %/);
      expect(profit).toMatch(/Profit factor: [\d.]+/);
      // The drawdown is the deepest fall of the cumulative closed profit from its peak (from 0), over the same 365 days.
      const closed = await queryRows<{ p: string }>(
        database,
        sql`select profit_quote::text as p from trades where tenant_id = ${tenantId} and status = 'closed'
              and closed_at >= now() - interval '365 days' order by closed_at, id`,
      );
      let cum = 0;
      let peak = 0;
      let deepest = 0;
      for (const row of closed) {
        cum += Number(row.p);
        peak = Math.max(peak, cum);
        deepest = Math.max(deepest, peak - cum);
      }
      const shown = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(deepest);
      expect(profit).toContain(`Max drawdown: ${shown} USDT · average duration `);
      const [best] = await queryRows<{ symbol: string }>(
        database,
        sql`select symbol from trades where tenant_id = ${tenantId} and status = 'closed' and closed_at >= now() - interval '365 days'
            group by symbol order by sum(profit_quote) desc limit 1`,
      );
      expect(profit).toContain(`Best pair: ${best!.symbol} `);
      const balance = (await ask(chat, '/balance')).join('\n');
      expect(balance).toMatch(/Total: [\d,.]+ USDT/);
    });

    it("/stopentry holds a bot's new entries while its exits run, /startentry allows them again (real paper ticks)", async () => {
      const trader = traders['pt-BR'];
      const botId = await newPaperBot(trader, 'entradas');
      const n = await numberOf(trader, botId);
      expect(await ask(trader.chat, `/stopentry ${n}`)).toEqual([
        `⏸ Sem novas entradas: ${n} entradas. As posições abertas continuam saindo normalmente. Envie /startentry ${n} para voltar a entrar.`,
      ]);
      expect((await ask(trader.chat, '/bots')).join('\n')).toContain(`↳ sem novas entradas (/startentry ${n} para voltar)`);
      await database.update(db.bots).set({ status: 'running' }).where(eq(db.bots.id, botId));
      const market = syntheticMarket(40);
      const exchange = new PaperExchange(database, { botId, tenantId: trader.tenantId, market, timeframe: '1h' });
      await exchange.deposit('USDT', 1000);
      const [row] = await database.select().from(db.bots).where(eq(db.bots.id, botId));
      const runner = new BotRunner({ db: database, exchange, limits: DEFAULT_RISK_LIMITS, killSwitch: () => false }, row!);
      const tradesOf = async () => (await database.select().from(db.trades).where(eq(db.trades.botId, botId))).length;
      // RSI(2) on this market enters within a few bars; held, it does not.
      for (let i = 0; i < 60; i++) {
        await runner.tick();
        market.now += 3_600_000;
      }
      expect(await tradesOf()).toBe(0);
      expect(await ask(trader.chat, `/startentry ${n}`)).toEqual([`▶️ Novas entradas liberadas: ${n} entradas.`]);
      for (let i = 0; i < 60 && (await tradesOf()) === 0; i++) {
        await runner.tick();
        market.now += 3_600_000;
      }
      expect(await tradesOf()).toBeGreaterThan(0);
      await database.update(db.bots).set({ status: 'stopped' }).where(eq(db.bots.id, botId));
    });

    it("/notifications sets a kind by words and everything by button, stored as the person's preferences", async () => {
      const { chat, userId } = traders['pt-BR'];
      const [shown] = await ask(chat, '/notifications operacoes silencioso');
      expect(shown).toMatch(/operações abertas e fechadas \(operacoes\): sem som/);
      const prefs = await database.select().from(db.notificationPreferences).where(eq(db.notificationPreferences.userId, userId));
      expect(Object.fromEntries(prefs.map((p) => [p.type, p.level]))).toMatchObject({ trade_opened: 'silent', trade_closed: 'silent' });
      const card = chat.all().at(-1)!;
      await chat.press('nt:*:off', card.messageId);
      await settle();
      expect(chat.all().find((m) => m.messageId === card.messageId)!.plain).toBe('✅ Todas as suas notificações agora: desligado.');
      const after = await database.select().from(db.notificationPreferences).where(eq(db.notificationPreferences.userId, userId));
      expect(new Set(after.map((p) => p.level))).toEqual(new Set(['off']));
      expect(await ask(chat, '/notifications everything loud')).toEqual([
        'Uso: /notifications — ou /notifications TIPO ligado|silencioso|desligado (TIPO: operacoes, stops, pausas, riscos, pagamentos, todos)',
      ]);
      await ask(chat, '/notifications todos on');
    });

    it('/forceexit without arguments offers each open position as a button; pressing one sells it (here the exchange is down, said in a sentence)', async () => {
      const { chat } = traders.en;
      const [question] = await ask(chat, '/forceexit');
      expect(question).toMatch(/^⚠️ Which position to close now, with a market order\? \d+ positions? open\.$/);
      const card = chat.all().at(-1)!;
      const picks = card.buttons.filter((b) => b.callback_data.endsWith(':y'));
      expect(picks.length).toBeGreaterThan(0);
      expect(picks[0]!.text).toMatch(/^[A-Z0-9]+\/[A-Z0-9]+ · bot \d+ /);
      expect(card.buttons.at(-1)!.text).toBe('Cancel');
      await chat.press(picks[0]!.callback_data, card.messageId);
      await settle();
      const edited = chat.all().find((m) => m.messageId === card.messageId)!.plain;
      expect(edited).toContain('The exchange did not answer just now');
      expect(edited).not.toMatch(TECHNICAL);
    });
  });

  describe('the message language as the first guess', () => {
    it('answers in the language a person writes in until they choose one with /language; then their choice holds', async () => {
      const [someone] = await queryRows<{ user_id: string; email: string }>(
        database,
        sql`select u.id as user_id, u.email from users u join tenants t on t.id = u.tenant_id and t.kind = 'trader'
            where u.id not in (${traders['pt-BR'].userId}, ${traders.en.userId})
              and not exists (select 1 from telegram_links l where l.user_id = u.id and l.unlinked_at is null)
            order by u.email desc limit 1`,
      );
      const chat = await linkTrader(someone!.email, someone!.user_id, 'pt-BR');
      const stored = async () =>
        (
          await database
            .select({ locale: db.users.locale, chosen: db.users.localeChosenAt })
            .from(db.users)
            .where(eq(db.users.id, someone!.user_id))
        )[0]!;
      expect((await stored()).chosen).toBeNull();
      // Written in English: answered in English, and that becomes the setting (commands and notices follow).
      expect((await ask(chat, 'how much did I make this week?')).join('\n')).toMatch(/^💰 Profit — last 7 days/);
      expect(await stored()).toEqual({ locale: 'en', chosen: null });
      expect((await ask(chat, '/bots')).join('\n')).toMatch(/^(🤖 Your bots|You have no bots yet\.)/);
      const menus = emulator.requests.filter((r) => r.method === 'setMyCommands').map((r) => r.body as Record<string, unknown>);
      const own = menus.filter((m) => JSON.stringify(m.scope).includes(String(chat.chatId))).at(-1)!;
      expect(JSON.stringify(own.commands)).toContain('open positions');
      // Back in Portuguese: a guess, not a choice, so it follows.
      expect((await ask(chat, 'quanto lucrei hoje?')).join('\n')).toMatch(/^💰 Resultado — último dia/);
      // Chosen: the message's words no longer change it.
      expect(await ask(chat, '/language en')).toEqual(['✅ Done: I will talk to you in English. Send /help for the commands.']);
      expect((await stored()).chosen).not.toBeNull();
      expect((await ask(chat, 'quanto lucrei hoje?')).join('\n')).toMatch(/^💰 Profit — last day/);
      expect((await ask(chat, 'oi')).join('\n')).toMatch(/^Hi \S+! 👋/);
      expect((await stored()).locale).toBe('en');
    });
  });
});
