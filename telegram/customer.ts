import { z } from 'zod';
import { runTurn } from '../agents/index.ts';
import { foldText, statusWord } from '../i18n/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import { updateTiming } from './send.ts';
import type { AgentTurnDeps } from './staff.ts';
import { traderHelp, t } from './texts.ts';
import { balanceCommand, botsCommand, planCommand, profitCommand, statusCommand } from './trader.ts';
import { callTool, failureSentence, type UpdateContext } from './update-context.ts';

// A trader writing free text is a customer: greetings, thanks, help and questions about their
// own bots, profit, wallet and plan get a customer's answer through their own tools (the same
// as the commands), in their language setting; "I want to cancel my subscription" gets their
// plan and how to cancel, with a button that asks for it. The rest goes to the Support agent,
// and when the model is offline and understood nothing, a customer fallback replaces the staff
// one (never "Try: MRR, failed payments…").

type Intent = 'ticket' | 'cancel' | 'plan' | 'bots' | 'profit' | 'balance' | 'positions' | 'help' | 'thanks' | 'greeting';

const TICKET = /\b(chamado|ticket|atendente|falar com (um |uma )?(humano|pessoa|atendente)|talk to (a )?(human|person)|support agent)\b/;

const CANCEL = /\b(cancel\w*|desassin\w*|unsubscrib\w*|encerrar (a |minha )?(conta|assinatura))\b/;
const PLAN = /\b(plano|planos|plan|plans|assinatura|subscription|mensalidade|upgrade|downgrade|renova\w*|renew\w*)\b/;
const BOTS = /\b(robos?|bots?|meus robos|my bots)\b/;
const PROFIT = /\b(lucro|lucrei|ganhei|ganho|resultado|rendeu|rendimento|profit|made|earn\w*|pnl|p&l)\b/;
const HOW_MUCH = /\b(how much\b.*\b(make|made|earn\w*|win|won|gain\w*)|quanto\b.*\b(ganhei|lucrei|rendeu|fiz|perdi))\b/;
const BALANCE = /\b(saldo|carteira|balance|wallet)\b/;
const POSITIONS = /\b(posicao|posicoes|posicoes abertas|open positions?|positions?|status)\b/;
const HELP = /^(ajuda|help|comandos|commands|menu|o que (voce )?(faz|pode fazer)|what can you do)\b/;
const THANKS = /\b(obrigad\w*|brigad\w*|valeu|vlw|thanks|thank you|thx|agradec\w*)\b/;
const GREETING = /^(oi+|ola|ol[aá]+|opa|e ai|eai|bom dia|boa tarde|boa noite|hey|hi|hello|good (morning|afternoon|evening)|hiya)\b/;

/** What a trader's free text asks, when it is one of the customer's own questions. */
export function customerIntent(text: string): Intent | undefined {
  const folded = foldText(text)
    .replace(/[!?.,;:]+/g, ' ')
    .trim();
  const words = folded.split(/\s+/).filter(Boolean).length;
  if (TICKET.test(folded)) return 'ticket';
  if (CANCEL.test(folded) && (PLAN.test(folded) || /\bcancel\w*\b/.test(folded))) return 'cancel';
  if (PLAN.test(folded)) return 'plan';
  if (PROFIT.test(folded) || HOW_MUCH.test(folded)) return 'profit';
  if (BALANCE.test(folded)) return 'balance';
  if (BOTS.test(folded)) return 'bots';
  if (POSITIONS.test(folded) && words <= 6) return 'positions';
  if (HELP.test(folded)) return 'help';
  if (THANKS.test(folded) && words <= 8) return 'thanks';
  if (GREETING.test(folded) && words <= 5) return 'greeting';
  return undefined;
}

/** The window a profit question names (today, this week, this month, this year); the same default as /profit otherwise. */
function profitDays(text: string): number | undefined {
  const folded = foldText(text);
  if (/\b(hoje|today)\b/.test(folded)) return 1;
  if (/\b(semana|week)\b/.test(folded)) return 7;
  if (/\b(mes|month)\b/.test(folded)) return 30;
  if (/\b(ano|year)\b/.test(folded)) return 365;
  return undefined;
}

