import crypto from 'node:crypto';
import { z } from 'zod';
import { checkBotStart } from '../../billing/index.ts';
import type { TenantScope } from '../../db/index.ts';
import { formatPct, localeScores, type Locale } from '../../i18n/index.ts';
import { traderUser } from '../../identity/index.ts';
import {
  BotControlError,
  botHistory,
  createBot,
  DEFAULT_RISK_LIMITS,
  describeBot,
  type DRAFT_TIMEFRAMES,
  draftHintsSchema,
  getBotDraft,
  MAX_DRAFT_BACKTEST_DRAWDOWN_PCT,
  openBotDrafts,
  REVIEW_WINDOW_DAYS,
  reviewDescribedBot,
  saveBotDraft,
  startBot,
  timeframeToMs,
  updateBotDraft,
  windowReturnRangePct,
  type BotDraft,
  type DraftHints,
} from '../../trading/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';
import { backtestRecentCandles } from './trading.ts';

// The trader's assistant's tools (issue 22): a bot from the trader's words, as a draft; its
// backtest on the last year of candles beside buy-and-hold; its start on PAPER, only when the
// door says the trader confirmed it themselves (ctx.personConfirmed: a button, --confirm);
// and its discard. Traders only, on their own account (the tool scope); no staff department
// holds them. Nothing here can start a live bot: the bot is created in paper mode, whatever the
// words said. Telegram's and the web's doors call these same tools.

/** Days of candles a draft is backtested on: the last year. */
export const DRAFT_BACKTEST_DAYS = 365;
/** Below this share of a year's candles, the backtest says which are missing. */
const FULL_COVERAGE = 0.95;

const traderOnly = { departments: [], traders: true } as const;
const draftId = z.uuid();

const backtestFigures = z.object({
  symbol: z.string(),
  backtestId: z.string(),
  candles: z.number(),
  /** Candles a full year of this timeframe has. */
  expectedCandles: z.number(),
  rangeStart: z.string(),
  rangeEnd: z.string(),
  trades: z.number(),
  totalReturnPct: z.number(),
  maxDrawdownPct: z.number(),
  winRatePct: z.number().nullable(),
  /** Holding the coin over the same candles (price change, no fees). */
  buyAndHoldReturnPct: z.number(),
  buyAndHoldMaxDrawdownPct: z.number(),
  /** What the cache lacks of the year, with the command that downloads it; null when (nearly) complete. */
  missing: z.string().nullable(),
  /** The lowest and highest return over any 30 days of the backtest: the daily review's range for the bot's last 30 days. */
  windowReturnRangePct: z.object({ lowPct: z.number(), highPct: z.number() }).nullable().optional(),
});
type BacktestFigures = z.infer<typeof backtestFigures>;

const draftCard = z.object({
  draftId: z.string(),
  status: z.enum(['draft', 'started', 'discarded']),
  locale: z.enum(['pt-BR', 'en']),
  name: z.string(),
  description: z.string(),
  strategy: z.string().nullable(),
  parameters: z.record(z.string(), z.number()),
  symbols: z.array(z.string()),
  timeframe: z.string().nullable(),
  stakeQuote: z.string().nullable(),
  stopLossPct: z.number().nullable(),
  takeProfitPct: z.number().nullable(),
  maxOpenPositions: z.number().nullable(),
  mode: z.literal('paper'),
  /** What the trader still has to answer before a backtest. */
  questions: z.array(z.object({ field: z.string(), question: z.string() })),
  /** Fields given a default that spends nothing (timeframe, the strategy's stop and take). */
  assumed: z.array(z.string()),
  /** The plan refuses this bot as drafted (bots, pairs): why, and the plan that allows it. */
  blocked: z.object({ reason: z.string(), upgradeTo: z.string().nullable() }).nullable(),
  /** The words asked for real money: the assistant starts on paper only; live is the trader's own act later. */
  liveNote: z.string().nullable(),
  /**
   * The backtest fell more than MAX_DRAFT_BACKTEST_DRAWDOWN_PCT from a peak: it may still run on
   * paper (simulated money, the way to learn what it does), but will never be suggested for live.
   */
  riskNote: z.string().nullable(),
  backtests: z.array(backtestFigures).nullable(),
  botId: z.string().nullable(),
  /** When the draft last changed (ISO): the door treats a recent one as the conversation's subject. */
  updatedAt: z.string(),
  /** What the trader may do next: answer, backtest, start_on_paper, discard. */
  next: z.array(z.enum(['answer', 'backtest', 'start_on_paper', 'discard'])),
});
type DraftCard = z.infer<typeof draftCard>;

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The trader's language: the words' own when they are clearly one, else the account's. */
async function localeFor(ctx: ToolContext, scope: TenantScope, text: string): Promise<Locale> {
  const { pt, en } = localeScores(text);
  if (en > pt) return 'en';
  if (pt > en) return 'pt-BR';
  return (await traderUser(ctx.db, scope))?.locale ?? 'pt-BR';
}

