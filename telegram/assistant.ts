import { z } from 'zod';
import {
  assistantCall,
  draftFromWords,
  draftRoute,
  wordsSetDraftFields,
  type AssistantRuntime,
  type AssistantTool,
  type ModelGateway,
  type OpenDraftRef,
} from '../agents/index.ts';
import { countOf, formatPct, formatQuote, type Locale } from '../i18n/index.ts';
import type { ToolOutcome } from '../tools/index.ts';
import { assistantChart } from './assistant-chart.ts';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { updateTiming } from './send.ts';
import { t } from './texts.ts';
import { failureSentence, type ToolCall, type UpdateContext } from './update-context.ts';

// The trader's assistant on Telegram (issue 22): a trader's words that describe a bot ("quero
// um robô RSI no BTC 5m com 100 USDT") become a draft card with buttons — backtest, change,
// start on paper, discard; more words (an answer to the card's questions, "muda o stop para
// 2 %") change the open draft. Which words are the assistant's is decided by plain rules
// (agents/assistant.ts: draftRoute) before the door's customer answers, so the model being
// offline changes nothing here; a model, when up, only fills what the words left open. The
// backtest answer is the year's figures beside buy-and-hold with the equity chart beside the
// coin held. "Start on paper" is the trader's own press: only that press passes `confirmed`
// to the tool, which starts the bot on paper and never live.

/** A draft card as the assistant's tools return it. */
export interface DraftCard {
  readonly draftId: string;
  readonly status: 'draft' | 'started' | 'discarded';
  readonly locale: Locale;
  readonly name: string;
  readonly strategy: string | null;
  readonly parameters: Record<string, number>;
  readonly symbols: string[];
  readonly timeframe: string | null;
  readonly stakeQuote: string | null;
  readonly stopLossPct: number | null;
  readonly takeProfitPct: number | null;
  readonly maxOpenPositions: number | null;
  readonly questions: { field: string; question: string }[];
  readonly assumed: string[];
  readonly blocked: { reason: string; upgradeTo: string | null } | null;
  readonly liveNote: string | null;
  readonly backtests:
    | {
        symbol: string;
        backtestId: string;
        candles: number;
        rangeStart: string;
        rangeEnd: string;
        trades: number;
        totalReturnPct: number;
        maxDrawdownPct: number;
        winRatePct: number | null;
        buyAndHoldReturnPct: number;
        buyAndHoldMaxDrawdownPct: number;
        missing: string | null;
      }[]
    | null;
  readonly botId: string | null;
  readonly updatedAt: string;
  readonly next: ('answer' | 'backtest' | 'start_on_paper' | 'discard')[];
}

type Action = 'backtest' | 'change' | 'start' | 'discard';
const ACTION_CODES: Record<Action, string> = { backtest: 'b', change: 'c', start: 's', discard: 'd' };
const CODE_ACTIONS: Record<string, Action> = { b: 'backtest', c: 'change', s: 'start', d: 'discard' };

/** `as:<b|c|s|d>:<draft id>`: a draft card's buttons (41 bytes; Telegram allows 64). */
export const assistantButton = z
  .string()
  .regex(/^as:[bcsd]:[0-9a-f-]{36}$/)
  .transform((data) => {
    const [, code, draftId] = data.split(':') as [string, string, string];
    return { action: CODE_ACTIONS[code]!, draftId };
  })
  .pipe(z.object({ action: z.enum(['backtest', 'change', 'start', 'discard']), draftId: z.uuid() }));
export type AssistantPress = z.infer<typeof assistantButton>;

const button = (action: Action, draftId: string) => `as:${ACTION_CODES[action]}:${draftId}`;

/** Drafts whose "Change" was pressed, by chat: the next words apply to them (the newest open one otherwise). */
const changing = new Map<number, OpenDraftRef>();
const MAX_CHANGING = 10_000;

function remember(chatId: number, draft: OpenDraftRef): void {
  changing.delete(chatId);
  changing.set(chatId, { draftId: draft.draftId, questions: draft.questions, updatedAt: draft.updatedAt, awaitingChange: true });
  if (changing.size > MAX_CHANGING) changing.delete(changing.keys().next().value!);
}

/** The model the assistant may use: only one that answers now (ModelGateway caches the check). */
async function modelAtHand(gateway: ModelGateway | undefined): Promise<ModelGateway | undefined> {
  if (!gateway) return undefined;
  try {
    return (await gateway.status()).state === 'ready' ? gateway : undefined;
  } catch {
    return undefined;
  }
}

function runtimeOf(ctx: UpdateContext, model?: ModelGateway): AssistantRuntime {
  return { ctx: ctx.tools, model };
}

