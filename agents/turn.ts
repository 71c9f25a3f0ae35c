import type { Mastra } from '@mastra/core';
import { RequestContext } from '@mastra/core/request-context';
import { canonicalJson, normalizeJson } from '../audit/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { auditAgentEvent, invokeTool, toolNameForAudit, TOOLS, type ToolContext, type ToolOutcome } from '../tools/index.ts';
import { refusalDetail, reportActions } from './actions.ts';
import { gateAnswer } from './answer-gate.ts';
import {
  recallConversation,
  rememberTurn,
  rememberTurnLater,
  settleConversations,
  type ConversationKey,
  type RememberedMessage,
} from './conversation.ts';
import { checkGrounding } from './grounding.ts';
import { agentToolNames, TURN_KEY, type TurnState } from './mastra-tools.ts';
import { describeError, type ModelGateway, type ModelMeter } from './model.ts';
import { answerOffline, joinAnswer, renderReads, type OfflineReason, type TurnResult, type TurnToolCall } from './offline-turn.ts';
import { detectLocale, type Locale } from '../i18n/index.ts';
import { routeMessage, type AgentName } from './intents.ts';

export interface AgentRuntime {
  /** The Mastra instance with the ten agents and its storage (conversation memory). */
  readonly mastra: Mastra;
  readonly gateway: ModelGateway;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** Configured secret values (keys, tokens, passwords): an answer quoting one is never shown. */
  readonly secrets?: readonly string[] | undefined;
}

export interface TurnRequest {
  readonly agent: AgentName;
  readonly message: string;
  /** Who asks, with the database and services the tools use. */
  readonly ctx: ToolContext;
  /** Where the conversation happens (cli, telegram): one memory thread per person, channel and agent. */
  readonly channel?: string;
  /** Answer with the router and templates without asking the model. */
  readonly offline?: boolean;
  /** The reader's language setting (a linked Telegram person's); absent: the message's language. */
  readonly locale?: Locale | undefined;
}

/** Model calls a turn may make: a tool call, one repair, the answer, one spare. */
export const MAX_STEPS = 4;
/** Delegations the CEO agent may make in one turn; delegated agents cannot delegate. */
export const MAX_DELEGATIONS = 3;

interface TurnFrame {
  readonly outcomes: ToolOutcome[];
  readonly toolCalls: TurnToolCall[];
  readonly meter: ModelMeter;
  /** Each distinct call (tool and canonical arguments) and its outcome. */
  readonly calls: Map<string, ToolOutcome>;
  invalidCalls: number;
  delegations: number;
  repeatedCalls: number;
  /** Why the turn ended before the model answered: a second unknown tool or malformed call. */
  stop?: { reason: 'invalid_arguments' | 'unknown_tool'; message: string; tool: string };
}

/**
 * One turn of an agent: the model (through Mastra) chooses tools and writes the answer; the
 * tool layer enforces authority; the answer is checked against the tool results. When the
 * model is down, missing or slow, the router and templates answer and say so.
 */
export async function runTurn(runtime: AgentRuntime, request: TurnRequest): Promise<TurnResult> {
  const started = performance.now();
  const result = await turn(runtime, request, 0, started);
  runtime.metrics?.agentTurns.inc({ agent: request.agent, mode: result.mode });
  runtime.metrics?.agentModelCalls.inc({ agent: request.agent }, result.modelCalls);
  runtime.metrics?.agentTurnOverhead.observe({ agent: request.agent }, Math.max(0, result.elapsedMs - result.modelMs) / 1000);
  return result;
}

