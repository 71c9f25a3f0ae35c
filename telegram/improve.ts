import crypto from 'node:crypto';
import { z } from 'zod';
import { assistantCall } from '../agents/index.ts';
import { formatDateTime, formatPct, type Locale } from '../i18n/index.ts';
import type { ToolOutcome } from '../tools/index.ts';
import type { PressContext } from './assistant.ts';
import { escapeMarkdown as md } from './markdown.ts';
import { t } from './texts.ts';
import { callTool, failureSentence, type UpdateContext } from './update-context.ts';

// "Melhore meu robô N" / "improve my bot N" / /improve N (issue 22, item 5): the walk-forward
// review of the trader's own bot as a card — each fold's in-sample and out-of-sample figures,
// the proposed parameters beside the current ones — with Apply / Discard when it proposes a
// change. Apply is the trader's confirmation: only that press writes the new bot version.

/** "melhore meu robô 2", "melhora o robô 2", "improve my bot 2", "improve bot 2". */
const IMPROVE_WORDS = /^\s*(?:melhor[ae]r?\s+(?:(?:o\s+)?meu|o)\s+rob[oô]|improve\s+(?:my\s+)?bot)\s+(\d{1,3})\s*[.!?]?\s*$/i;

/** The bot number a trader's words ask to improve, or null. */
export function improveWords(text: string): string | null {
  return IMPROVE_WORDS.exec(text)?.[1] ?? null;
}

const ACTIONS = { a: 'apply', d: 'discard', r: 'rollback' } as const;

/**
 * Apply / Discard on a proposal card, Roll back under an applied one: what a press would do is
 * kept here (by a short token) until pressed.
 */
export const improveButton = z
  .string()
  .regex(/^im:[adr]:[0-9a-f]{16}$/)
  .transform((data) => {
    const [, code, token] = data.split(':') as [keyof typeof ACTIONS, keyof typeof ACTIONS, string];
    return { action: ACTIONS[code], token };
  });
export type ImprovePress = z.infer<typeof improveButton>;

type Pending = { readonly userId: string; readonly botId: string } & (
  | { readonly kind: 'proposal'; readonly parameters: Record<string, number> }
  | { readonly kind: 'rollback'; readonly version: number }
);
const pending = new Map<string, Pending>();
const MAX_PENDING = 10_000;

/** Keeps what a press would do and returns its token. */
function remember(what: Pending): string {
  const token = crypto.randomBytes(8).toString('hex');
  pending.set(token, what);
  if (pending.size > MAX_PENDING) pending.delete(pending.keys().next().value!);
  return token;
}

type Figures = { totalReturnPct: number; trades: number };
type Review = {
  botId: string;
  name: string;
  symbol: string;
  timeframe: string;
  current: Record<string, number>;
  proposal: Record<string, number> | null;
  reasons: string[];
  chosenOutOfSampleReturnPct: number;
  currentOutOfSampleReturnPct: number;
  foldsBeaten: number;
  folds: {
    fold: number;
    outOfSample: { from: string; to: string };
    chosen: { inSample: Figures; outOfSample: Figures } | null;
    current: { inSample: Figures; outOfSample: Figures };
  }[];
};

const REASONS: Record<string, [string, string]> = {
  no_recent_winner: [
    'nenhum ajuste teve operações suficientes no período mais recente',
    'no setting had enough trades in the latest window',
  ],
  same_parameters: ['os parâmetros atuais já são os melhores', 'the current parameters are already the best'],
  too_few_trades: ['poucas operações fora da amostra para confiar', 'too few out-of-sample trades to trust'],
  lost_out_of_sample: ['os ajustes perderam dinheiro fora da amostra', 'the settings lost money out of sample'],
  not_better_overall: ['não superaram os atuais fora da amostra', 'they did not beat the current ones out of sample'],
  not_better_in_most_folds: ['não superaram os atuais na maioria das janelas', 'they did not beat the current ones in most windows'],
  low_efficiency: [
    'o resultado fora da amostra ficou muito abaixo do de dentro (sinal de sobreajuste)',
    'out of sample they kept too little of their in-sample result (a sign of overfitting)',
  ],
};