function outcomeCall<T>(outcome: ToolOutcome, tool: string): ToolCall<T> {
  if (outcome.ok && 'result' in outcome) return { ok: true, result: outcome.result as T };
  if (outcome.ok) return { ok: false, tool, error: 'pending_approval', message: outcome.message };
  return {
    ok: false,
    tool,
    error: outcome.error,
    message: outcome.message.replace(new RegExp(`^${tool} failed: `), ''),
    ...(outcome.category ? { category: outcome.category } : {}),
  };
}

/** One of the assistant's tools as the trader; `confirmed` only for a button the trader pressed. */
async function call(ctx: UpdateContext, tool: AssistantTool, args: Record<string, unknown>, confirmed = false) {
  return outcomeCall<{ draft: DraftCard; botId?: string; status?: string }>(
    await assistantCall(runtimeOf(ctx), ctx.tools.actor, tool, args, { confirmed }),
    tool,
  );
}

/**
 * A trader's free text, when it is the assistant's (a bot described, or more words for the
 * open draft): answered with the draft's card, true. False: not the assistant's words.
 */
export async function assistantReply(ctx: UpdateContext, gateway: ModelGateway | undefined, text: string): Promise<boolean> {
  if (ctx.tools.actor.kind !== 'trader') return false;
  // The open draft matters only when the words set something a draft holds.
  let open: OpenDraftRef | undefined = changing.get(ctx.chatId);
  if (!open && (wordsSetDraftFields(text) || /^\s*\d/.test(text))) {
    const current = await call(ctx, 'bot_draft', {});
    if (current.ok && current.result.draft) open = current.result.draft;
  }
  const route = draftRoute(text, open, ctx.tools.now());
  if (!route) return false;
  changing.delete(ctx.chatId);
  const result =
    route.kind === 'new'
      ? await ctx.typing(async () => {
          const model = await modelAtHand(gateway);
          const started = performance.now();
          const outcome = await draftFromWords(runtimeOf(ctx, model), ctx.tools.actor, text);
          // Time the model may have taken is not the door's (telegram_reply_seconds excludes it).
          const timing = updateTiming.getStore();
          if (timing && model) timing.modelMs += performance.now() - started;
          return outcomeCall<{ draft: DraftCard }>(outcome, 'draft_bot_from_text');
        })
      : await call(ctx, 'change_bot_draft', { draftId: route.draftId, text: route.text });
  if (!result.ok) {
    await ctx.reply(`⚠️ ${md(failureSentence(ctx, result))}`);
    return true;
  }
  const card = draftCardMessage(result.result.draft, ctx.locale);
  await ctx.reply(card.text, card.keyboard);
  return true;
}

const STRATEGY_NAMES: Record<string, [string, string]> = {
  rsi: ['RSI', 'RSI'],
  'macd-cross': ['cruzamento do MACD', 'MACD cross'],
  'ema-cross': ['cruzamento de médias (EMA)', 'EMA cross'],
  'bollinger-reversion': ['bandas de Bollinger', 'Bollinger bands'],
};
const PARAMETER_LABELS: Record<string, [string, string]> = {
  rsiPeriod: ['período', 'period'],
  rsiBuy: ['compra abaixo de', 'buy below'],
  rsiSell: ['venda acima de', 'sell above'],
  fastPeriod: ['rápida', 'fast'],
  slowPeriod: ['lenta', 'slow'],
  signalPeriod: ['sinal', 'signal'],
  period: ['período', 'period'],
  stdDevs: ['desvios', 'std devs'],
};

const pct = (value: number | null, locale: Locale, signed = false) => (value === null ? '—' : formatPct(String(value), locale, signed));