/** A turn with its conversation: recalled before, and the answer given remembered after. */
async function turn(runtime: AgentRuntime, request: TurnRequest, depth: number, started: number): Promise<TurnResult> {
  const { actor } = request.ctx;
  const who = actor.kind === 'system' ? `system:${actor.name}` : actor.userId;
  const channel = request.channel ?? 'cli';
  const conversation: ConversationKey = { threadId: `${channel}:${who}:${request.agent}`, resourceId: who, channel, agent: request.agent };
  const memory = await runtime.mastra.getStorage()?.getStore('memory');
  const history = memory ? await recallConversation(memory, conversation) : [];
  const result = await answer(runtime, request, depth, started, history);
  if (memory) {
    const onError = (error: unknown) =>
      runtime.logger.warn(
        { agent: request.agent, thread: conversation.threadId, reason: describeError(error) },
        'could not remember the conversation turn',
      );
    // A department's answer to the CEO is part of the CEO's turn; the person's own turn is
    // remembered once its answer has been handed back.
    if (depth > 0) await rememberTurn(memory, conversation, request.message, result.answer).catch(onError);
    else rememberTurnLater(memory, conversation, request.message, result.answer, onError);
  }
  return { ...result, elapsedMs: round(performance.now() - started) };
}

/**
 * Waits for the conversation writes of turns already answered: before the database closes,
 * and where the next step reads the conversation itself.
 */
export async function settleTurns(runtime: Pick<AgentRuntime, 'mastra'>): Promise<void> {
  const memory = await runtime.mastra.getStorage()?.getStore('memory');
  if (memory) await settleConversations(memory);
}