async function blockedByPlan(ctx: ToolContext, scope: TenantScope, id: string, symbols: readonly string[]) {
  if (symbols.length === 0) return null;
  const entitlement = await checkBotStart(ctx.db, scope, { id, mode: 'paper', symbols });
  return entitlement.allowed ? null : { reason: entitlement.reason, upgradeTo: entitlement.upgradeTo ?? null };
}

function riskNote(backtests: readonly BacktestFigures[] | null, locale: Locale): string | null {
  const falls = (backtests ?? []).filter((b) => b.maxDrawdownPct > MAX_DRAFT_BACKTEST_DRAWDOWN_PCT);
  if (falls.length === 0) return null;
  const list = falls.map((b) => `${b.symbol} ${formatPct(String(b.maxDrawdownPct), locale, false)}`).join(', ');
  const limit = locale === 'en' ? `${MAX_DRAFT_BACKTEST_DRAWDOWN_PCT}%` : `${MAX_DRAFT_BACKTEST_DRAWDOWN_PCT} %`;
  return locale === 'en'
    ? `The backtest fell ${list} from a peak, more than the ${limit} a bot may have before live trading is suggested. On paper it costs nothing and shows how it behaves; to make it safer, change the stop-loss, the take-profit or the thresholds and backtest again.`
    : `O backtest caiu ${list} a partir de um pico, mais que os ${limit} que um robô pode ter para que se sugira operar ao vivo. No simulado não custa nada e mostra como ele se comporta; para deixá-lo mais seguro, mude o stop-loss, o take-profit ou os limiares e teste de novo.`;
}

function liveNote(wantsLive: boolean, locale: Locale): string | null {
  if (!wantsLive) return null;
  return locale === 'en'
    ? 'The assistant starts bots on paper (simulated money) only; going live is your own step later, with your confirmation, an exchange key and a plan that includes it.'
    : 'O assistente inicia robôs só no modo simulado (paper); operar com dinheiro real é um passo seu depois, com sua confirmação, uma chave de corretora e um plano que inclua isso.';
}

