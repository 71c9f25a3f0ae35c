import { runTurn, settleTurns, type AgentName, type AgentRuntime } from '../agents/index.ts';
import type { ToolContext } from '../tools/index.ts';
import type { EvalMessage } from './messages.ts';

export interface ModelCaseResult {
  readonly id: string;
  readonly agent: AgentName;
  readonly expectedTool: string;
  /** The first catalogue tool the turn called (a CEO delegation counts by the tool it led to). */
  readonly calledTool: string | undefined;
  readonly toolCorrect: boolean;
  readonly argsCorrect: boolean;
  readonly mode: 'ollama' | 'offline';
  /** The model's own answer passed the grounding check (it was not replaced). */
  readonly groundedByModel: boolean;
  readonly modelCalls: number;
  readonly elapsedMs: number;
  readonly modelMs: number;
}

export interface AgentModelSummary {
  readonly agent: string;
  readonly cases: number;
  readonly toolAccuracy: number;
  readonly groundedRate: number;
  readonly offline: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxModelCalls: number;
}

/** Whether every expected argument is in the call (a partial match; strings case-insensitively). */
function argsMatch(expected: Record<string, unknown> | undefined, actual: Record<string, unknown> | undefined): boolean {
  if (!expected) return true;
  return Object.entries(expected).every(([key, value]) => {
    const got = actual?.[key];
    return typeof value === 'string' && typeof got === 'string' ? got.toLowerCase().includes(value.toLowerCase()) : JSON.stringify(got) === JSON.stringify(value);
  });
}

/**
 * Runs every message as one turn through the real agent path (Mastra, Ollama, the tool layer,
 * grounding) and scores the model's tool choice, arguments, grounding and latency.
 */
export async function evaluateModel(runtime: AgentRuntime, messages: readonly EvalMessage[], contextFor: (agent: AgentName) => ToolContext, onCase?: (result: ModelCaseResult, index: number) => void): Promise<ModelCaseResult[]> {
  const results: ModelCaseResult[] = [];
  for (const [index, message] of messages.entries()) {
    const turn = await runTurn(runtime, { agent: message.agent, message: message.message, ctx: contextFor(message.agent), channel: `eval:${message.id}` });
    const calls = turn.toolCalls.map((call) => ({ ...call, tool: call.tool.split('/').at(-1)! }));
    const call = calls.find((c) => c.tool === message.tool) ?? calls[0];
    const calledTool = call?.tool;
    const result: ModelCaseResult = {
      id: message.id,
      agent: message.agent,
      expectedTool: message.tool,
      calledTool,
      toolCorrect: turn.mode === 'ollama' && calledTool === message.tool,
      argsCorrect: turn.mode === 'ollama' && calledTool === message.tool && argsMatch(message.args, call?.args as Record<string, unknown> | undefined),
      mode: turn.mode,
      groundedByModel: turn.mode === 'ollama' && turn.answerFrom === 'model' && turn.grounded,
      modelCalls: turn.modelCalls,
      elapsedMs: turn.elapsedMs,
      modelMs: turn.modelMs,
    };
    results.push(result);
    onCase?.(result, index);
  }
  await settleTurns(runtime);
  return results;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export function summarizeModel(results: readonly ModelCaseResult[]): { overall: AgentModelSummary; perAgent: AgentModelSummary[] } {
  const summarize = (agent: string, rows: readonly ModelCaseResult[]): AgentModelSummary => {
    const latencies = rows.map((r) => r.elapsedMs).sort((a, b) => a - b);
    return {
      agent,
      cases: rows.length,
      toolAccuracy: rows.filter((r) => r.toolCorrect).length / Math.max(1, rows.length),
      groundedRate: rows.filter((r) => r.groundedByModel).length / Math.max(1, rows.length),
      offline: rows.filter((r) => r.mode === 'offline').length,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      maxModelCalls: Math.max(0, ...rows.map((r) => r.modelCalls)),
    };
  };
  const agents = [...new Set(results.map((r) => r.agent))];
  return { overall: summarize('all', results), perAgent: agents.map((agent) => summarize(agent, results.filter((r) => r.agent === agent))) };
}