async function answer(
  runtime: AgentRuntime,
  request: TurnRequest,
  depth: number,
  started: number,
  history: readonly RememberedMessage[],
): Promise<TurnResult> {
  const { agent, message } = request;
  const ctx: ToolContext = { ...request.ctx, agent };
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  const offline = async (reason: OfflineReason) => ({
    ...(await answerOffline(ctx, agent, message, reason, request.locale)),
    elapsedMs: elapsed(),
  });
  if (request.offline) return offline('not used');
  const status = await runtime.gateway.status();
  if (status.state !== 'ready') {
    runtime.logger.warn({ agent, reason: status.message }, 'model unavailable; answering offline');
    return offline(status.state === 'missing' ? 'missing' : 'offline');
  }

  const frame: TurnFrame = {
    outcomes: [],
    toolCalls: [],
    meter: { calls: 0, ms: 0 },
    invalidCalls: 0,
    delegations: 0,
    repeatedCalls: 0,
    calls: new Map(),
  };
  const abort = new AbortController();
  // One repair: the first malformed or unknown call goes back to the model with the reason;
  // the second ends the turn with a clean error.
  const badCall = (reason: 'invalid_arguments' | 'unknown_tool', tool: string, message: string) => {
    frame.invalidCalls += 1;
    if (frame.invalidCalls > 1) {
      frame.stop = { reason, message, tool };
      abort.abort();
    }
  };
  const known = new Set(agentToolNames(agent));
  // Mastra answers a call to a tool the agent doesn't have by itself; it is audited here.
  const onStepFinish = async (step: { toolCalls?: readonly unknown[] }) => {
    for (const call of step.toolCalls ?? []) {
      const name = toolNameOf(call);
      if (name !== undefined && known.has(name)) continue;
      const shown = toolNameForAudit(name ?? '');
      frame.toolCalls.push({ tool: shown, ok: false, by: 'model' });
      await auditAgentEvent(ctx, 'agent.unknown_tool', { tool: shown }, 'denied');
      badCall('unknown_tool', shown, `there is no tool called ${shown}`);
    }
  };
  const state: TurnState = {
    meter: frame.meter,
    callTool: async (name, args) => {
      // A small model repeats the same call; it runs once and the model gets the same outcome.
      const key = `${name}\n${canonicalJson(normalizeJson(args ?? {}))}`;
      const earlier = frame.calls.get(key);
      if (earlier) {
        frame.repeatedCalls += 1;
        return earlier;
      }
      const outcome = await invokeTool(TOOLS, ctx, name, args);
      frame.calls.set(key, outcome);
      frame.outcomes.push(outcome);
      frame.toolCalls.push({ tool: name, ok: outcome.ok, args, by: 'model' });
      if (!outcome.ok && outcome.error === 'invalid_arguments') badCall('invalid_arguments', name, outcome.message);
      return outcome;
    },
    delegate: async (department, question) => {
      if (depth > 0 || agent !== 'ceo') return { error: 'Only the CEO agent delegates, and only one level deep.' };
      if (frame.delegations >= MAX_DELEGATIONS)
        return { error: `At most ${MAX_DELEGATIONS} departments per question; answer with what you have.` };
      frame.delegations += 1;
      await auditAgentEvent(ctx, 'agent.delegate', { to: department, question });
      const nested = await turn(
        runtime,
        { ...request, agent: department, message: question, channel: `${request.channel ?? 'cli'}:via-ceo` },
        depth + 1,
        performance.now(),
      );
      frame.meter.calls += nested.modelCalls;
      frame.meter.ms += nested.modelMs;
      frame.toolCalls.push(...nested.toolCalls.map((call) => ({ ...call, tool: `${department}/${call.tool}` })));
      frame.outcomes.push(...nested.outcomes);
      frame.repeatedCalls += nested.repeatedCalls;
      return { department, answer: nested.answer };
    },
  };
  const requestContext = new RequestContext();
  requestContext.set(TURN_KEY, state);
  const timeoutMs = runtime.gateway.settings.timeoutMs;

  let text: string;
  try {
    const output = await runtime.mastra.getAgentById(agent).generate([...history, { role: 'user' as const, content: message }], {
      maxSteps: MAX_STEPS,
      requestContext,
      abortSignal: abort.signal,
      onStepFinish,
      modelSettings: { temperature: 0, maxRetries: 0, timeout: { stepMs: timeoutMs, totalMs: timeoutMs * MAX_STEPS } },
      providerOptions: { ollama: { think: false } },
    });
    if (output.error && !frame.stop) throw output.error;
    text = stripThinking(output.text ?? '');
  } catch (error) {
    if (!frame.stop) {
      runtime.gateway.forgetStatus();
      const reason = describeError(error);
      runtime.logger.warn({ agent, reason }, 'model call failed; answering offline');
      const fallback = await offline(/tim(ed|e)\s?out/i.test(reason) ? 'timed out' : 'offline');
      return { ...fallback, modelCalls: frame.meter.calls, modelMs: round(frame.meter.ms) };
    }
    text = '';
  }
  const locale = request.locale ?? detectLocale(message);
  const actions = reportActions(agent, message, frame.outcomes, locale);
  if (frame.stop) {
    const body = invalidArgumentsAnswer(locale, frame.stop);
    return withFrame(frame, {
      agent,
      answer: joinAnswer(
        body,
        actions.filter((a) => a.status !== 'refused' || a.tool !== frame.stop!.tool),
      ),
      mode: 'ollama',
      grounded: true,
      answerFrom: 'template',
      actions,
      elapsedMs: elapsed(),
    });
  }

  const sources = frame.outcomes.map((o) => ('result' in o ? o.result : 'pendingApproval' in o ? o.pendingApproval : o.message));
  const verdict = checkGrounding(text, sources, [message, new Date(ctx.now()).toISOString().slice(0, 10)]);
  const gate = verdict.grounded ? gateAnswer({ answer: text, locale, outcomes: frame.outcomes, secrets: runtime.secrets }) : undefined;
  if (gate?.ok)
    return withFrame(frame, {
      agent,
      answer: joinAnswer(text, actions),
      mode: 'ollama',
      grounded: true,
      answerFrom: 'model',
      actions,
      elapsedMs: elapsed(),
    });

  // The model's answer is never shown: say why (audit, metric, log), then answer from the tools.
  const rejectedBecause = gate && !gate.ok ? gate.reason : 'ungrounded';
  runtime.metrics?.agentRejectedAnswers.inc({ agent, reason: rejectedBecause });
  if (!verdict.grounded) {
    runtime.metrics?.agentUngroundedAnswers.inc({ agent });
    runtime.logger.warn(
      { agent, unsupported: verdict.unsupported },
      'answer stated figures no tool produced; replaced by the tool results',
    );
    await auditAgentEvent(ctx, 'agent.ungrounded_answer', {
      unsupported: verdict.unsupported.slice(0, 20),
      tools: frame.toolCalls.map((c) => c.tool),
    });
  } else if (gate && !gate.ok) {
    runtime.logger.warn(
      { agent, reason: gate.reason, detail: gate.detail },
      'model answer failed the answer gate; replaced by the tool results',
    );
    await auditAgentEvent(ctx, 'agent.rejected_answer', {
      reason: gate.reason,
      detail: gate.detail,
      chars: text.length,
      tools: frame.toolCalls.map((c) => c.tool),
    });
  }
  if (frame.outcomes.length > 0) {
    return withFrame(frame, {
      agent,
      answer: joinAnswer(renderReads(frame.outcomes, locale), actions),
      mode: 'ollama',
      grounded: verdict.grounded,
      answerFrom: 'template',
      rejectedBecause,
      actions,
      elapsedMs: elapsed(),
    });
  }
  // No tool ran: the router stands in for the model (its calls are marked as the router's).
  const fallback = routeMessage(agent, message, ctx.now())
    ? await answerOffline(ctx, agent, message, 'unverified', request.locale)
    : undefined;
  if (fallback) {
    return {
      ...fallback,
      answer: fallback.answer.replace(/^\(.*?\)\n?/, ''),
      toolCalls: [...frame.toolCalls, ...fallback.toolCalls],
      mode: 'ollama',
      grounded: verdict.grounded,
      rejectedBecause,
      repeatedCalls: frame.repeatedCalls,
      modelCalls: frame.meter.calls,
      modelMs: round(frame.meter.ms),
      elapsedMs: elapsed(),
    };
  }
  const body =
    locale === 'en'
      ? 'I could not answer that with a tool; please ask again more specifically.'
      : 'Não consegui responder isso com uma ferramenta; pergunte de novo de forma mais específica.';
  return withFrame(frame, {
    agent,
    answer: joinAnswer(body, actions),
    mode: 'ollama',
    grounded: verdict.grounded,
    answerFrom: 'template',
    rejectedBecause,
    actions,
    elapsedMs: elapsed(),
  });
}