async function card(ctx: ToolContext, scope: TenantScope, draft: BotDraft, wantsLive = false): Promise<DraftCard> {
  const locale = draft.locale === 'en' ? 'en' : 'pt-BR';
  const questions = draft.questions;
  const blocked = draft.status === 'draft' ? await blockedByPlan(ctx, scope, draft.id, draft.symbols) : null;
  const backtests = (draft.backtestSummary?.['backtests'] as BacktestFigures[] | undefined) ?? null;
  const next: DraftCard['next'] = [];
  if (draft.status === 'draft') {
    if (questions.length > 0) next.push('answer');
    else if (!blocked) next.push(backtests ? 'start_on_paper' : 'backtest');
    if (questions.length === 0 && backtests && !blocked && !next.includes('backtest')) next.unshift('backtest');
    next.push('discard');
  }
  return {
    draftId: draft.id,
    status: draft.status,
    locale,
    name: draft.name,
    description: draft.description,
    strategy: draft.strategyName,
    parameters: draft.parameters,
    symbols: draft.symbols,
    timeframe: draft.timeframe,
    stakeQuote: draft.stakeQuote,
    stopLossPct: draft.parameters['stopLossPct'] ?? null,
    takeProfitPct: draft.parameters['takeProfitPct'] ?? null,
    maxOpenPositions: draft.maxOpenPositions,
    mode: 'paper',
    questions,
    assumed: (draft.backtestSummary?.['assumed'] as string[] | undefined) ?? [],
    blocked,
    liveNote: liveNote(wantsLive || draft.backtestSummary?.['wantsLive'] === true, locale),
    riskNote: draft.status === 'draft' ? riskNote(backtests, locale) : null,
    backtests,
    botId: draft.botId,
    updatedAt: draft.updatedAt.toISOString(),
    next,
  };
}

const STRATEGY_LABELS: Record<string, string> = {
  rsi: 'RSI',
  'macd-cross': 'MACD',
  'ema-cross': 'EMA',
  'bollinger-reversion': 'Bollinger',
};

/** Reads the words (and, for a change, the draft so far) into the draft's fields and questions. */
function draftFields(text: string, locale: Locale, hints: DraftHints, previous?: BotDraft) {
  const described = describeBot(text);
  // A change keeps what the draft had for whatever the new words do not say (the words win).
  const base: DraftHints = previous
    ? {
        ...(previous.strategyName ? { strategy: previous.strategyName as DraftHints['strategy'] } : {}),
        ...(previous.symbols.length > 0 ? { symbols: previous.symbols } : {}),
        ...(previous.timeframe ? { timeframe: previous.timeframe as DraftHints['timeframe'] } : {}),
        ...(previous.stakeQuote ? { stakeQuote: Number(previous.stakeQuote) } : {}),
        ...(previous.parameters['stopLossPct'] !== undefined ? { stopLossPct: previous.parameters['stopLossPct'] } : {}),
        ...(previous.parameters['takeProfitPct'] !== undefined ? { takeProfitPct: previous.parameters['takeProfitPct'] } : {}),
        ...(previous.maxOpenPositions ? { maxOpenPositions: previous.maxOpenPositions } : {}),
      }
    : {};
  const kept =
    previous?.strategyName && (described.strategy === undefined || described.strategy === previous.strategyName)
      ? {
          ...described,
          parameters: { ...previous.parameters, ...described.parameters },
          issues: described.issues.filter((i) => !(i.field === 'strategy' && i.kind === 'missing')),
        }
      : described;
  // Stop and take kept from before stay unless the words name new ones.
  if (kept !== described) {
    if (described.stopLossPct === undefined) delete kept.parameters['stopLossPct'];
    if (described.takeProfitPct === undefined) delete kept.parameters['takeProfitPct'];
  }
  const limits = { maxPositionQuote: DEFAULT_RISK_LIMITS.maxPositionQuote, maxOpenPositions: DEFAULT_RISK_LIMITS.maxOpenPositions };
  const reviewed = reviewDescribedBot(kept, limits, locale, { ...hints, ...base });
  const name = reviewed.strategy
    ? `${STRATEGY_LABELS[reviewed.strategy]} ${reviewed.symbols.map((s) => s.split('/')[0]).join('+') || '?'} ${reviewed.timeframe ?? ''}`.trim()
    : locale === 'en'
      ? 'New bot'
      : 'Novo robô';
  return {
    reviewed,
    values: {
      name,
      strategyName: reviewed.strategy ?? null,
      parameters: reviewed.parameters,
      symbols: reviewed.symbols,
      timeframe: reviewed.timeframe ?? null,
      stakeQuote: reviewed.stakeQuote === undefined ? null : String(reviewed.stakeQuote),
      maxOpenPositions: reviewed.maxOpenPositions ?? null,
      questions: reviewed.questions.map((q) => ({ field: q.field, question: q.question })),
      // A changed draft needs a new backtest: the old one tested other settings.
      backtestId: null,
      backtestSummary: { assumed: reviewed.assumed, wantsLive: reviewed.wantsLive },
    },
  };
}

