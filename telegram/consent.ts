import { z } from 'zod';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { t } from './texts.ts';
import { callTool, failureSentence, type UpdateContext } from './update-context.ts';

// The terms of use on Telegram (issue 18): a trader who links (or presses Start) and has not
// agreed to the terms as published now is asked first, with Agree and Read buttons, before
// their commands; Read sends the text itself. The answer is recorded through record_consent
// (source telegram), as the API records it; consent_status says whether it is still needed.

type ConsentStatus = { termsRequired: boolean; texts: { kind: string; slug: string; title: string; version: string }[] };

/** `cs:y` (agree) or `cs:r` (read the text). */
export const consentData = z
  .string()
  .regex(/^cs:[yr]$/)
  .transform((data) => ({ action: data.endsWith('y') ? ('agree' as const) : ('read' as const) }));

const keyboard = (locale: UpdateContext['locale'], withRead: boolean): InlineKeyboard => ({
  inline_keyboard: [
    [
      { text: t(locale, '✅ Concordo', '✅ I agree'), callback_data: 'cs:y' },
      ...(withRead ? [{ text: t(locale, '📄 Ler os termos', '📄 Read the terms'), callback_data: 'cs:r' }] : []),
    ],
  ],
});

/** The terms as published now, when the person still has to agree to them. */
async function termsAwaiting(ctx: UpdateContext): Promise<ConsentStatus['texts'][number] | undefined> {
  const status = await callTool<ConsentStatus>(ctx, 'consent_status', {});
  if (!status.ok) {
    // Not asking is the safe failure here: the person keeps using the product as before.
    ctx.logger?.warn({ reason: status.message }, 'Telegram: consent_status failed; terms not asked now');
    return undefined;
  }
  return status.result.termsRequired ? status.result.texts.find((text) => text.kind === 'terms') : undefined;
}

/**
 * Asks a trader to agree to the terms when they have not agreed to the version published now;
 * true when asked (the caller then holds the rest: the help and the keyboard come after Agree).
 */
export async function askTerms(ctx: UpdateContext): Promise<boolean> {
  if (ctx.person.actor.kind !== 'trader') return false;
  const terms = await termsAwaiting(ctx);
  if (!terms) return false;
  const { locale } = ctx;
  await ctx.reply(
    t(
      locale,
      `📄 Antes de começar: você concorda com os **${md(terms.title)}** (versão ${md(terms.version)})? Eles dizem como a BotCriptoFy opera seus robôs, o que cobramos e o que cabe a você. Toque em Ler para ver o texto.`,
      `📄 Before we start: do you agree to the **terms of use** (version ${md(terms.version)})? They say how BotCriptoFy runs your bots, what we charge and what is up to you. Press Read to see the text.`,
    ),
    keyboard(locale, true),
  );
  return true;
}

/** A press on Read: the text of the terms, then the Agree button again. */
export async function sendTerms(ctx: UpdateContext): Promise<void> {
  const { locale } = ctx;
  const terms = await termsAwaiting(ctx);
  const slug = terms?.slug ?? 'termos-de-uso';
  const call = await callTool<{ title: string; version: string; body: string }>(ctx, 'consent_document', { slug });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  // The company publishes its terms in Portuguese only: an English reader is told before the text.
  const note = locale === 'en' ? '_The terms are published in Portuguese; this is the text you agree to._\n\n' : '';
  await ctx.reply(`${note}**${md(call.result.title)}** (${md(call.result.version)})\n\n${call.result.body}`);
  if (terms) await ctx.reply(t(locale, 'Você concorda com estes termos?', 'Do you agree to these terms?'), keyboard(locale, false));
}

/** A press on Agree: the answer recorded for the version published now; the text that replaces the question. */
export async function agreeToTerms(ctx: UpdateContext): Promise<{ text: string; agreed: boolean }> {
  const { locale } = ctx;
  const call = await callTool<{ version: string }>(ctx, 'record_consent', { kind: 'terms', granted: true, source: 'telegram' });
  if (!call.ok) return { text: `⚠️ ${md(failureSentence(ctx, call))}`, agreed: false };
  return {
    text: t(
      locale,
      `✅ Obrigado: você concordou com os termos de uso (versão ${md(call.result.version)}).`,
      `✅ Thank you: you agreed to the terms of use (version ${md(call.result.version)}).`,
    ),
    agreed: true,
  };
}
