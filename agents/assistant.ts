import { Ollama } from 'ollama';
import { z } from 'zod';
import { ProductError } from '../errors/index.ts';
import { foldText } from '../i18n/index.ts';
import { invokeTool, TOOLS, type Actor, type ToolContext, type ToolName, type ToolOutcome } from '../tools/index.ts';
import { describeBot, draftHintsSchema, type DraftHints } from '../trading/index.ts';
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
] as const satisfies readonly ToolName[];
export type AssistantTool = (typeof ASSISTANT_TOOLS)[number];

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
      ...(options.confirmed && tool === 'start_draft_on_paper' ? { personConfirmed: true } : {}),
    },
    tool,
    args,
  );
}