/** The draft as a Telegram card: its fields, its questions, and a button for each next step. */
export function draftCardMessage(card: DraftCard, locale: Locale): { text: string; keyboard?: InlineKeyboard } {
  const l = locale;
  const parameters = Object.entries(card.parameters)
    .filter(([name]) => name !== 'stopLossPct' && name !== 'takeProfitPct')
    .map(([name, value]) => `${PARAMETER_LABELS[name]?.[l === 'en' ? 1 : 0] ?? name} ${value}`)
    .join(', ');
  const strategy = card.strategy ? (STRATEGY_NAMES[card.strategy]?.[l === 'en' ? 1 : 0] ?? card.strategy) : '?';
  const assumed = card.assumed.filter((field) => field === 'timeframe' || field === 'stopLossPct' || field === 'takeProfitPct');
  const title =
    card.status === 'started'
      ? t(l, '✅ **Robô criado a partir do rascunho**', '✅ **Bot created from the draft**')
      : card.status === 'discarded'
        ? t(l, '🗑 **Rascunho descartado**', '🗑 **Draft discarded**')
        : t(l, '🤖 **Rascunho de robô**', '🤖 **Bot draft**');
  const lines = [
    `${title}: ${md(card.name)}`,
    `${t(l, 'Estratégia', 'Strategy')}: ${md(strategy)}${parameters ? ` (${md(parameters)})` : ''}`,
    `${t(l, 'Par', 'Pair')}: ${md(card.symbols.join(', ') || '?')} · ${t(l, 'tempo gráfico', 'timeframe')} ${md(card.timeframe ?? '?')}`,
    `${t(l, 'Valor máximo', 'Stake')}: ${card.stakeQuote === null ? '?' : formatQuote(card.stakeQuote, 'USDT', l)} · stop-loss ${pct(card.stopLossPct, l)} · take-profit ${pct(card.takeProfitPct, l)}`,
    `${t(l, 'Posições abertas no máximo', 'Open positions at most')}: ${card.maxOpenPositions ?? '?'} · ${t(l, 'modo simulado (paper)', 'paper mode (simulated money)')}`,
  ];
  if (assumed.length > 0 && card.status === 'draft')
    lines.push(
      t(
        l,
        `_Assumido por não ter sido dito: ${assumed.map((f) => (f === 'timeframe' ? 'tempo gráfico' : f === 'stopLossPct' ? 'stop-loss' : 'take-profit')).join(', ')} (padrão da estratégia; mude se quiser)._`,
        `_Assumed as not said: ${assumed.map((f) => (f === 'timeframe' ? 'timeframe' : f === 'stopLossPct' ? 'stop-loss' : 'take-profit')).join(', ')} (the strategy's default; change it if you like)._`,
      ),
    );
  for (const q of card.questions) lines.push(`❓ ${md(q.question)}`);
  if (card.blocked)
    lines.push(
      `⛔ ${t(l, 'O plano não permite', 'The plan does not allow it')}: ${md(card.blocked.reason)}${card.blocked.upgradeTo ? ` (${t(l, 'plano que permite', 'plan that allows it')}: ${md(card.blocked.upgradeTo)})` : ''}`,
    );
  if (card.liveNote) lines.push(`ℹ️ ${md(card.liveNote)}`);
  for (const b of card.backtests ?? []) lines.push(...backtestLines(b, l));
  if (card.status === 'draft') {
    if (card.questions.length > 0) lines.push(t(l, 'Responda aqui mesmo, em palavras.', 'Answer right here, in words.'));
    else if (!card.backtests && !card.blocked)
      lines.push(t(l, 'Próximo passo: o backtest do último ano.', "Next step: the last year's backtest."));
    else if (card.next.includes('start_on_paper'))
      lines.push(
        t(
          l,
          'Se gostou do resultado, toque em "Iniciar no simulado": o robô opera com dinheiro simulado. Nada começa sem o seu toque.',
          'If you like the result, press "Start on paper": the bot trades simulated money. Nothing starts without your press.',
        ),
      );
  }
  const keyboard = draftKeyboard(card, l);
  return keyboard ? { text: lines.join('\n'), keyboard } : { text: lines.join('\n') };
}

function backtestLines(b: NonNullable<DraftCard['backtests']>[number], l: Locale): string[] {
  const lines = [
    `🧪 **${t(l, 'Backtest', 'Backtest')} ${md(b.symbol)}** (${countOf(b.candles, 'candle', l)}, ${b.rangeStart.slice(0, 10)} → ${b.rangeEnd.slice(0, 10)})`,
    `• ${t(l, 'Robô', 'Bot')}: **${pct(b.totalReturnPct, l, true)}** · ${t(l, 'queda máx.', 'max drawdown')} ${pct(b.maxDrawdownPct, l)} · ${countOf(b.trades, 'trade', l)} · ${t(l, 'acerto', 'win rate')} ${pct(b.winRatePct, l)}`,
    `• Buy-and-hold: **${pct(b.buyAndHoldReturnPct, l, true)}** · ${t(l, 'queda máx.', 'max drawdown')} ${pct(b.buyAndHoldMaxDrawdownPct, l)}`,
  ];
  if (b.missing)
    lines.push(
      `⚠️ ${t(l, 'Faltam candles no cache', 'Candles missing from the cache')}: ${md(b.missing.replace(/; download the rest:.*$/, ''))}`,
    );
  return lines;
}