/** Answers a trader's free text as a customer; false when it is none of their own questions (then the Support agent answers). */
export async function customerReply(ctx: UpdateContext, text: string): Promise<boolean> {
  const intent = customerIntent(text);
  if (!intent) return false;
  const { locale } = ctx;
  const first = ctx.person.actor.name.split(/\s+/)[0] ?? '';
  switch (intent) {
    case 'ticket':
      await openTicket(ctx, text);
      return true;
    case 'cancel':
      await cancelAnswer(ctx);
      return true;
    case 'plan':
      await planCommand(ctx);
      return true;
    case 'profit': {
      const days = profitDays(text);
      await profitCommand(ctx, days === undefined ? [] : [String(days)]);
      return true;
    }
    case 'balance':
      await balanceCommand(ctx);
      return true;
    case 'bots':
      await botsCommand(ctx);
      return true;
    case 'positions':
      await statusCommand(ctx);
      return true;
    case 'help':
      await ctx.reply(traderHelp(locale));
      return true;
    case 'thanks':
      await ctx.reply(
        t(locale, 'Por nada! Se precisar de algo, é só escrever aqui. 🙂', "You're welcome! If you need anything, just write here. 🙂"),
      );
      return true;
    case 'greeting':
      await ctx.reply(
        t(
          locale,
          `Olá, ${md(first)}! 👋 Posso mostrar seus robôs (/bots), o resultado (/profit), a carteira (/balance) e seu plano (/plan). É só pedir, ou escrever sua dúvida.`,
          `Hi ${md(first)}! 👋 I can show your bots (/bots), your profit (/profit), your wallet (/balance) and your plan (/plan). Just ask, or write your question.`,
        ),
      );
      return true;
  }
}

/** "chamado: …": the trader's words become a support ticket, answered here by Support (/tickets). */
async function openTicket(ctx: UpdateContext, text: string): Promise<void> {
  const { locale } = ctx;
  const body = text.trim();
  const subject = body
    .replace(/^\s*(chamado|ticket)\s*[:\-–]?\s*/i, '')
    .replace(/\s+/g, ' ')
    .slice(0, 80);
  const call = await callTool<{ ticketId: string }>(ctx, 'open_ticket', {
    subject: subject.length >= 3 ? subject : t(locale, 'Pedido pelo Telegram', 'Asked on Telegram'),
    message: body,
  });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  await ctx.reply(
    t(
      locale,
      `📨 Chamado #${call.result.ticketId.slice(0, 8)} aberto com sua mensagem. O suporte responde aqui mesmo.`,
      `📨 Ticket #${call.result.ticketId.slice(0, 8)} opened with your message. Support answers right here.`,
    ),
  );
}

/** Adds the trader's message to their ticket that waits for them (answered by Support); false when none waits. */
async function replyToTicket(ctx: UpdateContext, text: string): Promise<boolean> {
  const { locale } = ctx;
  const open = await callTool<{ tickets: { id: string; subject: string; status: string }[] }>(ctx, 'open_tickets', { limit: 50 });
  const waiting = open.ok ? open.result.tickets.find((tk) => tk.status === 'pending') : undefined;
  if (!waiting) return false;
  const call = await callTool<{ ticketId: string }>(ctx, 'answer_ticket', { ticketId: waiting.id, message: text.trim().slice(0, 4000) });
  if (!call.ok) {
    await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`);
    return true;
  }
  await ctx.reply(
    t(
      locale,
      `📨 Adicionei sua mensagem ao chamado #${waiting.id.slice(0, 8)} ("${md(waiting.subject)}"); o suporte responde aqui.`,
      `📨 I added your message to ticket #${waiting.id.slice(0, 8)} ("${md(waiting.subject)}"); Support answers here.`,
    ),
  );
  return true;
}

type Subscription = { plan: string; status: string | null; renewsAt: string | null; cancelAtPeriodEnd: boolean };

