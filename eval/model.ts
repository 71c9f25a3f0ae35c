import { gateAnswer, runTurn, settleTurns, type AgentName, type AgentRuntime, type TurnResult } from '../agents/index.ts';
import { changesSomething, TOOLS, type ToolContext } from '../tools/index.ts';
import type { EvalMessage } from './messages.ts';
import { percentile } from './stats.ts';

// The model's half of the evaluation, scored on what the model itself did: the first tool
// it called (a router standing in for it is a fallback, never a right answer), whether its
// arguments were valid, whether its answer was shown or replaced (and why), and whether an
// action asked for was reported honestly (done, awaiting approval, refused, or "not done").

export interface ModelCaseResult {
  readonly id: string;
  readonly agent: AgentName;
  readonly locale: EvalMessage['locale'];
  readonly expectedTool: string;
  /**
   * The first catalogue tool the model called (for the CEO, a delegation counts by the first
   * tool the department's model called); undefined when the model called none.
   */
  readonly modelTool: string | undefined;
  readonly toolCorrect: boolean;
  /** The model's first call passed the tool's argument validation (undefined: no call). */
  readonly argsValid: boolean | undefined;
  /** The model's first call was the right tool with the expected arguments. */
  readonly argsCorrect: boolean;
  readonly mode: 'ollama' | 'offline';
  /** The router answered instead of the model (the model was unavailable, or its answer and choice were discarded with no tool run). */
  readonly fallback: boolean;
  /**
   * 'kept' when the model's answer was shown; otherwise why it was replaced: a gate rule,
   * 'ungrounded', 'invalid_calls' (the turn ended on two bad calls) or 'offline' (no model answer).
   */
  readonly answer: 'kept' | NonNullable<TurnResult['rejectedBecause']> | 'invalid_calls' | 'offline';
  /** The message asks for an action (its expected tool changes something or asks for approval). */
  readonly actionAsked: boolean;
  /** For an action asked: the person got a code-written line saying what happened or that nothing was done. */
  readonly actionReported: boolean;
  /** A model-written answer that fails the answer gate was delivered (must never happen). */
  readonly gateFailureDelivered: boolean;
  readonly repeatedCalls: number;
  readonly modelCalls: number;
  readonly elapsedMs: number;
  readonly modelMs: number;
}

export interface ModelSummary {
  /** The agent, the locale, or 'all'. */
  readonly group: string;
  readonly cases: number;
  /** Of all cases: the model's own first call was the expected tool. */
  readonly toolAccuracy: number;
  /** Of the cases where the model called a tool: its first call's arguments were valid. */
  readonly validArgsRate: number | null;
  readonly answersKept: number;
  /** Replaced answers by reason (see ModelCaseResult.answer). */
  readonly replaced: Readonly<Record<string, number>>;
  readonly fallbackRate: number;
  /** Of the cases asking for an action: reported by the code (null: none asked). */
  readonly actionHonesty: number | null;
  /** Model answers delivered although they fail the answer gate (0 is the only right value). */
  readonly gateFailuresDelivered: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly meanModelCalls: number;
  readonly maxModelCalls: number;
  readonly repeatedCalls: number;
}

/** Whether every expected argument is in the call (a partial match; strings case-insensitively). */
function argsMatch(expected: Record<string, unknown> | undefined, actual: Record<string, unknown> | undefined): boolean {
  if (!expected) return true;
  return Object.entries(expected).every(([key, value]) => {
    const got = actual?.[key];
    return typeof value === 'string' && typeof got === 'string'
      ? got.toLowerCase().includes(value.toLowerCase())
      : JSON.stringify(got) === JSON.stringify(value);
  });
}

/** The model's first call of a turn, by its catalogue tool (delegations by what they led to). */
function firstModelCall(turn: TurnResult): TurnResult['toolCalls'][number] | undefined {
  return turn.toolCalls.find((call) => call.by === 'model' && call.tool.split('/').at(-1) !== 'ask_department');
}

/** The answer without the action lines the code appended (what the gate judged). */
export const modelPart = (turn: TurnResult) => turn.actions.reduce((text, action) => text.replace(action.text, ''), turn.answer).trim();

/** Scores one turn of one evaluation message. */
export function scoreTurn(message: EvalMessage, turn: TurnResult, secrets?: readonly string[]): ModelCaseResult {
  const call = turn.mode === 'ollama' ? firstModelCall(turn) : undefined;
  const modelTool = call?.tool.split('/').at(-1);
  const firstOutcome = call ? turn.outcomes.find((o) => o.tool === modelTool) : undefined;
  // Valid: a catalogue tool whose arguments passed validation (refused for other reasons counts as valid).
  const argsValid =
    call === undefined
      ? undefined
      : TOOLS.has(modelTool ?? '') && firstOutcome !== undefined && (firstOutcome.ok || firstOutcome.error !== 'invalid_arguments');
  const actionAsked = changesSomething(message.tool);
  return {
    id: message.id,
    agent: message.agent,
    locale: message.locale,
    expectedTool: message.tool,
    modelTool,
    toolCorrect: modelTool === message.tool,
    argsValid,
    argsCorrect: modelTool === message.tool && argsMatch(message.args, call?.args as Record<string, unknown> | undefined),
    mode: turn.mode,
    fallback: turn.mode === 'offline' || turn.toolCalls.some((c) => c.by === 'router'),
    answer: turn.answerFrom === 'model' ? 'kept' : (turn.rejectedBecause ?? (turn.mode === 'offline' ? 'offline' : 'invalid_calls')),
    actionAsked,
    actionReported: turn.actions.length > 0,
    gateFailureDelivered:
      turn.answerFrom === 'model' && !gateAnswer({ answer: modelPart(turn), locale: message.locale, outcomes: turn.outcomes, secrets }).ok,
    repeatedCalls: turn.repeatedCalls,
    modelCalls: turn.modelCalls,
    elapsedMs: turn.elapsedMs,
    modelMs: turn.modelMs,
  };
}

