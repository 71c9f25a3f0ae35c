import { z } from 'zod';
import { formatDateTime, statusWord, type Locale } from '../i18n/index.ts';
import { escapeMarkdown as md } from './markdown.ts';
import { t } from './texts.ts';
import { callTool, failureSentence, type UpdateContext } from './update-context.ts';

// /history N (issue 22, item 6): a bot's own history as the audit log recorded it — the words
// it was drafted from, its backtests, its starts, stops and exits — who did each (the trader,
// an agent, staff) and how it went. Through the trader's own tool (bot_history), so another
// trader's bot is "not in your account".

const args = z.tuple([z.string().regex(/^(\d{1,3}|[0-9a-f-]{4,36})$/i)], z.string().regex(/^\d{1,2}$/));

const TOOL_WORDS: Record<string, [string, string]> = {
  draft_bot_from_text: ['rascunho criado das palavras', 'draft made from the words'],
  change_bot_draft: ['rascunho alterado', 'draft changed'],
  backtest_draft: ['backtest do rascunho', "draft's backtest"],
  start_draft_on_paper: ['iniciado no simulado (confirmado com o botão)', 'started on paper (confirmed by the button)'],
  start_bot: ['ligado', 'started'],
  stop_bot: ['parado', 'stopped'],
  force_exit: ['saída forçada', 'forced exit'],
  stop_entries: ['entradas pausadas ou retomadas', 'entries paused or resumed'],
  apply_bot_improvement: [
    'parâmetros trocados pela revisão walk-forward (confirmado com o botão)',
    'parameters changed by the walk-forward review (confirmed by the button)',
  ],
  rollback_bot_version: ['parâmetros voltados a uma versão anterior', 'parameters rolled back to an earlier version'],
};
const OUTCOMES: Record<string, [string, string]> = {
  ok: ['✓', '✓'],
  denied: ['recusado', 'refused'],
  error: ['falhou', 'failed'],
  pending_approval: ['aguardando aprovação', 'awaiting approval'],
};

type History = {
  bot: { id: string; name: string; mode: string; status: string };
  draft: { description: string; createdAt: string } | null;
  entries: { at: string; actorKind: string; actorName: string | null; agent: string | null; tool: string; outcome: string }[];
};

function who(entry: History['entries'][number], l: Locale): string {
  if (entry.actorName) return entry.agent ? `${entry.actorName} (${t(l, 'assistente', 'assistant')})` : entry.actorName;
  if (entry.actorKind === 'agent') return t(l, `agente ${entry.agent ?? ''}`.trim(), `agent ${entry.agent ?? ''}`.trim());
  if (entry.actorKind === 'system') return t(l, 'sistema', 'system');
  return entry.actorKind;
}

export async function historyCommand(ctx: UpdateContext, words: readonly string[]): Promise<void> {
  const l = ctx.locale;
  const parsed = args.safeParse(words);
  if (!parsed.success)
    return void (await ctx.reply(
      t(l, 'Uso: /history N [quantos] — N é o número do robô em /bots.', 'Usage: /history N [how many] — N is the bot number in /bots.'),
    ));
  const [ref, many] = parsed.data;
  const overview = await callTool<{ bots: { id: string; name: string }[] }>(ctx, 'bots_overview', {});
  if (!overview.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, overview))}`));
  const list = overview.result.bots;
  const index = /^\d{1,3}$/.test(ref)
    ? Number(ref) - 1
    : list.findIndex((b) => b.id.replace(/-/g, '').startsWith(ref.replace(/-/g, '').toLowerCase()));
  const bot = list[index];
  if (!bot)
    return void (await ctx.reply(
      t(l, `Nenhum robô seu corresponde a "${md(ref)}". Veja /bots.`, `None of your bots matches "${md(ref)}". See /bots.`),
    ));
  const call = await callTool<History>(ctx, 'bot_history', { botId: bot.id, limit: many ? Math.min(50, Number(many)) : 10 });
  if (!call.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, call))}`));
  const h = call.result;
  const mode = h.bot.mode === 'live' ? t(l, 'ao vivo', 'live') : t(l, 'simulado', 'paper');
  const lines = [`📜 **${t(l, 'Histórico', 'History')}: ${index + 1} ${md(h.bot.name)}** (${mode}, ${md(statusWord(h.bot.status, l))})`];
  if (h.draft)
    lines.push(
      t(
        l,
        `Criado pelo assistente a partir de: “${md(h.draft.description)}” (${formatDateTime(h.draft.createdAt, l, true)})`,
        `Made by the assistant from: “${md(h.draft.description)}” (${formatDateTime(h.draft.createdAt, l, true)})`,
      ),
    );
  if (h.entries.length === 0) lines.push(t(l, 'Nada registrado ainda.', 'Nothing recorded yet.'));
  for (const entry of h.entries) {
    const what = TOOL_WORDS[entry.tool]?.[l === 'en' ? 1 : 0] ?? entry.tool;
    const outcome = OUTCOMES[entry.outcome]?.[l === 'en' ? 1 : 0] ?? entry.outcome;
    lines.push(`• ${formatDateTime(entry.at, l, true)} — ${md(who(entry, l))}: ${md(what)} ${md(outcome)}`);
  }
  await ctx.reply(lines.join('\n'));
}
