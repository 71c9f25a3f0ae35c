import { Ollama } from 'ollama';
import { z } from 'zod';
import { tenantScope } from '../db/index.ts';
import { ProductError } from '../errors/index.ts';
import { foldText, type Locale } from '../i18n/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext, type ToolName, type ToolOutcome } from '../tools/index.ts';
import { backtestBesideBuyAndHold, describeBot, draftHintsSchema, type DraftHints } from '../trading/index.ts';
import type { ModelGateway } from './model.ts';

// The trader's assistant (issue 22): the eleventh agent, the first that serves customers.
//
// Why an eleventh agent and not a trader-facing mode of the support agent: the ten agents are
// the company's departments (AgentName = Department), each with staff tools that reach any
// trader by email and a policy keyed by department. A trader's assistant must reach only the
// trader's own account and only tools open to traders; as a mode of Support it would share a
// tool set, a prompt and a policy row with staff work, and one wrong branch would hand a
// customer a staff tool. Kept apart, it is not a Department at all: it acts as the trader
// (`actor.kind === 'trader'`, so the tool layer scopes every call to their account and audits
// it as theirs), its tools are the trader-only draft tools (no department holds them —
// test/toolsets.test.ts), and the words become a draft by plain rules (trading/drafts) with
// the model offline. A model, when there is one, may only fill what the words left open, as
// JSON matching `draftHintsSchema` (Ollama's `format`), checked again by zod and against the
// words (an amount must be one the trader wrote); never free text, never over the words.
// Every effect is the trader's own act: a draft and a backtest are what they asked for, and a
// bot starts (on paper, never live) only when the door passes `confirmed` — a button pressed, a
// --confirm typed — which a model's output cannot set.

export const TRADER_ASSISTANT = 'assistant';

/** The assistant's tools: trader-only, in the trader's scope. */
export const ASSISTANT_TOOLS = [
  'draft_bot_from_text',
  'change_bot_draft',
  'bot_draft',
  'backtest_draft',
  'start_draft_on_paper',
  'discard_draft',
  'bot_history',
  'propose_bot_improvement',
  'apply_bot_improvement',
  'rollback_bot_version',
] as const satisfies readonly ToolName[];
export type AssistantTool = (typeof ASSISTANT_TOOLS)[number];
/** The tools a door's confirmation (a pressed button) is passed to: a start on paper, a change of a bot's parameters. */
const CONFIRMED_TOOLS: ReadonlySet<AssistantTool> = new Set(['start_draft_on_paper', 'apply_bot_improvement', 'rollback_bot_version']);

export interface AssistantRuntime {
  readonly ctx: Omit<ToolContext, 'actor' | 'agent' | 'personConfirmed' | 'liveTradingConfirmed'>;
  /** The model for filling gaps; absent or down, the rules alone draft. */
  readonly model?: ModelGateway | undefined;
}

const GAP_FIELDS = ['strategy', 'symbols', 'stakeQuote', 'stopLossPct', 'takeProfitPct', 'timeframe'] as const;

/** The JSON Schema a model's hints must match, limited to the fields the words left open. */
function hintsFormat(gaps: readonly string[]): Record<string, unknown> {
  const full = z.toJSONSchema(draftHintsSchema) as { properties: Record<string, unknown> };
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(full.properties).filter(([name]) => gaps.includes(name))),
    additionalProperties: false,
  };
}

/** Keeps only hints the words support: an amount the trader wrote, a pair whose coin they named. */
export function groundedHints(words: string, hints: DraftHints): DraftHints {
  const folded = foldText(words);
  const numbers = new Set(
    [...folded.matchAll(/\d+(?:[.,]\d+)*/g)].map((m) => Number(m[0].replace(/\.(?=\d{3}\b)/g, '').replace(',', '.'))),
  );
  const grounded: DraftHints = { ...hints };
  if (grounded.stakeQuote !== undefined && !numbers.has(grounded.stakeQuote)) delete grounded.stakeQuote;
  if (grounded.stopLossPct !== undefined && !numbers.has(grounded.stopLossPct)) delete grounded.stopLossPct;
  if (grounded.takeProfitPct !== undefined && !numbers.has(grounded.takeProfitPct)) delete grounded.takeProfitPct;
  if (grounded.symbols && !grounded.symbols.every((s) => folded.includes(foldText(s.split('/')[0]!)))) delete grounded.symbols;
  return grounded;
}

