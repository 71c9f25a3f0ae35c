import { z } from 'zod';
import { formatDateTime, statusWord, type Locale } from '../i18n/index.ts';
import { mayCall } from '../tools/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { t } from './texts.ts';
import { callTool, failureSentence, type UpdateContext } from './update-context.ts';

// Support staff finish their tickets in the chat: /tickets lists the open ones with short ids
// and an Answer and Escalate button each; Answer asks for the text and the next message goes
// to the customer (answer_ticket: their Telegram when linked, the ticket always), with a
// confirmation of what they received; /answer ID text and /escalate ID reason do the same in
// one line. Everything through the tool layer, as the staff member.

type Ticket = {
  id: string;
  subject: string;
  status: string;
  priority: string;
  slaDueAt: string;
  overdue: boolean;
  customer: { name: string; email: string } | null;
  lastMessage: string | null;
};
type Answered = {
  ticketId: string;
  status: string;
  customer: { name: string; email: string } | null;
  deliveredTo: 'telegram' | 'ticket';
};

export const shortTicketId = (id: string) => id.slice(0, 8);
const hex = (id: string) => id.replace(/-/g, '');
const uuidFromHex = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;

/** `tk:a|e|c:<ticket id without dashes>`: answer, escalate or close one ticket. */
export const ticketButton = z
  .string()
  .max(64)
  .regex(/^tk:[aec]:[0-9a-f]{32}$/)
  .transform((data) => {
    const [, action, id] = data.split(':') as [string, 'a' | 'e' | 'c', string];
    const actions = { a: 'answer', e: 'escalate', c: 'close' } as const;
    return { action: actions[action], ticketId: uuidFromHex(id) };
  });

/** `/answer ID text` and `/escalate ID reason`: a short id (or the whole one) and at least a few characters. */
const ticketLine = z.object({
  ref: z.string().regex(/^#?[0-9a-f][0-9a-f-]{3,35}$/i),
  text: z.string().trim().min(1).max(4000),
});

/** Whether this person works tickets (Support, the CEO, admins: the open_tickets tool's policy). */
export const worksTickets = (ctx: UpdateContext) => mayCall(ctx.person.actor, 'open_tickets').allowed;

const notForYou = (locale: Locale) =>
  t(locale, 'Tickets são do Suporte. Envie /help para ver seus comandos.', 'Tickets are for Support. Send /help to see your commands.');

export async function ticketsCommand(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  if (!worksTickets(ctx)) return void (await ctx.reply(notForYou(locale)));
  const call = await callTool<{ total: number; overdue: number; tickets: Ticket[] }>(ctx, 'open_tickets', { limit: 10 });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  const { total, overdue, tickets } = call.result;
  if (tickets.length === 0) return void (await ctx.reply(t(locale, '🎫 Nenhum ticket aberto.', '🎫 No open tickets.')));
  const lines = tickets.map((tk, i) => {
    const who = tk.customer ? ` — ${md(tk.customer.name)} <${md(tk.customer.email)}>` : '';
    const sla = `SLA ${formatDateTime(tk.slaDueAt, locale, true)}${tk.overdue ? t(locale, ' ⚠️ atrasado', ' ⚠️ overdue') : ''}`;
    const said = tk.lastMessage ? `\n   “${md(tk.lastMessage.replace(/\s+/g, ' ').slice(0, 160))}”` : '';
    return `${i + 1}. \`#${shortTicketId(tk.id)}\` **${md(tk.subject)}**${who}\n   ${t(locale, 'prioridade', 'priority')} ${md(statusWord(tk.priority, locale))} · ${md(statusWord(tk.status, locale))} · ${sla}${said}`;
  });
  const keyboard: InlineKeyboard = {
    inline_keyboard: tickets.map((tk) => [
      { text: t(locale, `✍️ Responder #${shortTicketId(tk.id)}`, `✍️ Answer #${shortTicketId(tk.id)}`), callback_data: `tk:a:${hex(tk.id)}` },
      { text: t(locale, '⬆️ Escalar', '⬆️ Escalate'), callback_data: `tk:e:${hex(tk.id)}` },
      { text: t(locale, '✔️ Fechar', '✔️ Close'), callback_data: `tk:c:${hex(tk.id)}` },
    ]),
  };
  await ctx.reply(
    [
      t(locale, `🎫 **Tickets abertos** (${total}, ${overdue} fora do SLA)`, `🎫 **Open tickets** (${total}, ${overdue} past SLA)`),
      ...lines,
      '',
      t(
        locale,
        'Toque em Responder e escreva a resposta, ou envie /answer ID texto.',
        'Press Answer and write the reply, or send /answer ID text.',
      ),
    ].join('\n'),
    keyboard,
  );
}

/** The open ticket a short id (or whole id) names; replies and returns undefined when none or several match. */
export async function findTicket(ctx: UpdateContext, ref: string): Promise<Ticket | undefined> {
  const { locale } = ctx;
  const needle = hex(ref.replace(/^#/, '').toLowerCase());
  const call = await callTool<{ tickets: Ticket[] }>(ctx, 'open_tickets', { idPrefix: needle, limit: 2 });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  const matches = call.result.tickets;
  if (matches.length === 1) return matches[0];
  await ctx.reply(
    matches.length === 0
      ? t(
          locale,
          `Nenhum ticket aberto com o id #${md(ref.replace(/^#/, ''))}. Veja /tickets.`,
          `No open ticket with the id #${md(ref.replace(/^#/, ''))}. See /tickets.`,
        )
      : t(
          locale,
          'Mais de um ticket começa assim; use mais caracteres do id.',
          'More than one ticket starts like that; use more of the id.',
        ),
  );
  return undefined;
}

/** Answers a ticket and says, in words, what the customer received. */
export async function answerTicket(ctx: UpdateContext, ticket: Pick<Ticket, 'id' | 'subject'>, text: string): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<Answered>(ctx, 'answer_ticket', { ticketId: ticket.id, message: text });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  const r = call.result;
  const id = `#${shortTicketId(r.ticketId)}`;
  const who = r.customer ? `${md(r.customer.name)} (${md(r.customer.email)})` : t(locale, 'o cliente', 'the customer');
  const state = t(
    locale,
    `Status do ticket: ${md(statusWord(r.status, locale))} (aguardando o cliente).`,
    `Ticket status: ${md(statusWord(r.status, locale))} (waiting for the customer).`,
  );
  await ctx.reply(
    r.deliveredTo === 'telegram'
      ? t(
          locale,
          `✅ ${who} recebeu sua resposta no Telegram; ela também ficou registrada no ticket ${id} (${md(ticket.subject)}). ${state}`,
          `✅ ${who} got your answer on Telegram; it is also recorded on ticket ${id} (${md(ticket.subject)}). ${state}`,
        )
      : t(
          locale,
          `✅ Resposta registrada no ticket ${id} (${md(ticket.subject)}). ${who} não conectou o Telegram, então ela fica no histórico do chamado. ${state}`,
          `✅ Answer recorded on ticket ${id} (${md(ticket.subject)}). ${who} has not linked Telegram, so it stays in the ticket's history. ${state}`,
        ),
  );
}

export async function escalateTicket(ctx: UpdateContext, ticket: Pick<Ticket, 'id' | 'subject'>, reason: string): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ ticketId: string; status: string; priority: string }>(ctx, 'escalate_ticket', {
    ticketId: ticket.id,
    reason,
  });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  await ctx.reply(
    t(
      locale,
      `⬆️ Ticket #${shortTicketId(ticket.id)} (${md(ticket.subject)}) escalado para o responsável do Suporte, prioridade ${md(statusWord(call.result.priority, locale))}.`,
      `⬆️ Ticket #${shortTicketId(ticket.id)} (${md(ticket.subject)}) escalated to the Support head, priority ${md(statusWord(call.result.priority, locale))}.`,
    ),
  );
}

