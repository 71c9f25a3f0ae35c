import { TOOLS, invokeTool, type ToolContext, type ToolOutcome } from '../tools/index.ts';
import { effectOf, reportActions, type ActionReport } from './actions.ts';
import type { GateReason } from './answer-gate.ts';
import { detectLocale, routeMessage, type AgentName } from './router.ts';
import { renderToolResult } from './templates.ts';

/** Why a model's answer was not shown: a rule of the answer gate, or figures no tool produced. */
export type AnswerRejection = GateReason | 'ungrounded';

export interface TurnToolCall {
  readonly tool: string;
  readonly ok: boolean;
  readonly args?: unknown;
  /** Who chose the call: the model, or the router standing in for it. */
  readonly by: 'model' | 'router';
}

export interface TurnResult {
  readonly agent: AgentName;
  readonly answer: string;
  /** Each tool call of the turn, with the arguments it was given and who chose it. */
  readonly toolCalls: TurnToolCall[];
  readonly mode: 'ollama' | 'offline';
  /**
   * Whether the answer's figures all come from tool results of this turn. False when the model
   * stated a figure no tool produced; its answer was then replaced (`answerFrom: 'template'`).
   */
  readonly grounded: boolean;
  /** Who wrote the text: the model, or the deterministic templates. */
  readonly answerFrom: 'model' | 'template';
  /** Why the model's answer was replaced, when it was. */
  readonly rejectedBecause?: AnswerRejection | undefined;
  /**
   * What the turn did or did not do, written by the code from the tool outcomes (done,
   * awaiting approval, refused, not done); these lines end `answer`.
   */
  readonly actions: readonly ActionReport[];
  /** Identical tool calls the model repeated in the turn (each ran once). */
  readonly repeatedCalls: number;
  readonly modelCalls: number;
  /** Time spent waiting for the model; the rest of `elapsedMs` is the turn's own overhead. */
  readonly modelMs: number;
  /** The tool outcomes of the turn (delegated turns included). */
  readonly outcomes: readonly ToolOutcome[];
  readonly elapsedMs: number;
}

/**
 * Answers without the model: the deterministic router picks the tool, the tool layer runs it
 * (policy, scope, approvals, audit as always), and a template writes the answer, which says
 * that the model was offline. Its numbers come only from the tool result.
 */
/** Why the model did not answer, as the notice on the answer says it. */
export type OfflineReason = 'offline' | 'missing' | 'timed out' | 'not used' | 'unverified';

const NOTICES: Readonly<Record<OfflineReason, { en: string; pt: string }>> = {
  offline: { en: '(model offline: answered without it)', pt: '(modelo offline: resposta sem o modelo)' },
  missing: { en: '(model not installed in Ollama: answered without it)', pt: '(modelo não instalado no Ollama: resposta sem o modelo)' },
  'timed out': { en: '(model timed out: answered without it)', pt: '(o modelo não respondeu a tempo: resposta sem o modelo)' },
  'not used': { en: '(answered without the model, as asked)', pt: '(resposta sem o modelo, como pedido)' },
  unverified: { en: '(model answer unverified: answered from the tools)', pt: '(resposta do modelo não conferida: resposta pelas ferramentas)' },
};

export async function answerOffline(ctx: ToolContext, agent: AgentName, message: string, reason: OfflineReason = 'offline'): Promise<TurnResult> {
  const started = performance.now();
  const locale = detectLocale(message);
  const notice = locale === 'en' ? NOTICES[reason].en : NOTICES[reason].pt;
  const route = routeMessage(agent, message);
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  if (!route) {
    const help = locale === 'en'
      ? "I can't understand that without the model. Try, for example: \"MRR\", \"failed payments\", \"plans\", \"bots of someone@example.com\", \"verify the audit log\"."
      : 'Sem o modelo não consigo entender esse pedido. Tente, por exemplo: "MRR", "pagamentos com falha", "planos", "robôs de fulano@exemplo.com", "verificar auditoria".';
    const actions = reportActions(agent, message, [], locale);
    return { agent, answer: joinAnswer(`${notice} ${help}`, actions), toolCalls: [], mode: 'offline', grounded: true, answerFrom: 'template', actions, repeatedCalls: 0, modelCalls: 0, modelMs: 0, outcomes: [], elapsedMs: elapsed() };
  }
  const outcome = await invokeTool(TOOLS, { ...ctx, agent }, route.tool, route.args);
  const actions = reportActions(agent, message, [outcome], locale);
  return {
    agent,
    answer: joinAnswer(`${notice}\n${renderReads([outcome], locale)}`.trim(), actions),
    toolCalls: [{ tool: route.tool, ok: outcome.ok, args: route.args, by: 'router' }],
    mode: 'offline',
    grounded: true,
    answerFrom: 'template',
    actions,
    repeatedCalls: 0,
    modelCalls: 0,
    modelMs: 0,
    outcomes: [outcome],
    elapsedMs: elapsed(),
  };
}

/** The read tools' results in the person's language; action tools are reported by `reportActions`. */
export function renderReads(outcomes: readonly ToolOutcome[], locale: 'pt-BR' | 'en'): string {
  return outcomes
    .filter((o) => effectOf(o.tool) === 'read')
    .map((o) => ('result' in o ? renderToolResult(o.tool, o.result, locale) : o.message))
    .join('\n');
}

/** An answer with the code-written action lines at its end. */
export function joinAnswer(body: string, actions: readonly ActionReport[]): string {
  return [body, ...actions.map((a) => a.text)].filter((part) => part.trim() !== '').join('\n');
}