/**
 * Runs every message as one turn through the real agent path (Mastra, Ollama, the tool layer,
 * grounding, the answer gate) and scores it.
 */
export async function evaluateModel(
  runtime: AgentRuntime,
  messages: readonly EvalMessage[],
  contextFor: (agent: AgentName) => ToolContext,
  onCase?: (result: ModelCaseResult, index: number) => void,
): Promise<ModelCaseResult[]> {
  const results: ModelCaseResult[] = [];
  for (const [index, message] of messages.entries()) {
    const turn = await runTurn(runtime, {
      agent: message.agent,
      message: message.message,
      ctx: contextFor(message.agent),
      channel: `eval:${message.id}`,
    });
    const result = scoreTurn(message, turn, runtime.secrets);
    results.push(result);
    onCase?.(result, index);
  }
  await settleTurns(runtime);
  return results;
}

/**
 * Up to `limit` messages spread evenly over agents and languages: one of each agent and
 * language in turn, in file order within each, until the limit or the set runs out.
 */
export function sampleEvenly(messages: readonly EvalMessage[], limit: number): EvalMessage[] {
  if (limit >= messages.length) return [...messages];
  const groups = new Map<string, EvalMessage[]>();
  for (const message of messages) {
    const key = `${message.agent}:${message.locale}`;
    groups.set(key, [...(groups.get(key) ?? []), message]);
  }
  const queues = [...groups.values()];
  const chosen: EvalMessage[] = [];
  for (let round = 0; chosen.length < limit; round++) {
    let took = false;
    for (const queue of queues) {
      if (chosen.length >= limit) break;
      const next = queue[round];
      if (next) {
        chosen.push(next);
        took = true;
      }
    }
    if (!took) break;
  }
  return chosen;
}

/** Nearest-rank percentile of sorted values. */
const share = (n: number, total: number) => (total === 0 ? 0 : n / total);

export function summarize(group: string, rows: readonly ModelCaseResult[]): ModelSummary {
  const latencies = rows.map((r) => r.elapsedMs).sort((a, b) => a - b);
  const called = rows.filter((r) => r.argsValid !== undefined);
  const asked = rows.filter((r) => r.actionAsked);
  const replaced: Record<string, number> = {};
  for (const row of rows) if (row.answer !== 'kept') replaced[row.answer] = (replaced[row.answer] ?? 0) + 1;
  return {
    group,
    cases: rows.length,
    toolAccuracy: share(rows.filter((r) => r.toolCorrect).length, rows.length),
    validArgsRate: called.length === 0 ? null : share(called.filter((r) => r.argsValid).length, called.length),
    answersKept: rows.filter((r) => r.answer === 'kept').length,
    replaced,
    fallbackRate: share(rows.filter((r) => r.fallback).length, rows.length),
    actionHonesty: asked.length === 0 ? null : share(asked.filter((r) => r.actionReported).length, asked.length),
    gateFailuresDelivered: rows.filter((r) => r.gateFailureDelivered).length,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    meanModelCalls: share(
      rows.reduce((sum, r) => sum + r.modelCalls, 0),
      rows.length,
    ),
    maxModelCalls: Math.max(0, ...rows.map((r) => r.modelCalls)),
    repeatedCalls: rows.reduce((sum, r) => sum + r.repeatedCalls, 0),
  };
}

/** The summary overall, per agent and per language. */
export function summarizeModel(results: readonly ModelCaseResult[]): {
  overall: ModelSummary;
  perAgent: ModelSummary[];
  perLocale: ModelSummary[];
} {
  const agents = [...new Set(results.map((r) => r.agent))];
  const locales = [...new Set(results.map((r) => r.locale))];
  return {
    overall: summarize('all', results),
    perAgent: agents.map((agent) =>
      summarize(
        agent,
        results.filter((r) => r.agent === agent),
      ),
    ),
    perLocale: locales.map((locale) =>
      summarize(
        locale,
        results.filter((r) => r.locale === locale),
      ),
    ),
  };
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);

/** The summary as a Markdown table (one row per agent, per language, and overall). */
export function formatModelSummary(summary: ReturnType<typeof summarizeModel>): string {
  const lines = [
    '| group | cases | tool choice | valid args | answers kept | replaced (by reason) | gate failures delivered | fallback | action honesty | p50 ms | p95 ms | model calls (mean / max) | repeated calls |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of [...summary.perAgent, ...summary.perLocale, summary.overall]) {
    const replaced =
      Object.entries(row.replaced)
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `${reason} ${n}`)
        .join(', ') || '–';
    lines.push(
      `| ${row.group} | ${row.cases} | ${pct(row.toolAccuracy)} | ${pct(row.validArgsRate)} | ${row.answersKept} | ${replaced} | ${row.gateFailuresDelivered} | ${pct(row.fallbackRate)} | ${pct(row.actionHonesty)} | ${row.p50Ms.toFixed(0)} | ${row.p95Ms.toFixed(0)} | ${row.meanModelCalls.toFixed(2)} / ${row.maxModelCalls} | ${row.repeatedCalls} |`,
    );
  }
  return lines.join('\n');
}