/** Closes a ticket as resolved, with a note kept on it. */
export async function closeTicket(ctx: UpdateContext, ticket: Pick<Ticket, 'id' | 'subject'>, note: string): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ ticketId: string; status: string }>(ctx, 'close_ticket', { ticketId: ticket.id, note });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  await ctx.reply(
    t(
      locale,
      `✔️ Ticket #${shortTicketId(ticket.id)} (${md(ticket.subject)}) fechado: ${md(statusWord(call.result.status, locale))}.`,
      `✔️ Ticket #${shortTicketId(ticket.id)} (${md(ticket.subject)}) closed: ${md(statusWord(call.result.status, locale))}.`,
    ),
  );
}

/** `/answer ID text`, `/escalate ID reason` or `/close ID note`. */
export async function ticketLineCommand(ctx: UpdateContext, command: 'answer' | 'escalate' | 'close', rest: string): Promise<void> {
  const { locale } = ctx;
  if (!worksTickets(ctx)) return void (await ctx.reply(notForYou(locale)));
  const [, ref = '', text = ''] = /^\s*(\S+)\s*([\s\S]*)$/.exec(rest) ?? [];
  const parsed = ticketLine.safeParse({ ref, text });
  if (!parsed.success || (command !== 'answer' && parsed.data.text.length < 3)) {
    const usages = {
      answer: [
        'Uso: /answer ID resposta — o id de /tickets, ex.: /answer 1a2b3c4d Olá! …',
        'Usage: /answer ID reply — the id from /tickets, e.g. /answer 1a2b3c4d Hi! …',
      ],
      escalate: [
        'Uso: /escalate ID motivo — ex.: /escalate 1a2b3c4d cliente sem acesso há 2 dias',
        'Usage: /escalate ID reason — e.g. /escalate 1a2b3c4d customer locked out for 2 days',
      ],
      close: [
        'Uso: /close ID nota — ex.: /close 1a2b3c4d resolvido por telefone',
        'Usage: /close ID note — e.g. /close 1a2b3c4d solved by phone',
      ],
    } as const;
    const [pt, en] = usages[command];
    return void (await ctx.reply(t(locale, pt, en)));
  }
  const ticket = await findTicket(ctx, parsed.data.ref);
  if (!ticket) return;
  if (command === 'answer') await answerTicket(ctx, ticket, parsed.data.text);
  else if (command === 'escalate') await escalateTicket(ctx, ticket, parsed.data.text);
  else await closeTicket(ctx, ticket, parsed.data.text);
}

/** The prompt after Answer is pressed: the next message is the reply. */
export function answerPrompt(locale: Locale, ticket: Pick<Ticket, 'id' | 'subject' | 'customer'>): string {
  const who = ticket.customer ? ` — ${md(ticket.customer.name)}` : '';
  return t(
    locale,
    `✍️ Escreva a resposta para o ticket #${shortTicketId(ticket.id)} (${md(ticket.subject)}${who}). Sua próxima mensagem vai para o cliente; /cancel para desistir.`,
    `✍️ Write the answer to ticket #${shortTicketId(ticket.id)} (${md(ticket.subject)}${who}). Your next message goes to the customer; /cancel to give up.`,
  );
}
