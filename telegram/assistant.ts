import { z } from 'zod';
import {
  assistantCall,
  assistantModel,
  draftFromWords,
  routeTraderWords,
  type AssistantRuntime,
  type AssistantTool,
  type ModelGateway,
  type OpenDraftRef,
} from '../agents/index.ts';
import { countOf, formatPct, formatQuote, type Locale } from '../i18n/index.ts';
import type { BacktestRun, BotDetails, ToolOutcome } from '../tools/index.ts';
import { assistantChart } from './assistant-chart.ts';
import { escapeMarkdown as md } from './markdown.ts';
import type { InlineKeyboard } from './send.ts';
import { updateTiming } from './send.ts';
import { t } from './texts.ts';
import { startLiveData } from './trader.ts';
import { callTool, failureSentence, type ToolCall, type UpdateContext } from './update-context.ts';

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
  readonly riskNote: string | null;
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
type BotAction = 'stop' | 'rebacktest' | 'live';
const ACTION_CODES: Record<Action, string> = { backtest: 'b', change: 'c', start: 's', discard: 'd' };
const CODE_ACTIONS: Record<string, Action | BotAction> = {
  b: 'backtest',
  c: 'change',
  s: 'start',
  d: 'discard',
  p: 'stop',
  r: 'rebacktest',
  l: 'live',
};

/**
 * The assistant's buttons: `as:<b|c|s|d>:<draft id>` on a draft card, `as:<p|r|l>:<bot id>` on a
 * bot (the daily review, a pause notice: notifications' botActionCallbackData). 41 bytes; Telegram allows 64.
 */
export const assistantButton = z
  .string()
  .regex(/^as:[bcsdprl]:[0-9a-f-]{36}$/)
  .transform((data) => {
    const [, code, id] = data.split(':') as [string, string, string];
    return { action: CODE_ACTIONS[code]!, id };
  })
  .pipe(
    z.union([
      z
        .object({ action: z.enum(['backtest', 'change', 'start', 'discard']), id: z.uuid() })
        .transform((p) => ({ on: 'draft' as const, action: p.action, draftId: p.id })),
      z
        .object({ action: z.enum(['stop', 'rebacktest', 'live']), id: z.uuid() })
        .transform((p) => ({ on: 'bot' as const, action: p.action, botId: p.id })),
    ]),
  );
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
  // The same routing as the web's door (agents/assistant.ts): the draft whose "Change" was pressed, else the newest open one.
  const route = await routeTraderWords(runtimeOf(ctx), ctx.tools.actor, text, changing.get(ctx.chatId));
  if (!route) return false;
  changing.delete(ctx.chatId);
  const result =
    route.kind === 'new'
      ? await ctx.typing(async () => {
          const model = await assistantModel(gateway);
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
  if (card.riskNote) lines.push(`⚠️ ${md(card.riskNote)}`);
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

/** A press on one of the assistant's buttons: the tool as the trader; "start on paper" is their confirmation. */
export async function onAssistantPress(press: PressContext, choice: AssistantPress): Promise<void> {
  if (choice.on === 'bot') return onBotPress(press, choice);
  const { ctx } = press;
  const l = ctx.locale;
  switch (choice.action) {
    case 'change': {
      await press.answer(t(l, 'Escreva o que mudar.', 'Write what to change.'));
      const current = await call(ctx, 'bot_draft', { draftId: choice.draftId });
      if (!current.ok) return void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, current))}`));
      if (current.result.draft.status !== 'draft')
        return void (await ctx.reply(
          t(l, 'Este rascunho não está mais aberto; descreva o robô de novo.', 'This draft is no longer open; describe the bot again.'),
        ));
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
      const cap = draft.maxOpenPositions;
      if (status === 'running' && botId) ctx.watchStart?.(botId, label);
      await ctx.reply(
        status === 'running'
          ? t(
              l,
              `▶️ Robô ${label} ligado no **simulado** (dinheiro de mentira)${cap ? `, com no máximo ${cap} ${cap === 1 ? 'posição aberta' : 'posições abertas'}` : ''}. Aviso aqui como foi o primeiro ciclo; todo dia mando a revisão dos seus robôs. Para parar: /stopbot.`,
              `▶️ Bot ${label} switched on in **paper** mode (simulated money)${cap ? `, holding at most ${cap} open ${cap === 1 ? 'position' : 'positions'}` : ''}. I will tell you here how its first tick went, and send your bots' review every day. To stop it: /stopbot.`,
            )
          : t(l, `O robô ${label} foi criado e está ${md(status ?? '?')}.`, `Bot ${label} was created and is ${md(status ?? '?')}.`),
      );
      return;
    }
  }
}