function withFrame(
  frame: TurnFrame,
  result: Omit<TurnResult, 'toolCalls' | 'modelCalls' | 'modelMs' | 'outcomes' | 'repeatedCalls'>,
): TurnResult {
  return {
    ...result,
    toolCalls: frame.toolCalls,
    repeatedCalls: frame.repeatedCalls,
    modelCalls: frame.meter.calls,
    modelMs: round(frame.meter.ms),
    outcomes: frame.outcomes,
  };
}

function invalidArgumentsAnswer(locale: 'pt-BR' | 'en', stop: NonNullable<TurnFrame['stop']>): string {
  if (locale === 'en')
    return `I could not call ${stop.tool} with valid arguments (${stop.message}). Please rephrase with the exact details (an e-mail, an id, a number of days).`;
  const detail =
    stop.reason === 'unknown_tool'
      ? `não existe a ferramenta ${stop.tool}`
      : refusalDetail({ ok: false, tool: stop.tool, error: 'invalid_arguments', message: stop.message, durationMs: 0 }, 'pt-BR').replace(
          /\.$/,
          '',
        );
  return `Não consegui chamar ${stop.tool} com argumentos válidos (${detail}). Reformule com os dados exatos (um e-mail, um id, um número de dias).`;
}

/** qwen3 may still emit an empty or non-empty think block; it is never part of the answer. */
function stripThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
}

function toolNameOf(call: unknown): string | undefined {
  const c = call as { toolName?: string; payload?: { toolName?: string } };
  return c.payload?.toolName ?? c.toolName;
}

const round = (ms: number) => Math.round(ms * 100) / 100;