/** "I want to cancel my subscription": the trader's own plan and how to cancel it, with a button that asks for it. */
async function cancelAnswer(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<Subscription>(ctx, 'subscription_status', {});
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  const s = call.result;
  const plans = await callTool<{ plans: { id: string; name: string }[] }>(ctx, 'list_plans', {});
  const name = (plans.ok ? plans.result.plans.find((p) => p.id === s.plan)?.name : undefined) ?? s.plan;
  const until = s.renewsAt ? s.renewsAt.slice(0, 10) : undefined;
  if (s.status === null || s.plan === 'free')
    return void (await ctx.reply(
      t(
        locale,
        `Você está no plano ${md(name)}, sem assinatura paga: não há nada para cancelar nem cobrança futura. Veja /plan.`,
        `You are on the ${md(name)} plan, with no paid subscription: there is nothing to cancel and nothing will be charged. See /plan.`,
      ),
    ));
  if (s.cancelAtPeriodEnd)
    return void (await ctx.reply(
      t(
        locale,
        `Sua assinatura do ${md(name)} já está cancelada: ela termina em ${until ?? '–'} e não será renovada.`,
        `Your ${md(name)} subscription is already cancelled: it ends on ${until ?? '–'} and will not renew.`,
      ),
    ));
  await ctx.reply(
    [
      t(
        locale,
        `📦 Sua assinatura: **${md(name)}** (${md(statusWord(s.status, locale))}${until ? `, renova em ${until}` : ''}).`,
        `📦 Your subscription: **${md(name)}** (${md(statusWord(s.status, locale))}${until ? `, renews on ${until}` : ''}).`,
      ),
      t(
        locale,
        `Como cancelar: o cancelamento vale no fim do período já pago${until ? ` (você continua no ${md(name)} até ${until})` : ''}, sem multa, e depois a conta passa para o plano Free. Toque no botão para pedir; o suporte confirma aqui.`,
        `How to cancel: it takes effect at the end of the period already paid${until ? ` (you keep ${md(name)} until ${until})` : ''}, with no fee, and the account then moves to the Free plan. Press the button to ask for it; Support confirms here.`,
      ),
    ].join('\n'),
    {
      inline_keyboard: [
        [
          { text: t(locale, 'Pedir o cancelamento', 'Ask to cancel'), callback_data: cancelButton('y') },
          { text: t(locale, 'Manter meu plano', 'Keep my plan'), callback_data: cancelButton('n') },
        ],
      ],
    },
  );
}

const cancelButton = (answer: 'y' | 'n') => `cx:${answer}`;
/** `cx:y|n`: the trader asking (or not) to cancel their subscription. */
export const cancelData = z
  .string()
  .regex(/^cx:[yn]$/)
  .transform((data) => ({ confirmed: data.endsWith('y') }));

/** The text that replaces the cancellation question once the trader answered: a ticket for Support, or nothing. */
export async function cancelDecision(ctx: UpdateContext, choice: { confirmed: boolean }): Promise<string> {
  const { locale } = ctx;
  if (!choice.confirmed) return t(locale, 'Certo, seu plano continua como está.', 'All right, your plan stays as it is.');
  const call = await callTool<{ ticketId: string }>(ctx, 'open_ticket', {
    subject: t(locale, 'Cancelar assinatura', 'Cancel subscription'),
    message: t(
      locale,
      'Pedido pelo Telegram: cancelar a assinatura no fim do período já pago.',
      'Asked on Telegram: cancel the subscription at the end of the period already paid.',
    ),
    priority: 'high',
  });
  if (!call.ok) return `⚠️ ${md(failureSentence(ctx, call))}`;
  return t(
    locale,
    `✅ Pedido de cancelamento registrado (chamado #${call.result.ticketId.slice(0, 8)}). O suporte confirma aqui; até lá nada muda no seu plano.`,
    `✅ Cancellation request recorded (ticket #${call.result.ticketId.slice(0, 8)}). Support confirms here; until then nothing changes in your plan.`,
  );
}

/**
 * A trader's question the Support agent answers; when the model is offline and the router
 * understood nothing (no tool called), a customer's fallback instead of the staff examples.
 */
export async function customerTurn(ctx: UpdateContext, deps: AgentTurnDeps, text: string): Promise<void> {
  const { locale } = ctx;
  // Support answered a ticket of theirs and waits for them: what they write next is their reply.
  if (await replyToTicket(ctx, text)) return;
  const turn = await ctx.typing(() =>
    runTurn(deps.agents, { agent: 'support', message: text, ctx: ctx.tools, channel: 'telegram', locale }),
  );
  const timing = updateTiming.getStore();
  if (timing) timing.modelMs += turn.modelMs;
  if (turn.mode === 'offline' && turn.toolCalls.length === 0) {
    await ctx.reply(
      t(
        locale,
        'Não consegui entender sua mensagem agora. Posso mostrar seus robôs (/bots), o resultado (/profit), a carteira (/balance) e seu plano (/plan); envie /help para todos os comandos. Se for um problema, descreva o que aconteceu com a palavra "chamado" que o suporte responde aqui.',
        'I could not understand your message just now. I can show your bots (/bots), your profit (/profit), your wallet (/balance) and your plan (/plan); send /help for every command. If something is wrong, describe it with the word "ticket" and Support answers here.',
      ),
    );
    return;
  }
  // The agents' "(model offline: …)" line is for staff; a customer reads the answer alone.
  await ctx.reply(turn.mode === 'offline' ? turn.answer.replace(/^\([^)\n]*\)\s*/, '') : turn.answer);
  const pending = turn.outcomes.flatMap((o) => ('pendingApproval' in o ? [o.pendingApproval.id] : []));
  if (pending.length > 0) await deps.onPendingApprovals(pending);
}