async function openDraft(ctx: ToolContext, scope: TenantScope, id: string): Promise<BotDraft> {
  const draft = await getBotDraft(ctx.db, scope, id);
  if (!draft) throw new ToolRefusal('not_found', `No bot draft ${id} in this account.`);
  return draft;
}

function requireOpen(draft: BotDraft): void {
  if (draft.status === 'started') throw new ToolRefusal('forbidden', `This draft already became bot ${draft.botId ?? ''}.`);
  if (draft.status === 'discarded') throw new ToolRefusal('forbidden', 'This draft was discarded; describe the bot again.');
}

/** Largest fall from a peak of the closes, in percent. */
function closesDrawdownPct(close: ArrayLike<number>, from: number): number {
  let peak = 0;
  let worst = 0;
  for (let i = from; i < close.length; i++) {
    const price = close[i]!;
    if (price > peak) peak = price;
    else if (peak > 0) worst = Math.max(worst, (peak - price) / peak);
  }
  return worst * 100;
}

/** The bot's id from the draft's: starting twice creates one bot. */
function botIdFor(id: string): string {
  const hex = crypto.createHash('sha256').update(`bot-draft:${id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** The calls that make a bot's history: its draft's, its backtests', its controls' (reads are left out). */
export const BOT_HISTORY_TOOLS = [
  'draft_bot_from_text',
  'change_bot_draft',
  'backtest_draft',
  'start_draft_on_paper',
  'start_bot',
  'stop_bot',
  'force_exit',
  'stop_entries',
  'apply_bot_improvement',
  'rollback_bot_version',
] as const;

const email = z.email().optional().describe("the trader's email (traders act on their own account)");

export const assistantTools = [
  defineTool({
    name: 'draft_bot_from_text',
    description: "A bot draft from the trader's own words; what they leave open comes back as questions.",
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({
      text: z.string().trim().min(3).max(2000),
      /** Fields a model proposed for what the words left open (never over the words). */
      hints: draftHintsSchema.optional(),
      email,
    }),
    output: z.object({ draft: draftCard }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const locale = await localeFor(ctx, scope, input.text);
      const { reviewed, values } = draftFields(input.text, locale, input.hints ?? {});
      const draft = await saveBotDraft(
        ctx.db,
        scope,
        {
          ...values,
          description: input.text,
          locale,
          createdByUserId: ctx.actor.kind === 'trader' ? ctx.actor.userId : ((await traderUser(ctx.db, scope))?.userId ?? null),
        },
        ctx.now(),
      );
      return { draft: await card(ctx, scope, draft, reviewed.wantsLive) };
    },
  }),
  defineTool({
    name: 'change_bot_draft',
    description: "Change an open bot draft with more of the trader's words (answers to its questions).",
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({ draftId, text: z.string().trim().min(1).max(2000), hints: draftHintsSchema.optional(), email }),
    output: z.object({ draft: draftCard }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const previous = await openDraft(ctx, scope, input.draftId);
      requireOpen(previous);
      const locale = previous.locale === 'en' ? 'en' : 'pt-BR';
      const { reviewed, values } = draftFields(input.text, locale, input.hints ?? {}, previous);
      const draft = await updateBotDraft(
        ctx.db,
        scope,
        previous.id,
        {
          ...values,
          backtestSummary: { ...values.backtestSummary, wantsLive: reviewed.wantsLive || previous.backtestSummary?.['wantsLive'] === true },
        },
        ctx.now(),
      );
      if (!draft) throw new ToolRefusal('forbidden', 'This draft is no longer open.');
      return { draft: await card(ctx, scope, draft) };
    },
  }),
  defineTool({
    name: 'bot_draft',
    description: "One of the trader's bot drafts (by id, or the newest open one): fields, questions, backtest.",
    domain: 'trading',
    effect: 'read',
    access: traderOnly,
    input: z.strictObject({ draftId: draftId.optional(), email }),
    output: z.object({ draft: draftCard.nullable() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const draft = input.draftId ? await openDraft(ctx, scope, input.draftId) : (await openBotDrafts(ctx.db, scope, 1))[0];
      return { draft: draft ? await card(ctx, scope, draft) : null };
    },
  }),
  defineTool({
    name: 'backtest_draft',
    description: 'Backtest a complete bot draft on the last year of candles, beside buy-and-hold (plan limits apply).',
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({ draftId, email }),
    output: z.object({ draft: draftCard }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const draft = await openDraft(ctx, scope, input.draftId);
      requireOpen(draft);
      if (draft.questions.length > 0 || !draft.strategyName || !draft.timeframe || draft.symbols.length === 0)
        throw new ToolRefusal('forbidden', `The draft has open questions: ${draft.questions.map((q) => q.question).join(' ')}`.trim());
      const timeframe = draft.timeframe as (typeof DRAFT_TIMEFRAMES)[number];
      const expectedCandles = Math.floor((DRAFT_BACKTEST_DAYS * 86_400_000) / timeframeToMs(timeframe));
      const results: BacktestFigures[] = [];
      for (const symbol of draft.symbols) {
        const { result, series, backtestId } = await backtestRecentCandles(ctx, scope, {
          strategy: draft.strategyName,
          symbol,
          timeframe,
          days: DRAFT_BACKTEST_DAYS,
          parameters: draft.parameters,
        });
        const first = series.close[0]!;
        const last = series.close[series.length - 1]!;
        const rangeStart = new Date(series.time[0]!).toISOString();
        const missing =
          series.length >= expectedCandles * FULL_COVERAGE
            ? null
            : `${series.length} of ${expectedCandles} ${timeframe} candles of ${symbol} cached (from ${rangeStart.slice(0, 10)}); download the rest: botcriptofy data download --pairs ${symbol} --timeframes ${timeframe} --days ${DRAFT_BACKTEST_DAYS}`;
        results.push({
          symbol,
          backtestId,
          candles: result.candles,
          expectedCandles,
          rangeStart,
          rangeEnd: new Date(series.time[series.length - 1]!).toISOString(),
          trades: result.trades,
          totalReturnPct: round2(result.totalReturnPct),
          maxDrawdownPct: round2(result.maxDrawdownPct),
          winRatePct: result.winRatePct === null ? null : round2(result.winRatePct),
          buyAndHoldReturnPct: round2(((last - first) / first) * 100),
          buyAndHoldMaxDrawdownPct: round2(closesDrawdownPct(series.close, 0)),
          missing,
          windowReturnRangePct: windowReturnRangePct(result.equityCurve, REVIEW_WINDOW_DAYS * 86_400_000),
        });
      }
      const updated = await updateBotDraft(
        ctx.db,
        scope,
        draft.id,
        {
          backtestId: results[0]!.backtestId,
          backtestSummary: { ...(draft.backtestSummary ?? {}), backtests: results, at: ctx.now().toISOString() },
        },
        ctx.now(),
      );
      if (!updated) throw new ToolRefusal('forbidden', 'This draft is no longer open.');
      return { draft: await card(ctx, scope, updated) };
    },
  }),
  defineTool({
    name: 'start_draft_on_paper',
    description: 'Start a backtested bot draft on PAPER (simulated money), only after the trader confirmed it.',
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({ draftId, email }),
    output: z.object({ draft: draftCard, botId: z.string(), status: z.string(), mode: z.literal('paper') }),
    async execute(ctx, input) {
      // The door sets this after the trader pressed "start on paper" (or passed --confirm); a
      // model's tool call never carries it.
      if (!ctx.personConfirmed)
        throw new ToolRefusal('forbidden', 'Starting a bot needs your own confirmation: press "start on paper" (or pass --confirm).');
      const scope = await traderScope(ctx, input.email);
      const draft = await openDraft(ctx, scope, input.draftId);
      requireOpen(draft);
      const backtests = draft.backtestSummary?.['backtests'] as BacktestFigures[] | undefined;
      if (!draft.backtestId || !backtests)
        throw new ToolRefusal('forbidden', 'Backtest the draft first: a bot starts only after you have seen its backtest.');
      const blocked = await blockedByPlan(ctx, scope, draft.id, draft.symbols);
      if (blocked) throw new ToolRefusal('forbidden', blocked.reason);
      // A backtest deeper than the drawdown limit does not keep it off paper (simulated money is
      // how a trader learns what it does); the card said so, and the review never suggests it for live.
      const id = botIdFor(draft.id);
      // Paper, always: the assistant cannot start a live bot.
      await createBot(ctx.db, scope, {
        id,
        name: draft.name,
        strategyName: draft.strategyName!,
        parameters: draft.parameters,
        symbols: draft.symbols,
        timeframe: draft.timeframe!,
        mode: 'paper',
        stakeQuote: draft.stakeQuote!,
        exchangeAccountId: null,
        maxOpenPositions: draft.maxOpenPositions,
      });
      let status: string;
      try {
        status = (await startBot(ctx.db, scope, id)).status;
      } catch (error) {
        if (error instanceof BotControlError) throw new ToolRefusal('forbidden', error.message);
        throw error;
      }
      const started = await updateBotDraft(ctx.db, scope, draft.id, { status: 'started', botId: id }, ctx.now());
      return { draft: await card(ctx, scope, started ?? draft), botId: id, status, mode: 'paper' as const };
    },
  }),
  defineTool({
    name: 'discard_draft',
    description: "Discard one of the trader's open bot drafts.",
    domain: 'trading',
    effect: 'write',
    access: traderOnly,
    input: z.strictObject({ draftId, email }),
    output: z.object({ draft: draftCard }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const draft = await openDraft(ctx, scope, input.draftId);
      requireOpen(draft);
      const discarded = await updateBotDraft(ctx.db, scope, draft.id, { status: 'discarded' }, ctx.now());
      return { draft: await card(ctx, scope, discarded ?? draft) };
    },
  }),
  defineTool({
    name: 'bot_history',
    description: "A trader's bot's history: the draft (their words), backtests, starts, stops, exits and changes, and who did each.",
    domain: 'trading',
    effect: 'read',
    access: traderOnly,
    input: z.strictObject({ botId: z.uuid(), limit: z.number().int().min(1).max(50).default(10), email }),
    output: z.object({
      bot: z.object({ id: z.string(), name: z.string(), mode: z.string(), status: z.string() }),
      draft: z.object({ id: z.string(), description: z.string(), createdAt: z.string() }).nullable(),
      entries: z.array(
        z.object({
          at: z.string(),
          actorKind: z.string(),
          actorName: z.string().nullable(),
          agent: z.string().nullable(),
          tool: z.string(),
          outcome: z.string(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const history = await botHistory(ctx.db, scope, input.botId, BOT_HISTORY_TOOLS, input.limit);
      if (!history) throw new ToolRefusal('not_found', `No bot ${input.botId} in this account.`);
      return {
        bot: history.bot,
        draft: history.draft ? { ...history.draft, createdAt: history.draft.createdAt.toISOString() } : null,
        entries: history.entries.map((e) => ({ ...e, at: e.at.toISOString() })),
      };
    },
  }),
];