/**
 * What the model proposes for the gaps, schema-checked and grounded; nothing when there is no
 * model, it is down, slow, or answers anything else (a bad small model changes nothing).
 */
export async function modelHints(model: ModelGateway | undefined, words: string, gaps: readonly string[]): Promise<DraftHints> {
  if (!model || gaps.length === 0) return {};
  const settings = model.settings;
  const client = new Ollama({
    host: settings.host,
    fetch: (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(settings.timeoutMs) }),
  });
  try {
    const reply = await client.chat({
      model: settings.agentModels[TRADER_ASSISTANT] ?? settings.model,
      stream: false,
      think: false,
      format: hintsFormat(gaps),
      options: { temperature: 0 },
      messages: [
        {
          role: 'system',
          content: `Read a trader's description of a trading bot. Reply with JSON holding only what the text states for: ${gaps.join(', ')}. Leave out anything the text does not state.`,
        },
        { role: 'user', content: words },
      ],
    });
    const parsed = draftHintsSchema.safeParse(JSON.parse(reply.message.content));
    if (!parsed.success) return {};
    const only = Object.fromEntries(Object.entries(parsed.data).filter(([name]) => gaps.includes(name))) as DraftHints;
    return groundedHints(words, only);
  } catch {
    // Down, slow, or not JSON: the rules' draft stands, with its questions.
    return {};
  }
}

function asTrader(actor: Actor): Actor & { kind: 'trader' } {
  if (actor.kind !== 'trader') throw new AssistantError("The trader's assistant serves traders only.");
  return actor;
}

/** Someone other than a trader asked the trader's assistant. */
export class AssistantError extends ProductError {
  readonly category = 'forbidden' as const;
  constructor(message: string) {
    super(message);
    this.name = 'AssistantError';
  }
}

/**
 * A draft from the trader's words: the rules read them; a model (if any) fills only what they
 * left open; the tool checks it all against the strategy's ranges, the risk limits and the plan.
 */
export async function draftFromWords(runtime: AssistantRuntime, actor: Actor, words: string): Promise<ToolOutcome> {
  const trader = asTrader(actor);
  const described = describeBot(words);
  const gaps = GAP_FIELDS.filter((field) =>
    field === 'timeframe'
      ? described.assumed.includes('timeframe')
      : described.issues.some((i) => i.field === field && i.kind === 'missing'),
  );
  const hints = await modelHints(runtime.model, words, gaps);
  return invokeTool(TOOLS, { ...runtime.ctx, actor: trader, agent: TRADER_ASSISTANT }, 'draft_bot_from_text', {
    text: words,
    ...(Object.keys(hints).length > 0 ? { hints } : {}),
  });
}

/** One of the assistant's tools as the trader; `confirmed` only from the door (a button, --confirm). */
export function assistantCall(
  runtime: AssistantRuntime,
  actor: Actor,
  tool: AssistantTool,
  args: Record<string, unknown>,
  options: { confirmed?: boolean } = {},
): Promise<ToolOutcome> {
  const trader = asTrader(actor);
  return invokeTool(
    TOOLS,
    {
      ...runtime.ctx,
      actor: trader,
      agent: TRADER_ASSISTANT,
      ...(options.confirmed && CONFIRMED_TOOLS.has(tool) ? { personConfirmed: true } : {}),
    },
    tool,
    args,
  );
}