function draftKeyboard(card: DraftCard, l: Locale): InlineKeyboard | undefined {
  if (card.status !== 'draft') return undefined;
  const row: { text: string; callback_data: string }[] = [];
  if (card.next.includes('backtest'))
    row.push({ text: t(l, '🧪 Backtest', '🧪 Backtest'), callback_data: button('backtest', card.draftId) });
  if (card.next.includes('start_on_paper'))
    row.push({ text: t(l, '▶️ Iniciar no simulado', '▶️ Start on paper'), callback_data: button('start', card.draftId) });
  const second = [
    { text: t(l, '✏️ Mudar', '✏️ Change'), callback_data: button('change', card.draftId) },
    { text: t(l, '🗑 Descartar', '🗑 Discard'), callback_data: button('discard', card.draftId) },
  ];
  return { inline_keyboard: row.length > 0 ? [row, second] : [second] };
}

/** What a press on a draft card needs from the door: the trader's context, and the pressed message. */
export interface PressContext {
  readonly ctx: UpdateContext;
  /** Answers the press (the small notice on the trader's screen). */
  answer(text: string, alert?: boolean): Promise<void>;
  /** Takes the pressed card's buttons away (pressed once, they are spent). */
  clearButtons(): Promise<void>;
}

/** A press on a draft card's button: the tool as the trader; "start on paper" is their confirmation. */
export async function onAssistantPress(press: PressContext, choice: AssistantPress): Promise<void> {
  const { ctx } = press;
  const l = ctx.locale;
  switch (choice.action) {
    case 'change': {
      await press.answer(t(l, 'Escreva o que mudar.', 'Write what to change.'));
      const current = await call(ctx, 'bot_draft', { draftId: choice.draftId });
      if (!current.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, current))}`));
      // "Change" makes this draft the conversation's subject again: the next words apply to it.
      remember(ctx.chatId, { ...current.result.draft, updatedAt: ctx.tools.now().toISOString() });
      await ctx.reply(
        t(
          l,
          'O que mudar? Escreva em palavras, por exemplo: "stop de 2 %", "200 USDT", "tempo gráfico 4h", "no ETH", "RSI 14 compra abaixo de 25".',
          'What should change? Write it in words, e.g. "stop 2%", "200 USDT", "timeframe 4h", "on ETH", "RSI 14 buy below 25".',
        ),
      );
      return;
    }
    case 'discard': {
      await press.answer(t(l, 'Descartando…', 'Discarding…'));
      const result = await call(ctx, 'discard_draft', { draftId: choice.draftId });
      if (!result.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, result))}`));
      await press.clearButtons();
      await ctx.reply(
        t(l, `🗑 Rascunho "${md(result.result.draft.name)}" descartado.`, `🗑 Draft "${md(result.result.draft.name)}" discarded.`),
      );
      return;
    }
    case 'backtest': {
      await press.answer(t(l, 'Testando o último ano…', 'Testing the last year…'));
      const result = await ctx.typing(() => call(ctx, 'backtest_draft', { draftId: choice.draftId }));
      if (!result.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, result))}`));
      await press.clearButtons();
      const card = result.result.draft;
      for (const b of card.backtests ?? []) {
        const chart = await assistantChart(ctx, b.backtestId, card.name).catch((error: unknown) => {
          ctx.logger?.warn({ err: error, backtestId: b.backtestId }, "the draft backtest's chart could not be drawn");
          return undefined;
        });
        if (chart) await ctx.photo(chart.png, chart.caption);
      }
      const message = draftCardMessage(card, l);
      await ctx.reply(message.text, message.keyboard);
      return;
    }
    case 'start': {
      await press.answer(t(l, 'Iniciando no simulado…', 'Starting on paper…'));
      // The press is the trader's explicit confirmation; nothing else sets `confirmed`.
      const result = await call(ctx, 'start_draft_on_paper', { draftId: choice.draftId }, true);
      if (!result.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, result))}`));
      await press.clearButtons();
      const { draft, botId, status } = result.result;
      const label = `\`${(botId ?? '').slice(0, 8)}\` ${md(draft.name)}`;
      if (status === 'running' && botId) ctx.watchStart?.(botId, label);
      await ctx.reply(
        status === 'running'
          ? t(
              l,
              `▶️ Robô ${label} ligado no **simulado** (dinheiro de mentira). Aviso aqui como foi o primeiro ciclo; todo dia mando a revisão dos seus robôs. Para parar: /stopbot.`,
              `▶️ Bot ${label} switched on in **paper** mode (simulated money). I will tell you here how its first tick went, and send your bots' review every day. To stop it: /stopbot.`,
            )
          : t(l, `O robô ${label} foi criado e está ${md(status ?? '?')}.`, `Bot ${label} was created and is ${md(status ?? '?')}.`),
      );
      return;
    }
  }
}
