import { z } from 'zod';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineButton } from './send.ts';
import { t } from './texts.ts';
import { callTool, failureSentence, type UpdateContext } from './update-context.ts';

// "Manage subscription" under /plan: a Stripe customer portal link (card, invoices, plan,
// cancellation) made for the trader when pressed, through billing_portal_link. Where billing
// has no Stripe (local mode) or Stripe does not answer, the trader reads how to reach Support
// instead — never the technical reason.

/** `bp`: the trader's "manage subscription" press. */
export const portalData = z.literal('bp');

export const portalButton = (locale: UpdateContext['locale']): InlineButton => ({
  text: t(locale, '💳 Gerenciar assinatura', '💳 Manage subscription'),
  callback_data: 'bp',
});

/** Answers a "manage subscription" press: the portal link as a button, or how to reach Support. */
export async function portalReply(ctx: UpdateContext, returnUrl: string): Promise<void> {
  const { locale } = ctx;
  const call = await callTool<{ url: string }>(ctx, 'billing_portal_link', { returnUrl });
  if (call.ok) {
    await ctx.reply(
      t(
        locale,
        '💳 Seu portal de assinatura: cartão, faturas, troca de plano e cancelamento. O link é só seu e vale por pouco tempo.',
        '💳 Your subscription portal: card, invoices, plan changes and cancellation. The link is yours alone and expires soon.',
      ),
      { inline_keyboard: [[{ text: t(locale, 'Abrir o portal', 'Open the portal'), url: call.result.url }]] },
    );
    return;
  }
  if (call.error === 'unavailable') {
    ctx.logger?.info({ tool: call.tool, reason: call.message }, 'Telegram: billing portal unavailable; the trader was pointed to Support');
    await ctx.reply(
      t(
        locale,
        'A gestão da assinatura pela internet não está disponível agora. Para trocar de plano, atualizar o cartão ou cancelar, escreva aqui começando com a palavra "chamado" e o suporte resolve com você nesta conversa.',
        'Managing your subscription online is not available right now. To change plan, update your card or cancel, write here starting with the word "ticket" and Support will sort it out with you in this chat.',
      ),
    );
    return;
  }
  await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`);
}