/** The trader's newest open draft, as far as routing their next words needs it. */
export interface OpenDraftRef {
  readonly draftId: string;
  readonly questions: readonly { readonly field: string }[];
  /** ISO time of its last change (or of the trader's "Change" press). */
  readonly updatedAt: string;
  /** The trader pressed "Change" on it: their next words are its change. */
  readonly awaitingChange?: boolean;
}

/** What a trader's free text is to the assistant: a new bot, more words for the open draft, or neither. */
export type DraftRoute = { readonly kind: 'new' } | { readonly kind: 'change'; readonly draftId: string; readonly text: string };

/** An open draft counts as the conversation's subject for this long after its last change. */
export const OPEN_DRAFT_WINDOW_MS = 30 * 60_000;

const BOT_WORD = /\b(robo|robos|robozinho|bot|bots)\b/;
const CREATE =
  /\b(quero|queria|gostaria|crie|criar|cria|monte|montar|monta|faca|fazer|faz|configure|configurar|novo|nova|build|create|make|want|new|set up|setup|i'd like|id like)\b/;
const CHANGE =
  /\b(muda|mude|mudar|troca|troque|trocar|altera|altere|alterar|ajusta|ajuste|ajustar|coloca|coloque|colocar|poe|usa|use|usar|change|set|switch|instead|em vez|no lugar)\b/;
const OWN_BOTS = /\b(meu|meus|minha|minhas|my)\s+(robo|robos|bot|bots)\b/;
const BARE_AMOUNT = /^\s*\d[\d.,]*\s*(k|mil)?\s*$/i;
const QUESTION = /\?\s*$|^(como|o que|oque|qual|quais|quanto|quantos|por que|porque|what|how|which|why|is|are|does|can)\b/;

/** Whether the words set anything a draft holds (a strategy, pair, amount, stop, take, timeframe, a parameter). */
export function wordsSetDraftFields(words: string): boolean {
  const d = describeBot(words);
  return (
    d.strategy !== undefined ||
    d.symbols.length > 0 ||
    d.stakeQuote !== undefined ||
    d.stopLossPct !== undefined ||
    d.takeProfitPct !== undefined ||
    d.maxOpenPositions !== undefined ||
    Object.keys(d.parameters).length > 0 ||
    !d.assumed.includes('timeframe') ||
    d.issues.some((i) => i.kind !== 'missing')
  );
}

/**
 * Plain rules, no model: is this a bot being described ("quero um robô RSI no BTC 5m com 100
 * USDT", "RSI no ETH 1h 500 USDT")? A strategy with a pair, an amount or a timeframe, or the
 * words "bot"/"robô" with a wish to create one and something to build it from. Questions about
 * the trader's own bots ("como está meu robô RSI?") are not descriptions.
 */
export function describesNewBot(words: string): boolean {
  const folded = foldText(words);
  const d = describeBot(words);
  const create = CREATE.test(folded);
  if (OWN_BOTS.test(folded) && !create) return false;
  const strategyNamed = d.strategy !== undefined || d.issues.some((i) => i.field === 'strategy' && i.kind === 'ambiguous');
  const material = d.symbols.length > 0 || d.stakeQuote !== undefined || !d.assumed.includes('timeframe');
  if (strategyNamed && (material || (create && BOT_WORD.test(folded)))) return true;
  return BOT_WORD.test(folded) && create && (strategyNamed || (d.symbols.length > 0 && d.stakeQuote !== undefined));
}

/**
 * Where a trader's free text goes (the door's first pass, before its customer answers): a new
 * draft, the open draft's change (an answer to its questions, "muda o stop para 2 %", a bare
 * amount when the stake is what it asks), or undefined (not the assistant's).
 */
export function draftRoute(words: string, open: OpenDraftRef | undefined, now: Date): DraftRoute | undefined {
  const folded = foldText(words);
  const recent = open && now.getTime() - Date.parse(open.updatedAt) <= OPEN_DRAFT_WINDOW_MS ? open : undefined;
  if (recent && BARE_AMOUNT.test(words) && recent.questions.some((q) => q.field === 'stakeQuote'))
    return { kind: 'change', draftId: recent.draftId, text: `${words.trim()} USDT` };
  const sets = wordsSetDraftFields(words);
  if (recent && sets && (recent.awaitingChange || CHANGE.test(folded)) && !CREATE.test(folded))
    return { kind: 'change', draftId: recent.draftId, text: words };
  if (describesNewBot(words)) return { kind: 'new' };
  const aside = QUESTION.test(folded.trim()) || OWN_BOTS.test(folded);
  if (recent && sets && !aside && (recent.questions.length > 0 || recent.awaitingChange || CHANGE.test(folded)))
    return { kind: 'change', draftId: recent.draftId, text: words };
  return undefined;
}

/** The model the assistant may use: only one that answers now (ModelGateway caches the check). */
export async function assistantModel(gateway: ModelGateway | undefined): Promise<ModelGateway | undefined> {
  if (!gateway) return undefined;
  try {
    return (await gateway.status()).state === 'ready' ? gateway : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a trader's words go, with the open draft looked up as every door does: the draft the
 * trader pressed "Change" on (`pending`), else their newest open one — read only when the words
 * set something a draft holds or start with a number (an answer to "how much?").
 */
export async function routeTraderWords(
  runtime: AssistantRuntime,
  actor: Actor,
  words: string,
  pending?: OpenDraftRef,
): Promise<DraftRoute | undefined> {
  const trader = asTrader(actor);
  let open = pending;
  if (!open && (wordsSetDraftFields(words) || /^\s*\d/.test(words))) {
    const current = await assistantCall(runtime, trader, 'bot_draft', {});
    if (current.ok && 'result' in current) {
      const draft = (current.result as { draft: OpenDraftRef | null }).draft;
      if (draft) open = draft;
    }
  }
  return draftRoute(words, open, runtime.ctx.now());
}

/** What to tell a trader whose words describe no bot (the doors' hint). */
export function notADescriptionHint(locale: Locale): string {
  return locale === 'en'
    ? 'That does not describe a bot. Say the strategy, the pair, the timeframe and how much to use, e.g. "I want an RSI bot on BTC, 1h, with 100 USDT".'
    : 'Isso não descreve um robô. Diga a estratégia, o par, o tempo gráfico e quanto usar, por exemplo: "quero um robô RSI no BTC de 1h com 100 USDT".';
}

/** Points of each line a door draws (a chart is at most ~1,000 px wide). */
const MAX_CURVE_POINTS = 500;

/** A draft backtest's equity beside holding the coin, as data for a door's chart. */
export interface DraftBacktestCurves {
  readonly backtestId: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly quote: string;
  readonly startQuote: number;
  readonly strategy: { time: string; equityQuote: number }[];
  readonly buyAndHold: { time: string; equityQuote: number }[];
}

/**
 * One of the trader's own backtests beside buy-and-hold (trading's backtestBesideBuyAndHold,
 * the data Telegram's chart is drawn from), read in the trader's scope: another trader's
 * backtest is "not found".
 */
export async function draftBacktestCurves(runtime: AssistantRuntime, actor: Actor, backtestId: string): Promise<DraftBacktestCurves> {
  const trader = asTrader(actor);
  const data = await backtestBesideBuyAndHold(runtime.ctx.db, tenantScope(trader.tenantId), backtestId);
  const points = data.strategy.points;
  const stride = Math.max(1, Math.ceil(points.length / MAX_CURVE_POINTS));
  const strategy = points
    .filter((_, i) => i % stride === 0 || i === points.length - 1)
    .map((p) => ({ time: p.at.toISOString(), equityQuote: Number(p.equityQuote) }));
  return {
    backtestId,
    symbol: data.symbol,
    timeframe: data.timeframe,
    quote: data.strategy.quote,
    startQuote: Number(data.strategy.startQuote),
    strategy,
    buyAndHold: data.buyAndHold.map((p) => ({ time: p.at.toISOString(), equityQuote: Math.round(p.equityQuote * 100) / 100 })),
  };
}