/** A running bot's note in Portuguese (the tool's own is English). */
const RUNNING_NOTE =
  'O robô está ligado: usa os novos parâmetros a partir do próximo ciclo (indicadores recalculados nos candles recentes); as posições abertas mantêm seus stops.';

const pct = (value: number, l: Locale) => formatPct(String(value), l, true);
const params = (p: Record<string, number>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** The review as a card: per fold, in- and out-of-sample returns of the proposal beside the current parameters. */
export function improveCardText(review: Review, botNumber: string, l: Locale): string {
  const lines = [
    `🔎 **${t(l, 'Revisão walk-forward', 'Walk-forward review')}: ${botNumber} ${md(review.name)}** (${md(review.symbol)} ${md(review.timeframe)})`,
    t(
      l,
      'Cada janela: otimizado nos meses anteriores (dentro da amostra), testado no mês seguinte (fora da amostra).',
      'Each window: optimised on the months before (in sample), tested on the months after (out of sample).',
    ),
  ];
  for (const fold of review.folds) {
    const chosen = fold.chosen;
    lines.push(
      `${fold.fold}. ${formatDateTime(fold.outOfSample.from, l, false)} → ${formatDateTime(fold.outOfSample.to, l, false)}: ` +
        (chosen
          ? `${t(l, 'proposto', 'proposed')} ${pct(chosen.inSample.totalReturnPct, l)} ${t(l, 'dentro', 'in')} / **${pct(chosen.outOfSample.totalReturnPct, l)}** ${t(l, 'fora', 'out')}`
          : t(l, 'sem proposta', 'no proposal')) +
        ` · ${t(l, 'atual', 'current')} ${pct(fold.current.inSample.totalReturnPct, l)} ${t(l, 'dentro', 'in')} / **${pct(fold.current.outOfSample.totalReturnPct, l)}** ${t(l, 'fora', 'out')}`,
    );
  }
  lines.push(
    `${t(l, 'Fora da amostra, somado', 'Out of sample, compounded')}: ${t(l, 'proposto', 'proposed')} **${pct(review.chosenOutOfSampleReturnPct, l)}** · ${t(l, 'atual', 'current')} **${pct(review.currentOutOfSampleReturnPct, l)}** (${t(l, `melhor em ${review.foldsBeaten} de ${review.folds.length} janelas`, `better in ${review.foldsBeaten} of ${review.folds.length} windows`)})`,
  );
  if (review.proposal) {
    lines.push(`${t(l, 'Atual', 'Current')}: ${md(params(review.current))}`);
    lines.push(`${t(l, 'Proposto', 'Proposed')}: **${md(params(review.proposal))}**`);
  } else {
    const why = review.reasons.map((r) => REASONS[r]?.[l === 'en' ? 1 : 0] ?? r).join('; ');
    lines.push(t(l, `Nenhuma mudança proposta: ${md(why)}.`, `No change proposed: ${md(why)}.`));
  }
  return lines.join('\n');
}

/** /improve N and "melhore meu robô N": runs the review of the trader's bot number N (as in /bots). */
export async function improveCommand(ctx: UpdateContext, words: readonly string[]): Promise<void> {
  const l = ctx.locale;
  const ref = words[0];
  if (ctx.tools.actor.kind !== 'trader' || !ref || !/^\d{1,3}$/.test(ref) || words.length > 1)
    return void (await ctx.reply(
      t(l, 'Uso: /improve N — N é o número do robô em /bots.', 'Usage: /improve N — N is the bot number in /bots.'),
    ));
  const overview = await callTool<{ bots: { id: string; name: string }[] }>(ctx, 'bots_overview', {});
  if (!overview.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, overview))}`));
  const bot = overview.result.bots[Number(ref) - 1];
  if (!bot)
    return void (await ctx.reply(
      t(l, `Nenhum robô seu tem o número ${ref}. Veja /bots.`, `None of your bots is number ${ref}. See /bots.`),
    ));
  await ctx.reply(t(l, '⏳ Revisando o robô num ano de candles…', '⏳ Reviewing the bot on a year of candles…'));
  const outcome = await assistantCall({ ctx: ctx.tools }, ctx.tools.actor, 'propose_bot_improvement', { botId: bot.id });
  if (!outcome.ok || !('result' in outcome)) return void (await ctx.reply(`⚠️ ${md(failure(ctx, outcome, 'propose_bot_improvement'))}`));
  const review = outcome.result as Review;
  const text = improveCardText(review, ref, l);
  if (!review.proposal) return void (await ctx.reply(text));
  const token = remember({ kind: 'proposal', userId: ctx.tools.actor.userId, botId: bot.id, parameters: review.proposal });
  await ctx.reply(text, {
    inline_keyboard: [
      [
        { text: t(l, '✅ Aplicar', '✅ Apply'), callback_data: `im:a:${token}` },
        { text: t(l, '✖️ Descartar', '✖️ Discard'), callback_data: `im:d:${token}` },
      ],
    ],
  });
}

/**
 * Apply (the trader's confirmation: a new bot version) or Discard, pressed on a proposal card;
 * Roll back (the trader's confirmation too), pressed under an applied one.
 */
export async function onImprovePress(press: PressContext, choice: ImprovePress): Promise<void> {
  const { ctx } = press;
  const l = ctx.locale;
  const kept = pending.get(choice.token);
  const expectedKind = choice.action === 'rollback' ? 'rollback' : 'proposal';
  if (!kept || kept.kind !== expectedKind || ctx.tools.actor.kind !== 'trader' || kept.userId !== ctx.tools.actor.userId)
    return press.answer(t(l, 'Este botão expirou; peça /improve N de novo.', 'This button has expired; ask /improve N again.'), true);
  pending.delete(choice.token);
  await press.clearButtons();
  if (choice.action === 'discard') {
    await press.answer(t(l, 'Descartada.', 'Discarded.'));
    return void (await ctx.reply(
      t(l, 'Proposta descartada; o robô continua como estava.', 'Proposal discarded; the bot stays as it was.'),
    ));
  }
  await press.answer(kept.kind === 'rollback' ? t(l, 'Voltando…', 'Rolling back…') : t(l, 'Aplicando…', 'Applying…'));
  const [tool, args] =
    kept.kind === 'rollback'
      ? (['rollback_bot_version', { botId: kept.botId, version: kept.version }] as const)
      : (['apply_bot_improvement', { botId: kept.botId, parameters: kept.parameters }] as const);
  const outcome = await assistantCall({ ctx: ctx.tools }, ctx.tools.actor, tool, args, { confirmed: true });
  if (!outcome.ok || !('result' in outcome)) return void (await ctx.reply(`⚠️ ${md(failure(ctx, outcome, tool))}`));
  const written = outcome.result as { version: number; botRunning: boolean; note: string };
  const note = written.botRunning
    ? t(l, RUNNING_NOTE, written.note)
    : t(l, 'O robô usa os novos parâmetros a partir da próxima vez que for ligado.', written.note);
  if (kept.kind === 'rollback')
    return void (await ctx.reply(
      t(
        l,
        `↩️ Voltou à versão ${kept.version}: gravada como versão ${written.version}. ${note}`,
        `↩️ Rolled back to version ${kept.version}: saved as version ${written.version}. ${note}`,
      ),
    ));
  // The version before this one, a press away.
  const back = remember({ kind: 'rollback', userId: kept.userId, botId: kept.botId, version: written.version - 1 });
  await ctx.reply(
    t(
      l,
      `✅ Aplicado: versão ${written.version} (a anterior fica guardada para voltar atrás). ${note}`,
      `✅ Applied: version ${written.version} (the previous one is kept for rollback). ${note}`,
    ),
    {
      inline_keyboard: [
        [
          {
            text: t(l, `↩️ Voltar à versão ${written.version - 1}`, `↩️ Roll back to version ${written.version - 1}`),
            callback_data: `im:r:${back}`,
          },
        ],
      ],
    },
  );
}

function failure(ctx: UpdateContext, outcome: ToolOutcome, tool: string): string {
  if (outcome.ok) return t(ctx.locale, 'Aguardando aprovação.', 'Awaiting approval.');
  return failureSentence(ctx, {
    ok: false,
    tool,
    error: outcome.error,
    message: outcome.message.replace(new RegExp(`^${tool} failed: `), ''),
    ...(outcome.category ? { category: outcome.category } : {}),
  });
}