type BotPress = Extract<AssistantPress, { on: 'bot' }>;
const numbersOf = (parameters: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(parameters).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));

/** A press on a bot's button (the daily review, a pause notice): stop it, backtest it again, or go live. */
async function onBotPress(press: PressContext, choice: BotPress): Promise<void> {
  const { ctx } = press;
  const l = ctx.locale;
  const fail = async (failed: Extract<ToolCall<unknown>, { ok: false }>) => void (await ctx.reply(`⚠️ ${md(failureSentence(ctx, failed))}`));
  if (choice.action === 'stop') {
    await press.answer(t(l, 'Parando…', 'Stopping…'));
    const stopped = await callTool<{ botId: string; status: string }>(ctx, 'stop_bot', { botId: choice.botId });
    if (!stopped.ok) return fail(stopped);
    const details = await callTool<BotDetails>(ctx, 'bot_details', { botId: choice.botId });
    const name = details.ok ? details.result.bot.name : choice.botId.slice(0, 8);
    await ctx.reply(
      t(l, `⏹ Robô ${md(name)} parado. Para ligar de novo: /startbot.`, `⏹ Bot ${md(name)} stopped. To start it again: /startbot.`),
    );
    return;
  }
  const details = await callTool<BotDetails>(ctx, 'bot_details', { botId: choice.botId });
  if (!details.ok) {
    await press.answer(t(l, 'Robô não encontrado.', 'Bot not found.'));
    return fail(details);
  }
  const bot = details.result.bot;
  if (choice.action === 'rebacktest') {
    await press.answer(t(l, 'Testando o último ano…', 'Testing the last year…'));
    const run = await ctx.typing(() =>
      callTool<BacktestRun>(ctx, 'run_backtest', {
        strategy: bot.strategy,
        symbol: bot.symbols[0],
        timeframe: bot.timeframe,
        days: 365,
        parameters: numbersOf(bot.parameters),
      }),
    );
    if (!run.ok) return fail(run);
    const chart = await assistantChart(ctx, run.result.backtestId, bot.name).catch((error: unknown) => {
      ctx.logger?.warn({ err: error }, "a bot's new backtest chart could not be drawn");
      return undefined;
    });
    if (chart) await ctx.photo(chart.png, chart.caption);
    const r = run.result;
    await ctx.reply(
      [
        t(
          l,
          `🧪 **Novo backtest de ${md(bot.name)}** (${md(bot.symbols[0] ?? '')} ${md(bot.timeframe)}, último ano, ${countOf(r.candles, 'candle', l)})`,
          `🧪 **New backtest of ${md(bot.name)}** (${md(bot.symbols[0] ?? '')} ${md(bot.timeframe)}, last year, ${countOf(r.candles, 'candle', l)})`,
        ),
        `• ${t(l, 'Robô', 'Bot')}: **${pct(r.totalReturnPct, l, true)}** · ${t(l, 'queda máx.', 'max drawdown')} ${pct(r.maxDrawdownPct, l)} · ${countOf(r.trades, 'trade', l)} · ${t(l, 'acerto', 'win rate')} ${pct(r.winRatePct, l)}`,
        ...(chart ? [`• Buy-and-hold: **${chart.buyAndHoldPct}**`] : []),
        t(l, 'Nada mudou no robô; qualquer mudança é sua.', 'Nothing changed on the bot; any change is yours.'),
      ].join('\n'),
    );
    return;
  }
  // Live: a suggestion taken up. The evidence, the plan and the key are checked; the live copy is
  // created stopped, and only the live start's own confirmation (/startbot's buttons: start_bot
  // with the trader's confirmation, four-eyes where configured) can start it.
  await press.answer(t(l, 'Verificando…', 'Checking…'));
  if (bot.mode !== 'paper')
    return void (await ctx.reply(t(l, `O robô ${md(bot.name)} já opera ao vivo.`, `Bot ${md(bot.name)} already trades live.`)));
  const subscription = await callTool<{ plan: string }>(ctx, 'subscription_status', {});
  const plans = await callTool<{ plans: { id: string; name: string; liveTradingAllowed: boolean }[] }>(ctx, 'list_plans', {});
  if (!subscription.ok) return fail(subscription);
  if (!plans.ok) return fail(plans);
  const current = plans.result.plans.find((p) => p.id === subscription.result.plan);
  if (!current?.liveTradingAllowed) {
    const upgrade = plans.result.plans.find((p) => p.liveTradingAllowed);
    await ctx.reply(
      t(
        l,
        `Seu plano ${md(current?.name ?? subscription.result.plan)} não inclui operar com dinheiro real${upgrade ? `; o plano ${md(upgrade.name)} inclui` : ''}. Veja /plan. O robô continua no simulado.`,
        `Your ${md(current?.name ?? subscription.result.plan)} plan does not include live trading${upgrade ? `; the ${md(upgrade.name)} plan does` : ''}. See /plan. The bot stays on paper.`,
      ),
    );
    return;
  }
  const liveName = `${bot.name} (live)`.slice(0, 100);
  const listed = await callTool<{ bots: { id: string; name: string; mode: string; status: string }[] }>(ctx, 'list_bots', {});
  if (!listed.ok) return fail(listed);
  let live = listed.result.bots.find((b) => b.name === liveName && b.mode === 'live');
  if (!live) {
    const created = await callTool<{ bot: { id: string; name: string; mode: string; status: string } }>(ctx, 'create_bot', {
      name: liveName,
      strategy: bot.strategy,
      symbols: bot.symbols,
      timeframe: bot.timeframe,
      stakeQuote: Number(bot.stakeQuote),
      mode: 'live',
      parameters: numbersOf(bot.parameters),
      ...(bot.maxOpenPositions === null ? {} : { maxOpenPositions: bot.maxOpenPositions }),
    });
    if (!created.ok) return fail(created);
    live = created.result.bot;
  }
  if (live.status === 'running')
    return void (await ctx.reply(t(l, `O robô ${md(live.name)} já está ligado.`, `Bot ${md(live.name)} is already running.`)));
  const trades = details.result.trades;
  const stake = Number(bot.stakeQuote);
  const hex = live.id.replace(/-/g, '');
  const yes = `sl:${hex}:y`;
  const no = `sl:${hex}:n`;
  // The door's own live-start confirmation reads these (trader.ts startLiveData).
  if (!startLiveData.safeParse(yes).success) throw new Error(`not a live-start button: ${yes}`);
  await ctx.reply(
    [
      t(l, `💰 **Operar ${md(bot.name)} com dinheiro real?**`, `💰 **Trade ${md(bot.name)} with real money?**`),
      t(
        l,
        `No simulado: ${countOf(trades.closed, 'trade', l)} encerradas, ${trades.wins} com lucro, resultado ${formatQuote(trades.profitQuote.toFixed(2), 'USDT', l, true)} (${pct(stake > 0 ? Math.round((trades.profitQuote / stake) * 10_000) / 100 : 0, l, true)} do valor).`,
        `On paper: ${countOf(trades.closed, 'trade', l)} closed, ${trades.wins} won, result ${formatQuote(trades.profitQuote.toFixed(2), 'USDT', l, true)} (${pct(stake > 0 ? Math.round((trades.profitQuote / stake) * 10_000) / 100 : 0, l, true)} of the stake).`,
      ),
      t(
        l,
        `Criei ${md(live.name)}, parado, com as mesmas configurações e até ${formatQuote(bot.stakeQuote, 'USDT', l)}, na sua chave da corretora. Resultados passados não garantem os futuros. Ele só liga se você confirmar:`,
        `I created ${md(live.name)}, stopped, with the same settings and up to ${formatQuote(bot.stakeQuote, 'USDT', l)}, on your exchange key. Past results do not promise future ones. It starts only if you confirm:`,
      ),
    ].join('\n'),
    {
      inline_keyboard: [
        [
          { text: t(l, '✅ Ligar com dinheiro real', '✅ Start with real money'), callback_data: yes },
          { text: t(l, 'Cancelar', 'Cancel'), callback_data: no },
        ],
      ],
    },
  );
}
